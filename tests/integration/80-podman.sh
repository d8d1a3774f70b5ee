#!/bin/bash
# podman (Debian's, with conmon) running containers on hutch: --runtime points at the
# built binary, cgroupfs manager, a busybox image imported from build/rootfs (no
# registry), and a private podman storage/config/runtime-state under the suite's temp
# dir so nothing else on the host is touched.
source "$(dirname "$0")/../lib.sh"

command -v podman >/dev/null && command -v conmon >/dev/null || {
	echo "ok - 80-podman: all # SKIP podman or conmon not installed (make deps)"
	exit 0
}

podman_setup

cgroups_real() { ! grep -qs hutch_cgroup_create "$TOP/helper/placeholder.c"; }
need_cgroups() { cgroups_real || skip "cgroups are a placeholder on this build (cgroup branch not merged)"; }
need_pause() { "$HUTCH" help pause >/dev/null 2>&1 || skip "hutch has no pause/resume command yet (issue 4, cgroup branch)"; }
need_terminal() { [ -f "$TOP/helper/terminal.c" ] || skip "no terminal support on this build (sec branch not merged)"; }

logs_have() { pm logs "$1" 2>&1 | grep -q "$2"; }

# A container that reports TERM and exits 7 on it, and keeps running otherwise.
LOOP='trap "echo got-term; exit 7" TERM; trap "echo got-usr1" USR1; echo started; while :; do sleep 0.1; done'

test_run_rm_output_and_exit_codes() {
	local out rc=0 id
	out=$(pm run --rm --cidfile cid "$IMG" echo hello-from-hutch)
	assert_eq hello-from-hutch "$out"
	id=$(cat cid)
	[ ! -e "$PM_HUTCH_ROOT/$id" ] || fail "hutch state of $id left after run --rm"
	pm run --rm "$IMG" sh -c 'exit 3' || rc=$?
	assert_eq 3 "$rc" "exit code of sh -c 'exit 3'"
	rc=0
	pm run --rm "$IMG" /no/such/binary 2>/dev/null || rc=$?
	[ "$rc" -eq 127 ] || [ "$rc" -eq 126 ] || fail "exit code of a missing binary: $rc (want 126/127)"
	# --rm left nothing: neither in podman nor in hutch's state
	assert_eq "" "$(pm ps -a -q)" "podman ps -a after --rm"
}

