#!/bin/bash
# Runs inside the VM (tests/vm/init, hutch.mode=bench; started by bench/kmod.sh): what
# hutch.ko changes, measured side by side on one kernel, printed as "# bench: ..." lines
# and one JSON line "# bench-json: {...}".
#  - `hutch run` of /bin/true with the module (--module on: hutch.ko's write guard of the
#    runtime binary replaces the CVE-2019-5736 re-execution) and without (--module off);
#    median of RUNS rounds of RUN_N runs each side, interleaved (with three more variants
#    that split the difference, below).
#  - `hutch ps` (the table: every column) of each of PS_CTS containers of PS_PROCS
#    processes, with the module (--module on: one CT_PIDS dump per container with every
#    column) and without (--module off: cgroup.procs and /proc/PID/{status,cmdline});
#    the time of all PS_CTS calls, median of RUNS rounds, interleaved.
#  - `hutch stats --all` over ST_CTS containers, module (one CT_GET dump) vs fallback
#    (the cgroup files of each); median of RUNS calls each, interleaved.
#  - CPU per sample of `hutch stats --all --watch WATCH_MS` at ST_CTS containers: the
#    process's CPU time (/proc/PID/schedstat) over WATCH_S seconds / samples printed.
#  - nl: where one request to hutch.ko spends its time (tests/kmod/kmod-test bench: a
#    syscall, a socket, the family lookup, GET_INFO, CT_GET, CT_REGISTER + CT_UNREGISTER,
#    medians of 200 in a tight loop; "# bench: nl:" lines, not in the JSON).
# hutch.bench=PART,... on the kernel command line (HUTCH_VM_APPEND) runs only those parts
# (run, ps, stats, nl; psprof: an strace profile of one `ps`, whose times are strace's
# more than hutch's in a TCG guest, but whose counts say what is read); default run, ps,
# stats. A part not run is null in the JSON. With hutch.clock=icount (bench/kmod.sh's
# `runicount` guest: one vCPU, qemu -icount shift=0) the guest's clock counts emulated
# instructions, 1 ns each, and the JSON says so in "clock".
# With hutch.bench=fork instead (bench/kmod.sh's second guest), the fork+exit overhead of
# the module's probes against bpftrace (bench/kmod-fork-guest.sh) and nothing else.
set -euo pipefail
TOP=/hutch
[[ " $(cat /proc/cmdline) " != *" hutch.bench=fork "* ]] || exec bash "$TOP/bench/kmod-fork-guest.sh"
hutch=$TOP/helper/hutch
ko=$TOP/hutch.ko
RUNS=${RUNS:-5}
RUN_N=${RUN_N:-10}
PS_CTS=${PS_CTS:-10} PS_PROCS=${PS_PROCS:-100} ST_CTS=${ST_CTS:-100}
WATCH_MS=${WATCH_MS:-200} WATCH_S=${WATCH_S:-10}
tmp=$(mktemp -d)
# progress on the results line (bench/kmod.sh shows only "# bench:" lines)
progress() { echo "# bench-progress: $(cut -d' ' -f1 /proc/uptime) s: $*"; }
root=$tmp/state
H() { "$hutch" --root "$root" "$@"; }
us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# bundle DIR ARGS-JSON: a busybox bundle running ARGS
bundle() {
	mkdir -p "$1"
	[ -d "$1/rootfs" ] || cp -a "$TOP/build/rootfs" "$1/rootfs"
	(cd "$1" && "$hutch" spec)
	jq --argjson a "$2" '.process.terminal = false | .linux.resources.pids.limit = 4096 |
		.process.args = $a' "$1/config.json" > "$tmp/c" && mv "$tmp/c" "$1/config.json"
}

parts=run,ps,stats
clock="TCG wall clock"
[[ " $(cat /proc/cmdline) " != *" hutch.clock=icount "* ]] ||
	clock="qemu -icount shift=0, one vCPU: 1 ns = 1 emulated instruction"
