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
	# only the module was fuzzed: new network namespaces and containers still work (mutated
	# message types once reached NetLabel's family and removed its default mapping; with
	# SELinux every AF_INET socket then failed, every new network namespace with ENOMEM)
	unshare --net true || fail "no new network namespace after the fuzzing"
	new_bundle b true
	hutch run -b b c1 || fail "no container after the fuzzing"
	hutch delete c1 2>/dev/null || true
}

run_tests
