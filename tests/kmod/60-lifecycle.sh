#!/bin/bash
# The lifecycle commands with hutch.ko loaded: create registers, exec attaches, ps and
# kill --all go through the module, delete unregisters, status uses the init-exit record;
# and the --module modes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

nr_containers() { "$HUTCH" module status -f json | jq .containers; }

test_create_registers_delete_unregisters() {
	kmod_require
	local snap=$T_TMP/snap
	host_snapshot > "$snap"
	new_bundle b sleep 1000
	hutch create -b b c1
	assert_eq 1 "$(nr_containers)" "containers after create"
	hutch start c1
	assert_eq running "$(status_of c1)"
	hutch delete -f c1
	assert_eq 0 "$(nr_containers)" "containers after delete"
	"$KTEST" info   # no container, no task left in the module
	assert_clean "$snap"
	kmod_dmesg_clean "$KMOD_MARK"
}

test_exec_attaches_and_ps_uses_the_module() {
	kmod_require
	new_bundle b sleep 1000
	hutch run -d -b b c1
	hutch exec -d --pid-file "$T_TMP/e.pid" c1 sleep 999
	local e init out
	e=$(cat "$T_TMP/e.pid")
	init=$(hutch state c1 | jq .pid)
	out=$(hutch --debug ps -f json c1)
	assert_eq "$init" "$(jq '.[0]' <<<"$out")" "init first"
	assert_contains "$(jq -c . <<<"$out")" "$e" "exec'd process in ps"
	# the module's list and the helper's fallback (cgroup / pid namespace) agree
	assert_eq "$(hutch --module off ps -f json c1 | jq -c 'sort')" "$(jq -c 'sort' <<<"$out")"
	# trace shows an exec'd process being accounted to the container
	hutch --debug trace --timeout 5 --count 3 c1 > tr.out 2> tr.err &
	local tp=$!
	wait_long grep -q subscribed tr.err
	hutch exec c1 true
	wait "$tp" || true
	sed 's/^/# /' tr.out >&2
	grep -q '"event":"exec"' tr.out || fail "no exec event for hutch exec"
	hutch delete -f c1
	assert_eq 0 "$(nr_containers)"
}

test_kill_all_uses_ct_kill() {
	kmod_require
	new_bundle b sh -c 'sleep 1000 & sleep 1000 & while :; do sleep 0.1 & wait $!; done'
	hutch run -d -b b c1
	wait_for bash -c "[ \$($HUTCH --root $T_ROOT ps -f json c1 | jq length) -ge 3 ]"
	out=$(hutch --debug kill --all c1 KILL 2>&1)
	assert_contains "$out" "hutch.ko signalled"
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	assert_eq "[]" "$(hutch ps -f json c1 | jq -c .)"
	hutch delete c1
}

test_status_uses_the_init_exit_record() {
	kmod_require
	new_bundle b sh -c 'exit 3'
	hutch create -b b c1
	hutch start c1
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	# the module has the exit status of the init
	"$HUTCH" module status -f json | jq -e '.containers == 1' >/dev/null
	hutch delete c1
	assert_eq 0 "$(nr_containers)"
}

test_module_on_without_module_fails_and_leaves_nothing() {
	kmod_require
	kmod_unload
	local snap=$T_TMP/snap
	host_snapshot > "$snap"
	new_bundle b sleep 1000
	expect_fail "hutch.ko is not loaded" hutch --module on create -b b c1
	assert_clean "$snap"
	# auto falls back silently
	hutch create -b b c1
	hutch delete -f c1
	assert_clean "$snap"
}

# --module auto with the module unloaded must not ask genetlink for the family: the kernel
# would request_module() it, i.e. run modprobe at every command. A logging modprobe
# (/proc/sys/kernel/modprobe) sees no request from auto, and one from --module on.
test_module_auto_does_not_make_the_kernel_run_modprobe() {
	kmod_require
	kmod_unload
	local old
	old=$(cat /proc/sys/kernel/modprobe)
	printf '#!/bin/sh\necho "$*" >> %s/modprobe.log\nexit 1\n' "$PWD" > modprobe
	chmod +x modprobe
	: > modprobe.log
	echo "$PWD/modprobe" > /proc/sys/kernel/modprobe
	# expanded now: the trap runs when the test's subshell exits, after `local old` is gone
	trap "echo '$old' > /proc/sys/kernel/modprobe" EXIT
	new_bundle b sleep 1000
	hutch run -d -b b c1
	hutch state c1 > /dev/null
	hutch list > /dev/null
	assert_eq "" "$(grep family-hutch modprobe.log || true)" "modprobe requests from --module auto"
	hutch --module on state c1 > /dev/null 2>&1 || true
	assert_contains "$(cat modprobe.log)" "net-pf-16-proto-16-family-hutch" "modprobe request from --module on"
}