read -ra cmdline < /proc/cmdline
for arg in "${cmdline[@]}"; do
	case $arg in hutch.bench=*) parts=${arg#hutch.bench=} ;; esac
done
part() { [[ ",$parts," == *",$1,"* ]]; }
# delete_all PREFIX N: containers PREFIX0 .. PREFIX(N-1); medians KEY...: med[KEY], the
# median of the times in t[KEY]
delete_all() { local c; for ((c = 0; c < $2; c++)); do H delete -f "$1$c"; done; }
medians() { local k; for k in "$@"; do med[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median); done; }
# sprof LABEL CMD...: CMD under strace -f -T; its wall time and the 12 syscalls it spent
# the most time in (count, ms), as "# LABEL: " lines (results.log only)
sprof() {
	local label=$1 s
	shift
	command -v strace > /dev/null || return 0
	s=$(us)
	strace -f -T -o "$tmp/sprof.trace" "$@" > /dev/null
	echo "# $label: $((($(us) - s) / 1000)) ms under strace; by syscall: count, ms"
	sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*<\([0-9.]*\)>$/\1 \2/p' "$tmp/sprof.trace" |
		awk '{ n[$1]++; t[$1] += $2 } END { for (k in t) printf "%s %d %.1f\n", k, n[k], t[k] * 1000 }' |
		sort -k3 -rn | head -12 | sed "s/^/# $label: /"
}

[ -f "$ko" ] || { echo "not ok - bench: no hutch.ko in the image"; exit 0; }
insmod "$ko"
declare -A t med cpu
echo "# bench: clock: $clock"
if part nl; then
	"$TOP/tests/kmod/kmod-test" bench 200 | sed 's/^/# bench: nl: /'
fi

# --- run of /bin/true, module vs none ----------------------------------------------------
# on: hutch.ko's guard, no re-execution; off: the re-execution (read-only clone); and, to
# split the difference, on-reexec: the module and the re-execution (HUTCH_SEALED_EXE=clone),
# off-bare: neither (HUTCH_NO_SEALED_EXE=1, no protection); start: `hutch state`, the
# fixed cost of any command (process start, loader, state), start-on: the same with the
# module (its netlink family lookup and CT_GET); version: `hutch --version`
# (process start and loader only); true: /bin/true (a process start)
if part run; then
	bundle "$tmp/run" '["/bin/true"]'
	H --module on run -d -b "$tmp/run" run-state
	for ((r = 0; r < RUNS; r++)); do
		for v in on off on-reexec off-bare start start-on version true; do
			for ((i = 0; i < RUN_N; i++)); do
				s=$(us)
				case $v in
				on) H --module on run -b "$tmp/run" "run-$v" ;;
				off) H --module off run -b "$tmp/run" "run-$v" ;;
				on-reexec) HUTCH_SEALED_EXE=clone H --module on run -b "$tmp/run" "run-$v" ;;
				off-bare) HUTCH_NO_SEALED_EXE=1 H --module off run -b "$tmp/run" "run-$v" ;;
				start) H --module off state run-state > /dev/null ;;
				start-on) H --module on state run-state > /dev/null ;;
				version) "$hutch" --version > /dev/null ;;
				true) /bin/true ;;
				esac
				t[run-$v]+="$(($(us) - s)) "
			done
		done
		progress "run: round $r"
	done
	H delete -f run-state
	for v in on off on-reexec off-bare start start-on version true; do
		medians "run-$v"
		awk -v v="$v" -v a="${med[run-$v]}" -v n=$((RUNS * RUN_N)) \
			'BEGIN { printf "# bench: run /bin/true, %s (median of %d): %.1f ms\n", v, n, a / 1000 }'
	done
fi

n_st=0
if part ps; then
	# --- ps of PS_CTS containers x PS_PROCS processes ---------------------------------------
	bundle "$tmp/ps" "$(jq -cn --argjson n "$PS_PROCS" \
		'["sh", "-c", "i=1; while [ $i -lt \($n) ]; do sleep 100000 & i=$((i + 1)); done; exec sleep 100000"]')"
	for ((c = 0; c < PS_CTS; c++)); do
		H --module on run -d -b "$tmp/ps" "ps$c"
	done
	for ((c = 0; c < PS_CTS; c++)); do
		for ((i = 0; i < 600; i++)); do
			[ "$(H --module on ps --format json "ps$c" | jq length)" -ge "$PS_PROCS" ] && break
			sleep 0.2
		done
	done
	echo "# bench: $PS_CTS containers of $(H ps --format json ps0 | jq length) processes"
	progress "ps: containers started"
	for ((r = 0; r < RUNS; r++)); do
		for m in on off; do
			s=$(us)
			for ((c = 0; c < PS_CTS; c++)); do
				H --module $m ps "ps$c" > /dev/null
			done
			t[ps-$m]+="$(($(us) - s)) "
		done
		progress "ps: round $r: ${t[ps-on]} / ${t[ps-off]}"
	done
	# the two tables agree (sorted: the order of processes may differ)
	for ((c = 0; c < PS_CTS; c++)); do
		cmp -s <(H --module on ps "ps$c" | sort) <(H --module off ps "ps$c" | sort) ||
			echo "# bench: warning: ps tables of ps$c differ between module and fallback"
	done
	# hutch.bench=...,psprof: where one `ps` spends its time, syscalls by the time spent in
	# them (strace -T), with the module and without (results.log only)
	if part psprof; then
		for m in on off; do
			sprof "ps-profile --module $m" "$hutch" --root "$root" --module $m ps ps0
		done
	fi
	delete_all ps "$PS_CTS"
	medians ps-on ps-off
fi

