#!/bin/bash
# Runs inside the VM (tests/vm/init, hutch.mode=bench; started by bench/kmod.sh): what
# hutch.ko changes, measured side by side on one kernel, printed as "# bench: ..." lines
# and one JSON line "# bench-json: {...}".
#  - `hutch ps` and `hutch stats` of a container with 500 processes, with the module
#    (--module on: CT_PIDS, the module's counters) and without (--module off: cgroup.procs
#    and /proc, cgroup files); median of RUNS calls each, interleaved.
#  - a fork+exit loop (bench/forkloop) in a container the module tracks vs the same loop
#    with hutch.ko unloaded; ROUNDS alternating rounds of LOOPS forks, the median per
#    fork+exit of each side and the difference: the overhead per fork+exit.
set -euo pipefail
TOP=/hutch
hutch=$TOP/helper/hutch
ko=$TOP/hutch.ko
RUNS=${RUNS:-15} ROUNDS=${ROUNDS:-4} LOOPS=${LOOPS:-3000} PROCS=${PROCS:-500}
tmp=$(mktemp -d)
root=$tmp/state
H() { "$hutch" --root "$root" "$@"; }
ms() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

[ -f "$ko" ] || { echo "not ok - bench: no hutch.ko in the image"; exit 0; }
insmod "$ko"
mkdir -p "$tmp/b"
cp -a "$TOP/build/rootfs" "$tmp/b/rootfs"
cp "$TOP/build/bench/forkloop" "$tmp/b/rootfs/bin/forkloop"
(cd "$tmp/b" && "$hutch" spec)
jq --argjson n "$PROCS" '.process.terminal = false | .linux.resources.pids.limit = 4096 |
	.process.args = ["sh", "-c", "i=1; while [ $i -lt \($n) ]; do sleep 100000 & i=$((i + 1)); done; exec sleep 100000"]' \
	"$tmp/b/config.json" > "$tmp/c" && mv "$tmp/c" "$tmp/b/config.json"

# --- ps and stats at PROCS processes ------------------------------------------------
H --module on run -d -b "$tmp/b" big
for ((i = 0; i < 600; i++)); do
	n=$(H --module on ps --format json big | jq length)
	[ "$n" -ge "$PROCS" ] && break
	sleep 0.2
done
echo "# bench: container with $n processes"
declare -A t
for ((r = 0; r < RUNS; r++)); do
	for m in on off; do
		for c in ps stats; do
			s=$(ms)
			H --module $m $c big > /dev/null
			t[$c-$m]+="$(($(ms) - s)) "
		done
	done
done
declare -A med
for k in ps-on ps-off stats-on stats-off; do
	med[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median)
done
H delete -f big

# --- fork+exit overhead ------------------------------------------------------------
jq '.process.args = ["/bin/forkloop", "'"$LOOPS"'"]' "$tmp/b/config.json" > "$tmp/c" && mv "$tmp/c" "$tmp/b/config.json"
on=() off=()
for ((r = 0; r < ROUNDS; r++)); do
	grep -q '^hutch ' /proc/modules || insmod "$ko"
	on+=("$(H --module on run -b "$tmp/b" fl)")
	rmmod hutch
	off+=("$(H --module off run -b "$tmp/b" fl)")
done
fon=$(printf '%s\n' "${on[@]}" | median)
foff=$(printf '%s\n' "${off[@]}" | median)

printf '# bench: %-38s %10s %10s %8s\n' "" "module" "fallback" "ratio"
for c in ps stats; do
	awk -v c="$c of a $n-process container" -v a="${med[$c-on]}" -v b="${med[$c-off]}" \
		'BEGIN { printf "# bench: %-38s %7.1f ms %7.1f ms %8.2f\n", c, a / 1000, b / 1000, a / b }'
done
awk -v a="$fon" -v b="$foff" -v r="$ROUNDS" -v l="$LOOPS" 'BEGIN {
	printf "# bench: %-38s %7d ns %7d ns %8.2f\n", "fork+exit+wait, tracked vs unloaded", a, b, a / b
	printf "# bench: overhead per fork+exit: %d ns (%.1f %%), median of %d rounds of %d\n", a - b, 100 * (a - b) / b, r, l
}'
jq -cn --arg k "$(uname -r)" --argjson n "$n" --argjson pson "${med[ps-on]}" --argjson psoff "${med[ps-off]}" \
	--argjson ston "${med[stats-on]}" --argjson stoff "${med[stats-off]}" \
	--argjson fon "$fon" --argjson foff "$foff" --argjson runs "$RUNS" --argjson rounds "$ROUNDS" --argjson loops "$LOOPS" \
	'{kernel: $k, processes: $n, runs: $runs,
	  ps_us: {module: $pson, fallback: $psoff}, stats_us: {module: $ston, fallback: $stoff},
	  fork_exit_ns: {tracked: $fon, unloaded: $foff, overhead: ($fon - $foff), rounds: $rounds, loops: $loops}}' |
	sed 's/^/# bench-json: /'
echo "ok - bench: module benchmarks ran"
