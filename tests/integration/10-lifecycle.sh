#!/bin/bash
# The OCI lifecycle on the host: create/start/run/state/kill/delete/list/ps/exec.
source "$(dirname "$0")/../lib.sh"

test_run_shows_pid1_and_hostname() {
	new_bundle b sh -c 'echo "pid=$$ host=$(hostname)"; ps -o pid,comm; true'
	cfg b '.hostname = "box1"'
	out=$(hutch run -b b c1)
	assert_contains "$out" "pid=1 host=box1"
	assert_match "$out" "1 +sh"
	assert_eq 1 "$(grep -c ' sh$' <<<"$out")" "only the init and ps are visible"
	assert_eq "" "$(ls "$T_ROOT")" "state left after run"
}

test_run_exit_status() {
	new_bundle b sh -c 'exit 42'
	rc=0; hutch run -b b c1 || rc=$?
	assert_eq 42 "$rc" "exit status"
}

test_run_killed_by_signal_is_128_plus_n() {
	new_bundle b sleep 1000
	rc=0
	"$HUTCH" --root "$T_ROOT" run -b b c1 & runner=$!
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = running ]"
	hutch kill c1 KILL
	wait $runner || rc=$?
	assert_eq 137 "$rc" "exit status for SIGKILL"
}

test_run_forwards_signals() {
	new_bundle b sh -c 'trap "exit 9" TERM; while :; do sleep 0.05; done'
	rc=0
	"$HUTCH" --root "$T_ROOT" run -b b c1 & runner=$!
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = running ]"
	sleep 0.2
	kill -TERM $runner
	wait $runner || rc=$?
	assert_eq 9 "$rc" "exit status after a forwarded TERM"
}

test_create_start_state_kill_delete() {
	new_bundle b sleep 1000
	hutch create -b b --pid-file "$T_TMP/c1.pid" c1
	assert_eq created "$(status_of c1)"
	st=$(hutch state c1)
	assert_eq c1 "$(jq -r .id <<<"$st")"
	assert_eq "$(cat "$T_TMP/c1.pid")" "$(jq -r .pid <<<"$st")" "state pid vs pid file"
	assert_eq "$(readlink -f b)" "$(jq -r .bundle <<<"$st")"
	assert_eq 1.3.0 "$(jq -r .ociVersion <<<"$st")"
	pid=$(jq -r .pid <<<"$st")
	# created: namespaces and mounts are in place, the program is not running yet
	# (the runtime runs from a read-only clone of its mount, where readlink shows "/", or
	# from a sealed memfd copy of itself: CVE-2019-5736, see helper/selfexe.c)
	exe=$(readlink /proc/$pid/exe)
	[[ $(stat -L -c %d:%i /proc/$pid/exe) == $(stat -L -c %d:%i "$HUTCH") ||
		$exe == "/memfd:hutch (deleted)" ]] || fail "init before start: exe is [$exe]"
	hutch start c1
	assert_eq running "$(status_of c1)"
	wait_for bash -c "readlink /proc/$pid/exe | grep -q busybox"
	expect_fail "not created" hutch start c1
	hutch kill c1 KILL
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	assert_eq 0 "$(hutch state c1 | jq -r .pid)" "pid of a stopped container"
	hutch delete c1
	expect_fail "does not exist" hutch state c1
}

test_kill_signal_names_and_numbers() {
	new_bundle b sh -c 'trap "echo got-usr1 >> /tmp/log" USR1; trap "echo got-hup >> /tmp/log" HUP; trap "exit 3" TERM; echo ready > /tmp/log; while :; do sleep 0.05; done'
	cfg b '.root.readonly = false'
	hutch run -d -b b c1
	wait_for grep -q ready b/rootfs/tmp/log
	hutch kill c1 SIGUSR1
	hutch kill c1 HUP
	wait_for grep -q got-hup b/rootfs/tmp/log
	wait_for grep -q got-usr1 b/rootfs/tmp/log
	hutch kill c1 15
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	hutch delete c1
}

test_kill_default_is_term_and_all_reaches_every_process() {
	new_bundle b sh -c 'sleep 1000 & sleep 1000 & wait'
	hutch run -d -b b c1
	wait_for bash -c "[ \$($HUTCH --root $T_ROOT ps --format json c1 | jq length) -eq 3 ]"
	pids=$(hutch ps --format json c1 | jq -r '.[]')
	hutch kill --all c1 KILL
	for p in $pids; do wait_for bash -c "! kill -0 $p"; done
	hutch delete c1
}

test_delete_running_needs_force() {
	new_bundle b sleep 1000
	hutch run -d -b b c1
	expect_fail "use --force" hutch delete c1
	assert_eq running "$(status_of c1)"
	hutch delete --force c1
	expect_fail "does not exist" hutch state c1
}

test_delete_created_container() {
	new_bundle b sleep 1000
	hutch create -b b c1
	pid=$(hutch state c1 | jq .pid)
	hutch delete c1
	wait_for bash -c "! kill -0 $pid"
}

