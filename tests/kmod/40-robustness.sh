#!/bin/bash
# Malformed input, churn, concurrency and unloading with containers registered.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

test_malformed_messages_get_errors_and_no_warning() {
	kmod_require
	ktest malformed
	kmod_dmesg_clean "$KMOD_MARK"
}

test_10000_register_unregister_cycles() {
	kmod_require
	ktest cycles
	kmod_dmesg_clean "$KMOD_MARK"
}

test_4_concurrent_stressing_processes() {
	kmod_require
	ktest stress
	kmod_dmesg_clean "$KMOD_MARK"
}

test_max_containers_parameter() {
	kmod_require
	kmod_unload
	insmod "$HUTCH_KO" max_containers=5
	assert_eq 5 "$(cat /sys/module/hutch/parameters/max_containers)"
	ktest max      # 5 register, the 6th gets ENOSPC
	rmmod hutch
	kmod_dmesg_clean "$KMOD_MARK"
}

test_unload_while_registered_is_clean() {
	kmod_require
	ktest hold
	"$HUTCH" module status | grep -q "containers: 2" || fail "status: $("$HUTCH" module status)"
	rmmod hutch
	! kmod_loaded || fail "still loaded"
	kmod_load
	ktest info   # a fresh module: no containers, no tasks
	kmod_dmesg_clean "$KMOD_MARK"
}

run_tests
kmod_unload
