#!/bin/bash
# Permission and namespace isolation of the hutch family.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

test_unprivileged_user_gets_eperm_and_no_events() { kmod_require; ktest permission; }
test_root_without_cap_net_admin_or_cap_sys_admin_gets_eperm() { kmod_require; ktest capabilities; }
test_exe_guard_denies_writes_while_registered() { kmod_require; ktest exe-guard; kmod_dmesg_clean "$KMOD_MARK"; }
test_family_not_found_from_a_new_netns() { kmod_require; ktest netns; }

test_container_netns_cannot_see_the_family() {
	kmod_require
	# A container's network namespace: the family does not resolve from it.
	local out
	out=$(unshare --net "$KTEST" info 2>&1) && fail "GET_INFO worked from a new netns: $out"
	assert_contains "$out" "not loaded"
}

run_tests
kmod_unload