test_run_detach_and_keep() {
	new_bundle b sh -c 'exit 7'
	rc=0; hutch run --keep -b b c1 || rc=$?
	assert_eq 7 "$rc"
	assert_eq stopped "$(status_of c1)" "--keep keeps the stopped container"
	hutch delete c1
	new_bundle b2 sleep 1000
	hutch run --detach -b b2 c2
	assert_eq running "$(status_of c2)"
	hutch delete -f c2
}

test_list_formats() {
	new_bundle b sleep 1000
	hutch run -d -b b c1
	hutch create -b b c2
	out=$(hutch list)
	assert_match "$out" "ID +PID +STATUS +BUNDLE"
	assert_match "$out" "c1 +[0-9]+ +running"
	assert_match "$out" "c2 +[0-9]+ +created"
	assert_eq "c1 c2" "$(hutch list -q | xargs)"
	assert_eq "running created" "$(hutch list --format json | jq -r '.[].status' | xargs)"
	assert_eq "" "$(hutch --root "$T_TMP/empty" list -q)" "empty root"
	hutch delete -f c1
	hutch delete -f c2
}

test_ps_formats() {
	new_bundle b sh -c 'sleep 1000 & wait'
	hutch run -d -b b c1
	wait_for bash -c "[ \$($HUTCH --root $T_ROOT ps --format json c1 | jq length) -eq 2 ]"
	init=$(hutch state c1 | jq .pid)
	assert_eq "$init" "$(hutch ps --format json c1 | jq '.[0]')"
	out=$(hutch ps c1)
	assert_match "$out" "PID"
	assert_contains "$out" "sleep 1000"
	hutch delete -f c1
}

test_exec_runs_in_the_container() {
	new_bundle b sleep 1000
	cfg b '.hostname = "exechost"'
	hutch run -d -b b c1
	out=$(hutch exec c1 sh -c 'echo "$(hostname) $(cat /etc/hostname) $$"')
	assert_match "$out" "^exechost hutch [0-9]+$"
	rc=0; hutch exec c1 sh -c 'exit 5' || rc=$?
	assert_eq 5 "$rc" "exec exit status"
	assert_eq "/tmp" "$(hutch exec --cwd /tmp c1 pwd)"
	assert_eq "FOO=bar" "$(hutch exec -e FOO=bar c1 env | grep FOO)"
	assert_eq "1000:1001 1001 2000 3000" "$(hutch exec -u 1000:1001 -g 2000 -g 3000 c1 sh -c 'echo $(id -u):$(id -g) $(id -G)')"
	# same pid namespace and cgroup as the init
	assert_eq "$(readlink /proc/$(hutch state c1 | jq .pid)/ns/pid)" \
		"$(hutch exec c1 readlink /proc/self/ns/pid)"
	hutch delete -f c1
}

# exec's process is born in the container's pid namespace (the runtime makes it the one of
# its children for that fork): one fork, not a child that joins and forks again. With a pids
# limit it is two, as only a fork is checked against pids.max (35-faults: pids_max_exec).
test_exec_forks_once() {
	command -v strace >/dev/null || skip "strace missing"
	new_bundle b sleep 1000
	hutch run -d -b b c1
	strace -f -qq -e trace=clone,clone3,fork,vfork -o "$T_TMP/st" "$HUTCH" --root "$T_ROOT" exec c1 sh -c 'echo $$' > "$T_TMP/out"
	assert_match "$(cat "$T_TMP/out")" '^[0-9]+$'
	assert_eq 1 "$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$T_TMP/st")" "forks of exec"
	hutch delete -f c1
	cfg b '.linux.resources.pids.limit = 100'
	hutch run -d -b b c2
	strace -f -qq -e trace=clone,clone3,fork,vfork -o "$T_TMP/st" "$HUTCH" --root "$T_ROOT" exec c2 true
	assert_eq 2 "$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$T_TMP/st")" "forks of exec with a pids limit"
	hutch delete -f c2
}

test_exec_detach_pid_file_and_process_file() {
	new_bundle b sleep 1000
	cfg b '.root.readonly = false'
	hutch run -d -b b c1
	hutch exec -d --pid-file "$T_TMP/e.pid" c1 sleep 999
	pid=$(cat "$T_TMP/e.pid")
	assert_contains "$(cat /proc/$pid/cmdline | tr '\0' ' ')" "sleep 999"
	cat > "$T_TMP/p.json" <<-J
	{"args": ["sh", "-c", "echo \$A > /tmp/pf; id -u >> /tmp/pf"], "env": ["A=fromfile"],
	 "cwd": "/", "user": {"uid": 7, "gid": 7}}
	J
	hutch exec --process "$T_TMP/p.json" c1
	assert_eq "fromfile 7" "$(cat b/rootfs/tmp/pf | xargs)"
	hutch delete -f c1
}

test_exec_errors() {
	new_bundle b sleep 1000
	hutch run -d -b b c1
	expect_fail "executable file not found" hutch exec c1 /no/such/program
	expect_fail "chdir" hutch exec --cwd /nonexistent c1 true
	expect_fail "missing the command" hutch exec c1
	expect_fail "is not NAME=VALUE" hutch exec -e novalue c1 true
	hutch kill c1 KILL
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state c1 | jq -r .status)\" = stopped ]"
	expect_fail "stopped" hutch exec c1 true
	hutch delete c1
}