# A rootless caller (no CAP_SYS_ADMIN, which every command of the family needs) runs its
# containers with hutch.ko loaded: auto does without the module, on says why it cannot.
test_module_auto_as_an_unprivileged_user_falls_back() {
	kmod_require
	local uid=4321 dir=$T_TMP/rl out
	as_user() { as_uid "$uid" "$@"; }
	as_user true 2>/dev/null || skip "setpriv missing"
	rootless_bundle "$dir" "$uid" '.process.args = ["echo", "ran"]'
	local run=("$HUTCH" --root "$dir/state" --cgroup-manager disabled)
	out=$(as_user "${run[@]}" --debug run -b "$dir" r1 2>&1) || fail "rootless run with hutch.ko loaded: $out"
	assert_contains "$out" ran
	assert_contains "$out" "hutch.ko needs CAP_NET_ADMIN and CAP_SYS_ADMIN; falling back"
	expect_fail "Operation not permitted" as_user "${run[@]}" --module on run -b "$dir" r2
	assert_eq "" "$(ls -A "$dir/state")" "state after the refused run"
	assert_eq 0 "$(nr_containers)"
}

test_module_off_does_not_register() {
	kmod_require
	new_bundle b sleep 1000
	hutch --module off run -d -b b c1
	assert_eq 0 "$(nr_containers)"
	assert_eq running "$(status_of c1)"
	# a container the module does not know: ps and kill --all fall back
	[ "$(hutch ps -f json c1 | jq length)" -ge 1 ]
	hutch kill --all c1 KILL
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	hutch delete c1
}

# proc_pid_opens LOG [PID]: files under /proc/N the command opened (strace's log), but
# PID's stat: the container status check of every command reads the init's
proc_pid_opens() {
	grep -E 'open(at)?\(.*"/proc/[0-9]+/' "$1" | grep -v "\"/proc/${2:-x}/stat\"" || true
}

test_ps_table_from_one_dump_without_proc_reads() {
	kmod_require
	command -v strace >/dev/null || skip "strace is not installed"
	new_bundle b sh -c 'sleep 1000 & sleep 999 & exec sleep 998'
	hutch run -d -b b c1
	wait_for bash -c "[ \$($HUTCH --root $T_ROOT ps -f json c1 | jq length) -eq 3 ]"
	local m f
	strace -f -o "$T_TMP/st" "$HUTCH" --root "$T_ROOT" ps c1 > "$T_TMP/m"
	m=$(cat "$T_TMP/m")
	f=$(hutch --module off ps c1)
	sed 's/^/# /' "$T_TMP/m" >&2
	assert_contains "$m" "sleep 999"
	# every column as the /proc fallback has it
	assert_eq "$(sort <<<"$f")" "$(sort <<<"$m")" "ps table: module vs /proc"
	assert_eq "" "$(proc_pid_opens "$T_TMP/st" "$(hutch state c1 | jq .pid)")" \
		"/proc/PID reads with the module"
	hutch delete -f c1
}

