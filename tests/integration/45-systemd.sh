#!/bin/bash
# The systemd cgroup driver (--systemd-cgroup) against a real systemd: Debian's systemd as
# PID 1 of private namespaces (tests/helpers/systemd-ns), managing a delegated cgroup
# subtree in the host's layout (hybrid here), reached over its private socket and D-Bus;
# in the VM harness, the guest's own systemd, which booted it (pure v2, HUTCH_SDNS_HOST=1).
# Every hutch command of these tests runs in those namespaces (`hutch` below); 40-cgroups.sh
# runs there too, with --systemd-cgroup (HUTCH_TEST_SYSTEMD=1).
source "$(dirname "$0")/../lib.sh"

SDNS=$TOP/tests/helpers/systemd-ns

for t in /lib/systemd/systemd unshare nsenter busctl dbus-daemon; do
	[ -x "$t" ] || command -v "$t" >/dev/null || {
		echo "ok - $T_NAME: all # SKIP $t not installed (make deps)"
		exit 0
	}
done

SD=$(mktemp -d /tmp/hutch-sd.XXXXXX)
sd_cleanup() {
	"$SDNS" stop "$SD" || true
	rm -rf "$SD"
}
trap sd_cleanup EXIT
if ! "$SDNS" start "$SD" >"$SD/start.log" 2>&1; then
	sed 's/^/# /' "$SD/start.log"
	echo "not ok - $T_NAME: systemd starts as PID 1 of a namespace"
	exit 0
fi
if [ "${HUTCH_SDNS_HOST:-}" = 1 ]; then
	echo "# systemd $(systemctl --version | awk 'NR == 1 {print $2}') is this machine's PID 1 (booted with it)"
else
	echo "# systemd $(systemctl --version | awk 'NR == 1 {print $2}') is PID 1 of namespaces, pid $(cat "$SD/pid") on the host"
fi

sd() { "$SDNS" run "$SD" "$@"; }
# hutch, in systemd's namespaces, with the systemd driver (cleanup_containers uses it too)
hutch() { "$SDNS" run "$SD" "$HUTCH" --root "$T_ROOT" --systemd-cgroup "$@"; }

if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then V2=true; else V2=false; fi

# show UNIT PROP...: "PROP=value" lines of systemctl show
show() {
	local u=$1 a=()
	shift
	for p in "$@"; do a+=(-p "$p"); done
	sd systemctl show "$u" "${a[@]}"
}
prop() { sd systemctl show "$1" -p "$2" --value; }
# cgfile ID CONTROLLER FILE: a file of the container's directory serving CONTROLLER
cgfile() {
	local d
	d=$(jq -r --arg c "$2" '.cgroup.hierarchies[] | select(.controllers | index($c)) | .dir' \
		"$T_ROOT/$1/state.json" | head -n1)
	sd cat "$d/$3"
}
# no cgroup directory named like $1 anywhere in systemd's view
assert_no_dirs() {
	local left
	left=$(sd find /sys/fs/cgroup -type d -name "*$1*" 2>/dev/null || true)
	[ -z "$left" ] || fail "cgroup directories left: $left"
}

test_unreachable_systemd_is_a_clear_error_and_leaves_nothing() {
	new_bundle b sleep 100
	# the host's view with an empty /run: neither systemd's private socket nor a bus
	# shellcheck disable=SC2016
	out=$(env -u DBUS_SYSTEM_BUS_ADDRESS unshare -m sh -c \
		'mount -t tmpfs tmpfs /run && exec "$0" --root "$1" --systemd-cgroup run -d -b b u1-$$' \
		"$HUTCH" "$T_ROOT" 2>&1) && fail "run succeeded without systemd: $out"
	assert_contains "$out" "cannot reach systemd"
	assert_contains "$out" "/run/systemd/private"
	assert_contains "$out" "/run/dbus/system_bus_socket"
	# nothing left: state, cgroups (by name: other suites' containers come and go), mounts
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left: $(ls -A "$T_ROOT")"
	left=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "*u1-$$*" 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left: $left"
	! grep -q " $T_TMP" /proc/self/mountinfo || fail "mounts left: $(grep " $T_TMP" /proc/self/mountinfo)"
}

