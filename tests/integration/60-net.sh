#!/bin/bash
# Built-in networking (--net bridge): bridge, veth, leases, nftables NAT and ports.
# Every test runs hutch inside a network namespace it creates to stand in for the
# host (never the machine's own network), with its own net.conf and lease dir.
source "$(dirname "$0")/../lib.sh"

command -v nft >/dev/null || { echo "ok - 60-net: all # SKIP nft not installed"; exit 0; }
command -v curl >/dev/null || { echo "ok - 60-net: all # SKIP curl not installed"; exit 0; }

NS_BASE=hutchtest-$$

# net_begin: make this test's stand-in host namespace $NS (lo up, and an "uplink"
# address 192.0.2.1/24 as the host's own address), its net.conf and lease dir.
net_begin() {
	NS=$NS_BASE-${FUNCNAME[1]#test_}
	NS=${NS:0:40}
	LEASES=$PWD/leases
	export HUTCH_NET_CONF=$PWD/net.conf
	printf 'lease_dir = %s\n' "$LEASES" > "$HUTCH_NET_CONF"
	ip netns add "$NS"
	trap net_end EXIT
	inns ip link set lo up
	inns ip link add uplink type veth peer name uplink-peer
	inns ip link set uplink-peer up
	inns ip addr add 192.0.2.1/24 dev uplink
	inns ip link set uplink up
	PIDS=()
}

net_end() {
	local id p
	for id in $(ls "$T_ROOT" 2>/dev/null); do
		nh delete --force "$id" >/dev/null 2>&1 || true
	done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	[ -z "${OUTNS:-}" ] || ip netns del "$OUTNS" 2>/dev/null || true
}

# a command in the stand-in namespace: nsenter (one exec), not `ip netns exec` (two, and a
# sysfs mount each time); the few that read /sys use inns_sys
inns() { nsenter --net="/run/netns/$NS" "$@"; }
inns_sys() { ip netns exec "$NS" "$@"; }

# This suite's mounts and state only: the mount table and the cgroup tree are shared
# with other suites running at the same time.
host_snapshot() {
	echo "== mounts"
	awk '{print $5, $9}' /proc/self/mountinfo | grep -F "$T_TMP" | sort
	echo "== state"
	ls -A "$T_ROOT" 2>/dev/null
}
# hutch in the stand-in namespace: nsenter, not `ip netns exec`, whose fresh /sys would hide
# the cgroup file systems
nh() { nsenter --net="/run/netns/$NS" "$HUTCH" --root "$T_ROOT" "$@"; }

# net_bundle DIR ARGS...: a bundle with a writable rootfs running ARGS.
net_bundle() {
	new_bundle "$@"
	cfg "$1" '.root.readonly = false'
}

# an httpd serving "$2" from /www on port 80 in bundle $1
httpd_bundle() {
	net_bundle "$1" httpd -f -p 80 -h /www
	mkdir -p "$1/rootfs/www"
	echo "$2" > "$1/rootfs/www/index.html"
}

addr_of() { nh net ls -f json | jq -r --arg id "$1" '.containers[] | select(.id == $id) | .address'; }

# nothing of the network left: no veth, no lease, no port element
assert_net_clean() {
	local links leases elems
	links=$(inns ip -o link show type veth | grep -vc " uplink" || true)
	assert_eq 0 "$links" "veth links in the host namespace"
	leases=$(jq -c 'keys' "$LEASES/leases.json" 2>/dev/null || echo '[]')
	assert_eq '[]' "$leases" "leases"
	assert_eq "" "$(ls -A "$LEASES/etc" 2>/dev/null)" "generated /etc files"
	# the elements of the port maps, "TCP UDP" (one nft and one jq: this runs after every case)
	if elems=$(inns nft -j list table ip hutch 2>/dev/null); then
		elems=$(jq -r '[.nftables[] | .map? | select(.)] as $m
			| [($m[] | select(.name == "tcp_ports") | .elem // [] | length),
			   ($m[] | select(.name == "udp_ports") | .elem // [] | length)] | "\(.[0]) \(.[1])"' <<<"$elems")
		assert_eq "0 0" "$elems" "tcp and udp port elements"
	fi
}

test_two_containers_reach_each_other() {
	net_begin
	httpd_bundle web "hello from web"
	net_bundle cli sleep 1000
	nh run -d -b web --net bridge web
	nh run -d -b cli --net bridge cli
	local a1 a2
	a1=$(addr_of web)
	a2=$(addr_of cli)
	assert_match "$a1" '^10\.88\.' "web address"
	assert_match "$a2" '^10\.88\.' "cli address"
	[ "$a1" != "$a2" ] || fail "both containers got $a1"
	local out
	out=$(nh exec cli wget -q -O- "http://$a1/")
	assert_eq "hello from web" "$out" "cli -> web over the bridge"
	# ping needs CAP_NET_RAW, which the default capability set leaves out
	nh exec --cap CAP_NET_RAW web ping -c 1 -W 2 "$a2" >/dev/null
	# inside: eth0 with the lease, lo up, default route via the gateway, bridge MTU
	out=$(nh exec cli ip -o -4 addr show eth0)
	assert_contains "$out" "$a2/16"
	out=$(nh exec cli ip route)
	assert_contains "$out" "default via 10.88.0.1 dev eth0"
	out=$(nh exec cli cat /sys/class/net/eth0/mtu)
	assert_eq "$(inns_sys cat /sys/class/net/hutch0/mtu)" "$out" "eth0 MTU"
	out=$(nh exec cli cat /sys/class/net/lo/operstate)
	assert_eq unknown "$out" "lo state (up)"
}

test_container_reaches_server_on_gateway() {
	net_begin
	net_bundle c sleep 1000
	nh run -d -b c --net bridge c
	mkdir www
	echo "served by the host" > www/index.html
	ip netns exec "$NS" busybox httpd -f -p 10.88.0.1:8000 -h "$PWD/www" &
	PIDS+=($!)
	wait_for inns curl -sf http://10.88.0.1:8000/
	local out
	out=$(nh exec c wget -q -O- http://10.88.0.1:8000/)
	assert_eq "served by the host" "$out"
}

test_published_port_reaches_httpd() {
	net_begin
	httpd_bundle web "published hello"
	nh run -d -b web --net bridge -p 8080:80 web
	local out a
	a=$(addr_of web)
	wait_for inns curl -sf "http://$a/"
	out=$(inns curl -sS -m 5 http://192.0.2.1:8080/)
	assert_eq "published hello" "$out" "via the host's address"
	out=$(inns curl -sS -m 5 http://127.0.0.1:8080/)
	assert_eq "published hello" "$out" "via localhost"
	out=$(inns curl -sS -m 5 http://10.88.0.1:8080/)
	assert_eq "published hello" "$out" "via the gateway address"
	out=$(nh net ls)
	assert_contains "$out" "8080:80/tcp"
}

test_published_udp_port() {
	net_begin
	net_bundle u sleep 1000
	nh run -d -b u --net bridge -p 5353:53/udp u
	# busybox has no UDP server: socat from the host, in the container's network namespace,
	# prints what it receives; the sender repeats until the listener is up
	command -v socat >/dev/null || skip "socat not installed (make deps)"
	nsenter -t "$(nh state u | jq .pid)" -n socat -u UDP4-RECV:53 STDOUT > got &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		inns bash -c 'echo udp-ping > /dev/udp/192.0.2.1/5353'
		! grep -qs udp-ping got || break
		sleep 0.05
	done
	wait_for grep -q udp-ping got
}

test_masquerade_to_outside() {
	net_begin
	# a second namespace "outside", reachable from the host only; it has no route to 10.88/16
	OUTNS=$NS-out
	ip netns add "$OUTNS"
	inns ip link add toout type veth peer name eth0 netns "$OUTNS"
	inns ip addr add 198.51.100.1/24 dev toout
	inns ip link set toout up
	ip netns exec "$OUTNS" ip addr add 198.51.100.2/24 dev eth0
	ip netns exec "$OUTNS" ip link set eth0 up
	ip netns exec "$OUTNS" ip link set lo up
	mkdir www
	echo outside > www/index.html
	ip netns exec "$OUTNS" busybox httpd -f -vv -p 198.51.100.2:80 -h "$PWD/www" 2> httpd.log &
	PIDS+=($!)
	net_bundle c sleep 1000
	nh run -d -b c --net bridge c
	local out
	wait_for ip netns exec "$OUTNS" curl -sf http://198.51.100.2/
	out=$(nh exec c wget -q -O- http://198.51.100.2/)
	assert_eq outside "$out"
	# the server saw the host's address, not the container's
	grep -q '198.51.100.1' httpd.log || fail "server log does not show the masqueraded source: $(cat httpd.log)"
}

test_etc_files_are_generated_bind_mounts() {
	net_begin
	net_bundle c sleep 1000
	cfg c '.hostname = "box1"'
	cp c/rootfs/etc/hosts hosts.before 2>/dev/null || : > hosts.before
	nh run -d -b c --net bridge --ip 10.88.3.4 c
	local out
	out=$(nh exec c cat /etc/hosts)
	assert_contains "$out" "10.88.3.4	box1"
	assert_contains "$out" "localhost"
	assert_eq box1 "$(nh exec c cat /etc/hostname)"
	out=$(nh exec c cat /etc/resolv.conf)
	assert_contains "$out" "generated by hutch"
	assert_not_contains "$out" "nameserver 127."
	out=$(nh exec c grep -c ' /etc/hosts ' /proc/self/mountinfo)
	assert_eq 1 "$out" "/etc/hosts is a mount"
	# the rootfs itself was not written
	assert_eq "$(cat hosts.before)" "$(cat c/rootfs/etc/hosts 2>/dev/null)" "rootfs /etc/hosts"
}

test_user_namespace_container() {
	net_begin
	httpd_bundle web "from a user namespace"
	cfg web '.linux.namespaces += [{"type": "user"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
		.linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	chown -R 100000:100000 web/rootfs
	nh run -d -b web --net bridge -p 8080:80 web
	assert_contains "$(nh exec web cat /etc/hosts)" "10.88.0.2"
	wait_for inns curl -sf http://10.88.0.2/
	assert_eq "from a user namespace" "$(inns curl -sS -m 5 http://127.0.0.1:8080/)"
	nh delete --force web
	assert_net_clean
}

test_annotations_configure_the_network() {
	net_begin
	httpd_bundle web "by annotation"
	cfg web '.annotations = {"hutch.net": "bridge", "hutch.net.ip": "10.88.9.9", "hutch.net.ports": "8081:80, 8082:80"}'
	nh run -d -b web web
	assert_eq 10.88.9.9 "$(addr_of web)"
	wait_for inns curl -sf http://10.88.9.9/
	assert_eq "by annotation" "$(inns curl -sS -m 5 http://192.0.2.1:8082/)"
	# --net none on the command line wins over the annotation
	net_bundle plain sleep 1000
	cfg plain '.annotations = {"hutch.net": "bridge"}'
	nh run -d -b plain --net none plain
	assert_eq "" "$(addr_of plain)"
	assert_eq lo "$(nh exec plain ls /sys/class/net)"
}

test_parallel_creates_get_distinct_addresses() {
	net_begin
	net_bundle base sleep 1000
	local i st
	for i in $(seq 1 "$T_PARALLEL"); do
		mkdir "b$i"
		jq --arg r "$PWD/base/rootfs" '.root.path = $r | .root.readonly = true' base/config.json > "b$i/config.json"
	done
	for i in $(seq 1 "$T_PARALLEL"); do
		nh create -b "b$i" --net bridge "p$i" > "create$i.log" 2>&1 &
	done
	wait
	for i in $(seq 1 "$T_PARALLEL"); do
		st=$(status_of "p$i" 2>&1 || true)
		[ "$st" = created ] || fail "p$i: status [$st]: $(cat "create$i.log")"
	done
	local n
	n=$(nh net ls -f json | jq '[.containers[].address] | unique | length')
	assert_eq "$T_PARALLEL" "$n" "distinct leased addresses"
	n=$(for i in $(seq 1 "$T_PARALLEL"); do nh exec "p$i" ip -o -4 addr show eth0; done | awk '{print $4}' | sort -u | wc -l)
	assert_eq "$T_PARALLEL" "$n" "distinct addresses inside the containers"
	assert_eq "$T_PARALLEL" "$(inns ip -o link show master hutch0 | wc -l)" "veths on the bridge"
	for i in $(seq 1 "$T_PARALLEL"); do nh delete --force "p$i"; done
	assert_net_clean
}

test_delete_leaves_no_veth_lease_or_rule() {
	net_begin
	httpd_bundle web x
	nh run -d -b web --net bridge -p 8080:80 -p 5353:53/udp web
	assert_eq 1 "$(inns ip -o link show master hutch0 | wc -l)" "veth while running"
	assert_eq 2 "$(inns nft -j list table ip hutch | jq '[.nftables[] | .map? | select(.) | .elem // [] | length] | add')" "port elements while running"
	nh delete --force web
	assert_net_clean
	# the bridge stays for the next container, and the port can be published again
	nh run -d -b web --net bridge -p 8080:80 web2
	nh delete --force web2
	assert_net_clean
}

test_delete_force_after_a_crash_recovers() {
	net_begin
	net_bundle c sleep 1000
	nh run -d -b c --net bridge -p 9090:80 c
	# the container dies behind hutch's back
	kill -9 "$(nh state c | jq .pid)"
	sleep 0.2
	nh delete --force c
	assert_net_clean
	# a lost state directory: its lease and port are reclaimed by the next create
	# (without a cgroup: deleting the state by hand would leave that behind)
	nh --cgroup-manager disabled run -d -b c --net bridge -p 9090:80 c2
	kill -9 "$(nh state c2 | jq .pid)"
	rm -rf "${T_ROOT:?}/c2"
	nh run -d -b c --net bridge -p 9090:80 c3
	assert_eq 1 "$(jq 'keys | length' "$LEASES/leases.json")" "leases after reclaiming"
	nh delete --force c3
	assert_net_clean
}

# bad input: a clear error, exit != 0, and nothing left behind (against the snapshot the
# test's first call takes)
bad_input() { # MSG hutch-args...
	local snap=$PWD/snap
	[ -f "$snap" ] || host_snapshot > "$snap"
	expect_fail "$@"
	assert_clean "$snap"
	assert_net_clean
}

test_bad_input_leaves_nothing() {
	net_begin
	net_bundle c sleep 1000
	bad_input "host port 70000 is out of range (1-65535)" nh create -b c --net bridge -p 70000:80 c
	bad_input "container port 0 is out of range" nh create -b c --net bridge -p 8080:0 c
	bad_input 'protocol "sctp" is not tcp or udp' nh create -b c --net bridge -p 8080:80/sctp c
	bad_input "10.99.0.5 is not a usable address in the subnet 10.88.0.0/16" \
		nh create -b c --net bridge --ip 10.99.0.5 c
	bad_input "10.88.0.1 is not a usable address" nh create -b c --net bridge --ip 10.88.0.1 c
	bad_input '"bogus" is not an IPv4 address' nh create -b c --net bridge --ip bogus c
	bad_input "-p needs --net bridge" nh create -b c -p 8080:80 c
	bad_input '--net: "host" is not bridge or none' nh create -b c --net host c
	# a port something on the host already listens on
	ip netns exec "$NS" busybox nc -l -p 8088 >/dev/null &
	PIDS+=($!)
	wait_for inns sh -c 'ss -ltn | grep -q ":8088 "'
	bad_input "port 8088/tcp is in use on the host" nh create -b c --net bridge -p 8088:80 c
	# a port another container publishes
	nh create -b c --net bridge -p 8089:80 first
	local snap=$PWD/snap2
	host_snapshot > "$snap"
	expect_fail "port 8089/tcp is already published by container \`first\`" \
		nh create -b c --net bridge -p 8089:80 second
	expect_fail "host port 8089/tcp is published twice" nh create -b c --net bridge -p 8089:80 -p 8089:81 second
	expect_fail "10.88.0.2 is already leased to container \`first\`" \
		nh create -b c --net bridge --ip 10.88.0.2 second
	assert_clean "$snap"
	nh delete --force first
	assert_net_clean
	# no network namespace of its own
	cfg c '.linux.namespaces |= map(select(.type != "network"))'
	bad_input "--net bridge needs a new network namespace" nh create -b c --net bridge c
	bad_input "annotations[\"hutch.net\"] bridge needs a new network namespace" \
		nh create -b c --config <(jq '.annotations = {"hutch.net": "bridge"}' c/config.json) c
}

test_bad_net_conf_leaves_nothing() {
	net_begin
	net_bundle c sleep 1000
	printf 'lease_dir = %s\nsubnet = 10.88.0.0/33\n' "$LEASES" > "$HUTCH_NET_CONF"
	bad_input "net.conf:2: subnet: \"10.88.0.0/33\" is not a CIDR: prefix length \"33\" is not a number from 0 to 32" \
		nh create -b c --net bridge c
	printf 'subnet = 10.88.0.1/16\n' > "$HUTCH_NET_CONF"
	bad_input 'is not a network address (host bits set; did you mean 10.88.0.0/16?)' nh create -b c --net bridge c
	printf 'subnet = 10.88.0.0\n' > "$HUTCH_NET_CONF"
	bad_input 'is not a CIDR (expected ADDRESS/PREFIX' nh create -b c --net bridge c
	printf 'subnet = 10.77.0.0/24\ngateway = 10.88.0.1\n' > "$HUTCH_NET_CONF"
	bad_input 'gateway: 10.88.0.1 is not a host address in the subnet 10.77.0.0/24' nh create -b c --net bridge c
	printf 'brigde = x\n' > "$HUTCH_NET_CONF"
	bad_input 'net.conf:1: unknown key "brigde"' nh create -b c --net bridge c
	assert_eq 0 "$(inns ip -o link show type bridge | wc -l)" "bridges after bad configs"
	[ ! -e "$LEASES" ] || fail "a lease dir was created"
	# a failure at the very end of create (after the veth, address and ports) undoes all of it
	printf 'lease_dir = %s\n' "$LEASES" > "$HUTCH_NET_CONF"
	bad_input "--pid-file" nh create -b c --net bridge -p 8080:80 --pid-file /nonexistent/dir/pid c
	# a failure during setup (after the lease, the files and the fork) undoes all of it
	printf 'lease_dir = %s\nbridge = uplink\n' "$LEASES" > "$HUTCH_NET_CONF"
	bad_input 'net.conf: bridge: `uplink` exists and is not a bridge' nh create -b c --net bridge -p 8080:80 c
	[ ! -d /sys/fs/cgroup/unified/hutch/c ] || fail "cgroup of c left behind"
	# a custom subnet, bridge name and MTU work
	printf 'lease_dir = %s\nbridge = hbr1\nsubnet = 172.30.5.0/24\nmtu = 1400\n' "$LEASES" > "$HUTCH_NET_CONF"
	nh run -d -b c --net bridge c
	assert_contains "$(nh exec c ip -o -4 addr show eth0)" "172.30.5.2/24"
	assert_eq 1400 "$(nh exec c cat /sys/class/net/eth0/mtu)" "eth0 MTU"
	assert_contains "$(nh net ls)" "bridge hbr1  subnet 172.30.5.0/24  gateway 172.30.5.1  mtu 1400"
}

run_tests
