#!/bin/bash
# hutch.ko's netlink API, command by command (tests/kmod/kmod-test does the talking).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

test_info() { kmod_require; ktest info; kmod_dmesg_clean "$KMOD_MARK"; }
test_register_get_unregister() { kmod_require; ktest register; kmod_dmesg_clean "$KMOD_MARK"; }
test_duplicate_and_unknown_ids() { kmod_require; ktest errors; kmod_dmesg_clean "$KMOD_MARK"; }
test_pids_dump_has_what_ps_shows() { kmod_require; ktest proc-info; kmod_dmesg_clean "$KMOD_MARK"; }
test_dumps_larger_than_one_message() { kmod_require; ktest dump-large; kmod_dmesg_clean "$KMOD_MARK"; }
test_kill_racing_a_fork_loop_leaves_no_survivor() { kmod_require; ktest kill-race; kmod_dmesg_clean "$KMOD_MARK"; }
test_events_in_order_with_data() { kmod_require; ktest events; kmod_dmesg_clean "$KMOD_MARK"; }
test_lost_events_are_reported() { kmod_require; ktest events-lost; kmod_dmesg_clean "$KMOD_MARK"; }

run_tests
kmod_unload
