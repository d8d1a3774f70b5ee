#!/bin/bash
# Faults. hutch killed with SIGKILL at every phase of create, start, exec and delete (the
# test build build/test/hutch-fault stops itself where HUTCH_TEST_FAULT says, helper/fault.h),
# then `hutch delete --force` and `hutch list` leave nothing: no state dir, cgroup in any
# hierarchy, mount, veth, lease or process. And resources that run out on the way (disk full
# under --root, a read-only --root, the cgroup at its pids.max, EMFILE) give a clear error
# and leave nothing behind.
source "$(dirname "$0")/../lib.sh"

FAULT=$TOP/build/test/hutch-fault
if [ ! -x "$FAULT" ]; then
	echo "not ok - 35-faults: $FAULT is not built (make all)"
	exit 0
fi
# container ids of this suite start with this: other suites may run containers meanwhile
P=flt$$
# The loops over delays, free space and fd limits: fewer rounds (and longer delays) in the
# VM harness (HUTCH_TEST_PARALLEL set), whose TCG guests take tens of ms for every exec.
if [ -n "${HUTCH_TEST_PARALLEL:-}" ]; then
	DELAYS_MS="10 50 150 400" FREE_PAGES="0 2 4 8 32" FD_LIMITS="5 7 9 12 16 32"
else
	DELAYS_MS="2 4 6 8 10 12 14 16 18 20 25 30 40 50 70 100"
	FREE_PAGES="0 1 2 3 4 5 6 8 12 16 24 32" FD_LIMITS="4 5 6 7 8 9 10 11 12 14 16 20 24 32"
fi

# ---- what a container may leave behind, for the ids of this suite only ----

# leftovers ID: one line per thing left of container ID (empty: nothing)
leftovers() {
	local id=$1
	[ ! -e "$T_ROOT/$id" ] || echo "state dir $T_ROOT/$id"
	# every hierarchy: the v1 controllers and cgroup2, however deep the path
	find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "$id" 2>/dev/null | sed 's/^/cgroup /'
	awk -v t="$T_TMP" -v own="${OWN_MOUNT:-}" \
		'index($5, t) == 1 && $5 != own { print "mount " $5 }' /proc/self/mountinfo
	# processes: in the container's cgroup, or hutch's own children not in it yet
	# (not zombies: a killed init waits a moment for its reaper, the machine's init)
	alive $(grep -lsx -- "[0-9]*:[^:]*:.*/$id" /proc/[0-9]*/cgroup) | sed 's/.*/process & (cgroup)/'
	alive $(grep -lsa -- "${T_ROOT%/*}/[s]tate" /proc/[0-9]*/cmdline) | grep -vx "$$\|$BASHPID" |
		sed 's/.*/process & (hutch --root)/'
	if [ -n "${NS:-}" ]; then
		inns ip -o link show type veth | awk '{ print "veth " $2 }'
		[ ! -s "$LEASES/leases.json" ] || jq -r 'keys[] | "lease " + .' "$LEASES/leases.json"
	fi
	hutch list -q | grep -x "$id" | sed 's/^/listed /' || true
}

# alive PROC-FILE...: the pids of those files' processes, zombies left out
alive() {
	local pids
	pids=$(printf '%s\n' "$@" | cut -d/ -f3 | paste -sd, -)
	[ -z "$pids" ] || ps -o pid=,stat= -p "$pids" | awk '$2 !~ /^Z/ { print $1 }'
}

assert_nothing_left() {
	local left
	left=$(leftovers "$1")
	[ -z "$left" ] || { printf '# %s\n' "$left" >&2; fail "$1 left something behind"; }
}

# ---- a stand-in host network namespace for --net bridge (never the machine's own) ----

