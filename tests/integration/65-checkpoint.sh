#!/bin/bash
# checkpoint and restore with CRIU (helper/criu.c, `criu swrk`). CRIU works on the VM
# guests' kernels (6.1, 6.12); where `criu check` fails (this host's kernel) the suite
# checks hutch's error and that nothing changed, and skips the rest naming the reason.
source "$(dirname "$0")/../lib.sh"
HELPERS=$TOP/build/test

# counter_bundle BUNDLE: a process that writes a growing number to /data/n, /data a bind
# mount of the host's directory $PWD/data (an external mount for CRIU); its stdio inside
# the container (CRIU does not dump the host's files)
counter_bundle() {
	mkdir -p data
	new_bundle "$1" sh -c 'exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i > /data/n.new; mv /data/n.new /data/n; sleep 0.1; done'
	cfg "$1" ".root.readonly = false | .mounts += [{\"destination\": \"/data\", \"source\": \"$PWD/data\", \"options\": [\"bind\"]}]"
}
count_of() { cat "$PWD/data/n" 2>/dev/null || echo 0; }
# wait until the counter passed $1
wait_count() { wait_for bash -c "[ \"\$(cat $PWD/data/n 2>/dev/null || echo 0)\" -gt $1 ]"; }
# stop_and_delete ID: kill, wait for stopped, delete
stop_and_delete() {
	hutch kill "$1" KILL
	wait_for bash -c "[ \"\$($HUTCH --root $T_ROOT state $1 | jq -r .status)\" = stopped ]"
	hutch delete "$1"
}

test_checkpoint_restore_keeps_counting() {
	need_criu
	host_snapshot > before
	counter_bundle b
	hutch run -d -b b c1
	wait_count 3
	hutch checkpoint --image-path img c1
	at=$(count_of)
	assert_eq "" "$(ls "$T_ROOT")" "the checkpointed container is gone (as with runc)"
	grep -qs "$(cat /proc/sys/kernel/random/boot_id)" /run/hutch/.criu-check ||
		fail "criu check's success is not remembered for this boot"
	sleep 0.3
	assert_eq "$at" "$(count_of)" "nothing counts while checkpointed"
	hutch restore -d --image-path img --pid-file pid c1
	assert_eq running "$(status_of c1)" "status after restore"
	pid=$(hutch state c1 | jq -r .pid)
	assert_eq "$pid" "$(cat pid)" "--pid-file"
	[ "$pid" -gt 0 ] || fail "restored pid $pid"
	wait_count "$at"
	if [ -d /sys/module/hutch ]; then
		assert_eq module "$(hutch stats -f json c1 | jq -r .source)" "registered with hutch.ko again"
	fi
	expect_fail "already exists" hutch restore -d --image-path img c1
	assert_eq running "$(status_of c1)" "a second restore of the id leaves it alone"
	stop_and_delete c1
	assert_eq "" "$(ls "$T_ROOT")" "state left after delete"
	assert_clean before
}