test_scope_in_nested_slice_with_properties() {
	new_bundle b sleep 1000
	cfg b '.linux.cgroupsPath = "hutch45-a.slice:pfx:c1"
		| .linux.resources = {memory: {limit: 67108864}, cpu: {shares: 512, quota: 50000, period: 100000, cpus: "0"}, pids: {limit: 50}}'
	hutch run -d -b b c1
	u=pfx-c1.scope
	out=$(show $u ActiveState Slice Delegate TasksMax CPUQuotaPerSecUSec ControlGroup)
	assert_contains "$out" "ActiveState=active"
	assert_contains "$out" "Slice=hutch45-a.slice"
	assert_contains "$out" "Delegate=yes"
	assert_contains "$out" "TasksMax=50"
	assert_contains "$out" "CPUQuotaPerSecUSec=500ms"
	assert_contains "$out" "ControlGroup=/hutch45.slice/hutch45-a.slice/pfx-c1.scope"
	if $V2; then
		assert_eq 67108864 "$(prop $u MemoryMax)" MemoryMax
		assert_eq 67108864 "$(cgfile c1 memory memory.max)" memory.max
		assert_eq "50000 100000" "$(cgfile c1 cpu cpu.max)" cpu.max
		assert_eq "0" "$(cgfile c1 cpuset cpuset.cpus)" cpuset.cpus
	else
		assert_eq 67108864 "$(prop $u MemoryLimit)" MemoryLimit
		assert_eq 512 "$(prop $u CPUShares)" CPUShares
		assert_eq 67108864 "$(cgfile c1 memory memory.limit_in_bytes)" memory.limit_in_bytes
		assert_eq 50000 "$(cgfile c1 cpu cpu.cfs_quota_us)" cpu.cfs_quota_us
		assert_eq 512 "$(cgfile c1 cpu cpu.shares)" cpu.shares
		assert_eq 0 "$(cgfile c1 cpuset cpuset.cpus)" cpuset.cpus
	fi
	assert_eq 50 "$(cgfile c1 pids pids.max)" pids.max
	assert_eq "/hutch45.slice/hutch45-a.slice/pfx-c1.scope" "$(jq -r .cgroup.path "$T_ROOT/c1/state.json")"
	# the container's init is in the scope in every hierarchy (systemd's and hutch's)
	pid=$(hutch state c1 | jq -r .pid)
	while IFS= read -r line; do
		case $line in
		*:/hutch45.slice/hutch45-a.slice/pfx-c1.scope) ;;
		*) fail "init not in its scope: [$line]" ;;
		esac
	done < <(sd cat "/proc/$pid/cgroup")
	hutch delete -f c1
	assert_eq not-found "$(prop $u LoadState)" "the unit after delete"
	assert_no_dirs pfx-c1
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left"
	sd systemctl stop hutch45.slice
}

test_default_unit_and_exec_joins_it() {
	new_bundle b sleep 1000
	cfg b 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	hutch run -d -b b d45-$$
	u=hutch-d45-$$.scope
	assert_eq active "$(prop "$u" ActiveState)"
	assert_eq system.slice "$(prop "$u" Slice)"
	out=$(hutch exec d45-$$ cat /proc/self/cgroup)
	while IFS= read -r line; do
		case $line in
		*:/system.slice/$u) ;;
		*) fail "exec'd process not in the scope: [$line]" ;;
		esac
	done <<<"$out"
	hutch delete -f d45-$$
	assert_eq not-found "$(prop "$u" LoadState)"
	assert_no_dirs "d45-$$"
}

# Through the system bus (dbus-daemon) instead of systemd's private socket: what a
# caller gets that names the bus (DBUS_SYSTEM_BUS_ADDRESS); JobRemoved comes to the
# caller of the job without Subscribe.
test_through_the_system_bus() {
	new_bundle b sleep 1000
	cfg b '.linux.cgroupsPath = "system.slice:hutch45:bus1" | .linux.resources = {pids: {limit: 10}}'
	bus() { sd env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket "$HUTCH" --root "$T_ROOT" --systemd-cgroup "$@"; }
	bus run -d -b b bus1
	assert_eq active "$(prop hutch45-bus1.scope ActiveState)"
	assert_eq 10 "$(prop hutch45-bus1.scope TasksMax)"
	bus update --pids-limit 12 bus1
	assert_eq 12 "$(prop hutch45-bus1.scope TasksMax)"
	bus delete -f bus1
	assert_eq not-found "$(prop hutch45-bus1.scope LoadState)"
	# a bus nobody listens on: the error names it
	expect_fail "cannot reach systemd" sd env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/nobody \
		"$HUTCH" --root "$T_ROOT" --systemd-cgroup run -d -b b bus2
	expect_fail "unix:path=/run/nobody" sd env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/nobody \
		"$HUTCH" --root "$T_ROOT" --systemd-cgroup run -d -b b bus2
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left"
}

