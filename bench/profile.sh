#!/bin/bash
# Where the time of a container's lifecycle goes, hutch and crun side by side: each
# runtime's `run /bin/true`, and `delete --force` of a running container, are traced with
# `strace -f -ttt -T`; the traces are cut into phases by the syscalls that start and end
# them (bench/profile.py), and each phase's median over RUNS traces is printed, with the
# same bundle and config.json as bench/run.sh. crun runs the way bench/run.sh runs it: on
# a hybrid cgroup host, in a private mount namespace with /sys/fs/cgroup/unified unmounted.
# strace slows every syscall down (the totals are about 2-3x the untraced ones): read the
# table for where each runtime spends its time and how the two compare, not as timings.
#   bench/profile.sh [RUNS]     (default 7; run as root)
# PROFILE_KEEP=DIR keeps the traces in DIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hutch=${HUTCH:-$top/helper/hutch}
runs=${1:-7}
for c in strace crun python3 jq unshare; do
	command -v "$c" >/dev/null || { echo "profile: $c missing (make deps)" >&2; exit 1; }
done
[ -x "$hutch" ] || make -C "$top" all >/dev/null
[ -x "$top/build/rootfs/bin/busybox" ] || make -C "$top" rootfs >/dev/null
tmp=$(mktemp -d /tmp/hutch-profile.XXXXXX)
chmod 755 "$tmp"
traces=${PROFILE_KEEP:-$tmp/traces}
mkdir -p "$traces"

declare -A RT=([hutch]=$hutch [crun]=$(command -v crun))
NAMES=(hutch crun)
long_id=p-long
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
trap bench_cleanup EXIT
bench_bundles

st() { # NAME OUT CMD...: trace CMD as runtime NAME runs it
	local n=$1 out=$2
	shift 2
	in_ns "$n" strace -f -ttt -T -s 256 -o "$out" "$@" </dev/null >/dev/null 2>&1
}
echo "# tracing: $runs runs of run /bin/true and of delete --force per runtime, interleaved ..." >&2
for ((i = 0; i < runs; i++)); do
	for n in "${NAMES[@]}"; do
		r=${RT[$n]}
		s=$tmp/$n
		mkdir -p "$s"
		st "$n" "$traces/$n-run-$i.st" "$r" --root "$s" run --bundle "$tmp/bundle" p-run
		in_ns "$n" "$r" --root "$s" run --detach --bundle "$tmp/long" p-long </dev/null >/dev/null 2>&1
		st "$n" "$traces/$n-delete-$i.st" "$r" --root "$s" delete --force p-long
	done
done
echo "# hutch $("$hutch" --version | head -1 | awk '{print $3}'), $(crun --version | head -1); kernel $(uname -r); $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg); strace -f, median of $runs traces"
$hybrid && echo "# hybrid cgroup host: crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted"
python3 "$top/bench/profile.py" "$traces" "$runs" "$tmp"
