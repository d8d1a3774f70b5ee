#!/bin/bash
# Runs inside the VM (tests/vm/init, hutch.mode=bench; started by bench/kmod.sh): what
# hutch.ko changes, measured side by side on one kernel, printed as "# bench: ..." lines
# and one JSON line "# bench-json: {...}".
#  - `hutch ps` (the table: every column) of each of PS_CTS containers of PS_PROCS
#    processes, with the module (--module on: one CT_PIDS dump per container with every
#    column) and without (--module off: cgroup.procs and /proc/PID/{status,cmdline});
#    the time of all PS_CTS calls, median of RUNS rounds, interleaved.
#  - `hutch stats --all` over ST_CTS containers, module (one CT_GET dump) vs fallback
#    (the cgroup files of each); median of RUNS calls each, interleaved.
#  - CPU per sample of `hutch stats --all --watch WATCH_MS` at ST_CTS containers: the
#    process's CPU time (/proc/PID/schedstat) over WATCH_S seconds / samples printed.
# With hutch.bench=fork on the kernel command line (bench/kmod.sh's second guest), the
# fork+exit overhead of the module's probes against bpftrace instead (bench/kmod-fork-guest.sh).
set -euo pipefail
TOP=/hutch
[[ " $(cat /proc/cmdline) " != *" hutch.bench=fork "* ]] || exec bash "$TOP/bench/kmod-fork-guest.sh"
hutch=$TOP/helper/hutch
ko=$TOP/hutch.ko
RUNS=${RUNS:-5}
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
	cp "$TOP/build/bench/forkloop" "$1/rootfs/bin/forkloop"
	(cd "$1" && "$hutch" spec)
	jq --argjson a "$2" '.process.terminal = false | .linux.resources.pids.limit = 4096 |
		.process.args = $a' "$1/config.json" > "$tmp/c" && mv "$tmp/c" "$1/config.json"
}

[ -f "$ko" ] || { echo "not ok - bench: no hutch.ko in the image"; exit 0; }
insmod "$ko"

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
declare -A t
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
for ((c = 0; c < PS_CTS; c++)); do
	H delete -f "ps$c"
done

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
declare -A cpu
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
for ((c = 0; c < ST_CTS; c++)); do
	H delete -f "st$c"
done

declare -A med
for k in ps-on ps-off stats-on stats-off; do
	med[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median)
done

printf '# bench: %-44s %10s %10s %8s\n' "$(uname -r)" "module" "fallback" "ratio"
awk -v c="ps of $PS_CTS x $PS_PROCS-process containers" -v a="${med[ps-on]}" -v b="${med[ps-off]}" \
	'BEGIN { printf "# bench: %-44s %7.1f ms %7.1f ms %8.2f\n", c, a / 1000, b / 1000, a / b }'
awk -v c="stats --all of $n_st containers" -v a="${med[stats-on]}" -v b="${med[stats-off]}" \
	'BEGIN { printf "# bench: %-44s %7.1f ms %7.1f ms %8.2f\n", c, a / 1000, b / 1000, a / b }'
awk -v c="CPU per sample, stats --all --watch ($n_st)" -v a="${cpu[on]}" -v b="${cpu[off]}" \
	'BEGIN { printf "# bench: %-44s %7.1f ms %7.1f ms %8.2f\n", c, a / 1000, b / 1000, a / b }'
jq -cn --arg k "$(uname -r)" --argjson runs "$RUNS" \
	--argjson pscts "$PS_CTS" --argjson psprocs "$PS_PROCS" --argjson stcts "$n_st" \
	--argjson pson "${med[ps-on]}" --argjson psoff "${med[ps-off]}" \
	--argjson ston "${med[stats-on]}" --argjson stoff "${med[stats-off]}" \
	--argjson cpuon "${cpu[on]}" --argjson cpuoff "${cpu[off]}" \
	'{kernel: $k, runs: $runs,
	  ps_us: {containers: $pscts, processes: $psprocs, module: $pson, fallback: $psoff},
	  stats_all_us: {containers: $stcts, module: $ston, fallback: $stoff},
	  watch_cpu_per_sample_us: {containers: $stcts, module: $cpuon, fallback: $cpuoff}}' |
	sed 's/^/# bench-json: /'
echo "ok - bench: module benchmarks ran"