test_update_sets_unit_properties_and_files() {
	new_bundle b sleep 1000
	cfg b '.linux.cgroupsPath = "system.slice:hutch45:u1" | .linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}'
	hutch run -d -b b u1
	u=hutch45-u1.scope
	hutch update --memory 33554432 --pids-limit 20 --cpu-quota 20000 --cpu-period 100000 u1
	assert_eq 20 "$(prop $u TasksMax)" TasksMax
	assert_eq 200ms "$(prop $u CPUQuotaPerSecUSec)" CPUQuotaPerSecUSec
	assert_eq 20 "$(cgfile u1 pids pids.max)" pids.max
	if $V2; then
		assert_eq 33554432 "$(prop $u MemoryMax)" MemoryMax
		assert_eq 33554432 "$(cgfile u1 memory memory.max)" memory.max
	else
		assert_eq 33554432 "$(prop $u MemoryLimit)" MemoryLimit
		assert_eq 33554432 "$(cgfile u1 memory memory.limit_in_bytes)" memory.limit_in_bytes
	fi
	# systemd keeps the values: a reload re-applies its own, which are the new ones
	sd systemctl daemon-reload
	assert_eq 20 "$(cgfile u1 pids pids.max)" "pids.max after daemon-reload"
	hutch delete -f u1
	assert_no_dirs hutch45-u1
}

test_pause_resume_stats_events() {
	# shellcheck disable=SC2016
	new_bundle b sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; usleep 20000 2>/dev/null || sleep 1; done'
	cfg b '.linux.cgroupsPath = "system.slice:hutch45:p1" | .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs"}]'
	hutch run -d -b b p1
	hutch pause p1
	assert_eq paused "$(hutch state p1 | jq -r .status)"
	hutch resume p1
	assert_eq running "$(hutch state p1 | jq -r .status)"
	st=$(hutch stats --format json p1)
	[ "$(jq -r .pids_current <<<"$st")" -ge 1 ] || fail "stats pids_current: $st"
	[ "$(jq -r .cpu_total_ns <<<"$st")" -gt 0 ] || fail "stats cpu: $st"
	ev=$(hutch events --stats p1)
	[ "$(jq -r .data.pids.current <<<"$ev")" -ge 1 ] || fail "events --stats: $ev"
	hutch delete -f p1
	assert_no_dirs hutch45-p1
}

test_exit_stops_the_scope_and_delete_still_cleans() {
	new_bundle b true
	cfg b '.linux.cgroupsPath = "system.slice:hutch45:e1"'
	hutch run -b b e1
	# the scope went with its last process, systemd removed its cgroups, run deleted the rest
	wait_for sh -c "[ \"\$('$SDNS' run '$SD' systemctl show hutch45-e1.scope -p LoadState --value)\" = not-found ]"
	assert_no_dirs hutch45-e1
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left"
}

test_bad_paths_and_duplicate_units_are_clear_errors() {
	new_bundle b sleep 1000
	# (every form refused: tests/unit/cgroup.c; here the command's error and leftovers)
	for p in "a:b|the systemd cgroup manager expects" "nope:p:n|the slice \"nope\" is not a slice" \
		"a--b.slice:p:n|the slice \"a--b.slice\" has an empty component" \
		"x.slice:p:n.slice|a slice as the container's own unit is not supported"; do
		cfg b ".linux.cgroupsPath = \"${p%%|*}\""
		expect_fail "config.json: linux.cgroupsPath: \"${p%%|*}\": ${p#*|}" hutch run -d -b b bad1
	done
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left"
	cfg b '.linux.cgroupsPath = "system.slice:hutch45:dup"'
	hutch run -d -b b dup1
	expect_fail "exists already" hutch run -d -b b dup2
	assert_eq running "$(hutch state dup1 | jq -r .status)" "the first container"
	[ ! -e "$T_ROOT/dup2" ] || fail "state of dup2 left"
	hutch delete -f dup1
	assert_no_dirs hutch45-dup
}

