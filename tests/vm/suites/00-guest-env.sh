#!/bin/bash
# The guest environment the VM harness promises the suites (run only inside the VM, by
# tests/vm/guest-run): a pivot_root-able tmpfs root, a pure cgroup v2 hierarchy with the
# controllers enabled, namespaces, loopback, module autoloading, and a working hutch.
source "$(dirname "$0")/../../lib.sh"

test_root_is_tmpfs_and_pivotable() {
	assert_eq tmpfs "$(findmnt -n -o FSTYPE /)" "filesystem of /"
	# What a runtime does for a container: pivot_root in a private mount namespace.
	unshare -m sh -ec 'mkdir -p /tmp/pr && mount -t tmpfs t /tmp/pr && mkdir /tmp/pr/old &&
		cd /tmp/pr && pivot_root . old && test -d /old/proc'
}

test_cgroup2_is_pure() {
	assert_eq cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)" "filesystem of /sys/fs/cgroup"
	assert_eq 0 "$(awk '$9 == "cgroup"' /proc/self/mountinfo | wc -l)" "cgroup v1 mounts"
	assert_match "$(cat /proc/self/cgroup)" '^0::/' "/proc/self/cgroup"
}

test_cgroup_controllers_enabled() {
	local c ctl
	ctl=" $(cat /sys/fs/cgroup/cgroup.subtree_control) "
	for c in cpu cpuset io memory pids; do
		assert_contains "$ctl" " $c " "root cgroup.subtree_control"
	done
}

test_cgroup_child_with_limits() {
	local cg=/sys/fs/cgroup/hutch-vm-env-$$
	mkdir "$cg"
	echo 64M > "$cg/memory.max"
	echo 10 > "$cg/pids.max"
	echo "50000 100000" > "$cg/cpu.max"
	assert_eq 67108864 "$(cat "$cg/memory.max")" memory.max
	sh -c "echo \$\$ > $cg/cgroup.procs && cat /proc/self/cgroup" > "$T_TMP/cg"
	assert_eq "0::/${cg#/sys/fs/cgroup/}" "$(cat "$T_TMP/cg")" "cgroup of a moved process"
	rmdir "$cg"
}

test_namespaces() {
	local out
	out=$(unshare -U -m -p -n -i -u -C -T --fork --mount-proc --map-root-user sh -c 'echo $$; id -u')
	assert_eq "1 0" "$(echo $out)" "pid and uid in new namespaces"
}

test_loopback_up() {
	assert_contains "$(ip -o addr show dev lo)" "127.0.0.1" "lo addresses"
}

test_module_autoload() {
	# veth is a module in Debian's kernels: the kernel loads it through /sbin/modprobe.
	unshare -n sh -ec 'ip link add hv0 type veth peer name hv1 && ip link show hv1 >/dev/null'
}

test_hutch_runs() {
	assert_contains "$("$HUTCH" --version)" "hutch version"
}
run_tests
