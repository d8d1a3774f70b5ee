#!/bin/bash
# cgroups: resources, update, pause/resume, events, stats, devices, delete.
# Layout-aware: runs on the host (v1 or hybrid) and in the VM (pure v2). Container
# cgroups go under /hutch40-$$/ (not the shared /hutch) so that checks for leftovers
# are not disturbed by other suites running at the same time.
source "$(dirname "$0")/../lib.sh"

if [ -n "${HUTCH_TEST_SYSTEMD:-}" ]; then
	# --systemd-cgroup (45-systemd.sh runs the suite so): scopes system.slice/hutch40x$$-NAME.scope
	CGP=/system.slice/hutch40x$$
	cgp() { echo "$CGP-$1.scope"; }
	cgpath() { echo "system.slice:hutch40x$$:$1"; }
else
	CGP=/hutch40-$$
	cgp() { echo "$CGP/$1"; }
	cgpath() { echo "$CGP/$1"; }
fi

if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
	LAYOUT=v2
elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	LAYOUT=hybrid
else
	LAYOUT=v1
fi
echo "# cgroup layout: $LAYOUT"

# cgdir ID CONTROLLER: the container's directory serving CONTROLLER (from state.json).
cgdir() {
	jq -r --arg c "$2" '.cgroup.hierarchies[] | select(.controllers | index($c)) | .dir' \
		"$T_ROOT/$1/state.json" | head -n1
}
# cgv2 ID CONTROLLER: "yes" when CONTROLLER is served by the unified hierarchy.
cgv2() {
	jq -r --arg c "$2" '.cgroup.hierarchies[] | select(.controllers | index($c)) | .version' \
		"$T_ROOT/$1/state.json" | grep -q 2 && echo yes || echo no
}
# every directory of the container, one per hierarchy
cgdirs() { jq -r '.cgroup.hierarchies[].dir' "$T_ROOT/$1/state.json"; }
# read FILE of the container's CONTROLLER directory
cgread() { cat "$(cgdir "$1" "$2")/$3"; }

# Nothing of ours left in any hierarchy, and no state.
assert_no_cgroups() {
	local left
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -path "*${CGP}*" 2>/dev/null || true)
	[ -z "$left" ] || fail "cgroup directories left behind: $left"
	[ -z "$(ls -A "$T_ROOT")" ] || fail "state left behind: $(ls -A "$T_ROOT")"
}