net_on() {
	NS=$id   # (fault_setup's)
	NS=${NS:0:40}
	LEASES=$PWD/leases
	export HUTCH_NET_CONF=$PWD/net.conf
	echo "lease_dir = $LEASES" > "$HUTCH_NET_CONF"
	ip netns add "$NS"
	trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
	inns ip link set lo up
}
inns() { nsenter --net="/run/netns/$NS" "$@"; }
# hutch and the fault build, in the stand-in namespace when there is one
h() { if [ -n "${NS:-}" ]; then inns "$HUTCH" --root "$T_ROOT" "$@"; else hutch "$@"; fi; }
hf() {
	local phase=$1
	shift
	if [ -n "${NS:-}" ]; then
		HUTCH_TEST_FAULT=$phase inns "$FAULT" --root "$T_ROOT" "$@"
	else
		HUTCH_TEST_FAULT=$phase "$FAULT" --root "$T_ROOT" "$@"
	fi
}

# killed_at PHASE CMD...: the fault build must die by SIGKILL at PHASE (proof it got there)
killed_at() {
	local phase=$1 rc=0
	shift
	hf "$phase" "$@" >/dev/null 2>&1 </dev/null || rc=$?
	assert_eq 137 "$rc" "exit status of [$*] killed at $phase"
}

# delete --force of what a fault left, then nothing may be left
recover() {
	h delete --force "$1"
	assert_nothing_left "$1"
}

net_usable() { command -v nft >/dev/null; }
# the bundle every fault test runs: a writable rootfs, a long sleep
bundle() { new_bundle b sleep 1000; }
create_args() {
	if net_usable; then echo --net bridge; fi
}

# ---- SIGKILL at each phase ----

# fault_setup PHASE: the test's container id in $id (the caller's local), the stand-in
# network namespace when --net bridge is usable, and the bundle
fault_setup() {
	id=$P-${1//./-}
	! net_usable || net_on
	bundle
}
# fault_running PHASE: fault_setup, and the container running
fault_running() {
	fault_setup "$1"
	# shellcheck disable=SC2046
	h run -d $(create_args) -b b "$id"
}

fault_create() {
	local id
	fault_setup "$1"
	# shellcheck disable=SC2046
	killed_at "$1" create $(create_args) -b b "$id"
	recover "$id"
}

fault_start() {
	local id
	fault_setup "$1"
	# shellcheck disable=SC2046
	h create $(create_args) -b b "$id"
	killed_at "$1" start "$id"
	recover "$id"
}

fault_exec() {
	local id
	fault_running "$1"
	killed_at "$1" exec "$id" sleep 1000
	# the container is still there and running: the fault was exec's alone
	assert_eq running "$(h state "$id" | jq -r .status)" "status after a killed exec"
	recover "$id"
}

fault_delete() {
	local id
	fault_running "$1"
	h exec -d "$id" sleep 1000
	killed_at "$1" delete --force "$id"
	recover "$id"
}

# a test per phase, each defined as a function of its own: the VM harness lists a suite's
# tests by their `test_` definitions (tests/vm/run suite_tests; 95-make checks it)
test_kill_create_state() { fault_create create.state; }
test_kill_create_net() { fault_create create.net; }
test_kill_create_cgroup() { fault_create create.cgroup; }
test_kill_create_fork() { fault_create create.fork; }
test_kill_create_pid() { fault_create create.pid; }
test_kill_create_netsetup() { fault_create create.netsetup; }
test_kill_create_saved() { fault_create create.saved; }
test_kill_create_hooks() { fault_create create.hooks; }
test_kill_create_ready() { fault_create create.ready; }
test_kill_start_connected() { fault_start start.connected; }
test_kill_start_sent() { fault_start start.sent; }
test_kill_exec_fork() { fault_exec exec.fork; }
test_kill_exec_pid() { fault_exec exec.pid; }
test_kill_exec_running() { fault_exec exec.running; }
test_kill_delete_killed() { fault_delete delete.killed; }
test_kill_delete_cgroup() { fault_delete delete.cgroup; }
test_kill_delete_net() { fault_delete delete.net; }

# The shipped helper killed by a timer a few ms into create (the bug of issue 14: the
# state said "creating", pid 0, and delete --force left the cgroups), at DELAYS_MS.
test_kill_create_timed() {
	local ms id
	bundle
	for ms in $DELAYS_MS; do
		id=$P-t$ms
		(timeout --foreground -s KILL "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" "$HUTCH" --root "$T_ROOT" create -b b "$id" \
			>/dev/null) 2>/dev/null || true
		if [ -e "$T_ROOT/$id" ]; then
			hutch delete --force "$id"
		fi
		assert_nothing_left "$id"
	done
}

# ---- resources that run out ----

# a small tmpfs at DIR, unmounted when the test ends
small_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1"
	OWN_MOUNT=$PWD/$1   # (not a leftover)
	trap "umount -l '$PWD/$1' 2>/dev/null || true" EXIT
}