# podman with --cgroup-manager systemd and --runtime hutch: it asks for the scope
# machine.slice:libpod:ID, makes conmon's own scope over D-Bus, and drives hutch's.
test_podman_with_systemd_cgroup_manager() {
	if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
		skip "podman or conmon not installed (make deps)"
	fi
	# (podman wants a runroot path of at most 50 characters)
	PM=$(mktemp -d /tmp/hutch-sdpm.XXXXXX)
	containers_conf "$PM" systemd
	# (as a user's shell runs it: podman leaves conmon in the caller's unit when it finds
	# itself in a systemd service, $INVOCATION_ID, as the suite is in the VM's systemd guest)
	pm() {
		sd env -u INVOCATION_ID CONTAINERS_CONF="$PM/containers.conf" CONTAINERS_STORAGE_CONF="$PM/storage.conf" \
			podman --root "$PM/root" --runroot "$PM/runroot" --storage-driver vfs \
			--cgroup-manager systemd --runtime "$HUTCH" "$@"
	}
	# shellcheck disable=SC2317
	pm_cleanup() {
		pm rm -a -f -t 0 >/dev/null 2>&1 || true
		pm rmi -a -f >/dev/null 2>&1 || true
		umount -R "$PM/root" "$PM/runroot" 2>/dev/null || true
		rm -rf "$PM"
	}
	trap pm_cleanup EXIT
	tar -C "$ROOTFS_TEMPLATE" -c . | pm import -q - localhost/hutch-busybox >/dev/null
	# (the host's cgroup namespace: on v2 podman gives the container a private one)
	out=$(pm run --rm --cgroupns host localhost/hutch-busybox sh -c 'echo hello; cat /proc/self/cgroup')
	assert_contains "$out" hello
	assert_match "$out" "0::/machine.slice/libpod-[0-9a-f]{64}\.scope"
	id=$(pm run -d --name d1 --memory 64m --pids-limit 30 localhost/hutch-busybox sleep 1000)
	u=libpod-$id.scope
	assert_eq active "$(prop "$u" ActiveState)" "$u"
	assert_eq machine.slice "$(prop "$u" Slice)"
	assert_eq yes "$(prop "$u" Delegate)"
	assert_eq 30 "$(prop "$u" TasksMax)"
	if $V2; then assert_eq 67108864 "$(prop "$u" MemoryMax)"; else assert_eq 67108864 "$(prop "$u" MemoryLimit)"; fi
	assert_eq active "$(prop "libpod-conmon-$id.scope" ActiveState)" "conmon's scope"
	assert_eq ok "$(pm exec d1 echo ok)"
	pm pause d1 >/dev/null
	assert_eq paused "$(pm inspect d1 --format '{{.State.Status}}')"
	pm unpause d1 >/dev/null
	assert_match "$(pm stats --no-stream --format '{{.PIDs}} {{.MemUsage}}' d1)" "^1 .* / 67.11MB"
	pm rm -f -t 0 d1 >/dev/null
	assert_eq not-found "$(prop "$u" LoadState)" "$u after podman rm"
	# (conmon's scope is podman's: on v1 it leaves freezer/cpuset/cpuacct directories)
	assert_no_dirs "libpod-$id"
}