# bundle DIR ARGS...: a bundle whose cgroup is $CGP/<dir name>, /tmp a tmpfs,
# and /out a writable bind mount of DIR/out.
bundle() {
	local dir=$1
	shift
	new_bundle "$dir" "$@"
	mkdir -p "$dir/out"
	cfg "$dir" ".linux.cgroupsPath = \"$(cgpath "$(basename "$dir")")\"
		| .mounts += [{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\"]},
		              {\"destination\": \"/out\", \"type\": \"bind\", \"source\": \"$PWD/$dir/out\", \"options\": [\"rbind\", \"rw\"]}]"
}

have_ctrl() { # a controller this host offers anywhere
	grep -qw "$1" /proc/self/mountinfo && return 0
	[ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw "$1" /sys/fs/cgroup/cgroup.controllers && return 0
	[ -f /sys/fs/cgroup/unified/cgroup.controllers ] && grep -qw "$1" /sys/fs/cgroup/unified/cgroup.controllers
}

test_process_is_in_its_cgroup_before_exec() {
	bundle b cat /proc/self/cgroup
	cfg b 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	out=$(hutch run b1 -b b 2>&1 || true)
	# the first program the container executes already sees its cgroup everywhere
	# (the named systemd hierarchy included)
	while IFS= read -r line; do
		case $line in
		*:"$(cgp b)") ;;
		*) fail "not in its cgroup: [$line] (all: $out)" ;;
		esac
	done <<<"$out"
	[ -n "$out" ] || fail "no output"
	hutch delete b1 2>/dev/null || true
	assert_no_cgroups
}

test_default_path_and_delete_leaves_nothing() {
	new_bundle b sleep 100
	hutch run -d -b b c40d-$$
	dirs=$(cgdirs c40d-$$)
	want=/hutch/c40d-$$
	[ -z "${HUTCH_TEST_SYSTEMD:-}" ] || want=/system.slice/hutch-c40d-$$.scope
	for d in $dirs; do
		assert_match "$d" "$want\$" "default path"
		[ -d "$d" ] || fail "$d missing"
	done
	hutch delete -f c40d-$$
	for d in $dirs; do
		[ ! -d "$d" ] || fail "$d left after delete"
	done
}

test_relative_path_is_under_own_cgroup_or_its_v2_parent() {
	[ -z "${HUTCH_TEST_SYSTEMD:-}" ] || skip "relative paths are cgroupfs's (systemd's are slice:prefix:name)"
	new_bundle b sleep 100
	cfg b ".linux.cgroupsPath = \"rel40-$$/r\""
	hutch run -d r1 -b b
	if [ "$LAYOUT" = v2 ]; then
		# relative to the parent of our own cgroup, which may hold processes (runc does the same)
		memdir=$(jq -r '.cgroup.hierarchies[0].dir' "$T_ROOT/r1/state.json")
		own=$(dirname "$(sed -n 's/^0:://p' /proc/self/cgroup)")
	else
		memdir=$(cgdir r1 memory)
		own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
	fi
	own=${own%/}
	assert_match "$memdir" "${own}/rel40-$$/r\$" "relative path"
	hutch delete -f r1
	[ ! -d "$memdir" ] || fail "$memdir left"
	[ ! -d "$(dirname "$memdir")" ] || fail "parent $(dirname "$memdir") left"
}

test_memory_limit_is_enforced_and_events_reports_oom() {
	have_ctrl memory || skip "no memory controller on this kernel"
	bundle m sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo dd=$?'
	# swap = limit: no swap to escape to
	cfg m '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	hutch create m1 -b m >m/out/log 2>&1
	if [ "$(cgv2 m1 memory)" = yes ]; then
		assert_eq 16777216 "$(cgread m1 memory memory.max)" "memory.max"
		assert_eq 0 "$(cgread m1 memory memory.swap.max)" "memory.swap.max"
	else
		assert_eq 16777216 "$(cgread m1 memory memory.limit_in_bytes)" "memory.limit_in_bytes"
	fi
	hutch events m1 --interval 60s >m/events 2>m/events.err &
	ev=$!
	sleep 0.5
	hutch start m1
	wait_for grep -q '"type":"oom"' m/events || { cat m/events.err >&2; kill $ev; false; }
	wait_for grep -q 'dd=137' m/out/log || fail "dd was not killed: $(cat m/out/log)"
	# events ends by itself when the init exits
	wait $ev
	assert_contains "$(cat m/events)" "{\"type\":\"oom\",\"id\":\"m1\"}"
	hutch delete -f m1
	assert_no_cgroups
}

test_pids_limit_bounds_a_fork_loop() {
	have_ctrl pids || skip "no pids controller on this kernel"
	# the inner shell dies when fork fails; the init goes on
	bundle p sh -c 'sh -c "for i in \$(seq 1 40); do sleep 100 & done" 2>/dev/null; echo forked > /out/done; sleep 100'
	cfg p '.linux.resources.pids = {"limit": 10}'
	hutch run -d p1 -b p
	wait_for test -f p/out/done
	n=$(cgread p1 pids pids.current)
	# the kernel refused forks at the limit
	hits=$(awk '$1 == "max" {print $2}' "$(cgdir p1 pids)/pids.events")
	[ "${hits:-0}" -gt 0 ] || fail "pids.events shows no refused fork"
	[ "$n" -le 10 ] || fail "pids.current $n > limit 10"
	[ "$n" -ge 8 ] || fail "pids.current $n: the loop did not fork up to the limit"
	assert_eq 10 "$(cgread p1 pids pids.max)" pids.max
	st=$(hutch stats p1 --format json)
	assert_eq "$n" "$(jq .pids_current <<<"$st")" "stats pids_current"
	hutch update --pids-limit 20 p1
	assert_eq 20 "$(cgread p1 pids pids.max)" "pids.max after update"
	hutch delete -f p1
	assert_no_cgroups
}

test_cpu_values_land_and_update_changes_them() {
	have_ctrl cpu || skip "no cpu controller on this kernel"
	bundle c sleep 100
	cfg c '.linux.resources.cpu = {"shares": 512, "quota": 25000, "period": 50000, "cpus": "0", "mems": "0"}'
	hutch run -d c1 -b c
	if [ "$(cgv2 c1 cpu)" = yes ]; then
		assert_eq 20 "$(cgread c1 cpu cpu.weight)" "cpu.weight (shares 512)"
		assert_eq "25000 50000" "$(cgread c1 cpu cpu.max)" cpu.max
	else
		assert_eq 512 "$(cgread c1 cpu cpu.shares)" cpu.shares
		assert_eq 25000 "$(cgread c1 cpu cpu.cfs_quota_us)" cpu.cfs_quota_us
		assert_eq 50000 "$(cgread c1 cpu cpu.cfs_period_us)" cpu.cfs_period_us
	fi
	assert_eq 0 "$(cgread c1 cpuset cpuset.cpus)" cpuset.cpus
	assert_eq 0 "$(cgread c1 cpuset cpuset.mems)" cpuset.mems
	hutch update --cpu-shares 1024 --cpu-quota 30000 --cpu-period 60000 c1
	if [ "$(cgv2 c1 cpu)" = yes ]; then
		assert_eq 39 "$(cgread c1 cpu cpu.weight)" "cpu.weight after update"
		assert_eq "30000 60000" "$(cgread c1 cpu cpu.max)" "cpu.max after update"
	else
		assert_eq 1024 "$(cgread c1 cpu cpu.shares)" "cpu.shares after update"
		assert_eq 30000 "$(cgread c1 cpu cpu.cfs_quota_us)" "quota after update"
		assert_eq 60000 "$(cgread c1 cpu cpu.cfs_period_us)" "period after update"
	fi
	hutch delete -f c1
	assert_no_cgroups
}

test_cpu_realtime_v1_or_clear_error_v2() {
	have_ctrl cpu || skip "no cpu controller on this kernel"
	bundle c sleep 100
	cfg c '.linux.resources.cpu = {"realtimePeriod": 100000, "realtimeRuntime": 1000}'
	if [ "$LAYOUT" = v2 ]; then
		expect_fail 'linux.resources.cpu.realtimeRuntime: not supported on cgroup v2' hutch run -d c1 -b c
		assert_no_cgroups
		return
	fi
	[ -f /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "kernel without CONFIG_RT_GROUP_SCHED"
	# (the realtime budget of systemd's slices is systemd's to give: runc's driver fails too)
	[ -z "${HUTCH_TEST_SYSTEMD:-}" ] || skip "systemd's slices have no realtime budget to hand down"
	hutch run -d c1 -b c
	assert_eq 1000 "$(cgread c1 cpu cpu.rt_runtime_us)" cpu.rt_runtime_us
	assert_eq 100000 "$(cgread c1 cpu cpu.rt_period_us)" cpu.rt_period_us
	hutch delete -f c1
	assert_no_cgroups
}

# disk_dev [loop]: the first whole disk, "MAJ:MIN"; without one (the VM), or with "loop", a
# loop device made for the test ($LOOPDEV).
disk_dev() {
	local d
	if [ "${1:-}" != loop ]; then
		for d in /sys/block/*; do
			[ -e "$d/dev" ] || continue
			case ${d##*/} in loop* | ram* | zram*) continue ;; esac
			cat "$d/dev"
			return 0
		done
	fi
	command -v losetup >/dev/null || return 1
	modprobe loop 2>/dev/null || true # the VM's kernel has it as a module
	truncate -s 1M "$T_TMP/disk.img"
	LOOPDEV=$(losetup -f --show "$T_TMP/disk.img" 2>/dev/null) || return 1
	cat "/sys/block/${LOOPDEV#/dev/}/dev"
}

test_blockio_values_land_and_update_changes_them() {
	have_ctrl blkio || have_ctrl io || skip "no blkio/io controller on this kernel"
	LOOPDEV=
	disk_dev >dev || skip "no disk to throttle and no loop device"
	dev=$(cat dev)
	LOOPDEV=$(losetup -j "$T_TMP/disk.img" 2>/dev/null | cut -d: -f1)
	trap '[ -z "$LOOPDEV" ] || losetup -d "$LOOPDEV"' EXIT
	maj=${dev%:*} min=${dev#*:}
	bundle bio sleep 100
	cfg bio ".linux.resources.blockIO = {\"throttleReadBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 1048576}],
		\"throttleWriteIOPSDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 100}]}"
	hutch run -d b1 -b bio
	if [ "$(cgv2 b1 io)" = yes ]; then
		v=$(cgread b1 io io.max)
		assert_contains "$v" "$dev rbps=1048576" io.max
		assert_contains "$v" "wiops=100" io.max
	else
		assert_contains "$(cgread b1 blkio blkio.throttle.read_bps_device)" "$dev 1048576" read_bps
		assert_contains "$(cgread b1 blkio blkio.throttle.write_iops_device)" "$dev 100" write_iops
	fi
	echo "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 2097152}]}}" >r.json
	hutch update -r r.json b1
	if [ "$(cgv2 b1 io)" = yes ]; then
		assert_contains "$(cgread b1 io io.max)" "$dev rbps=2097152" "io.max after update"
	else
		assert_contains "$(cgread b1 blkio blkio.throttle.read_bps_device)" "$dev 2097152" "read_bps after update"
	fi
	hutch delete -f b1
	assert_no_cgroups
}

test_blockio_weight() {
	have_ctrl blkio || have_ctrl io || skip "no blkio/io controller on this kernel"
	bundle w sleep 100
	cfg w '.linux.resources.blockIO = {"weight": 500}'
	hutch run -d w1 -b w 2>w/err || {
		# kernels with neither CFQ/BFQ weights nor io.weight say so by name
		out=$(cat w/err)
		assert_contains "$out" "linux.resources.blockIO.weight: this kernel has no"
		assert_no_cgroups
		skip "no weight file on this kernel: $out"
	}
	if [ "$(cgv2 w1 io)" = yes ]; then
		d=$(cgdir w1 io)
		if [ -f "$d/io.bfq.weight" ]; then
			assert_contains "$(cat "$d/io.bfq.weight")" 500 io.bfq.weight
		else
			assert_contains "$(cat "$d/io.weight")" "default 4950" "io.weight (converted: 1 + (500-10)*9999/990)"
		fi
	else
		d=$(cgdir w1 blkio)
		f=$d/blkio.weight
		[ -f "$f" ] || f=$d/blkio.bfq.weight
		assert_contains "$(cat "$f")" 500 "$(basename "$f")"
	fi
	hutch update --blkio-weight 200 w1
	assert_contains "$(cat "$f" 2>/dev/null || cat "$d/io.bfq.weight" 2>/dev/null || cat "$d/io.weight")" \
		"$([ "$(cgv2 w1 io)" = yes ] && [ ! -f "$d/io.bfq.weight" ] && echo "default 1920" || echo 200)" "weight after update"
	hutch delete -f w1
	assert_no_cgroups
}

# blockIO.weightDevice: a per-device weight for a device whose scheduler is BFQ (the only
# kernel policy with per-device weights in v1, and the one hutch uses on v2 when it is there):
# blkio.bfq.weight_device on v1, io.bfq.weight on v2. leafWeight (CFQ's, gone since 5.0) is
# a clear error on every layout, and leaves nothing.
test_blockio_weight_device_and_leaf_weight() {
	have_ctrl blkio || have_ctrl io || skip "no blkio/io controller on this kernel"
	LOOPDEV=
	disk_dev loop >dev || skip "no loop device"
	dev=$(cat dev)
	LOOPDEV=$(losetup -j "$T_TMP/disk.img" 2>/dev/null | cut -d: -f1)
	trap '[ -z "$LOOPDEV" ] || losetup -d "$LOOPDEV"' EXIT
	sched=/sys/block/${LOOPDEV#/dev/}/queue/scheduler
	echo bfq > "$sched" 2>/dev/null || skip "no BFQ I/O scheduler: $(cat "$sched")"
	maj=${dev%:*} min=${dev#*:}
	bundle wd sleep 100
	cfg wd ".linux.resources.blockIO = {\"weightDevice\": [{\"major\": $maj, \"minor\": $min, \"weight\": 300}]}"
	hutch run -d wd1 -b wd
	if [ "$(cgv2 wd1 io)" = yes ]; then
		ctl=io f=io.bfq.weight
	else
		ctl=blkio f=blkio.bfq.weight_device
	fi
	assert_contains "$(cgread wd1 $ctl $f)" "$dev 300" "$f"
	hutch delete -f wd1
	host_snapshot > snap
	cfg wd '.linux.resources.blockIO = {"leafWeight": 300}'
	expect_fail "linux.resources.blockIO.leafWeight: " hutch run -d wd2 -b wd
	cfg wd ".linux.resources.blockIO = {\"weightDevice\": [{\"major\": $maj, \"minor\": $min, \"leafWeight\": 300}]}"
	expect_fail "linux.resources.blockIO.weightDevice[0]" hutch run -d wd2 -b wd
	assert_clean snap
	assert_no_cgroups
}

test_hugetlb_limit_lands_and_update_changes_it() {
	have_ctrl hugetlb || skip "no hugetlb controller on this kernel"
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
	bundle h sleep 100
	cfg h '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	hutch run -d h1 -b h
	# on this hybrid host hugetlb is served by the unified hierarchy, not v1
	if [ "$(cgv2 h1 hugetlb)" = yes ]; then f=hugetlb.2MB.max; else f=hugetlb.2MB.limit_in_bytes; fi
	echo "# hugetlb on cgroup v$([ "$(cgv2 h1 hugetlb)" = yes ] && echo 2 || echo 1): $f"
	assert_eq 4194304 "$(cgread h1 hugetlb $f)" $f
	echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}]}' | hutch update -r - h1
	assert_eq 8388608 "$(cgread h1 hugetlb $f)" "$f after update"
	hutch delete -f h1
	assert_no_cgroups
}

# hugetlb on a v1 hierarchy. This hybrid host serves hugetlb from the unified hierarchy
# (hutch enables it in the root's cgroup.subtree_control), so the test hands the controller
# to v1 for its duration: off in the unified root, a v1 hierarchy mounted in a private mount
# namespace, the container run there (hugetlb.2MB.limit_in_bytes, update, delete), and then
# the hierarchy destroyed and the unified root's controllers put back as they were.
test_hugetlb_on_v1() {
	[ -z "${HUTCH_TEST_SYSTEMD:-}" ] || skip "rebinds a controller to a new v1 hierarchy: not under a running systemd"
	[ "$LAYOUT" = hybrid ] || skip "needs a hybrid host, this one is $LAYOUT (a v1 host tests it in hugetlb_limit_lands_and_update_changes_it)"
	awk '$1 == "hugetlb" && $4 == 1 { f = 1 } END { exit !f }' /proc/cgroups || skip "kernel without hugetlb"
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
	[ "$(v1_hierarchy_of hugetlb)" = 0 ] || skip "hugetlb is already on a v1 hierarchy (hugetlb_limit_lands_and_update_changes_it)"
	local sc=/sys/fs/cgroup/unified/cgroup.subtree_control had=no
	! grep -qw hugetlb "$sc" || had=yes
	mkdir -p hug
	# (errexit holds in the trap too)
	# shellcheck disable=SC2064
	trap "hugetlb_restore $had $sc || true" EXIT
	[ "$had" = no ] || echo -hugetlb > "$sc" || skip "hugetlb is in use on the unified hierarchy"
	cat > res.json <<-'EOF'
		{"hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}]}
	EOF
	new_bundle h sleep 1000
	cfg h '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -ec '
		# the unified hierarchy lets go of the controller once its css are gone
		for ((i = 0; i < 50; i++)); do
			mount -t cgroup -o hugetlb hutch-hugetlb hug 2> /dev/null && break
			sleep 0.1
		done
		H() { "$1" --root "$2" "${@:3}"; }
		H "$1" "$2" run -d -b h h1
		d=$(jq -r ".cgroup.hierarchies[] | select(.controllers | index(\"hugetlb\")) | \"\(.version) \(.dir)\"" "$2/h1/state.json")
		echo "hierarchy $d"
		d=${d#* }
		echo "limit $(cat "$d/hugetlb.2MB.limit_in_bytes")"
		H "$1" "$2" update -r res.json h1
		echo "updated $(cat "$d/hugetlb.2MB.limit_in_bytes")"
		H "$1" "$2" events --stats h1 | jq -c ".data.hugetlb | keys"
		H "$1" "$2" delete -f h1
		[ -e "$d" ] || echo "removed"
		umount hug
	' sh "$HUTCH" "$T_ROOT" > out
	sed 's/^/# /' out >&2
	assert_contains "$(cat out)" "hierarchy 1 $PWD/hug/"
	assert_contains "$(cat out)" "limit 4194304"
	assert_contains "$(cat out)" "updated 8388608"
	assert_contains "$(cat out)" '"2MB"'
	assert_contains "$(cat out)" "removed"
	hugetlb_restore "$had" "$sc"
	trap - EXIT
	assert_eq 0 "$(v1_hierarchy_of hugetlb)" "hugetlb hierarchy after the test"
	[ "$had" = no ] || grep -qw hugetlb "$sc" || fail "hugetlb not back in $sc"
}
# hugetlb_restore HAD SUBTREE_CONTROL: destroy the test's v1 hierarchy and give the
# controller back to the unified root.
hugetlb_restore() {
	v1_hierarchy_destroy hugetlb hugetlb hug
	[ "$1" = no ] || echo +hugetlb > "$2"
}

# rdma limits on a real RDMA device: a soft-RoCE (rdma_rxe) device over a dummy link, where
# the kernel has the rdma controller and rxe (the VM's Debian kernels; not this host).
test_rdma_limits_land_and_update_changes_them() {
	have_ctrl rdma || skip "no rdma cgroup controller here"
	command -v rdma > /dev/null || skip "no rdma tool (iproute2)"
	modprobe rdma_rxe 2> /dev/null || skip "no rdma_rxe module"
	ip link add hutchrd0 type dummy
	# (errexit holds in the trap too: a failing command there would end it and fail the test)
	trap 'rdma link delete hutchrxe0 2> /dev/null || true; ip link del hutchrd0 2> /dev/null || true' EXIT
	ip link set hutchrd0 up
	rdma link add hutchrxe0 type rxe netdev hutchrd0
	new_bundle r sleep 1000
	cfg r '.linux.resources.rdma = {"hutchrxe0": {"hcaHandles": 3, "hcaObjects": 100}}'
	hutch run -d -b r r1
	# rdma.max has a line per RDMA device of the host
	rmax() { grep '^hutchrxe0 ' "$(cgdir r1 rdma)/rdma.max" | xargs; }
	assert_eq "hutchrxe0 hca_handle=3 hca_object=100" "$(rmax)" rdma.max
	echo '{"rdma": {"hutchrxe0": {"hcaHandles": 5}}}' > res.json
	hutch update -r res.json r1
	assert_eq "hutchrxe0 hca_handle=5 hca_object=max" "$(rmax)" "rdma.max after update"
	# delete sets the limits back to max before removing the cgroup: otherwise 6.1 keeps
	# the device's pool pointing into the freed cgroup, and removing the device corrupts
	# the kernel's list (BUG, panic). Remove it now, with the cgroup gone.
	hutch delete -f r1
	rdma link delete hutchrxe0
	# a device the kernel does not have is refused, naming the field, and leaves nothing
	host_snapshot > snap
	cfg r '.linux.resources.rdma = {"nosuchdev0": {"hcaHandles": 1}}'
	expect_fail "rdma" hutch run -b r r2
	assert_clean snap
}

# v1_hierarchy_of CTRL: the hierarchy id /proc/cgroups gives CTRL (0: none, or cgroup2)
v1_hierarchy_of() { awk -v c="$1" '$1 == c { print $2 }' /proc/cgroups; }
# v1_hierarchy_destroy CTRL OPTS DIR: put the host back after a test mounted a v1 hierarchy
# for CTRL (mount options OPTS) on DIR. A v1 hierarchy is destroyed when its last mount goes
# with no child cgroup left, but the container's mount namespace held lazily-detached
# copies of the mount until after the cgroup was removed, so the hierarchy may survive its
# unmount; mounting and unmounting it again once everything has settled destroys it.
v1_hierarchy_destroy() {
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(v1_hierarchy_of "$1")" != 0 ] || break
		mount -t cgroup -o "$2" "hutch-$1" "$3" && umount "$3"
		sleep 0.1
	done
}

# net_cls and net_prio are cgroup v1 controllers. This hybrid host compiles them in but
# mounts no hierarchy for them, so the test mounts one in a private mount namespace (hutch
# reads the layout from /proc/self/mountinfo) and runs the container there: classID and
# priorities land in net_cls.classid and net_prio.ifpriomap, update changes the class,
# delete removes the directory.
test_network_classid_and_priorities_on_v1() {
	[ "$LAYOUT" != v2 ] || skip "net_cls/net_prio are v1 controllers (v2's error: knob_missing_on_this_layout_is_an_error)"
	[ -z "${HUTCH_TEST_SYSTEMD:-}" ] || skip "mounts a new v1 hierarchy, which the cgroup namespace of 45-systemd's systemd may not"
	awk '$1 == "net_cls" && $4 == 1 { f = 1 } END { exit !f }' /proc/cgroups || skip "kernel without net_cls"
	new_bundle n sleep 1000
	cfg n '.linux.resources.network = {classID: 1048577, priorities: [{name: "lo", priority: 7}]}'
	mkdir -p netcls
	echo '{"network": {"classID": 42}}' > res.json
	# shellcheck disable=SC2016
	unshare -m --propagation private bash -ec '
		grep -qw net_cls /proc/self/mountinfo || mount -t cgroup -o net_cls,net_prio hutch-netcls netcls
		H() { "$1" --root "$2" "${@:3}"; }
		H "$1" "$2" run -d -b n n1
		d=$(jq -r ".cgroup.hierarchies[] | select(.controllers | index(\"net_cls\")) | .dir" "$2/n1/state.json")
		echo "classid $(cat "$d/net_cls.classid")"
		echo "prio $(grep "^lo " "$d/net_prio.ifpriomap")"
		H "$1" "$2" update -r res.json n1
		echo "updated $(cat "$d/net_cls.classid")"
		H "$1" "$2" delete -f n1
		[ -e "$d" ] || echo "removed"
		umount netcls
	' sh "$HUTCH" "$T_ROOT" > out
	sed 's/^/# /' out >&2
	v1_hierarchy_destroy net_cls net_cls,net_prio netcls
	assert_eq 0 "$(v1_hierarchy_of net_cls)" "net_cls hierarchy after the test"
	assert_contains "$(cat out)" "classid 1048577"
	assert_contains "$(cat out)" "prio lo 7"
	assert_contains "$(cat out)" "updated 42"
	assert_contains "$(cat out)" "removed"
}

test_memory_v1_knobs_or_clear_errors_on_v2() {
	have_ctrl memory || skip "no memory controller"
	bundle m sleep 100
	cfg m '.linux.resources.memory = {"limit": 67108864, "swappiness": 10, "disableOOMKiller": true, "kernelTCP": 16777216}'
	if [ "$LAYOUT" = v2 ]; then
		expect_fail 'config.json: linux.resources.memory.kernelTCP: not supported on cgroup v2' hutch run -d m1 -b m
		cfg m 'del(.linux.resources.memory.kernelTCP)'
		expect_fail 'config.json: linux.resources.memory.swappiness: not supported on cgroup v2' hutch run -d m1 -b m
		cfg m 'del(.linux.resources.memory.swappiness)'
		expect_fail 'config.json: linux.resources.memory.disableOOMKiller: not supported on cgroup v2' hutch run -d m1 -b m
		assert_no_cgroups
		return
	fi
	hutch run -d m1 -b m
	assert_eq 10 "$(cgread m1 memory memory.swappiness)" memory.swappiness
	assert_contains "$(cgread m1 memory memory.oom_control)" "oom_kill_disable 1" memory.oom_control
	assert_eq 16777216 "$(cgread m1 memory memory.kmem.tcp.limit_in_bytes)" memory.kmem.tcp.limit_in_bytes
	hutch delete -f m1
	assert_no_cgroups
}

test_cpu_burst_and_idle() {
	have_ctrl cpu || skip "no cpu controller"
	bundle c sleep 100
	cfg c '.linux.resources.cpu = {"quota": 50000, "period": 100000, "burst": 20000, "idle": 1}'
	if [ "$LAYOUT" = v2 ]; then burst=cpu.max.burst; else burst=cpu.cfs_burst_us; fi
	[ -f "$(dirname "$(find /sys/fs/cgroup -maxdepth 2 -name cpu.idle | head -n1)")/cpu.idle" ] 2>/dev/null ||
		skip "kernel without cpu.idle"
	hutch run -d c1 -b c
	assert_eq 20000 "$(cgread c1 cpu $burst)" $burst
	assert_eq 1 "$(cgread c1 cpu cpu.idle)" cpu.idle
	hutch delete -f c1
	assert_no_cgroups
}

test_memory_update() {
	have_ctrl memory || skip "no memory controller"
	bundle m sleep 100
	cfg m '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216}'
	hutch run -d m1 -b m
	hutch update --memory 64m --memory-swap 64m --memory-reservation 8m m1
	if [ "$(cgv2 m1 memory)" = yes ]; then
		assert_eq 67108864 "$(cgread m1 memory memory.max)" memory.max
		assert_eq 0 "$(cgread m1 memory memory.swap.max)" memory.swap.max
		assert_eq 8388608 "$(cgread m1 memory memory.low)" memory.low
	else
		assert_eq 67108864 "$(cgread m1 memory memory.limit_in_bytes)" limit_in_bytes
		assert_eq 8388608 "$(cgread m1 memory memory.soft_limit_in_bytes)" soft_limit_in_bytes
		[ ! -f "$(cgdir m1 memory)/memory.memsw.limit_in_bytes" ] ||
			assert_eq 67108864 "$(cgread m1 memory memory.memsw.limit_in_bytes)" memsw
	fi
	# a bad value changes nothing
	expect_fail '--memory: "-5" is not a size' hutch update --memory -5 m1
	expect_fail 'update: memory.swap: 1048576 is below the memory limit' \
		hutch update --memory-swap 1m m1
	expect_fail 'nothing to update' hutch update m1
	# checkBeforeUpdate: a limit below what the container already uses is refused
	echo '{"memory": {"limit": 4096, "checkBeforeUpdate": true}}' > low.json
	expect_fail 'memory.limit: 4096 is below the current usage' hutch update -r low.json m1
	if [ "$(cgv2 m1 memory)" = yes ]; then
		assert_eq 67108864 "$(cgread m1 memory memory.max)" "memory.max unchanged"
	else
		assert_eq 67108864 "$(cgread m1 memory memory.limit_in_bytes)" "limit unchanged"
	fi
	hutch delete -f m1
	assert_no_cgroups
}

test_pause_stops_progress_and_resume_restarts_it() {
	bundle z sh -c 'i=0; while :; do i=$((i+1)); echo $i > /out/cnt; usleep 10000; done'
	hutch run -d z1 -b z
	wait_for test -s z/out/cnt
	# the file is rewritten all the time: read it when it is not empty (for up to 5 s; a
	# container paused between the truncation and the write leaves it empty until resumed)
	cnt() {
		local v= i
		for ((i = 0; i < 500; i++)); do
			v=$(cat z/out/cnt)
			[ -z "$v" ] || break
			sleep 0.01
		done
		echo "$v"
	}
	hutch pause z1
	assert_eq paused "$(status_of z1)" status
	assert_eq paused "$(hutch list -f json | jq -r '.[] | select(.id == "z1") | .status')" "list status"
	a=$(cat z/out/cnt)
	sleep 0.5
	b=$(cat z/out/cnt)
	assert_eq "$a" "$b" "counter while paused"
	expect_fail 'is already paused' hutch pause z1
	hutch resume z1
	assert_eq running "$(status_of z1)" status
	sleep 0.5
	c=$(cnt)
	[ "${c:-0}" -gt "${b:-0}" ] || fail "counter did not move after resume ($b -> $c)"
	expect_fail 'not paused' hutch resume z1
	hutch delete -f z1
	assert_no_cgroups
}

test_denied_device_cannot_be_opened_or_created() {
	# c 1:11 (kmsg) may be created but not opened; c 1:2 (kmem) not even created;
	# c 1:9 (urandom) and /dev/null are among the devices always allowed
	bundle d sh -c 'mknod /tmp/kmsg c 1 11 && echo mknod-allowed-m-ok; (echo x > /tmp/kmsg) 2>/dev/null && echo open-kmsg-ok || echo open-kmsg-denied; mknod /tmp/kmem c 1 2 2>/dev/null && echo mknod-kmem-ok || echo mknod-kmem-denied; mknod /tmp/ur c 1 9 && head -c 4 /tmp/ur | wc -c | sed "s/^ */read-urandom-/"; echo x > /dev/null && echo null-ok'
	cfg d '.linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "m"}]
		| .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	out=$(hutch run d1 -b d 2>&1) || true
	assert_contains "$out" mknod-allowed-m-ok
	assert_contains "$out" open-kmsg-denied
	assert_contains "$out" mknod-kmem-denied
	assert_contains "$out" read-urandom-4
	assert_contains "$out" null-ok
	hutch delete d1 2>/dev/null || true
	assert_no_cgroups
}

test_stats_and_events_stats() {
	bundle s sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 100 & wait'
	hutch run -d s1 -b s
	# the busy loop has run once the sleep exists
	wait_for bash -c "[ \$($HUTCH --root $T_ROOT stats -f json s1 | jq .pids_current) -eq 2 ]"
	# the cgroup source (with hutch.ko loaded the default is the module's, checked below)
	st=$(hutch --module off stats s1 --format json)
	for k in cpu_total_ns cpu_user_ns cpu_system_ns memory_current_bytes memory_peak_bytes \
		page_faults major_page_faults pids_current io_read_bytes io_write_bytes; do
		jq -e --arg k "$k" 'has($k) and (.[$k] | type == "number")' <<<"$st" >/dev/null ||
			fail "stats field $k missing: $st"
	done
	assert_eq cgroup "$(jq -r .source <<<"$st")" source
	assert_eq s1 "$(jq -r .id <<<"$st")" id
	[ "$(jq .cpu_total_ns <<<"$st")" -gt 0 ] || fail "no cpu time: $st"
	[ "$(jq .memory_current_bytes <<<"$st")" -gt 0 ] || fail "no memory: $st"
	assert_eq 2 "$(jq .pids_current <<<"$st")" "pids (sh + sleep)"
	tbl=$(hutch --module off stats s1)
	assert_contains "$tbl" "source                 cgroup"
	if [ -d /sys/module/hutch ]; then
		assert_eq module "$(hutch stats -f json s1 | jq -r .source)" "default source with hutch.ko"
	fi
	ev=$(hutch events --stats s1)
	assert_eq stats "$(jq -r .type <<<"$ev")" "event type"
	assert_eq s1 "$(jq -r .id <<<"$ev")" "event id"
	for k in cpu memory pids blkio hugetlb; do
		jq -e --arg k "$k" '.data | has($k)' <<<"$ev" >/dev/null || fail "events data.$k missing"
	done
	[ "$(jq .data.cpu.usage.total <<<"$ev")" -gt 0 ] || fail "cpu.usage.total"
	assert_eq 2 "$(jq .data.pids.current <<<"$ev")" "data.pids.current"
	# a stream: stats lines at a 200ms interval (waited for: a TCG guest is slow to start)
	"$HUTCH" --root "$T_ROOT" events --interval 200ms s1 > stream &
	local evpid=$!
	wait_for bash -c "[ \$(grep -c '\"type\":\"stats\"' stream) -ge 2 ]" || { kill $evpid; fail "stream: $(cat stream)"; }
	kill $evpid
	wait $evpid 2> /dev/null || true
	expect_fail '--interval: "soon" is not a duration' hutch events --interval soon s1
	hutch delete -f s1
	assert_no_cgroups
}

test_bad_values_give_clear_errors_and_leave_nothing() {
	bundle x true
	cfg x '.linux.resources.memory.limit = -5'
	expect_fail 'config.json: linux.resources.memory.limit: -5 is invalid: must be -1 (unlimited) or >= 0' \
		hutch run x1 -b x
	assert_no_cgroups
	bundle y true
	cfg y '.linux.resources.devices = [{"allow": true, "type": "q", "access": "rwm"}]'
	expect_fail 'config.json: linux.resources.devices[0].type: unknown device type "q"' hutch run y1 -b y
	assert_no_cgroups
	bundle y2 true
	cfg y2 '.linux.resources.devices = [{"allow": true, "type": "c", "access": "rwx"}]'
	expect_fail 'config.json: linux.resources.devices[0].access: "rwx" is invalid' hutch run y2 -b y2
	assert_no_cgroups
	bundle z true
	cfg z '.linux.resources.pids = {"limit": "many"}'
	expect_fail 'config.json: linux.resources.pids.limit: expected an integer' hutch run z1 -b z
	assert_no_cgroups
}

test_knob_missing_on_this_layout_is_an_error() {
	bundle k true
	case $LAYOUT in
	v2)
		cfg k '.linux.resources.memory.swappiness = 10'
		expect_fail 'config.json: linux.resources.memory.swappiness: not supported on cgroup v2' hutch run k1 -b k
		assert_no_cgroups
		cfg k 'del(.linux.resources.memory.swappiness) | .linux.resources.network.classID = 5'
		expect_fail 'config.json: linux.resources.network.classID: not supported on cgroup v2' hutch run k1 -b k
		;;
	hybrid)
		# memory lives on v1 here: a unified memory key has no file to go to
		cfg k '.linux.resources.unified = {"memory.high": "1000000"}'
		expect_fail 'config.json: linux.resources.unified."memory.high": the memory controller is on a cgroup v1 hierarchy' \
			hutch run k1 -b k
		;;
	v1)
		cfg k '.linux.resources.unified = {"memory.high": "1000000"}'
		expect_fail 'config.json: linux.resources.unified: needs cgroup v2' hutch run k1 -b k
		;;
	esac
	assert_no_cgroups
	if ! have_ctrl net_cls; then
		bundle n true
		cfg n '.linux.resources.network.classID = 5'
		expect_fail 'config.json: linux.resources.network.classID:' hutch run n1 -b n
		assert_no_cgroups
	fi
	if ! have_ctrl rdma; then
		bundle r true
		cfg r '.linux.resources.rdma = {"mlx5_0": {"hcaHandles": 3}}'
		expect_fail 'config.json: linux.resources.rdma: needs the rdma cgroup controller' hutch run r1 -b r
		assert_no_cgroups
	fi
}

