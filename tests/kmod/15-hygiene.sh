#!/bin/bash
# The module's hygiene (issue #13): silent load and unload, the "hutch: " prefix on what
# it prints, events allocated at their exact size, the order of probes and family on load
# and unload, the writable max_containers read with READ_ONCE. The kernel cannot be made
# to fail a probe registration or to print the module's errors from userspace, so those
# properties are checked on the sources (KMOD_SRC, default $TOP/kmod: the VM image
# carries them); the others run against the loaded module.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

KMOD_SRC=${KMOD_SRC:-$TOP/kmod}

kmod_src_require() {
	[ -f "$KMOD_SRC/main.c" ] || skip "no module sources in $KMOD_SRC"
}

# body FILE FUNC: the lines of FUNC's body in FILE (from its opening line to the first
# line that is a lone closing brace)
body() {
	awk -v f="$2" '
		$0 ~ "^[a-z].*[ *]" f "\\(" { on = 1 }
		on { print }
		on && /^}/ { exit }
	' "$1"
}

# line_of PATTERN: the number of the first line of stdin matching the extended regex
line_of() { grep -nE -m1 "$1" | cut -d: -f1; }

# The kernel's own lines about any out-of-tree, unsigned module (printed once a boot) and
# the LSM's (SELinux's audit of the module load names the file): not the module's doing.
KERNEL_TAINT_LINES='loading out-of-tree module taints kernel|module verification failed|audit:|avc: '

test_load_and_unload_print_nothing() {
	kmod_require
	kmod_unload
	local mark out
	mark=$(kmod_dmesg_mark)
	insmod "$HUTCH_KO"
	rmmod hutch
	insmod "$HUTCH_KO" max_containers=3
	"$KTEST" info
	rmmod hutch
	out=$(dmesg | tail -n +"$((mark + 1))" | grep -vE "$KERNEL_TAINT_LINES" | grep -i hutch || true)
	[ -z "$out" ] || { printf '# %s\n' "$out" >&2; fail "hutch.ko printed on a normal load and unload"; }
	kmod_dmesg_clean "$mark"
}

test_messages_use_the_pr_fmt_prefix() {
	kmod_src_require
	local f bad=
	# KBUILD_MODNAME is the module's name: hutch
	grep -qE '^obj-m[[:space:]]*:?=[[:space:]]*hutch\.o' "$KMOD_SRC/../Kbuild" || fail "Kbuild does not build hutch.o"
	for f in "$KMOD_SRC"/*.c; do
		# no printk of its own (it would have no prefix), no dev_/netdev_ printing
		if grep -qE '\<(printk|dev_(err|warn|info|dbg)|netdev_(err|warn|info))\(' "$f"; then
			bad+=" ${f##*/}(printk)"
		fi
		grep -qE '\<pr_(emerg|alert|crit|err|warn|warning|notice|info|debug|cont|devel)(_once|_ratelimited)?\(' "$f" || continue
		# pr_fmt defined with the prefix, before the first #include (which may define it)
		local def inc
		def=$(line_of '^#define pr_fmt\(fmt\) KBUILD_MODNAME ": " fmt$' < "$f")
		inc=$(line_of '^#include' < "$f")
		[ -n "$def" ] && [ "$def" -lt "${inc:-999999}" ] || bad+=" ${f##*/}"
	done
	[ -z "$bad" ] || fail "pr_* without pr_fmt \"hutch: \" (defined before the includes) in:$bad"
}

test_events_are_allocated_at_their_exact_size() {
	kmod_src_require
	local ev=$KMOD_SRC/events.c calls
	if grep -qE 'NLMSG_GOODSIZE|NLMSG_DEFAULT_SIZE|GENLMSG_DEFAULT_SIZE' "$ev"; then
		fail "a default-sized buffer in the event path"
	fi
	# the one allocation of an event is sized by hutch_event_size()
	calls=$(grep -cE '\<(genlmsg_new|nlmsg_new|alloc_skb)\(' "$ev")
	assert_eq 1 "$calls" "skb allocations in events.c"
	body "$ev" hutch_event | grep -qE 'genlmsg_new\(hutch_event_size\(' ||
		fail "hutch_event() does not allocate hutch_event_size() bytes"
	# and that size is enough for every event (too small, hutch_event() warns): events with
	# pid, ppid, status and filename
	if [ -n "${HUTCH_KO:-}" ] && [ -f "$HUTCH_KO" ]; then
		kmod_require
		ktest events
		kmod_dmesg_clean "$KMOD_MARK"
	fi
}

test_probes_register_before_the_family_and_it_unregisters_first() {
	kmod_src_require
	local m=$KMOD_SRC/main.c init exit p f
	init=$(body "$m" hutch_init)
	exit=$(body "$m" hutch_exit)
	[ -n "$init" ] && [ -n "$exit" ] || fail "no hutch_init/hutch_exit in main.c"
	p=$(line_of 'hutch_probes_register\(' <<<"$init")
	f=$(line_of 'hutch_netlink_init\(' <<<"$init")
	[ -n "$p" ] && [ -n "$f" ] && ((p < f)) || fail "hutch_init: the probes do not register before the family"
	# a failed family registration unregisters the probes
	sed -n "$f,\$p" <<<"$init" | grep -q 'hutch_probes_unregister()' ||
		fail "hutch_init: the probes stay registered when the family fails"
	# (line 1 of the body is the declaration, line 2 the opening brace)
	sed -n 3p <<<"$exit" | grep -qE '^[[:space:]]*hutch_netlink_exit\(\);' ||
		fail "hutch_exit: the family is not the first thing unregistered"
	f=$(line_of 'hutch_netlink_exit\(' <<<"$exit")
	p=$(line_of 'hutch_probes_unregister\(' <<<"$exit")
	[ -n "$p" ] && ((f < p)) || fail "hutch_exit: the probes are not unregistered after the family"
	# the family's register and unregister are what those do
	body "$KMOD_SRC/netlink.c" hutch_netlink_init | grep -q 'genl_register_family(' ||
		fail "hutch_netlink_init does not register the family"
	body "$KMOD_SRC/netlink.c" hutch_netlink_exit | grep -q 'genl_unregister_family(' ||
		fail "hutch_netlink_exit does not unregister the family"
}

test_max_containers_is_read_with_read_once() {
	kmod_src_require
	local uses bad
	uses=$(grep -nE '\<hutch_max_containers\>' "$KMOD_SRC"/*.c |
		grep -vE 'module_param_named\(|^[^:]*:[0-9]+:unsigned int hutch_max_containers = ')
	[ -n "$uses" ] || fail "max_containers is never read"
	bad=$(grep -v 'READ_ONCE(hutch_max_containers)' <<<"$uses" || true)
	[ -z "$bad" ] || { printf '# %s\n' "$bad" >&2; fail "max_containers read without READ_ONCE"; }
	# writable at run time, and honoured at once
	if [ -n "${HUTCH_KO:-}" ] && [ -f "$HUTCH_KO" ]; then
		kmod_require
		echo 5 > /sys/module/hutch/parameters/max_containers
		ktest max      # 5 register, the 6th gets ENOSPC
		echo 1024 > /sys/module/hutch/parameters/max_containers
		kmod_dmesg_clean "$KMOD_MARK"
	fi
}

run_tests
kmod_unload
