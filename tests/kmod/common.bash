# shellcheck shell=bash
# Shared by the tests/kmod/*.sh suites (sourced after tests/lib.sh). They run in the VM
# as root with HUTCH_KO set to the hutch.ko built for the guest's kernel; each suite loads
# the module itself and unloads it at the end. Without HUTCH_KO every test is skipped.
KTEST=$TOP/tests/kmod/kmod-test

# Kernel log lines that mean the module (or anything) went wrong.
KMOD_BAD='WARNING:|BUG:|Oops|general protection|refcount_t:|UBSAN|KASAN|kmemleak|INFO: task .* blocked|RCU stall|list_(add|del) corruption|sleeping function called'

kmod_dmesg_mark() { dmesg | wc -l; }

# kmod_dmesg_clean MARK: no bad line since MARK.
kmod_dmesg_clean() {
	local bad
	bad=$(dmesg | tail -n +"$(($1 + 1))" | grep -E "$KMOD_BAD" || true)
	[ -z "$bad" ] || { printf '# %s\n' "$bad" >&2; fail "kernel warnings in dmesg"; }
}

kmod_loaded() { [ -d /sys/module/hutch ]; }

kmod_load() {
	kmod_loaded || insmod "$HUTCH_KO" "$@"
}

kmod_unload() {
	! kmod_loaded || rmmod hutch
}

# ktest NAME: one test of the C program, its diagnostics kept.
ktest() {
	[ -x "$KTEST" ] || fail "$KTEST is not built (make tests/kmod/kmod-test)"
	local rc=0
	"$KTEST" "$1" || rc=$?
	# a failed test may leave containers registered: the next test starts clean
	((rc == 0)) || "$KTEST" reset || true
	return "$rc"
}

# Called first by every test: skip without a module, load it, and remember dmesg.
kmod_require() {
	[ -n "${HUTCH_KO:-}" ] && [ -f "$HUTCH_KO" ] || skip "HUTCH_KO is not set (run in the VM)"
	kmod_load
	KMOD_MARK=$(kmod_dmesg_mark)
}

# wait_long CMD...: retry for up to 30 s (the VM may be slow).
wait_long() { wait_for_s 30 "$@"; }
