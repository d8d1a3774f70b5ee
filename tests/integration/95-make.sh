#!/bin/bash
# The Makefile's own targets: dkms-install's kernel, vmshell's, and `make demo`.
source "$(dirname "$0")/../lib.sh"

test_dkms_install_targets_the_running_kernel() {
	local out
	out=$(make -s -n -C "$TOP" dkms-install)
	assert_contains "$out" "dkms build -m hutch -v" "dkms-install"
	assert_contains "$out" " -k $(uname -r)" "dkms-install's kernel"
	out=$(make -s -n -C "$TOP" dkms-install KVER=9.9.9-test)
	assert_contains "$out" "dkms install -m hutch -v" "dkms-install"
	assert_contains "$out" " -k 9.9.9-test" "dkms-install KVER="
}

test_vmshell_boots_6_1_unless_told() {
	local out
	out=$(make -s -n -C "$TOP" vmshell | grep 'tests/vm/boot')
	assert_eq "./tests/vm/boot 6.1 shell" "$out" "vmshell"
	out=$(make -s -n -C "$TOP" vmshell KVER=6.12 | grep 'tests/vm/boot')
	assert_eq "./tests/vm/boot 6.12 shell" "$out" "vmshell KVER=6.12"
}

test_demo_runs_and_shows_the_accounting() {
	local out before after
	[ -x "$TOP/build/rootfs/bin/busybox" ] || fail "no build/rootfs (make rootfs)"
	before=$(host_snapshot)
	out=$("$TOP/scripts/demo.sh" 2>&1) || { echo "$out" | sed 's/^/# /' >&2; fail "demo failed"; }
	assert_contains "$out" "hostname: hutch-demo"
	assert_contains "$out" "PID 1 in its own PID namespace"
	assert_match "$out" $'source +(cgroup|hutch.ko|module)'
	assert_match "$out" 'cpu_total_ns +[1-9]'
	assert_contains "$out" '"type":"stats"' "events --stats"
	assert_contains "$out" '"limit":67108864' "events --stats memory limit"
	after=$(host_snapshot)
	assert_eq "$before" "$after" "host state after the demo"
	! "$HUTCH" list -q 2>/dev/null | grep -q '^demo-' || fail "a demo container is left in /run/hutch"
}