test_preserve_fds() {
	new_bundle b sh -c 'cat <&3; ls /proc/self/fd | xargs'
	out=$(hutch run -b b --preserve-fds 1 c1 3< <(echo from-fd3))
	assert_contains "$out" "from-fd3"
	assert_match "$out" "^from-fd3"$'\n'"0 1 2 3 "
}

# stdio on the host's /dev/null (conmon gives it as stdin) is reopened on the container's
# own /dev/null: a file whose mount is outside the container is one CRIU cannot dump
test_host_dev_null_stdio_is_reopened_inside() {
	new_bundle b sh -c 'm=$(sed -n "s/^mnt_id:[[:space:]]*//p" /proc/self/fdinfo/0); grep -q "^$m " /proc/self/mountinfo && echo inside || echo "mount $m is not the container'"'"'s"'
	assert_eq inside "$(hutch run -b b c1 </dev/null)" "the mount of stdin's /dev/null"
}

test_no_pivot() {
	new_bundle b sh -c 'cat /proc/self/mountinfo | awk "\$5==\"/\""'
	out=$(hutch run --no-pivot -b b c1)
	[ -n "$out" ] || fail "no root mount inside"
}

test_failed_poststart_and_poststop_hooks_warn_and_the_rest_run_with_their_own_env() {
	new_bundle b true
	# sh's /proc/$$/environ is the environment its execve got: exactly the hook's env
	printf '#!/bin/sh\ntr "\\000" " " < /proc/$$/environ > "$1"\n' > hook.sh
	chmod +x hook.sh
	cfg b ".hooks = {poststart: [{path: \"/bin/false\"},
				 {path: \"$PWD/hook.sh\", args: [\"hook.sh\", \"$PWD/poststart\"],
				  env: [\"A=1\", \"B=two words\"]}],
			 poststop: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"exit 3\"]},
				{path: \"$PWD/hook.sh\", args: [\"hook.sh\", \"$PWD/poststop\"]}]}"
	out=$(HOOKLEAK=1 hutch run -b b hk1 2>&1)
	assert_contains "$out" "warning: hooks.poststart[0]"
	assert_contains "$out" "warning: hooks.poststop[0]"
	assert_eq "A=1 B=two words " "$(cat poststart)" "poststart[1] ran with exactly its env"
	[ -e poststop ] || fail "poststop[1] did not run after poststop[0] failed"
	assert_eq "" "$(cat poststop)" "poststop[1] ran with an empty env"
	assert_eq "" "$(ls -A "$T_ROOT")" "state left"
}

test_parallel_containers_leave_nothing() {
	host_snapshot > "$T_TMP/before"
	new_bundle b sh -c 'echo ok'
	for i in $(seq 1 "$T_PARALLEL"); do
		(hutch run -b b "p$i" > "$T_TMP/out$i" 2>&1; echo $? >> "$T_TMP/out$i") &
	done
	wait
	for i in $(seq 1 "$T_PARALLEL"); do
		assert_eq "ok 0" "$(xargs < "$T_TMP/out$i")" "container p$i"
	done
	for i in $(seq 1 "$T_PARALLEL"); do hutch run -d -b b "q$i" > /dev/null & done
	wait
	assert_eq "$T_PARALLEL" "$(hutch list -q | wc -l)"
	for i in $(seq 1 "$T_PARALLEL"); do hutch delete -f "q$i" & done
	wait
	assert_clean "$T_TMP/before"
}

test_concurrent_commands_on_one_id_are_serialised() {
	new_bundle b sleep 1000
	for i in 1 2 3 4 5; do (hutch create -b b same > /dev/null 2>&1; echo $? > "$T_TMP/rc$i") & done
	wait
	assert_eq 1 "$(grep -l '^0$' "$T_TMP"/rc* | wc -l)" "exactly one create wins"
	hutch delete -f same
}

# libcurl, libarchive and libnftables (and the 40 objects they bring) are loaded only by
# the commands that use them (helper/dl.c): a lifecycle command maps none of them, while
# image import loads libarchive and its error is hutch's, not a crash.
test_optional_libraries_load_on_first_use() {
	local objs
	new_bundle b true
	objs=$(LD_DEBUG=files "$HUTCH" --root "$T_ROOT" run -b b c1 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u)
	assert_contains "$objs" "libjson-c" "objects the runtime loaded"
	assert_not_contains "$objs" "libcurl" "objects a lifecycle command loaded"
	assert_not_contains "$objs" "libarchive" "objects a lifecycle command loaded"
	assert_not_contains "$objs" "libnftables" "objects a lifecycle command loaded"
	printf 'not a tar' > junk
	objs=$(LD_DEBUG=files HUTCH_IMAGE_STORE=$PWD/store "$HUTCH" image import junk 2>&1 >/dev/null || true)
	assert_contains "$objs" "libarchive" "objects image import loaded"
	HUTCH_IMAGE_STORE=$PWD/store expect_fail "not a tar archive" hutch image import junk
}

run_tests