# --root on a full file system: create fails naming ENOSPC, and leaves nothing; with every
# amount of free space from none up to what create needs (each write of the way fails once).
test_root_disk_full() {
	local free id out rc ok=0 nospc=0
	bundle
	small_tmpfs full 1M
	for free in $FREE_PAGES; do
		id=$P-full$free
		rm -f full/fill
		# fill it up, then give back FREE pages
		dd if=/dev/zero of=full/fill bs=4k 2>/dev/null || true
		if ((free)); then truncate -s "-$((free * 4))k" full/fill; fi
		rc=0
		# (not in $(...): a created init would hold its stdout open)
		"$HUTCH" --root "$PWD/full/state" create -b b "$id" >/dev/null 2>err || rc=$?
		out=$(<err)
		if ((rc == 0)); then
			ok=$((ok + 1))
			"$HUTCH" --root "$PWD/full/state" delete --force "$id"
		else
			assert_contains "$out" "No space left on device" "create with $free free pages"
			nospc=$((nospc + 1))
		fi
		[ ! -e "full/state/$id" ] || fail "state dir of $id left with $free free pages"
		T_ROOT=$PWD/full/state assert_nothing_left "$id"
	done
	((nospc > 0)) || fail "create never ran out of space"
	((ok > 0)) || fail "create never succeeded, even with $free free pages"
}

test_root_read_only() {
	local id=$P-ro
	bundle
	small_tmpfs ro 1M
	mkdir ro/state
	mount -o remount,ro ro
	expect_fail "Read-only file system" "$HUTCH" --root "$PWD/ro/state" create -b b "$id"
	expect_fail "Read-only file system" "$HUTCH" --root "$PWD/ro/new" run -b b "$id"
	T_ROOT=$PWD/ro/state assert_nothing_left "$id"
}

# the container's cgroup at its pids.max: exec cannot fork there and says so; delete works
test_pids_max_exec() {
	local id=$P-pids
	bundle
	# the init, and nothing more (exec's first child enters; its fork is refused)
	cfg b '.linux.resources.pids.limit = 2'
	hutch run -d -b b "$id"
	expect_fail "exec in \`$id\`" hutch exec "$id" true
	assert_eq running "$(status_of "$id")" "status"
	hutch delete --force "$id"
	assert_nothing_left "$id"
}

sleeps() { hutch ps "$1" | grep -c 'sleep 1000' || true; }

# the cgroup filled up to pids.max by a fork loop inside: the loop's fork fails there, so
# does exec's with a clear error, and delete --force cleans up the lot
test_pids_max_fork_loop() {
	local id=$P-loop n
	bundle
	cfg b '.linux.resources.pids.limit = 16'
	hutch run -d -b b "$id"
	# (ash gives up at the first fork it is refused)
	hutch exec "$id" sh -c 'while :; do sleep 1000 & done' >/dev/null 2>&1 || true
	n=$(sleeps "$id")
	[ "$n" -ge 14 ] && [ "$n" -le 16 ] || fail "$n sleeps in a cgroup with pids.max 16"
	expect_fail "exec in \`$id\`" hutch exec "$id" sh -c 'sleep 1000 & sleep 1000 & true'
	hutch delete --force "$id"
	assert_nothing_left "$id"
}

