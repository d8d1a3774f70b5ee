#!/bin/bash
# hutch against crun and runc, side by side, with hyperfine, on one busybox bundle
# and one config.json (hutch's default spec, process /bin/true, ociVersion 1.0.2
# because Debian 12's crun 1.8 rejects 1.2.0):
#   run          `R run` of /bin/true
#   cycle        create -> start -> wait (poll state) -> delete   (bench/cycle.sh)
#   exec         `R exec` of /bin/true into a running container
#   ps, state    on that running container
#   peak RSS     GNU time's maximum resident set size of `R run` (the largest
#                process of the runtime's tree that it waited for), median of RUNS
# plus the floor: `unshare` with the same namespaces, fork and exec of /bin/true.
# crun refuses hybrid cgroup hosts; on one, crun runs inside a private mount
# namespace with /sys/fs/cgroup/unified unmounted (said in the output).
# Prints a markdown table of medians with hutch/crun and hutch/runc ratios; raw
# hyperfine results go to bench/results/*.json.
#   bench/run.sh [RUNS]     (default 20; run as root)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hutch=${HUTCH:-$top/helper/hutch}
runs=${1:-20}
for c in hyperfine jq crun runc unshare /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "bench: $c missing (make deps)" >&2; exit 1; }
done
[ -x "$hutch" ] || make -C "$top" all >/dev/null
[ -x "$top/build/rootfs/bin/busybox" ] || make -C "$top" rootfs >/dev/null
res=$top/bench/results
mkdir -p "$res"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tmp=$(mktemp -d /tmp/hutch-bench.XXXXXX)
chmod 755 "$tmp"
cycle=$top/bench/cycle.sh

declare -A RT=([hutch]=$hutch [crun]=$(command -v crun) [runc]=$(command -v runc))
NAMES=(hutch crun runc)

long_id=bench-long
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
trap bench_cleanup EXIT
bench_bundles
nsflags=$(jq -r '[.linux.namespaces[].type | {pid:"-p -f",network:"-n",ipc:"-i",uts:"-u",mount:"-m",cgroup:"-C",user:"-U"}[.]] | join(" ")' \
	"$tmp/bundle/config.json")

echo "# hutch $("$hutch" --version | head -1 | awk '{print $3}'), $(crun --version | head -1), $(runc --version | head -1); kernel $(uname -r); $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg); $runs runs each in ${BENCH_ROUNDS:-4} interleaved rounds"
$hybrid && echo "# hybrid cgroup host: crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted (crun refuses hybrid hosts); hutch and runc run on the host as is"
echo "# namespaces: $(jq -r '[.linux.namespaces[].type] | join(",")' "$tmp/bundle/config.json"); floor: unshare $nsflags /bin/true"

hf() { # NAME OUT.json RUNS COMMAND: one hyperfine measurement
	local n=$1 out=$2 k=$3
	shift 3
	in_ns "$n" hyperfine -N --style none --warmup 2 --runs "$k" --export-json "$out" "$@" >/dev/null 2>&1 ||
		in_ns "$n" hyperfine --style none --warmup 2 --runs "$k" --export-json "$out" "$@" >/dev/null
}

# The host is shared: to keep load changes from favouring one runtime, the runs are
# split into ROUNDS rounds and the runtimes take turns within each round.
rounds=${BENCH_ROUNDS:-4}
per=$(((runs + rounds - 1) / rounds))
for n in "${NAMES[@]}"; do
	mkdir -p "$tmp/$n"
	# shellcheck disable=SC2016
	in_ns "$n" sh -c '"$1" --root "$2" run --detach --bundle "$3" bench-long </dev/null >/dev/null 2>&1' \
		sh "${RT[$n]}" "$tmp/$n" "$tmp/long"
done
for ((round = 1; round <= rounds; round++)); do
	echo "# round $round/$rounds ..." >&2
	for n in "${NAMES[@]}"; do
		r=${RT[$n]}
		s=$tmp/$n
		hf "$n" "$tmp/$n-run-$round.json" "$per" "$r --root $s run --bundle $tmp/bundle b-run"
		hf "$n" "$tmp/$n-cycle-$round.json" "$per" "$cycle $r $s $tmp/bundle b-cycle"
		hf "$n" "$tmp/$n-exec-$round.json" "$per" "$r --root $s exec bench-long /bin/true"
		hf "$n" "$tmp/$n-ps-$round.json" "$per" "$r --root $s ps bench-long"
		hf "$n" "$tmp/$n-state-$round.json" "$per" "$r --root $s state bench-long"
	done
	# shellcheck disable=SC2086
	hf floor "$tmp/floor-run-$round.json" "$per" "unshare $nsflags /bin/true"