test_library_includes_no_cli_header() {
	local h bad
	for h in "$TOP"/helper/cli/*.h; do
		bad=$(grep -l "#include \"$(basename "$h")\"" "$TOP"/helper/*.c "$TOP"/helper/*.h || true)
		[ -z "$bad" ] || fail "library files include the CLI header $(basename "$h"): $bad"
	done
	# exec's runtime logic is the library's: the CLI file only parses the options
	grep -q '^int container_exec(' "$TOP/helper/exec.c" || fail "no container_exec in helper/exec.c"
	! grep -qE '\b(fork|clone3?|setns)\(' "$TOP/helper/cli/cmd_exec.c" || fail "cmd_exec.c does runtime work"
}

# The VM harness plans guests by the tests it lists with `grep '^test_NAME'` (tests/vm/run,
# guest-run: suite_tests); a test function made any other way (eval in a loop, indented)
# would run on the host but be dropped from the guests' plans and then counted out of time.
test_every_suite_test_is_a_definition_the_harness_lists() {
	local f bad=
	for f in "$TOP"/tests/integration/*.sh "$TOP"/tests/kmod/*.sh "$TOP"/tests/vm/suites/*.sh; do
		[ -f "$f" ] || continue
		# every "test_x()" that does not start its line (outside comments and here-documents,
		# which hold other files: 96-runner's suite)
		if awk '
			doc != "" { if ($0 ~ "^\t*" doc "$") doc = ""; next }
			match($0, /<<-?[\047"]?[A-Za-z_]+/) { d = substr($0, RSTART, RLENGTH); sub(/^<<-?[\047"]?/, "", d); doc = d }
			/^[[:space:]]*#/ { next }
			/(^[[:space:]]+|[^[:alnum:]_[:space:]][[:space:]]*)test_[A-Za-z0-9_]*[[:space:]]*\(\)|eval.*[t]est_/ { print FNR ": " $0; n++ }
			END { exit !n }' "$f" > hits; then
			bad+=" ${f#"$TOP"/}: $(head -n1 hits)"
		fi
	done
	[ -z "$bad" ] || fail "test functions the harness cannot list:$bad"
}

# make check in a clone without ../shared/conformance: the suite is one clear SKIP line,
# not a failure and not silence
test_conformance_without_the_tarball_is_one_skip() {
	local out
	out=$(make -s -C "$TOP" CONF_TARBALL= conformance-build 2>&1)
	assert_contains "$out" "the suite is skipped"
	out=$(CONFORMANCE_DIR="$PWD/none" "$TOP/tests/conformance/run" 2>&1)
	assert_match "$out" "^ok - conformance # SKIP the runtime-tools suite is not built"
	assert_eq 1 "$(grep -c '^\(not \)\?ok' <<<"$out")" "TAP lines"
}

test_console_socket_connect_is_written_once() {
	# every connect(2) to a unix socket path is unix_connect's (utils.c): --console-socket
	# (terminal.c; restore of a container with a terminal, criu.c, through it) and the seccomp
	# listener (seccomp.c) use it; container.c's one connect is start's, to the exec socket in
	# the state dir
	local counts
	counts=$(cd "$TOP/helper" && grep -cE '(^|[^_[:alnum:]])connect\(' ./*.c cli/*.c | grep -v ':0$' | xargs)
	assert_eq "./container.c:1 ./utils.c:1" "$counts" "files calling connect("
	grep -qE '^\s*return unix_connect\(path, "--console-socket", err\);' "$TOP/helper/terminal.c" ||
		fail "hutch_console_connect (terminal.c) does not use unix_connect"
	counts=$(cd "$TOP/helper" && grep -lE '(^|[^_[:alnum:]])(hutch_console_connect|unix_connect)\(' ./*.c cli/*.c | xargs)
	assert_eq "./container.c ./criu.c ./exec.c ./seccomp.c ./terminal.c ./utils.c" "$counts" "callers of the connect helpers"
}

# make bench's target table (bench/targets.sh, issue 16): every figure of the issue gets a
# row, met / missed by / no result / not measured from the results files, each VM figure
# per kernel of tests/vm/kernels (fed synthetic results: the figures themselves are make
# bench's, never a timed test's)
test_bench_targets_table_has_every_figure() {
	mkdir -p b/bench/results b/tests/vm
	cp "$TOP/bench/targets.sh" b/bench/
	printf '6.12 linux-image-amd64\ndebug @debug\n' > b/tests/vm/kernels
	echo '{"hutch":{"run":{"median":0.03},"cycle":{"median":0.06},"exec":{"median":0.02},"peak_rss_kib":3000},
	       "crun":{"run":{"median":0.05},"cycle":{"median":0.06},"exec":{"median":0.02},"peak_rss_kib":3000}}' \
		> b/bench/results/latest.json
	echo '{"targets":{"run":0.9,"ps":0.83,"stats_all":0.19}}' > b/bench/results/kmod-6.12-1.json
	echo '{"targets":{"run_icount":0.88,"fork_exit":-0.2}}' > b/bench/results/kmod-6.12-2.json
	local out
	out=$(b/bench/targets.sh)
	assert_eq 9 "$(grep -c '| ≤ ' <<<"$out")" "rows (4 host figures, 5 of the one non-debug kernel): $out"
	assert_contains "$out" '| `run /bin/true`, hutch / crun, no module | ≤ 0.8 | 0.6 | met |'
	assert_contains "$out" '| create → start → wait → delete, hutch / crun | ≤ 0.8 | 1 | missed by 0.20 |'
	assert_contains "$out" '| `run` with hutch.ko / without (6.12, instruction clock) | ≤ 0.75 | 0.88 | missed by 0.13 |'
	assert_contains "$out" '| `ps` of 10 containers × 100 processes, module / fallback (6.12) | ≤ 0.2 | 0.83 | missed by 0.63 |'
	assert_contains "$out" '| `stats --all` of 100 containers, module / fallback (6.12) | ≤ 0.2 | 0.19 | met |'
	assert_contains "$out" 'at 100 containers, module / fallback (6.12) | ≤ 0.2 | – | not measured'
	assert_contains "$out" '| fork+exit overhead, hutch.ko / bpftrace (6.12) | ≤ 1.0 | -0.2 | no result'
	assert_not_contains "$out" debug
}

# make bench's profile (bench/profile.sh, issue 16): one traced `run` and `delete --force`
# of hutch and of crun, cut into the phases of the README's table, every phase found in
# both runtimes' traces (a structure check: the figures are make bench's)
test_bench_profile_finds_every_phase_in_both_runtimes() {
	command -v crun >/dev/null && command -v strace >/dev/null || skip "crun or strace missing (make deps)"
	local out row
	out=$(HUTCH=$HUTCH "$TOP/bench/profile.sh" 1 2>err) || fail "profile.sh failed: $(cat err)"
	for row in 'start: exec, dynamic loader' 'parse config.json' 'cgroups: mkdir, limits, attach' \
		'namespaces: clone/unshare' 'mounts: rootfs' 'pivot_root, detach' 'setup total' \
		'/bin/true: exec to exit' 'start to the first SIGKILL' 'cgroup removal' 'total'; do
		grep -qE "^\| $row[^|]* \| [0-9]+\.[0-9]+ \| [0-9]+\.[0-9]+ \| [-+][0-9.]+ \|$" <<<"$out" ||
			fail "no figures of both runtimes for \"$row\": $out"
	done
	! ls -d /tmp/hutch-profile.* 2>/dev/null || fail "profile.sh left its temp dir"
}

run_tests