test_stats_all_is_one_dump_and_watch_one_socket() {
	kmod_require
	command -v strace >/dev/null || skip "strace is not installed"
	new_bundle b sleep 1000
	local i n1 n3
	hutch run -d -b b c0
	strace -f -e trace=sendmsg,sendto -o "$T_TMP/s1" "$HUTCH" --root "$T_ROOT" stats --all > /dev/null
	for i in 1 2; do hutch run -d -b b "c$i"; done
	strace -f -o "$T_TMP/s3" "$HUTCH" --root "$T_ROOT" stats --all -f json > "$T_TMP/all"
	assert_eq '["c0","c1","c2"]' "$(jq -c '[.[].id] | sort' "$T_TMP/all")"
	assert_eq '["module"]' "$(jq -c '[.[].source] | unique' "$T_TMP/all")"
	# the same requests for one container as for three: a dump, not one request each
	n1=$(grep -cE '^[0-9]+ +(sendmsg|sendto)\(' "$T_TMP/s1")
	n3=$(grep -cE '^[0-9]+ +(sendmsg|sendto)\(' "$T_TMP/s3")
	assert_eq "$n1" "$n3" "netlink requests for 1 and 3 containers"
	assert_eq "" "$(proc_pid_opens "$T_TMP/s3")" "/proc/PID reads with the module"
	# --watch: one netlink socket, one more request (the dump) per sample (the last one
	# may be cut off by the signal before it printed)
	strace -f -e trace=socket,sendmsg,sendto -o "$T_TMP/sw" \
		timeout -s INT 8 "$HUTCH" --root "$T_ROOT" stats --all --watch 1s > "$T_TMP/w" || true
	local samples socks sends
	samples=$(grep -c '^ID ' "$T_TMP/w")
	socks=$(grep -c 'socket(AF_NETLINK' "$T_TMP/sw")
	sends=$(grep -cE '^[0-9]+ +(sendmsg|sendto)\(' "$T_TMP/sw")
	echo "# --watch: $samples samples, $socks netlink sockets, $sends requests" >&2
	((samples >= 2)) || fail "--watch printed $samples samples in 8 s"
	assert_eq 1 "$socks" "netlink sockets of --watch"
	((sends == n1 - 1 + samples || sends == n1 + samples)) ||
		fail "--watch: $sends requests for $samples samples (one a sample, and one to resolve the family)"
	for i in 0 1 2; do hutch delete -f "c$i"; done
}

test_create_guards_the_runtime_binary_until_delete() {
	kmod_require
	new_bundle b sleep 1000
	# a copy of hutch, so that a failure of the guard cannot harm the binary under test
	cp "$HUTCH" "$T_TMP/hutch-copy"
	"$T_TMP/hutch-copy" --root "$T_ROOT" run -d -b b c1
	local out
	out=$( (exec 3>>"$T_TMP/hutch-copy") 2>&1) && fail "hutch's binary writable while c1 exists"
	assert_contains "$out" "busy"
	"$T_TMP/hutch-copy" --root "$T_ROOT" delete -f c1
	(exec 3>>"$T_TMP/hutch-copy") || fail "hutch's binary still busy after delete"
}

test_stats_from_module_and_cgroup_agree() {
	kmod_require
	[ -f /sys/fs/cgroup/cgroup.controllers ] || skip "needs cgroup v2"
	new_bundle b sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; touch /tmp/done; sleep 1000'
	cfg b '.root.readonly = false'
	hutch run -d -b b c1
	wait_long test -e b/rootfs/tmp/done
	local m c
	m=$(hutch stats -f json c1)
	c=$(hutch --module off stats -f json c1)
	echo "# module: $(jq -c . <<<"$m")" >&2
	echo "# cgroup: $(jq -c . <<<"$c")" >&2
	assert_eq module "$(jq -r .source <<<"$m")"
	assert_eq cgroup "$(jq -r .source <<<"$c")"
	# what a source lacks is null, never invented
	assert_eq null "$(jq .memory_current_bytes <<<"$m")"
	assert_eq null "$(jq .forks <<<"$c")"
	[ "$(jq .forks <<<"$m")" -ge 1 ] || fail "module forks"
	[ "$(jq .execs <<<"$m")" -ge 1 ] || fail "module execs"
	assert_eq "$(jq .pids_current <<<"$c")" "$(jq .pids_current <<<"$m")" "pids_current"
	# CPU: the cgroup also charges the short-lived setup process: within 10% + 50 ms
	local mc cc
	mc=$(jq .cpu_total_ns <<<"$m")
	cc=$(jq .cpu_total_ns <<<"$c")
	((mc > 0 && cc > 0)) || fail "cpu zero"
	((mc + mc / 10 + 50000000 >= cc && cc + cc / 10 + 50000000 >= mc)) ||
		fail "cpu_total_ns: module $mc vs cgroup $cc"
	hutch stats c1 | grep -qE '^memory_current_bytes +-$' || fail "table marks missing fields with -"
	hutch delete -f c1
}

run_tests
kmod_unload