# --file-locks: a container holding a flock (tests/helpers/flock-hold, on a file of the
# bind-mounted host directory) cannot be dumped without it; with it, the restored process
# holds the lock again
test_file_locks_are_dumped_and_held_again() {
	need_criu
	[ -x "$TOP/build/test/flock-hold" ] || fail "build/test/flock-hold is not built (make)"
	mkdir -p data
	new_bundle b sh -c 'exec </dev/null >/dev/null 2>&1; exec /flock-hold /data/lock'
	cfg b ".root.readonly = false | .mounts += [
		{\"destination\": \"/data\", \"source\": \"$PWD/data\", \"options\": [\"bind\"]},
		{\"destination\": \"/flock-hold\", \"source\": \"$TOP/build/test/flock-hold\", \"options\": [\"bind\", \"ro\"]}]"
	hutch run -d -b b c1
	wait_for bash -c "! flock -n $PWD/data/lock true"
	expect_fail "dump" hutch checkpoint --image-path img0 c1
	assert_eq running "$(status_of c1)" "a failed dump leaves the container running"
	hutch checkpoint --file-locks --image-path img c1
	flock -n data/lock true || fail "the lock is still held after the checkpoint"
	hutch restore -d --file-locks --image-path img c1
	wait_for bash -c "! flock -n $PWD/data/lock true"
	stop_and_delete c1
}

test_pre_dump_then_dump() {
	need_criu
	counter_bundle b
	hutch run -d -b b c1
	wait_count 2
	hutch checkpoint --pre-dump --image-path pre c1
	assert_eq running "$(status_of c1)" "a pre-dump leaves it running"
	hutch checkpoint --image-path img --parent-path ../pre c1
	at=$(count_of)
	[ -L img/parent ] || fail "no parent link in the dump"
	hutch restore -d --image-path img c1
	wait_count "$at"
	stop_and_delete c1
}

test_checkpoint_leave_running() {
	need_criu
	counter_bundle b
	hutch run -d -b b c1
	wait_count 2
	# (with a cgroup mode: CRIU takes the value hutch encodes, or fails the dump)
	hutch checkpoint --leave-running --manage-cgroups-mode soft --image-path img c1
	assert_eq running "$(status_of c1)" "the original keeps running"
	at=$(count_of)
	wait_count "$at"
	[ -s img/hutch-checkpoint.json ] || fail "no checkpoint record"
	hutch delete -f c1
}

# a network namespace joined by path is not the container's: CRIU leaves it out of the
# images (external) and the restored processes join the same one again
test_joined_netns_by_path() {
	need_criu
	touch netns
	unshare --net=netns true
	trap "umount '$PWD/netns'" EXIT
	counter_bundle b
	cfg b ".linux.namespaces |= map(if .type == \"network\" then .path = \"$PWD/netns\" else . end)"
	hutch run -d -b b c1
	wait_count 2
	hutch checkpoint --image-path img c1
	at=$(count_of)
	hutch restore -d --image-path img c1
	wait_count "$at"
	pid=$(hutch state c1 | jq -r .pid)
	assert_eq "net:[$(stat -L -c %i netns)]" "$(readlink /proc/$pid/ns/net)" "the restored init's network namespace"
	stop_and_delete c1
}

test_tcp_established_survives() {
	need_criu
	# a server and a client in the container's network namespace, one connection open
	# across the checkpoint: the client writes a line a tick, the server appends them (its
	# stdin a pipe that stays open: busybox nc quits at the end of its input)
	new_bundle b sh -c 'exec </dev/null >/dev/null 2>&1; busybox ip link set lo up; sleep 100000 | busybox nc -l -p 7000 > /tmp/got & sleep 0.5; i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done | busybox nc 127.0.0.1 7000'
	cfg b '.root.readonly = false | .process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN"])'
	hutch run -d -b b c1
	wait_for bash -c "[ \"\$(wc -l < $PWD/b/rootfs/tmp/got 2>/dev/null || echo 0)\" -gt 2 ]"
	hutch checkpoint --tcp-established --image-path img c1
	at=$(wc -l < b/rootfs/tmp/got)
	hutch restore -d --tcp-established --image-path img c1
	wait_for bash -c "[ \"\$(wc -l < $PWD/b/rootfs/tmp/got)\" -gt $((at + 2)) ]"
	assert_eq running "$(status_of c1)" "status after restore"
	hutch delete -f c1
}

# A container with a terminal (process.terminal, --console-socket): its pty's master is
# outside (the receiver has it), so CRIU dumps the slave alone (orphan_pts_master, as runc
# and crun do), makes the pair again on restore and hutch sends the new master to restore's
# --console-socket: the counter goes on on the new terminal.
test_terminal_checkpoint_restore() {
	need_criu
	host_snapshot > before
	new_bundle b sh -c 'i=0; while :; do i=$((i+1)); echo "n=$i."; sleep 0.1; done'
	cfg b '.process.terminal = true'
	"$HELPERS/console-recv" "$T_TMP/c1.sock" "$T_TMP/c1.out" > r1 &
	recv=$!
	wait_for grep -q ready r1
	hutch run -d -b b --console-socket "$T_TMP/c1.sock" c1
	wait_for grep -q "n=3\." "$T_TMP/c1.out"
	hutch checkpoint --image-path img c1
	wait $recv   # the pty hung up with the container
	at=$(tr -d '\r' < "$T_TMP/c1.out" | sed -n 's/^n=\([0-9]*\)\.$/\1/p' | tail -1)
	assert_eq true "$(jq .terminal img/hutch-checkpoint.json)" "the record of a terminal"
	expect_fail "--console-socket: the checkpointed container has a terminal" hutch restore -d --image-path img c1
	"$HELPERS/console-recv" "$T_TMP/c2.sock" "$T_TMP/c2.out" > r2 &
	recv=$!
	wait_for grep -q ready r2
	hutch restore -d --image-path img --console-socket "$T_TMP/c2.sock" c1
	wait_for grep -q "n=$((at + 2))\." "$T_TMP/c2.out"
	assert_eq running "$(status_of c1)" "status after restore"
	stop_and_delete c1
	wait $recv
	assert_clean before
}

# runc's lazy migration: the dump serves the pages from its page server (--status-fd gets
# '\0' once it listens) until a `criu lazy-pages` daemon fetched them all for the restore,
# whose processes run before their memory is there (userfaultfd). The dumped container
# stays (frozen) until then: the restore takes another id, as in runc's test.
test_lazy_pages_migration() {
	need_criu
	criu check --feature uffd-noncoop >/dev/null 2>&1 ||
		skip "CRIU reports no non-cooperative userfaultfd on this kernel ($(uname -r)): no lazy pages"
	counter_bundle b
	hutch run -d -b b c1
	wait_count 2
	port=$((20000 + RANDOM % 20000))
	mkfifo ready
	hutch checkpoint --lazy-pages --page-server "127.0.0.1:$port" --status-fd 3 --image-path img c1 3>ready &
	dump=$!
	assert_eq 00 "$(head -c1 ready | od -An -tx1 | tr -d ' ')" "--status-fd: the page server is ready"
	at=$(count_of)
	criu lazy-pages --page-server --address 127.0.0.1 --port "$port" -D img &
	lazy=$!
	hutch restore -d --lazy-pages --image-path img c2
	wait $dump || fail "the lazy checkpoint failed"
	wait $lazy || fail "criu lazy-pages failed"
	wait_count "$at"
	assert_eq c2 "$(ls "$T_ROOT")" "the dumped container went once its pages were fetched"
	stop_and_delete c2
}

# --page-server alone: the pages go to a `criu page-server` (here into pages/), the rest of
# the images into --image-path
test_page_server() {
	need_criu
	counter_bundle b
	hutch run -d -b b c1
	wait_count 2
	port=$((20000 + RANDOM % 20000))
	mkdir pages
	criu page-server -d --images-dir pages --address 127.0.0.1 --port "$port"
	hutch checkpoint --page-server "127.0.0.1:$port" --image-path img c1
	at=$(count_of)
	ls pages/pages-*.img >/dev/null || fail "no pages at the page server"
	! ls img/pages-*.img 2>/dev/null || fail "pages in the image directory"
	cp pages/* img/
	hutch restore -d --image-path img c1
	wait_count "$at"
	stop_and_delete c1
}

test_bad_input_leaves_nothing() {
	host_snapshot > before
	expect_fail "does not exist" hutch checkpoint --image-path img nope
	[ ! -e img ] || fail "checkpoint of an unknown container made the image directory"
	expect_fail "--image-path: \`missing\`" hutch restore -d --image-path missing c1
	mkdir empty
	expect_fail "holds no checkpoint of hutch" hutch restore -d --image-path empty c1
	expect_fail "--manage-cgroups-mode: unknown mode \`bogus\`" hutch checkpoint --manage-cgroups-mode bogus c1
	expect_fail "--lazy-pages: needs --page-server" hutch checkpoint --lazy-pages --image-path img c1
	expect_fail "--page-server: \`127.0.0.1\` is not ADDRESS:PORT" hutch checkpoint --page-server 127.0.0.1 c1
	expect_fail "--page-server: \`127.0.0.1:70000\` is not ADDRESS:PORT" hutch checkpoint --page-server 127.0.0.1:70000 c1
	expect_fail "--page-server: \`host:1\` is not ADDRESS:PORT" hutch checkpoint --page-server host:1 c1
	expect_fail "--status-fd: only with --lazy-pages" hutch checkpoint --status-fd 1 c1
	expect_fail "--status-fd: 0 is not open for writing" hutch checkpoint --lazy-pages --page-server '[::1]:1' --status-fd 0 c1 </dev/null
	expect_fail "--status-fd: 250: Bad file descriptor" hutch checkpoint --lazy-pages --page-server 127.0.0.1:1 --status-fd 250 c1
	expect_fail "--lazy-pages: not with --pre-dump" hutch checkpoint --lazy-pages --pre-dump --page-server 127.0.0.1:1 c1
	[ ! -e img ] || fail "a bad option made the image directory"
	expect_fail "unknown option" hutch restore --bogus c1
	assert_eq "" "$(ls "$T_ROOT" 2>/dev/null)" "state left"
	assert_clean before
}

# Where CRIU cannot run (this host's kernel) or is missing: a clear error, the container
# untouched.
test_error_where_criu_cannot_run() {
	! criu_works || skip "CRIU works on this kernel ($(uname -r)): the error has nothing to show"
	new_bundle b sleep 1000
	hutch run -d -b b c1
	if command -v criu >/dev/null; then
		expect_fail "\`criu check\` failed" hutch checkpoint --image-path img c1
		! grep -qs "$(cat /proc/sys/kernel/random/boot_id)" /run/hutch/.criu-check ||
			fail "a failed criu check was remembered"
	else
		expect_fail "criu is not installed" hutch checkpoint --image-path img c1
	fi
	assert_eq running "$(status_of c1)" "the container is untouched"
	[ ! -e img/pages-1.img ] || fail "images were written"
	hutch delete -f c1
}

run_tests
