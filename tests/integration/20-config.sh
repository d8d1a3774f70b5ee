#!/bin/bash
# config.json fields the lifecycle applies, observed from inside the container.
source "$(dirname "$0")/../lib.sh"

test_namespaces_are_new() {
	new_bundle b sh -c 'for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done'
	out=$(hutch run -b b c1)
	for n in pid net ipc uts mnt cgroup; do
		assert_not_contains "$out" "$(readlink /proc/self/ns/$n)" "$n namespace"
	done
}

test_shared_namespace_when_not_listed() {
	new_bundle b readlink /proc/self/ns/net
	cfg b 'del(.linux.namespaces[] | select(.type == "network"))'
	assert_eq "$(readlink /proc/self/ns/net)" "$(hutch run -b b c1)"
}

test_join_namespace_by_path() {
	local ns=/run/hutch-test-netns-$$
	# (also when the test fails: the bind mount and its file are the host's)
	trap "umount $ns 2>/dev/null; rm -f $ns" EXIT
	unshare --net=$ns true 2>/dev/null || { touch $ns; unshare --net=$ns true; }
	want=$(nsenter --net=$ns readlink /proc/self/ns/net)
	new_bundle b readlink /proc/self/ns/net
	cfg b "(.linux.namespaces[] | select(.type == \"network\")) .path = \"$ns\""
	got=$(hutch run -b b c1)
	assert_eq "$want" "$got"
}

test_hostname_in_a_uts_namespace_joined_by_path() {
	unshare --uts sleep 100 &
	pid=$!
	# (evaluated at each try: unshare may not have unshared yet)
	wait_for bash -c "[ \"\$(readlink /proc/$pid/ns/uts)\" != \"\$(readlink /proc/self/ns/uts)\" ]"
	new_bundle b sh -c 'readlink /proc/self/ns/uts; hostname'
	cfg b "(.linux.namespaces[] | select(.type == \"uts\")) .path = \"/proc/$pid/ns/uts\" |
	       .hostname = \"joined\""
	got=$(hutch run -b b c1 | xargs)
	want="$(readlink /proc/$pid/ns/uts) joined"
	after=$(nsenter --uts=/proc/$pid/ns/uts hostname)
	kill $pid
	assert_eq "$want" "$got"
	assert_eq joined "$after" "the hostname of the joined namespace"
	assert_eq "$(hostname)" "$(cat /proc/sys/kernel/hostname)"
}

test_mounts_without_a_mount_namespace_are_detached_on_delete() {
	prop=$(findmnt -n -o PROPAGATION /)
	new_bundle b sh -c 'readlink /proc/self/ns/mnt; grep -c " /dev/pts " /proc/self/mountinfo'
	cfg b '.linux.namespaces |= map(select(.type != "mount"))'
	out=$(hutch run -b b nomnt-$$ | xargs)
	assert_eq "$(readlink /proc/self/ns/mnt) 1" "$out" "the host's mount namespace, with the mounts"
	assert_eq "$prop" "$(findmnt -n -o PROPAGATION /)" "/ keeps its propagation"
	assert_eq 0 "$(grep -c " $PWD/b/" /proc/self/mountinfo)" "mounts left on the host"
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
	# a failing mount takes the earlier ones away too
	cfg b '.mounts += [{"destination": "/mnt/x", "source": "/nonexistent", "options": ["bind"]}]'
	expect_fail 'bind mount source `/nonexistent`' hutch create -b b nomnt2-$$
	assert_eq 0 "$(grep -c " $PWD/b/" /proc/self/mountinfo)" "mounts left on the host"
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
}