# sd_containerd CRI_TOML: start containerd in systemd's namespaces, its config, root, state
# and sockets in $CD (a new temp dir), the busybox image imported (ctr, namespace default);
# CRI_TOML is the CRI plugin's part of the config, or "" to disable that plugin. `c` is ctr
# on its socket; the EXIT trap stops it and removes $CD.
sd_containerd() {
	for p in containerd ctr containerd-shim-runc-v2; do
		command -v $p >/dev/null || skip "$p not installed (make deps)"
	done
	CD=${CD:-$(mktemp -u /tmp/hutch-sdcd.XXXXXX)}
	mkdir "$CD"
	{
		cat <<-EOF
			version = 2
			root = "$CD/root"
			state = "$CD/state"
		EOF
		[ -n "$1" ] || echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
		cat <<-EOF
			[grpc]
			  address = "$CD/c.sock"
			[ttrpc]
			  address = "$CD/c.sock.ttrpc"
			[debug]
			  address = "$CD/d.sock"
			[metrics]
			  address = ""
		EOF
		printf '%s\n' "$1"
	} >"$CD/config.toml"
	c() { sd ctr --address "$CD/c.sock" "$@"; }
	# shellcheck disable=SC2016
	sd sh -c 'echo $$ > "$1"; exec containerd --config "$2"' sh "$CD/pid" "$CD/config.toml" >"$CD/log" 2>&1 &
	# shellcheck disable=SC2317
	cd_cleanup() {
		local id
		if [ -S "$CD/c.sock" ]; then
			for id in $(cri pods-q 2>/dev/null); do cri stop-pod "$id"; cri rm-pod "$id"; done >/dev/null 2>&1
			for ns in default k8s.io; do
				for id in $(c -n "$ns" task ls -q 2>/dev/null); do
					c -n "$ns" task kill -s KILL "$id" >/dev/null 2>&1
					c -n "$ns" task delete -f "$id" >/dev/null 2>&1
				done
				for id in $(c -n "$ns" containers ls -q 2>/dev/null); do c -n "$ns" containers rm "$id" >/dev/null 2>&1; done
			done
		fi
		[ ! -f "$CD/pid" ] || sd kill "$(cat "$CD/pid")" 2>/dev/null || true
		sleep 0.5
		umount -R "$CD/root" "$CD/state" 2>/dev/null || true
		rm -rf "$CD"
	}
	trap cd_cleanup EXIT
	wait_for c version
	tar -C "$ROOTFS_TEMPLATE" -cf "$CD/rootfs.tar" .
	python3 "$TOP/tests/image/mkoci.py" layout "$CD/oci" --ref latest \
		--config '{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' "$CD/rootfs.tar"
	tar -C "$CD/oci" -cf "$CD/oci.tar" .
	c image import --base-name localhost/hutch-busybox "$CD/oci.tar" >/dev/null
}
# The CRI gRPC API as the kubelet drives it (tests/clients/cri.py), in systemd's namespaces.
cri() { sd /usr/bin/python3 "$TOP/tests/clients/cri.py" "$CD/c.sock" "$@"; }

# containerd's runc shim with SystemdCgroup (ctr run --runc-systemd-cgroup): the shim passes
# --systemd-cgroup to hutch with the container's slice:prefix:name path.
test_containerd_with_systemd_cgroup() {
	sd_containerd ""
	c run -d --runc-binary "$HUTCH" --runc-systemd-cgroup --runc-root "$CD/runc" \
		--cgroup "system.slice:hutch45cd:cd1" --memory-limit 67108864 \
		localhost/hutch-busybox:latest cd1 sleep 1000 >/dev/null
	u=hutch45cd-cd1.scope
	assert_eq active "$(prop $u ActiveState)" "$u"
	assert_eq yes "$(prop $u Delegate)"
	if $V2; then assert_eq 67108864 "$(prop $u MemoryMax)"; else assert_eq 67108864 "$(prop $u MemoryLimit)"; fi
	assert_contains "$(c task exec --exec-id e1 cd1 cat /proc/1/cgroup)" "/system.slice/$u"
	c task pause cd1
	assert_contains "$(c task ls)" PAUSED
	c task resume cd1
	c task kill -s KILL cd1
	wait_for sh -c "'$SDNS' run '$SD' ctr --address '$CD/c.sock' task ls | grep -q STOPPED"
	c task delete cd1 >/dev/null
	c container rm cd1
	assert_eq not-found "$(prop $u LoadState)" "$u after task delete"
	assert_no_dirs hutch45cd-cd1
}