# few fds (ulimit -Sn; the config's own rlimit needs the hard one): create fails with EMFILE somewhere on the way, or succeeds; either
# way nothing is left, and the error says what ran out.
test_emfile() {
	local n id out rc emfile=0 ok=0
	bundle
	for n in $FD_LIMITS; do
		id=$P-fd$n
		rc=0
		(exec >/dev/null 2>err && ulimit -Sn "$n" && exec "$HUTCH" --root "$T_ROOT" create -b b "$id") ||
			rc=$?
		out=$(<err)
		if ((rc == 0)); then
			ok=$((ok + 1))
			hutch delete --force "$id"
		else
			assert_contains "$out" "Too many open files" "create with ulimit -Sn $n"
			emfile=$((emfile + 1))
		fi
		assert_nothing_left "$id"
	done
	((emfile > 0)) || fail "create never ran out of fds"
	((ok > 0)) || fail "create never succeeded, even with ulimit -Sn $n"
}

# ---- what the error paths of create and exec leave in hutch itself ----

ASAN_HUTCH=$TOP/build/asan/hutch

# sanitized EXPECTED-ERROR ARGS...: the ASan+UBSan build, with LeakSanitizer on, must fail
# with EXPECTED-ERROR and report no leak, no sanitizer error and no fd it left open
# (HUTCH_DEBUG_FDS, main.c: cleanup attributes released every fd and allocation)
sanitized() {
	local msg=$1 out rc=0
	shift
	out=$(HUTCH_DEBUG_FDS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		"$ASAN_HUTCH" --root "$T_ROOT" "$@" 2>&1 >/dev/null </dev/null) || rc=$?
	((rc != 0)) || fail "[$*] succeeded"
	assert_contains "$out" "$msg" "error of [$*]"
	if [[ $out == *Sanitizer* || $out == *"runtime error"* || $out == *"open at exit"* ]]; then
		printf '# %s\n' "$out" | head -40 >&2
		fail "[$*] leaked (above)"
	fi
}

need_asan() {
	[ -x "$ASAN_HUTCH" ] || fail "$ASAN_HUTCH is not built (make asan; the VM image carries it when it is)"
}

test_create_error_paths_leak_nothing() {
	local id=$P-lk expr msg
	need_asan
	bundle
	cp b/config.json good.json
	host_snapshot_of "$P" > before
	while IFS='|' read -r expr msg; do
		jq "$expr" good.json > b/config.json
		sanitized "$msg" create -b b "$id"
		assert_nothing_left "$id"
	done <<-'EOF'
		.process.args = "sh"|config.json: process.args: expected an array
		.linux.namespaces[2].type = "foo"|config.json: linux.namespaces[2].type: unknown namespace
		.linux.resources.memory.limit = "x"|linux.resources.memory.limit
		.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}|linux.seccomp.defaultAction
		.mounts += [{"destination": "/mnt", "type": "bogusfs", "source": "none"}]|mounts[
		.hooks.createRuntime = [{"path": "/nonexistent-hook"}]|nonexistent-hook
		.process.args = ["/nonexistent"]|/nonexistent
		.process.terminal = true|--console-socket
	EOF
	cp good.json b/config.json
	jq '.process.terminal = true' good.json > b/config.json
	sanitized "connect to \`$PWD/none.sock\`" create -b b --console-socket "$PWD/none.sock" "$id"
	assert_nothing_left "$id"
	assert_clean before "$P"
}

test_exec_error_paths_leak_nothing() {
	local id=$P-lkx
	need_asan
	bundle
	hutch run -d -b b "$id"
	sanitized 'exec: `nosuchbin`: executable file not found' exec "$id" nosuchbin
	sanitized 'chdir `/etc/passwd`: Not a directory' exec --cwd /etc/passwd "$id" true
	sanitized 'cwd: "rel" is not an absolute path' exec --cwd rel "$id" true
	sanitized "connect to \`$PWD/none.sock\`" exec -t --console-socket "$PWD/none.sock" "$id" true
	sanitized 'none.json' exec --process "$PWD/none.json" "$id"
	sanitized 'user' exec -u nosuchuser "$id" true
	assert_eq running "$(status_of "$id")" "status after the failed execs"
	hutch delete --force "$id"
	assert_nothing_left "$id"
}

run_tests
