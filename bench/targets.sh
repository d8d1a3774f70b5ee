#!/bin/bash
# Every target ratio of `make bench` in one table (the end of `make bench`): the host
# figures from bench/run.sh (bench/results/latest.json: hutch against crun on the same
# cgroup view, medians) and the VM figures from bench/kmod.sh (the newest
# bench/results/kmod-KERNEL-*.json of each kernel that has the figure). A figure not
# measured yet says so.
#
# The VM figures are read from a "targets" object in the kmod JSON, each a ratio (module
# / fallback, or hutch.ko / bpftrace), by these keys:
#   run_icount    `run` with hutch.ko / without, in the guest with an instruction clock
#                 (bench/kmod.sh's runicount part; the figure of the table where it exists)
#   run           the same in the first guest, whose TCG wall clock follows the host's load
#   ps            `ps` of 10 containers x 100 processes, module / fallback
#   stats_all     `stats --all` of 100 containers, module / fallback
#   watch_cpu     CPU per sample of `stats --all --watch` at 100 containers, module / fallback
#   fork_exit     fork+exit overhead in a tracked container, hutch.ko / bpftrace
#   bench/targets.sh [HOST.json]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
res=$top/bench/results
host=${1:-$res/latest.json}

row() { # FIGURE TARGET VALUE|"" NOTE
	local f=$1 t=$2 v=$3 note=$4
	if [ -z "$v" ] || [ "$v" = null ]; then
		echo "| $f | ≤ $t | – | not measured${note:+ ($note)} |"
	elif awk -v v="$v" 'BEGIN { exit !(v <= 0) }'; then
		# a ratio of overheads at or below zero: the noise was larger than what was measured
		echo "| $f | ≤ $t | $v | no result: an overhead at or below zero is noise, run it again |"
	elif awk -v v="$v" -v t="$t" 'BEGIN { exit !(v <= t) }'; then
		echo "| $f | ≤ $t | $v | met |"
	else
		echo "| $f | ≤ $t | $v | missed by $(awk -v v="$v" -v t="$t" 'BEGIN { printf "%.2f", v - t }') |"
	fi
}
ratio() { # JQ-EXPR-A JQ-EXPR-B: A/B of the host JSON, 2 decimals
	[ -f "$host" ] || return 0
	jq -r "if ($1) and ($2) then ($1) / ($2) * 100 | round / 100 else empty end" "$host"
}

echo "| figure | target | measured | result |"
echo "|---|---:|---:|---|"
row "\`run /bin/true\`, hutch / crun, no module" 0.8 "$(ratio .hutch.run.median .crun.run.median)" "bench/run.sh"
row "create → start → wait → delete, hutch / crun" 0.8 "$(ratio .hutch.cycle.median .crun.cycle.median)" "bench/run.sh"
row "\`exec /bin/true\`, hutch / crun" 0.8 "$(ratio .hutch.exec.median .crun.exec.median)" "bench/run.sh"
row "peak RSS of \`run\`, hutch / crun" 1.0 "$(ratio .hutch.peak_rss_kib .crun.peak_rss_kib)" "bench/run.sh"

kernels=()
# (not the debug kernel: bench/kmod.sh does not measure its sanitizers)
[ -f "$top/tests/vm/kernels" ] && mapfile -t kernels < <(awk '!/^#/ && NF && $2 != "@debug" { print $1 }' "$top/tests/vm/kernels")
((${#kernels[@]})) || kernels=(VM)
for k in "${kernels[@]}"; do
	# the newest file that has the figure (KMOD_BENCH_PARTS runs measure some only)
	# shellcheck disable=SC2012
	mapfile -t fs < <(ls -1 "$res"/kmod-"$k"-*.json 2>/dev/null | sort -r || true)
	v() {
		local f x
		for f in "${fs[@]}"; do
			x=$(jq -r ".targets.$1 // empty | . * 100 | round / 100" "$f" 2>/dev/null || true)
			[ -z "$x" ] || { echo "$x"; return; }
		done
	}
	note="bench/kmod.sh, .targets.KEY of kmod-$k-*.json"
	if [ -n "$(v run_icount)" ]; then
		row "\`run\` with hutch.ko / without ($k, instruction clock)" 0.75 "$(v run_icount)" "${note/KEY/run_icount}"
	else
		row "\`run\` with hutch.ko / without ($k)" 0.75 "$(v run)" "${note/KEY/run}"
	fi
	row "\`ps\` of 10 containers × 100 processes, module / fallback ($k)" 0.2 "$(v ps)" "${note/KEY/ps}"
	row "\`stats --all\` of 100 containers, module / fallback ($k)" 0.2 "$(v stats_all)" "${note/KEY/stats_all}"
	row "CPU per sample of \`stats --all --watch\` at 100 containers, module / fallback ($k)" 0.2 "$(v watch_cpu)" "${note/KEY/watch_cpu}"
	row "fork+exit overhead, hutch.ko / bpftrace ($k)" 1.0 "$(v fork_exit)" "${note/KEY/fork_exit}"
done