test_user_namespace_with_mappings() {
	new_bundle b sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /tmp/owned'
	cfg b '.linux.namespaces += [{"type": "user"}] |
	       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .mounts |= map(if .destination == "/sys" then . + {"type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end) |
	       .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	chown 100000:100000 b/rootfs
	touch b/rootfs/tmp/owned && chown 100000:100000 b/rootfs/tmp/owned
	out=$(hutch run -b b c1 | xargs)
	assert_eq "0 100000 65536 0 100000 65536 0 0" "$out"
}

test_time_namespace_offsets() {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	new_bundle b cat /proc/uptime
	cfg b '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}}'
	host=$(cut -d. -f1 /proc/uptime)
	got=$(hutch run -b b c1 | cut -d. -f1)
	[ "$got" -ge $((host + 86400 - 5)) ] || fail "uptime $got is not about $host + 86400"
}

test_hostname_and_domainname() {
	new_bundle b sh -c 'hostname; cat /proc/sys/kernel/domainname'
	cfg b '.hostname = "h1" | .domainname = "example.test"'
	assert_eq "h1 example.test" "$(hutch run -b b c1 | xargs)"
}

# domainname and a kernel.domainname sysctl must agree (as runc checks): a conflict is an
# error naming the sysctl, and leaves nothing; the same value is fine
test_domainname_conflicting_with_the_sysctl_is_an_error() {
	new_bundle b cat /proc/sys/kernel/domainname
	cfg b '.domainname = "example.test" | .linux.sysctl = {"kernel.domainname": "other.test"}'
	expect_fail 'config.json: linux.sysctl.kernel.domainname: "other.test" conflicts with domainname "example.test"' \
		hutch run -b b c1
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
	cfg b '.linux.sysctl = {"kernel.domainname": "example.test"}'
	assert_eq example.test "$(hutch run -b b c1)"
}

# crun's run.oci.keep_original_groups=1 (podman --group-add keep-groups): the groups hutch
# runs with are kept, process.user.additionalGids added to them; without it, only those
test_keep_original_groups_annotation() {
	new_bundle b sh -c 'id -G'
	cfg b '.process.user = {"uid": 0, "gid": 0, "additionalGids": [5]}'
	assert_eq "0 5" "$(hutch run -b b c1 | xargs -n1 | sort -n | xargs)" "without the annotation"
	cfg b '.annotations = {"run.oci.keep_original_groups": "1"}'
	out=$(setpriv --groups 4242 -- "$HUTCH" --root "$T_ROOT" run -b b c1 | xargs -n1 | sort -n | xargs)
	assert_eq "0 5 4242" "$out" "with it: the caller's group 4242 kept"
}

test_readonly_root_and_writable_tmpfs() {
	new_bundle b sh -c 'touch /x 2>&1; touch /dev/shm/ok && echo shm-ok'
	out=$(hutch run -b b c1)
	assert_contains "$out" "Read-only file system"
	assert_contains "$out" "shm-ok"
	cfg b '.root.readonly = false'
	hutch run -b b c2
	[ -e b/rootfs/x ] || fail "writable root did not take the write"
}

test_bind_mounts_ro_rw_and_file() {
	mkdir -p host-dir && echo hello > host-dir/f && echo single > host-file
	new_bundle b sh -c 'cat /mnt/ro/f; (echo w > /mnt/ro/g) 2>&1; echo w > /mnt/rw/g && echo rw-ok; cat /etc/single'
	cfg b ".mounts += [
		{\"destination\": \"/mnt/ro\", \"type\": \"bind\", \"source\": \"$PWD/host-dir\", \"options\": [\"rbind\", \"ro\", \"nosuid\"]},
		{\"destination\": \"/mnt/rw\", \"source\": \"$PWD/host-dir\", \"options\": [\"bind\"]},
		{\"destination\": \"/etc/single\", \"source\": \"host-file\", \"options\": [\"bind\", \"ro\"]}]"
	cp host-file b/
	out=$(hutch run -b b c1)
	assert_contains "$out" "hello"
	assert_contains "$out" "Read-only file system"
	assert_contains "$out" "rw-ok"
	assert_contains "$out" "single"
	[ -e host-dir/g ] || fail "rw bind mount did not write through"
}

test_bind_mount_ignores_filesystem_options_with_a_warning() {
	new_bundle b cat /mnt/hostfile
	echo bound > hostfile
	cfg b ".mounts += [{\"destination\": \"/mnt/hostfile\", \"source\": \"$PWD/hostfile\",
			    \"options\": [\"bind\", \"nosuid\", \"mode=755\", \"size=1k\"]}]"
	out=$(hutch run -b b c1 2>err)
	assert_eq bound "$out"
	assert_contains "$(cat err)" 'options: filesystem options "mode=755,size=1k" ignored for a bind mount'
}

test_tmpfs_options_and_propagation_flags() {
	new_bundle b sh -c 'grep " /scratch " /proc/self/mountinfo'
	cfg b '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=700", "size=1m", "rprivate"]}]'
	out=$(hutch run -b b c1)
	assert_contains "$out" "nosuid,nodev,noexec"
	assert_contains "$out" "size=1024k"
	assert_contains "$out" "mode=700"
}

test_mount_destination_symlink_stays_inside_rootfs() {
	mkdir -p outside
	new_bundle b sh -c 'ls /escape/ 2>&1; echo done'
	# a symlink in the rootfs pointing at an absolute host path
	ln -s "$PWD/outside" b/rootfs/escape
	cfg b '.mounts += [{"destination": "/escape/victim", "type": "tmpfs", "source": "tmpfs"}]'
	hutch run -b b c1 > /dev/null
	[ ! -e outside/victim ] || fail "the mount followed a symlink out of the rootfs"
	[ -d "b/rootfs/$PWD/outside/victim" ] || fail "the target was not created inside the rootfs"
	grep -q "$PWD/outside/victim" /proc/self/mountinfo && fail "a mount leaked to the host"
	true
}

test_dev_defaults_and_linux_devices() {
	new_bundle b sh -c 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mydev; for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done; echo x > /dev/null && echo null-ok'
	cfg b '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 5, "gid": 6}]'
	out=$(hutch run -b b c1)
	assert_match "$out" "crw-rw---- +1 5 +6 +1, +3 .*/dev/mydev"
	assert_match "$out" "crw-rw-rw- .* 1, +7 .*/dev/full"
	assert_contains "$out" "/proc/self/fd"
	assert_contains "$out" "pts/ptmx"
	assert_contains "$out" "null-ok"
}

test_listed_devices_are_created_under_a_deny_all_device_rule() {
	new_bundle b sh -c 'ls -l /dev/test1 /dev/test2; head -c1 /dev/test1 2>&1 | grep -c "not permitted"'
	cfg b '.linux.resources.devices = [{"allow": false, "access": "rwm"}] |
	       .linux.devices = [{"path": "/dev/test1", "type": "c", "major": 1, "minor": 4},
				 {"path": "/dev/test2", "type": "b", "major": 8, "minor": 666}]'
	out=$(hutch run -b b c1)
	assert_match "$out" "crw.* 1, +4 .*/dev/test1"
	assert_match "$out" "brw.* 8, +666 .*/dev/test2"
	# created, but reading stays denied as configured
	assert_match "$out" $'\n1$'
}

test_memory_policy_every_mode_and_flag() {
	[ -e /proc/self/numa_maps ] || skip "no NUMA in this kernel (/proc/self/numa_maps)"
	new_bundle b sh -c 'grep -m1 " heap " /proc/self/numa_maps | sed "s/^[0-9a-f]* \\(.*\\) heap.*/\\1/"'
	local mp want out kver
	kver=$(uname -r)
	while IFS='|' read -r mp want; do
		cfg b ".linux.memoryPolicy = $mp"
		if [[ $mp == *WEIGHTED* ]] && [ "$(printf '%s\n' 6.9 "$kver" | sort -V | head -n1)" != 6.9 ]; then
			expect_fail 'linux.memoryPolicy: set_mempolicy(MPOL_WEIGHTED_INTERLEAVE, nodes "0"): Invalid argument' \
				hutch run -b b mp
			continue
		fi
		out=$(hutch run -b b mp)
		assert_eq "$want" "$out" "$mp"
	done <<-'EOF'
		{"mode": "MPOL_DEFAULT"}|default
		{"mode": "MPOL_LOCAL"}|local
		{"mode": "MPOL_BIND", "nodes": "0"}|bind:0
		{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}|bind=balancing:0
		{"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}|interleave=static:0
		{"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES"]}|prefer=relative:0
		{"mode": "MPOL_PREFERRED_MANY", "nodes": "0"}|prefer (many):0
		{"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "0"}|weighted interleave:0
	EOF
}

test_memory_policy_applies_to_exec() {
	[ -e /proc/self/numa_maps ] || skip "no NUMA in this kernel (/proc/self/numa_maps)"
	new_bundle b sleep 1000
	cfg b '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
	hutch run -d -b b mpx
	local heap='grep -m1 " heap " /proc/self/numa_maps | sed "s/^[0-9a-f]* \\(.*\\) heap.*/\\1/"'
	assert_eq "interleave=static:0" "$(hutch exec mpx sh -c "$heap")" "exec'd process"
	hutch delete -f mpx
	# and no policy of one container's reaches another's exec
	cfg b 'del(.linux.memoryPolicy)'
	hutch run -d -b b mpy
	assert_eq "default" "$(hutch exec mpy sh -c "$heap")" "without memoryPolicy"
	hutch delete -f mpy
}

test_memory_policy_errors_name_the_field() {
	new_bundle b true
	host_snapshot > before
	local mp msg
	while IFS='|' read -r mp msg; do
		cfg b ".linux.memoryPolicy = $mp"
		expect_fail "$msg" hutch run -b b mpbad
	done <<-'EOF'
		{"nodes": "0"}|linux.memoryPolicy.mode: missing required field
		{"mode": "MPOL_FOO"}|linux.memoryPolicy.mode: unknown mode "MPOL_FOO"
		{"mode": "MPOL_BIND"}|linux.memoryPolicy.nodes: MPOL_BIND needs at least one node
		{"mode": "MPOL_LOCAL", "nodes": "0"}|linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes
		{"mode": "MPOL_BIND", "nodes": "0-x"}|linux.memoryPolicy.nodes: "0-x" is not a list of nodes
		{"mode": "MPOL_BIND", "nodes": "3-1"}|linux.memoryPolicy.nodes: "3-1": a range goes from low to high
		{"mode": "MPOL_BIND", "nodes": "0", "flags": ["BOGUS"]}|linux.memoryPolicy.flags[0]: unknown flag "BOGUS"
		{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}|linux.memoryPolicy.flags: MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other
		{"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}|MPOL_F_NUMA_BALANCING needs MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE
		{"mode": "MPOL_BIND", "nodes": "1000"}|linux.memoryPolicy: set_mempolicy(MPOL_BIND, nodes "1000"): Invalid argument
	EOF
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
	assert_eq 0 "$(find /sys/fs/cgroup -maxdepth 3 -name mpbad | wc -l)" "cgroup left"
}

# runtime-spec config.md: process is "REQUIRED if start is called". As crun: create sets the
# container up, start refuses it naming the field (runc refuses already at create).
# process is OPTIONAL in config.md, and start MUST fail without it (runtime.md); as crun,
# the failed start leaves the container stopped, so a plain delete cleans it up
test_config_without_process_creates_and_start_stops_it() {
	new_bundle b true
	cfg b 'del(.process)'
	host_snapshot > before
	hutch create -b b np
	assert_eq created "$(status_of np)"
	assert_eq np "$(hutch state np | jq -r .id)" "state id"
	assert_eq hi "$(hutch exec np echo hi)" "exec into it"
	expect_fail 'start `np`: config.json: process: missing' hutch start np
	assert_eq stopped "$(status_of np)" "status after the refused start"
	hutch delete np
	expect_fail 'config.json: process: missing' hutch run -b b np2
	assert_clean before
	# spec still writes a process
	(mkdir sp && cd sp && "$HUTCH" spec)
	assert_eq '["sh"]' "$(jq -c .process.args sp/config.json)" "spec process.args"
}

test_intel_rdt_without_resctrl_is_a_clear_error() {
	grep -q resctrl /proc/mounts && skip "this host has resctrl mounted"
	new_bundle b true
	cfg b '.linux.intelRdt = {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0"}'
	expect_fail 'config.json: linux.intelRdt: needs Intel RDT (resctrl), and this host has no resctrl filesystem mounted at /sys/fs/resctrl' \
		hutch run -b b rdt
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
}

# linux.netDevices, all inside a network namespace of the test's own (the "host" here):
# nd_host NS makes it, with the veth pair vtest0/vtest1; nd_hutch NS ARGS runs hutch there.
nd_host() {
	ip netns add "$1"
	trap "ip netns del $1" EXIT
	ip -n "$1" link add vtest0 type veth peer name vtest1 || skip "this kernel cannot make a veth pair"
}
nd_hutch() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$HUTCH" --root "$T_ROOT" "$@"
}

test_net_devices_move_in_renamed_with_addresses_and_back_on_delete() {
	local ns=hutch-nd-$$
	nd_host "$ns"
	ip -n "$ns" addr add 10.9.8.7/24 dev vtest0
	ip -n "$ns" link set vtest0 up
	new_bundle b sh -c 'ip -o link show ctr0 | grep -o ",UP"; ip -o -4 addr show ctr0 | awk "{print \$4}"; ls /sys/class/net | xargs'
	cfg b '.linux.netDevices = {"vtest0": {"name": "ctr0"}}'
	out=$(nd_hutch "$ns" run -b b nd1 | xargs)
	assert_eq ",UP 10.9.8.7/24 ctr0 lo" "$out" "inside: renamed, up, its address"
	# a veth would die with the container's namespace: it is back, with its address
	assert_match "$(ip -n "$ns" -o -4 addr show vtest0)" "inet 10.9.8.7/24"
	assert_match "$(ip -n "$ns" -o link show vtest0)" "UP"
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
	assert_eq 0 "$(grep -c net-devices /proc/self/mountinfo)" "namespace mount left"
	# create then delete, without a start: back too
	nd_hutch "$ns" create -b b nd2
	[ -z "$(ip -n "$ns" -o link show vtest0 2>/dev/null)" ] || fail "vtest0 still on the host after create"
	nd_hutch "$ns" delete nd2
	assert_match "$(ip -n "$ns" -o -4 addr show vtest0)" "inet 10.9.8.7/24"
	# a failing create gives it back as well
	cfg b '.process.args = ["/nonexistent"]'
	expect_fail 'executable file not found' nd_hutch "$ns" run -b b nd3
	assert_match "$(ip -n "$ns" -o -4 addr show vtest0)" "inet 10.9.8.7/24"
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
}

test_net_devices_errors_name_the_field() {
	local ns=hutch-nd-$$
	nd_host "$ns"
	new_bundle b true
	local nd msg
	while IFS='|' read -r nd msg; do
		cfg b ".linux.netDevices = $nd"
		expect_fail "$msg" nd_hutch "$ns" run -b b nde
	done <<-'EOF'
		{"nosuch0": {}}|config.json: linux.netDevices.nosuch0: no interface "nosuch0" on the host
		{"vtest0": {"name": "a/b"}}|config.json: linux.netDevices.vtest0.name: "a/b" is not an interface name
		{"vtest0": {"name": "waytoolonginterfacename"}}|linux.netDevices.vtest0.name: "waytoolonginterfacename" is not an interface name
		{"vtest0": {"name": 5}}|linux.netDevices.vtest0.name: expected a string
	EOF
	cfg b '.linux.netDevices = {"vtest0": {}} | .linux.namespaces |= map(select(.type != "network"))'
	expect_fail 'config.json: linux.netDevices: needs a network namespace in linux.namespaces' \
		nd_hutch "$ns" run -b b nde
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
	[ -n "$(ip -n "$ns" -o link show vtest0)" ] || fail "vtest0 gone"
}

test_process_env_cwd_user_umask() {
	new_bundle b sh -c 'echo "$GREETING $(pwd) $(id -u):$(id -g) [$(id -G)] $(umask) $HOME"'
	mkdir -p b/rootfs/work
	cfg b '.process.env += ["GREETING=hi"] | .process.cwd = "/work" |
	       .process.user = {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 63}'
	assert_eq "hi /work 1000:100 [100 5 6] 0077 /" "$(hutch run -b b c1)"
}

test_rlimits_oom_score_and_no_new_privileges() {
	new_bundle b sh -c 'ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status'
	cfg b '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}] |
	       .process.oomScoreAdj = 77 | .process.noNewPrivileges = true'
	out=$(hutch run -b b c1 | xargs)
	assert_eq "123 456 77 NoNewPrivs: 1" "$out"
}

test_rlimit_above_hard_limit_is_reported() {
	hard=$(ulimit -Hn)
	new_bundle b true
	cfg b ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": $((hard + 1)), \"hard\": $((hard + 1))}]"
	# root may raise it; where the host forbids it, the error must say so
	out=$(hutch run -b b c1 2>&1) && return 0
	assert_contains "$out" "process.rlimits[0]"
}

test_cgroup_mount_inside() {
	new_bundle b sh -c 'ls /sys/fs/cgroup; cat /proc/self/cgroup | head -3'
	out=$(hutch run -b b c1)
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		assert_contains "$out" "cgroup.procs"
	else
		assert_contains "$out" "memory"
		assert_contains "$out" "pids"
	fi
}

test_log_json_format() {
	expect_fail "does not exist" hutch --log "$PWD/log.json" --log-format json state nope
	line=$(tail -n1 log.json)
	assert_eq error "$(jq -r .level <<<"$line")"
	assert_contains "$(jq -r .msg <<<"$line")" "does not exist"
	assert_match "$(jq -r .time <<<"$line")" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
}

test_global_flags_version_help() {
	assert_contains "$(hutch --version)" "spec: 1.3.0"
	assert_contains "$(hutch help)" "create"
	for c in create start run exec state kill delete list ps spec features; do
		assert_contains "$(hutch help $c)" "usage: hutch [GLOBAL OPTIONS] $c" "help $c"
		assert_contains "$(hutch $c --help)" "usage:" "$c --help"
	done
	# the systemd manager is accepted (commands that make no cgroup never reach systemd)
	hutch --systemd-cgroup list >/dev/null
	hutch --cgroup-manager systemd list >/dev/null
	expect_fail "unknown manager" hutch --cgroup-manager foo list
}

test_features_json() {
	out=$(hutch features)
	assert_eq 1.3.0 "$(jq -r .ociVersionMax <<<"$out")"
	assert_eq '["MPOL_DEFAULT","MPOL_BIND","MPOL_INTERLEAVE","MPOL_WEIGHTED_INTERLEAVE","MPOL_PREFERRED","MPOL_PREFERRED_MANY","MPOL_LOCAL"]' \
		"$(jq -c .linux.memoryPolicy.modes <<<"$out")" memoryPolicy.modes
	assert_eq '["MPOL_F_NUMA_BALANCING","MPOL_F_RELATIVE_NODES","MPOL_F_STATIC_NODES"]' \
		"$(jq -c .linux.memoryPolicy.flags <<<"$out")" memoryPolicy.flags
	assert_eq '{"enabled":false,"schemata":false}' "$(jq -c .linux.intelRdt <<<"$out")" intelRdt
	assert_eq '{"enabled":true}' "$(jq -c .linux.netDevices <<<"$out")" netDevices
	assert_contains "$(jq -c .linux.namespaces <<<"$out")" '"time"'
	assert_contains "$(jq -c .linux.capabilities <<<"$out")" '"CAP_SYS_ADMIN"'
	assert_contains "$(jq -c .mountOptions <<<"$out")" '"rbind"'
}

test_spec_default_and_rootless() {
	hutch spec
	assert_eq '["sh"]' "$(jq -c .process.args config.json)"
	expect_fail "exists" hutch spec
	mkdir r && hutch spec --rootless --bundle r
	assert_contains "$(jq -c '.linux.namespaces' r/config.json)" '"user"'
	assert_eq "$(id -u)" "$(jq '.linux.uidMappings[0].hostID' r/config.json)"
}

test_cgroup_manager_disabled() {
	new_bundle b cat /proc/self/cgroup
	cfg b 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	host_snapshot > before
	out=$(hutch --cgroup-manager disabled run -b b c1)
	assert_eq "$(cat /proc/self/cgroup)" "$out" "cgroups untouched"
	assert_clean before
}

test_overlay_mount() {
	mkdir -p lower upper work && echo from-lower > lower/l
	new_bundle b sh -c 'cat /ov/l; echo new > /ov/u; ls /ov | xargs'
	cfg b ".mounts += [{\"destination\": \"/ov\", \"type\": \"overlay\", \"source\": \"overlay\",
		\"options\": [\"lowerdir=$PWD/lower\", \"upperdir=$PWD/upper\", \"workdir=$PWD/work\"]}]"
	out=$(hutch run -b b c1)
	assert_contains "$out" "from-lower"
	assert_contains "$out" "l u"
	assert_eq new "$(cat upper/u)" "write landed in the upper dir"
	[ ! -e lower/u ] || fail "lower dir was written"
}

test_rootfs_propagation() {
	new_bundle b sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	cfg b '.linux.rootfsPropagation = "rprivate"'
	out=$(hutch run -b b c1)
	assert_not_contains "$out" "shared:" "rprivate root"
	assert_not_contains "$out" "master:" "rprivate root"
	cfg b '.linux.rootfsPropagation = "rshared"'
	assert_contains "$(hutch run -b b c2)" "shared:" "rshared root"
}

test_devices_in_a_user_namespace_are_bound() {
	new_bundle b sh -c 'echo hi > /dev/mynull && echo ok; grep /dev/mynull /proc/self/mountinfo | wc -l
			    grep -E " /dev/(null|mynull|tty) [a-z]*,nosuid,noexec" /proc/self/mountinfo | wc -l'
	cfg b '.linux.namespaces += [{"type": "user"}] |
	       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .mounts |= map(if .destination == "/sys" then . + {"type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end) |
	       .mounts |= map(select(.destination != "/sys/fs/cgroup")) |
	       .linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3}]'
	chown 100000:100000 b/rootfs
	out=$(hutch run -b b c1 | xargs)
	assert_eq "ok 1 3" "$out" "devices bound from the host, nosuid,noexec"
}

test_exec_into_host_network_with_own_user_namespace() {
	new_bundle b sleep 1000
	cfg b '.linux.namespaces |= map(select(.type != "network")) | .linux.namespaces += [{"type": "user"}] |
	       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .mounts |= map(if .destination == "/sys" then . + {"type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end) |
	       .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	chown 100000:100000 b/rootfs
	hutch run -d -b b hn1
	out=$(hutch exec hn1 sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/user; cat /proc/self/uid_map' | xargs)
	hutch delete -f hn1
	read -r net user map <<<"$out"
	assert_eq "$(readlink /proc/self/ns/net)" "$net" "the host's network namespace"
	assert_match "$user" '^user:' "user namespace"
	[ "$user" != "$(readlink /proc/self/ns/user)" ] || fail "exec is in the host's user namespace"
	assert_eq "0 100000 65536" "$map" "the container's uid map"
}

test_exec_no_new_privs_flag() {
	new_bundle b sleep 1000
	cfg b '.process.noNewPrivileges = false'
	hutch run -d -b b c1
	assert_eq "NoNewPrivs: 0" "$(hutch exec c1 grep NoNewPrivs /proc/self/status | xargs)"
	assert_eq "NoNewPrivs: 1" "$(hutch exec --no-new-privs c1 grep NoNewPrivs /proc/self/status | xargs)"
	hutch delete -f c1
}

run_tests