if part stats; then
	# --- stats --all of ST_CTS containers ----------------------------------------------------
	bundle "$tmp/st" '["sleep", "100000"]'
	for ((c = 0; c < ST_CTS; c++)); do
		H --module on run -d -b "$tmp/st" "st$c"
	done
	n_st=$(H --module on stats --all --format json | jq length)
	progress "stats: $n_st containers started"
	for ((r = 0; r < RUNS; r++)); do
		for m in on off; do
			s=$(us)
			H --module $m stats --all > /dev/null
			t[stats-$m]+="$(($(us) - s)) "
		done
		progress "stats: round $r: ${t[stats-on]} / ${t[stats-off]}"
	done
	# CPU per sample of --watch: ns on CPU (schedstat) / samples printed
	for m in on off; do
		# hutch itself in the background (not a function's subshell: $! is hutch's pid; and a
		# background job of a script ignores SIGINT, so SIGTERM ends it)
		"$hutch" --root "$root" --module $m stats --all --watch "${WATCH_MS}ms" > "$tmp/watch-$m" &
		wp=$!
		sleep "$WATCH_S"
		ns=$(cut -d' ' -f1 "/proc/$wp/schedstat")
		kill -TERM "$wp"
		wait "$wp" || true
		samples=$(grep -c '^ID ' "$tmp/watch-$m" || true)
		# the last sample may be cut short by the signal
		((samples > 1)) || samples=2
		cpu[$m]=$((ns / (samples - 1) / 1000))
		echo "# bench: stats --all --watch --module $m: $samples samples, $((ns / 1000000)) ms CPU"
	done
	delete_all st "$ST_CTS"
	medians stats-on stats-off
fi

# a ratio of two figures ("" when a part did not run)
ratio() {
	if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b }'
	fi
}
printf '# bench: %-44s %10s %10s %8s\n' "$(uname -r)" "module" "fallback" "ratio"
row() { # LABEL A-US B-US
	[ -n "${2:-}" ] || return 0
	awk -v c="$1" -v a="$2" -v b="$3" 'BEGIN { printf "# bench: %-44s %7.1f ms %7.1f ms %8.2f\n", c, a / 1000, b / 1000, a / b }'
}
row "run /bin/true (module: no re-execution)" "${med[run-on]:-}" "${med[run-off]:-}"
row "ps of $PS_CTS x $PS_PROCS-process containers" "${med[ps-on]:-}" "${med[ps-off]:-}"
row "stats --all of $n_st containers" "${med[stats-on]:-}" "${med[stats-off]:-}"
row "CPU per sample, stats --all --watch ($n_st)" "${cpu[on]:-}" "${cpu[off]:-}"
# null for what did not run
j() { [ -n "${1:-}" ] && echo "$1" || echo null; }
jq -cn --arg k "$(uname -r)" --argjson runs "$RUNS" --arg parts "$parts" --arg clock "$clock" \
	--argjson runon "$(j "${med[run-on]:-}")" --argjson runoff "$(j "${med[run-off]:-}")" --argjson runn "$RUN_N" \
	--argjson runonre "$(j "${med[run-on-reexec]:-}")" --argjson runbare "$(j "${med[run-off-bare]:-}")" \
	--argjson start "$(j "${med[run-start]:-}")" --argjson version "$(j "${med[run-version]:-}")" \
	--argjson true "$(j "${med[run-true]:-}")" --argjson starton "$(j "${med[run-start-on]:-}")" \
	--argjson pscts "$PS_CTS" --argjson psprocs "$PS_PROCS" --argjson stcts "$n_st" \
	--argjson pson "$(j "${med[ps-on]:-}")" --argjson psoff "$(j "${med[ps-off]:-}")" \
	--argjson ston "$(j "${med[stats-on]:-}")" --argjson stoff "$(j "${med[stats-off]:-}")" \
	--argjson cpuon "$(j "${cpu[on]:-}")" --argjson cpuoff "$(j "${cpu[off]:-}")" \
	--argjson rrun "$(j "$(ratio "${med[run-on]:-}" "${med[run-off]:-}")")" \
	--argjson rps "$(j "$(ratio "${med[ps-on]:-}" "${med[ps-off]:-}")")" \
	--argjson rst "$(j "$(ratio "${med[stats-on]:-}" "${med[stats-off]:-}")")" \
	--argjson rcpu "$(j "$(ratio "${cpu[on]:-}" "${cpu[off]:-}")")" \
	'{kernel: $k, runs: $runs, parts: $parts, clock: $clock,
	  run_us: {runs: ($runs * $runn), module: $runon, none: $runoff, module_reexec: $runonre,
	          none_unprotected: $runbare, state_command: $start, state_command_module: $starton,
	          version_command: $version,
	          bin_true: $true},
	  ps_us: {containers: $pscts, processes: $psprocs, module: $pson, fallback: $psoff},
	  stats_all_us: {containers: $stcts, module: $ston, fallback: $stoff},
	  watch_cpu_per_sample_us: {containers: $stcts, module: $cpuon, fallback: $cpuoff},
	  targets: {run: $rrun, ps: $rps, stats_all: $rst, watch_cpu: $rcpu}}' |
	sed 's/^/# bench-json: /'
echo "ok - bench: module benchmarks ran"
