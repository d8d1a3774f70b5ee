#!/bin/bash
# The netlink fuzzer (tests/kmod/nlfuzz.c): random and mutated messages to the hutch
# family for HUTCH_NLFUZZ_SECONDS (60); the module must answer GET_INFO after it with no
# container left, unload cleanly, and leave nothing bad in the kernel log.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

NLFUZZ=$TOP/tests/kmod/nlfuzz

test_netlink_fuzz_no_splat() {
	kmod_require
	[ -x "$NLFUZZ" ] || fail "$NLFUZZ is not built (make tests/kmod/nlfuzz)"
	"$NLFUZZ" "${HUTCH_NLFUZZ_SECONDS:-60}" | sed 's/^/# /' >&2
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail "nlfuzz failed"
	kmod_dmesg_clean "$KMOD_MARK"
	rmmod hutch || fail "rmmod after the fuzzing"
	kmod_dmesg_clean "$KMOD_MARK"
}

run_tests