# What a Kubernetes node with the systemd cgroup driver runs: containerd's CRI plugin with
# the runtime entry's `SystemdCgroup = true` and `BinaryName = hutch`, and a kubelet that
# puts each pod under a slice of its own (cgroup_parent .../kubepods-besteffort-podUID.slice).
# containerd turns that into `kubepods-besteffort-podUID.slice:cri-containerd:ID` for the
# sandbox and each container; hutch makes those scopes, and systemd the nested slices.
test_containerd_cri_with_systemd_cgroup() {
	/usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "python3-grpcio missing (make deps)"
	CD=$(mktemp -u /tmp/hutch-sdcd.XXXXXX)
	sd_containerd "$(cri_plugin_toml "$CD" "$CD/runc" "SystemdCgroup = true")"
	local slice=kubepods-besteffort-podhutch45.slice pod cid pid
	python3 "$TOP/tests/image/mkoci.py" layout "$CD/pause" --ref latest \
		--config '{"Env":["PATH=/bin"],"Entrypoint":["/bin/sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]}' \
		"$CD/rootfs.tar"
	tar -C "$CD/pause" -cf "$CD/pause.tar" .
	c -n k8s.io image import --base-name localhost/hutch-pause "$CD/pause.tar" >/dev/null
	c -n k8s.io image import --base-name localhost/hutch-busybox "$CD/oci.tar" >/dev/null
	export CRI_CGROUP_PARENT=/kubepods.slice/kubepods-besteffort.slice/$slice
	pod=$(cri run-pod pod45 hutch)
	assert_eq active "$(prop "cri-containerd-$pod.scope" ActiveState)" "the sandbox's scope"
	assert_eq "$slice" "$(prop "cri-containerd-$pod.scope" Slice)"
	assert_eq yes "$(prop "cri-containerd-$pod.scope" Delegate)"
	assert_eq kubepods-besteffort.slice "$(prop "$slice" Slice)" "systemd made the parent slices"
	cid=$(cri create "$pod" ctr45 hutch localhost/hutch-busybox:latest \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
	cri start "$cid"
	assert_eq "RUNNING 0" "$(cri status "$cid")"
	assert_eq active "$(prop "cri-containerd-$cid.scope" ActiveState)" "the container's scope"
	# the container's init is in it (seen from outside: on v2 the container has a cgroup
	# namespace of its own)
	pid=$(sd "$HUTCH" --root "$CD/runc/k8s.io" state "$cid" | jq -r .pid)
	assert_contains "$(sd cat "/proc/$pid/cgroup")" "/kubepods.slice/kubepods-besteffort.slice/$slice/cri-containerd-$cid.scope"
	cri_finish "$pod" "$cid"
	assert_eq not-found "$(prop "cri-containerd-$cid.scope" LoadState)" "container scope after RemoveContainer"
	assert_eq not-found "$(prop "cri-containerd-$pod.scope" LoadState)" "sandbox scope after RemovePodSandbox"
	assert_eq "" "$(ls -A "$CD/runc/k8s.io" 2>/dev/null)" "hutch state left after RemovePodSandbox"
	assert_no_dirs "cri-containerd-$cid"
}

# 40-cgroups.sh with --systemd-cgroup in systemd's namespaces: every test, but in the VM
# harness (a TCG guest with a time budget, HUTCH_TEST_DEADLINE, where the whole suite takes
# ~130 s more) those of the resources systemd also sets and of devices (pause, stats and
# events are in pause_resume_stats_events).
# HUTCH_TEST_SYSTEMD_CGROUPS=REGEX picks others.
test_cgroups_suite_with_systemd_driver() {
	local sel=${HUTCH_TEST_SYSTEMD_CGROUPS:-} e=()
	if [ -z "$sel" ] && [ -n "${HUTCH_TEST_DEADLINE:-}" ]; then
		sel='memory_update|pids_limit|cpu_values|unified_keys|denied_device'
	fi
	[ -z "$sel" ] || { e=(TESTS="$sel"); echo "# 40-cgroups: only $sel"; }
	sd env HUTCH_TEST_SYSTEMD=1 HUTCH="$HUTCH" "${e[@]}" bash "$TOP/tests/integration/40-cgroups.sh" >out 2>&1 || true
	grep -E '^(not )?ok - ' out | sed 's/^/# /'
	grep -q '^ok - 40-cgroups: ' out || fail "40-cgroups did not run: $(cat out)"
	! grep -q '^not ok - ' out || { grep '^# ' out | tail -40 >&2; fail "40-cgroups under systemd failed"; }
}

run_tests
