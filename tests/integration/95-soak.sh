#!/bin/bash
# A short soak (bench/soak.sh): 200 run/exec/delete cycles, 8 at a time, must leave no fd,
# mount, cgroup, veth, lease, state dir or process more than before (the table is printed).
# MemAvailable may fall by 1 GB here (the machine runs other things meanwhile), not more.
# Under the VM harness (HUTCH_TEST_PARALLEL set) 16 cycles, 4 at a time.
source "$(dirname "$0")/../lib.sh"

test_soak_nothing_grows() {
	local cycles=200 parallel=8
	if [ -n "${HUTCH_TEST_PARALLEL:-}" ]; then
		cycles=16 parallel=4
	fi
	HUTCH=$HUTCH HUTCH_SOAK_MEM_SLACK_MB=${HUTCH_SOAK_MEM_SLACK_MB:-1024} "$TOP/bench/soak.sh" "$cycles" "$parallel" 2>&1 | sed 's/^/# /' >&2
	return "${PIPESTATUS[0]}"
}

run_tests
