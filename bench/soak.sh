#!/bin/bash
# Soak: CYCLES run/exec/delete cycles (default 2000), PARALLEL at a time (default 8), with
# --net bridge in a network namespace of its own standing in for the host, while one
# long-lived container gets an exec from every cycle. Before and after, it counts what a
# leak would grow: fds of the long-lived container's init and of this shell, mounts, cgroup
# directories in every hierarchy, network namespaces, veths, leases, state dirs, processes
# and MemAvailable; prints the table and exits non-zero when anything grew (MemAvailable:
# when it fell by more than HUTCH_SOAK_MEM_SLACK_MB, default 256, as other processes of the
# machine move it too) or a cycle failed.
#   bench/soak.sh [CYCLES [PARALLEL]]      (as root; HUTCH= the binary, default helper/hutch)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cycles=${1:-2000}
parallel=${2:-8}
HUTCH=${HUTCH:-$top/helper/hutch}
slack_mb=${HUTCH_SOAK_MEM_SLACK_MB:-256}
[ -x "$HUTCH" ] || { echo "soak: $HUTCH is not built (make)" >&2; exit 2; }
[ -d "$top/build/rootfs" ] || { echo "soak: build/rootfs is missing (make rootfs)" >&2; exit 2; }

dir=$(mktemp -d /tmp/hutch-soak.XXXXXX)
chmod 755 "$dir"
id=soak$$
ns=hutch-soak-$$
root=$dir/state
leases=$dir/leases
export HUTCH_NET_CONF=$dir/net.conf
echo "lease_dir = $leases" > "$HUTCH_NET_CONF"
net=(--net bridge)
command -v nft >/dev/null || net=()   # (no nft: the cycles run without networking)

cleanup() {
	local c
	for c in $(ls "$root" 2>/dev/null); do h delete --force "$c" >/dev/null 2>&1; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns" || exit 2
h() { nsenter --net="/run/netns/$ns" "$HUTCH" --root "$root" "$@"; }
h_ns() { nsenter --net="/run/netns/$ns" "$@"; }
h_ns ip link set lo up

# one bundle for every container (a read-only rootfs: they share it)
mkdir -p "$dir/b"
cp -a "$top/build/rootfs" "$dir/b/rootfs"
(cd "$dir/b" && "$HUTCH" spec)
jq '.process.args = ["sleep", "100000"] | .process.terminal = false' "$dir/b/config.json" > "$dir/b/c" &&
	mv "$dir/b/c" "$dir/b/config.json"

h run -d "${net[@]}" -b "$dir/b" "$id-long" || { echo "soak: the long-lived container did not start" >&2; exit 1; }
long_pid=$(h state "$id-long" | jq -r .pid)

# live PROC-FILE...: the pids of those that are not zombies (a killed container's init
# waits for its reaper, the machine's init or a subreaper, a moment after delete)
live() {
	local f p
	for f in "$@"; do
		p=${f#/proc/}
		p=${p%%/*}
		grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$p/status" && echo "$p"
	done
}

# metrics: NAME VALUE lines
metrics() {
	echo "fds_long_lived_init $(ls "/proc/$long_pid/fd" | wc -l)"
	echo "fds_soak_shell $(ls /proc/$$/fd | wc -l)"
	echo "mounts_host $(wc -l < /proc/self/mountinfo)"
	echo "mounts_of_soak $(grep -c "$dir" /proc/self/mountinfo)"
	echo "cgroup_dirs_of_soak $(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "$id-*" 2>/dev/null | wc -l)"
	echo "cgroup_dirs_hutch $(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -path '*/hutch*' 2>/dev/null | wc -l)"
	echo "netns_of_processes $(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%l\n' 2>/dev/null | sort -u | wc -l)"
	echo "veths $(h_ns ip -o link show type veth | wc -l)"
	echo "leases $(jq 'length' "$leases/leases.json" 2>/dev/null || echo 0)"
	echo "state_dirs $(ls "$root" | wc -l)"
	# in the containers' cgroups (the long-lived one's init), or hutch's children not in one yet
	echo "soak_processes $(live $(grep -lsx -- "[0-9]*:[^:]*:.*/$id-.*" /proc/[0-9]*/cgroup) | wc -l)"
	echo "hutch_processes $(live $(grep -lsa -- "${root%/*}/[s]tate" /proc/[0-9]*/cmdline) | grep -vcx "$$")"
	echo "mem_available_kb $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)"
}

# worker N: its share of the cycles; prints one line per failed command
worker() {
	local w=$1 i c
	for ((i = w; i < cycles; i += parallel)); do
		c=$id-$i
		h run -d "${net[@]}" -b "$dir/b" "$c" >/dev/null 2>"$dir/err.$w" || { echo "run $c: $(cat "$dir/err.$w")"; continue; }
		h exec "$c" true >/dev/null 2>"$dir/err.$w" || echo "exec $c: $(cat "$dir/err.$w")"
		h exec "$id-long" true >/dev/null 2>"$dir/err.$w" || echo "exec $id-long: $(cat "$dir/err.$w")"
		h delete --force "$c" 2>"$dir/err.$w" || echo "delete $c: $(cat "$dir/err.$w")"
	done
}

# a first cycle warms up: the bridge, the nft table and the lease file exist from here on
{ h run -d "${net[@]}" -b "$dir/b" "$id-warm" && h exec "$id-warm" true && h delete --force "$id-warm"; } ||
	{ echo "soak: the first cycle failed" >&2; exit 1; }
metrics > "$dir/before"
t0=$(date +%s)
for ((w = 0; w < parallel; w++)); do
	worker "$w" > "$dir/fail.$w" &
done
wait
t1=$(date +%s)
# the last deletes' processes and cgroups go asynchronously in the kernel
sleep 1
metrics > "$dir/after"

failed=$(cat "$dir"/fail.* | wc -l)
grew=0
printf '%-22s %12s %12s %8s\n' metric before after ""
while read -r name before; do
	after=$(awk -v n="$name" '$1 == n { print $2 }' "$dir/after")
	verdict=ok
	case $name in
	mem_available_kb) ((before - after <= slack_mb * 1024)) || verdict=GREW ;;
	# shared with every other process of the machine: shown, not judged
	mounts_host | cgroup_dirs_hutch | netns_of_processes) verdict=info ;;
	*) ((after <= before)) || verdict=GREW ;;
	esac
	[ "$verdict" != GREW ] || grew=$((grew + 1))
	printf '%-22s %12s %12s %8s\n' "$name" "$before" "$after" "$verdict"
done < "$dir/before"
echo "$cycles cycles (run -d, exec, exec in the long-lived container, delete --force), $parallel in parallel," \
	"${net[*]:-no networking}: $((t1 - t0)) s, $failed failed commands"
cat "$dir"/fail.* | head -5
((failed == 0 && grew == 0))