test_run_detached_logs_exec_ps_top() {
	local out rc=0
	pm run -d --name d1 "$IMG" sh -c "$LOOP" >/dev/null
	wait_for logs_have d1 started
	assert_eq running "$(pm inspect d1 --format '{{.State.Status}}')"
	out=$(pm exec d1 sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "')
	assert_contains "$out" exec-ok
	assert_contains "$out" "sh -c trap"
	pm exec d1 sh -c 'exit 5' || rc=$?
	assert_eq 5 "$rc" "exit code through podman exec"
	out=$(pm exec -e FOO=bar -w /tmp -u 1000:1000 d1 sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)')
	assert_eq "bar /tmp 1000:1000" "$out" "exec env/workdir/user"
	out=$(pm ps --format '{{.Names}} {{.Status}}')
	assert_match "$out" "d1 Up"
	out=$(pm top d1 pid args)
	assert_contains "$out" "sh -c trap"
	# hutch itself sees the container podman created
	assert_eq running "$(jq -r .status < <("$HUTCH" --root "$PM_HUTCH_ROOT" state "$(pm inspect d1 --format '{{.Id}}')"))"
	pm rm -f -t 0 d1 >/dev/null
}

test_kill_stop_exit_code() {
	local out
	pm run -d --name k1 "$IMG" sh -c "$LOOP" >/dev/null
	wait_for logs_have k1 started
	pm kill -s USR1 k1 >/dev/null
	wait_for logs_have k1 got-usr1
	assert_eq running "$(pm inspect k1 --format '{{.State.Status}}')"
	pm stop -t 10 k1 >/dev/null
	assert_eq exited "$(pm inspect k1 --format '{{.State.Status}}')"
	assert_eq 7 "$(pm inspect k1 --format '{{.State.ExitCode}}')" "exit code after TERM"
	assert_contains "$(pm logs k1)" got-term
	pm rm k1 >/dev/null
	# kill -s KILL: 137 as with runc
	pm run -d --name k2 "$IMG" sleep 1000 >/dev/null
	pm kill k2 >/dev/null
	pm wait k2 >/dev/null || true
	assert_eq 137 "$(pm inspect k2 --format '{{.State.ExitCode}}')" "exit code after KILL"
	pm rm k2 >/dev/null
}

test_rm_force_running() {
	local id
	id=$(pm run -d --name r1 "$IMG" sleep 1000)
	[ -d "$PM_HUTCH_ROOT/$id" ] || fail "no hutch state for $id"
	pm rm -f -t 0 r1 >/dev/null
	assert_eq "" "$(pm ps -a -q)"
	[ ! -e "$PM_HUTCH_ROOT/$id" ] || fail "hutch state of $id left behind"
	find /sys/fs/cgroup -type d -name "*$id*" 2>/dev/null | grep -q . &&
		fail "cgroup of $id left behind"
	return 0
}

test_pause_unpause() {
	need_pause
	local n1 n2
	trap 'pm rm -f -t 0 p1 >/dev/null 2>&1' EXIT
	# the counter file is replaced atomically, so a read never sees it half written
	pm run -d --name p1 "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done' >/dev/null
	sleep 0.3
	pm pause p1 >/dev/null
	assert_eq paused "$(pm inspect p1 --format '{{.State.Status}}')"
	n1=$(pm unpause p1 >/dev/null; pm pause p1 >/dev/null; cat "$(pm mount p1)/tmp/n")
	sleep 0.3
	n2=$(cat "$(pm mount p1)/tmp/n")
	assert_eq "$n1" "$n2" "counter while paused"
	pm unpause p1 >/dev/null
	assert_eq running "$(pm inspect p1 --format '{{.State.Status}}')"
	sleep 0.3
	[ "$(cat "$(pm mount p1)/tmp/n")" -gt "$n2" ] || fail "counter did not move after unpause"
	pm rm -f -t 0 p1 >/dev/null
}

test_memory_and_pids_limits_inside() {
	need_cgroups
	local out
	out=$(pm run --rm --memory 64m --pids-limit 50 "$IMG" sh -c '
		for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do
			[ -r $f ] && { cat $f; break; }; done
		for f in /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do
			[ -r $f ] && { cat $f; break; }; done')
	assert_eq "$((64 * 1024 * 1024))
50" "$out" "memory and pids limits seen inside the container"
}

test_run_tty_and_exec_tty() {
	need_terminal
	local out rc=0
	# podman -t needs a terminal on its own stdin: script(1) gives it one
	out=$(script -qec "podman --root '$PM/root' --runroot '$PM/runroot' --storage-driver vfs --cgroup-manager cgroupfs --runtime '$HUTCH' run --rm -t $IMG sh -c 'tty; exit 4'" /dev/null </dev/null | tr -d '\r'; exit "${PIPESTATUS[0]}") || rc=$?
	assert_contains "$out" /dev/pts/
	assert_eq 4 "$rc" "exit code through run -t"
	pm run -d --name t1 "$IMG" sleep 1000 >/dev/null
	out=$(script -qec "podman --root '$PM/root' --runroot '$PM/runroot' --storage-driver vfs --cgroup-manager cgroupfs --runtime '$HUTCH' exec -t t1 tty" /dev/null </dev/null | tr -d '\r')
	assert_contains "$out" /dev/pts/
	pm rm -f -t 0 t1 >/dev/null
}

test_ulimit_within_hard_limit() {
	local out hard
	hard=$(ulimit -Hn)
	out=$(pm run --rm --ulimit "nofile=512:$hard" --ulimit nproc=1024:1024 "$IMG" sh -c 'ulimit -Sn; ulimit -Hn')
	assert_eq "512
$hard" "$out" "nofile soft/hard inside"
}

test_ulimit_above_hard_limit_is_reported() {
	local out rc=0 hard
	hard=$(ulimit -Hn)
	out=$(pm run --rm --cidfile cid --ulimit "nofile=$((hard + 1)):$((hard + 1))" --ulimit nproc=1024:1024 "$IMG" true 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || skip "raising RLIMIT_NOFILE above $hard is allowed on this host"
	assert_contains "$out" "process.rlimits["
	assert_contains "$out" "the current hard limit is"
	assert_eq "" "$(pm ps -a -q)" "containers left after the failed run"
	[ ! -e "$PM_HUTCH_ROOT/$(cat cid)" ] || fail "hutch state left after the failed run"
}

test_delete_force_of_missing_container() {
	# podman and containerd clean up with `delete --force` after a failed create
	hutch delete --force never-created
	expect_fail 'container `never-created` does not exist' hutch delete never-created
}

run_tests