test_unified_keys_on_v2() {
	[ "$LAYOUT" != v1 ] || skip "no unified hierarchy on a v1 host"
	bundle u sleep 100
	if [ "$LAYOUT" = v2 ]; then
		cfg u '.linux.resources.unified = {"memory.high": "50000000", "pids.max": "7"}'
		hutch run -d u1 -b u
		assert_eq 49999872 "$(cgread u1 memory memory.high)" memory.high
		assert_eq 7 "$(cgread u1 pids pids.max)" pids.max
	else
		# hybrid: whatever the unified hierarchy serves here (hugetlb on this host)
		have_ctrl hugetlb && [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] ||
			skip "nothing on the unified hierarchy of this hybrid host"
		grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers || skip "hugetlb is not on the unified hierarchy"
		cfg u '.linux.resources.unified = {"hugetlb.2MB.max": "2097152"}'
		hutch run -d u1 -b u
		assert_eq 2097152 "$(cgread u1 hugetlb hugetlb.2MB.max)" hugetlb.2MB.max
	fi
	hutch delete -f u1
	assert_no_cgroups
}

test_cgroup_commands_without_cgroups_say_so() {
	new_bundle b sleep 100
	hutch --cgroup-manager disabled run -d -b b n1
	expect_fail 'has no cgroup (created with --cgroup-manager disabled)' hutch pause n1
	if [ -d /sys/module/hutch ]; then
		# hutch.ko tracks the container whatever its cgroups: its figures need none
		assert_eq module "$(hutch stats -f json n1 | jq -r .source)" "stats source with the module"
	else
		expect_fail 'has no cgroup' hutch stats n1
	fi
	expect_fail 'has no cgroup' hutch update --pids-limit 5 n1
	hutch delete -f n1
}