done
for n in "${NAMES[@]}"; do
	r=${RT[$n]}
	s=$tmp/$n
	in_ns "$n" "$r" --root "$s" delete --force bench-long >/dev/null 2>&1 || true
	# peak RSS: GNU time's maxrss (KiB) of `R run`, median of the runs
	for ((i = 0; i < runs; i++)); do
		in_ns "$n" /usr/bin/time -f %M -o "$tmp/rss.one" "$r" --root "$s" run --bundle "$tmp/bundle" b-rss >/dev/null 2>&1
		cat "$tmp/rss.one"
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' > "$tmp/$n-rss"
done
for ((i = 0; i < runs; i++)); do
	# shellcheck disable=SC2086
	/usr/bin/time -f %M -o "$tmp/rss.one" unshare $nsflags /bin/true && cat "$tmp/rss.one"
done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' > "$tmp/floor-rss"

# one JSON with everything: per runtime and benchmark, the times of all rounds with
# their median, and hyperfine's raw result of each round
combine() { # NAME BENCH
	jq -s '{times: ([.[].results[0].times[]] | sort)} |
		.median = (.times | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end) |
		.mean = (.times | add / length)' "$tmp/$1-$2-"*.json |
		jq --slurpfile raw <(jq -s '[.[].results[0]]' "$tmp/$1-$2-"*.json) '. + {hyperfine_rounds: $raw[0]}'
}
{
	for n in "${NAMES[@]}"; do
		for b in run cycle exec ps state; do
			jq -n --arg n "$n" --arg b "$b" --argjson v "$(combine "$n" "$b")" '{($n): {($b): $v}}'
		done
		jq -n --arg n "$n" --argjson v "$(cat "$tmp/$n-rss")" '{($n): {peak_rss_kib: $v}}'
	done
	jq -n --argjson v "$(combine floor run)" --argjson r "$(cat "$tmp/floor-rss")" '{floor: {run: $v, peak_rss_kib: $r}}'
} | jq -s --arg stamp "$stamp" --arg hybrid "$hybrid" --arg ns "$nsflags" --argjson rounds "$rounds" \
	'reduce .[] as $x ({}; . * $x) |
	 {date: $stamp, hybrid_cgroups: ($hybrid == "true"), rounds: $rounds,
	  floor_command: ("unshare " + $ns + " /bin/true")} + .' > "$res/bench-$stamp.json"
ln -sf "bench-$stamp.json" "$res/latest.json"

# the table
jq -r '
	def ms: . * 1000 * 100 | round / 100;
	def r(a; b): (a / b * 100 | round / 100);
	. as $d |
	"| benchmark | hutch | crun | runc | hutch/crun | hutch/runc |",
	"|---|---:|---:|---:|---:|---:|",
	(["run", "cycle", "exec", "ps", "state"][] as $b |
	  [$d.hutch[$b].median, $d.crun[$b].median, $d.runc[$b].median] as [$h, $c, $r] |
	  "| \({run: "run /bin/true", cycle: "create→start→wait→delete", exec: "exec /bin/true", ps: "ps", state: "state"}[$b]) (ms) | \($h | ms) | \($c | ms) | \($r | ms) | \(r($h; $c)) | \(r($h; $r)) |"),
	"| peak RSS of run (KiB) | \($d.hutch.peak_rss_kib) | \($d.crun.peak_rss_kib) | \($d.runc.peak_rss_kib) | \(r($d.hutch.peak_rss_kib; $d.crun.peak_rss_kib)) | \(r($d.hutch.peak_rss_kib; $d.runc.peak_rss_kib)) |",
	"",
	"Floor (`\($d.floor_command)`): \($d.floor.run.median | ms) ms, peak RSS \($d.floor.peak_rss_kib) KiB."
' "$res/bench-$stamp.json"
echo
echo "# raw results: bench/results/bench-$stamp.json"
