#!/bin/bash
# tests/run itself: a suite killed at its time limit is a failure, and the containers it
# left are deleted (a detached one holds the runner's pipe: the run would never end).
source "$(dirname "$0")/../lib.sh"

test_killed_suite_fails_and_its_containers_are_reaped() {
	local out rc=0
	cat > 99-hang.sh <<-'SUITE'
	#!/bin/bash
	source "$TOP/tests/lib.sh"
	test_hangs() {
		new_bundle b sh -c 'while :; do sleep 1; done'
		hutch run -d -b b hang-$$
		while :; do sleep 1; done
	}
	run_tests
	SUITE
	out=$(HUTCH_SUITE_TIMEOUT=3 timeout 60 "$TOP/tests/run" integration "$PWD/99-hang.sh" 2>&1) || rc=$?
	[ "$rc" -ne 124 ] || fail "the runner did not end: the killed suite's container held its pipe"
	[ "$rc" -ne 0 ] || fail "a killed suite must fail the run"
	assert_contains "$out" "not ok - 99-hang.sh: script exited 124"
	assert_match "$out" "# reaped container hang-[0-9]+ of 99-hang"
	assert_contains "$out" "0 passed, 1 failed"
	! pgrep -f 'while :; do sleep 1; done' >/dev/null || fail "the container's process is still running"
	! ls -d /tmp/hutch-99-hang.* 2>/dev/null || fail "the suite's directory is left"
}

run_tests
