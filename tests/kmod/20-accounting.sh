#!/bin/bash
# Exact per-container accounting, including processes that already exited.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

# ~300 ms CPU, 10 forks (5 exec), 1 MiB written and read: counters within
# 10% + 20 ms of the workload's own rusage, exact counts for forks/execs/exits.
test_known_workload() { kmod_require; ktest accounting; kmod_dmesg_clean "$KMOD_MARK"; }

run_tests
kmod_unload
