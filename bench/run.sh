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

cleanup() {
	for n in "${NAMES[@]}"; do
		in_ns "$n" "${RT[$n]}" --root "$tmp/$n" delete --force bench-long >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# crun on a hybrid host: a private mount namespace without the cgroup2 mount.
hybrid=false
grep -q ' /sys/fs/cgroup/unified .* cgroup2 ' /proc/self/mountinfo && hybrid=true
in_ns() { # NAME CMD...: run CMD the way runtime NAME is benchmarked
	local n=$1
	shift
	if [ "$n" = crun ] && $hybrid; then
		unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh "$@"
	else
		"$@"
	fi
}

mkdir -p "$tmp/bundle"
cp -a "$top/build/rootfs" "$tmp/bundle/rootfs"
(cd "$tmp/bundle" && "$hutch" spec)
jq '.ociVersion = "1.0.2" | .process.args = ["/bin/true"] | .process.terminal = false' \
	"$tmp/bundle/config.json" > "$tmp/c" && mv "$tmp/c" "$tmp/bundle/config.json"
mkdir -p "$tmp/long"   # same rootfs (runc wants an absolute path, not a symlink)
jq --arg r "$tmp/bundle/rootfs" '.process.args = ["/bin/sleep", "100000"] | .root.path = $r' \
	"$tmp/bundle/config.json" > "$tmp/long/config.json"
nsflags=$(jq -r '[.linux.namespaces[].type | {pid:"-p -f",network:"-n",ipc:"-i",uts:"-u",mount:"-m",cgroup:"-C",user:"-U"}[.]] | join(" ")' \
	"$tmp/bundle/config.json")

echo "# hutch $("$hutch" --version | head -1 | awk '{print $3}'), $(crun --version | head -1), $(runc --version | head -1); kernel $(uname -r); $(nproc) cpus; $runs runs each"
$hybrid && echo "# hybrid cgroup host: crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted (crun refuses hybrid hosts); hutch and runc run on the host as is"
echo "# namespaces: $(jq -r '[.linux.namespaces[].type] | join(",")' "$tmp/bundle/config.json"); floor: unshare $nsflags /bin/true"

hf() { # NAME OUT.json COMMAND: one hyperfine measurement
	local n=$1 out=$2
	shift 2
	in_ns "$n" hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$out" "$@" >/dev/null 2>&1 ||
		in_ns "$n" hyperfine --style none --warmup 3 --runs "$runs" --export-json "$out" "$@" >/dev/null
}

for n in "${NAMES[@]}"; do
	r=${RT[$n]}
	s=$tmp/$n
	mkdir -p "$s"
	echo "# $n ..." >&2
	hf "$n" "$tmp/$n-run.json" "$r --root $s run --bundle $tmp/bundle b-run"
	hf "$n" "$tmp/$n-cycle.json" "$cycle $r $s $tmp/bundle b-cycle"
	in_ns "$n" sh -c '"$1" --root "$2" run --detach --bundle "$3" bench-long </dev/null >/dev/null 2>&1' sh "$r" "$s" "$tmp/long"
	hf "$n" "$tmp/$n-exec.json" "$r --root $s exec bench-long /bin/true"
	hf "$n" "$tmp/$n-ps.json" "$r --root $s ps bench-long"
	hf "$n" "$tmp/$n-state.json" "$r --root $s state bench-long"
	in_ns "$n" "$r" --root "$s" delete --force bench-long >/dev/null 2>&1 || true
	# peak RSS: GNU time's maxrss (KiB) of `R run`, median of the runs
	for ((i = 0; i < runs; i++)); do
		in_ns "$n" /usr/bin/time -f %M -o "$tmp/rss.one" "$r" --root "$s" run --bundle "$tmp/bundle" b-rss >/dev/null 2>&1
		cat "$tmp/rss.one"
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' > "$tmp/$n-rss"
done
echo "# floor ..." >&2
# shellcheck disable=SC2086
hf floor "$tmp/floor.json" "unshare $nsflags /bin/true"
for ((i = 0; i < runs; i++)); do
	# shellcheck disable=SC2086
	/usr/bin/time -f %M -o "$tmp/rss.one" unshare $nsflags /bin/true && cat "$tmp/rss.one"
done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' > "$tmp/floor-rss"

# one JSON with everything: hyperfine's raw results per runtime and benchmark
jq -n --arg stamp "$stamp" --arg hybrid "$hybrid" --arg ns "$nsflags" \
	--slurpfile hr "$tmp/hutch-run.json" --slurpfile hc "$tmp/hutch-cycle.json" \
	--slurpfile he "$tmp/hutch-exec.json" --slurpfile hp "$tmp/hutch-ps.json" --slurpfile hs "$tmp/hutch-state.json" \
	--slurpfile cr "$tmp/crun-run.json" --slurpfile cc "$tmp/crun-cycle.json" \
	--slurpfile ce "$tmp/crun-exec.json" --slurpfile cp "$tmp/crun-ps.json" --slurpfile cs "$tmp/crun-state.json" \
	--slurpfile rr "$tmp/runc-run.json" --slurpfile rc "$tmp/runc-cycle.json" \
	--slurpfile re "$tmp/runc-exec.json" --slurpfile rp "$tmp/runc-ps.json" --slurpfile rs "$tmp/runc-state.json" \
	--slurpfile fl "$tmp/floor.json" \
	--argjson hrss "$(cat "$tmp/hutch-rss")" --argjson crss "$(cat "$tmp/crun-rss")" \
	--argjson rrss "$(cat "$tmp/runc-rss")" --argjson frss "$(cat "$tmp/floor-rss")" \
	'{date: $stamp, hybrid_cgroups: ($hybrid == "true"), floor_command: ("unshare " + $ns + " /bin/true"),
	  hutch: {run: $hr[0].results[0], cycle: $hc[0].results[0], exec: $he[0].results[0], ps: $hp[0].results[0], state: $hs[0].results[0], peak_rss_kib: $hrss},
	  crun:  {run: $cr[0].results[0], cycle: $cc[0].results[0], exec: $ce[0].results[0], ps: $cp[0].results[0], state: $cs[0].results[0], peak_rss_kib: $crss},
	  runc:  {run: $rr[0].results[0], cycle: $rc[0].results[0], exec: $re[0].results[0], ps: $rp[0].results[0], state: $rs[0].results[0], peak_rss_kib: $rrss},
	  floor: {run: $fl[0].results[0], peak_rss_kib: $frss}}' > "$res/bench-$stamp.json"
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
	"Floor (`\($d.floor_command)`): \($d.floor.run.median | ms) ms, peak RSS \($d.floor.peak_rss_kib) KiB.",
	"",
	"Targets: run ≤ 0.6× crun: \(r($d.hutch.run.median; $d.crun.run.median))× \(if $d.hutch.run.median <= 0.6 * $d.crun.run.median then "met" else "NOT met" end); " +
	"run ≤ 0.25× runc: \(r($d.hutch.run.median; $d.runc.run.median))× \(if $d.hutch.run.median <= 0.25 * $d.runc.run.median then "met" else "NOT met" end); " +
	"run ≤ 2× floor: \(r($d.hutch.run.median; $d.floor.run.median))× \(if $d.hutch.run.median <= 2 * $d.floor.run.median then "met" else "NOT met" end); " +
	"peak RSS ≤ crun: \(if $d.hutch.peak_rss_kib <= $d.crun.peak_rss_kib then "met" else "NOT met" end)."
' "$res/bench-$stamp.json"
echo
echo "# raw results: bench/results/bench-$stamp.json"