test_stats_all_and_watch() {
	bundle a sleep 100
	bundle b2 sleep 100
	hutch run -d sa1 -b a
	hutch run -d sa2 -b b2
	all=$(hutch stats --all -f json)
	assert_eq "sa1 sa2" "$(jq -r '.[].id' <<<"$all" | xargs)" "--all covers every running container"
	src=cgroup
	[ -d /sys/module/hutch ] && src=module
	assert_eq "$src $src" "$(jq -r '.[].source' <<<"$all" | xargs)" "sources"
	tbl=$(hutch stats --all)
	assert_match "$tbl" "^ID +SOURCE +CPU_USER_NS"
	assert_match "$tbl" "sa2 +$src +[0-9]+"
	# --watch prints a snapshot per interval until stopped
	# (waited for, not timed: a slow guest may take longer than an interval to start)
	"$HUTCH" --root "$T_ROOT" stats --watch 200ms -f json sa1 >watch &
	local w=$!
	wait_for sh -c '[ "$(grep -c "\"id\"" watch)" -ge 2 ]'
	kill "$w"
	wait "$w" || true
	expect_fail '--watch: "never" is not a duration' hutch stats --watch never sa1
	expect_fail "--all takes no container id" hutch stats --all sa1
	expect_fail "missing container id (or --all)" hutch stats
	# the parent this suite's paths share is sa1's: it goes when sa1, the last, leaves
	hutch delete -f sa2
	hutch delete -f sa1
}

run_tests
