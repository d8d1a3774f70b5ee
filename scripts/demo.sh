#!/bin/bash
# make demo: run a container from the bundled busybox rootfs (no network needed), then show
# what hutch accounts for a container: `hutch stats` and `hutch events --stats` (the source of
# each figure is named: hutch.ko when loaded, cgroupfs otherwise), and `hutch trace` when
# hutch.ko is loaded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hutch=$top/helper/hutch
bundle=$top/build/demo
id=demo-$$
rm -rf "$bundle"
mkdir -p "$bundle"
cp -a "$top/build/rootfs" "$bundle/rootfs"
(cd "$bundle" && "$hutch" spec)
say() { printf '\n+ %s\n' "$*"; }

jq '.process.terminal = false | .hostname = "hutch-demo" |
    .process.args = ["sh", "-c", "echo \"hostname: $(hostname)\"; echo \"my pid: $$ (PID 1 in its own PID namespace)\"; echo processes:; ps -o pid,user,comm; true"]' \
	"$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
say "hutch run -b $bundle $id"
"$hutch" run -b "$bundle" "$id"

# A second container that works for a while, to account for.
jq '.process.args = ["sh", "-c", "i=0; while [ $i -lt 200 ]; do i=$((i+1)); /bin/true; done; exec sleep 30"] |
    .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 64}}' \
	"$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
trap '"$hutch" delete -f "$id" >/dev/null 2>&1 || true' EXIT
say "hutch run -d -b $bundle $id   (200 forks, then sleep; memory 64 MiB, pids 64)"
"$hutch" run -d -b "$bundle" "$id" </dev/null >/dev/null
tracing=
if "$hutch" module status 2>/dev/null | grep -q '^module: loaded'; then
	say "hutch trace --timeout 2 $id   (hutch.ko's event stream)"
	"$hutch" exec "$id" /bin/true
	"$hutch" trace --count 4 --timeout 2 "$id" || true
	tracing=1
fi
for _ in $(seq 50); do
	[ "$("$hutch" ps "$id" 2>/dev/null | grep -c sleep)" -gt 0 ] && break
	sleep 0.1
done
say "hutch stats $id"
"$hutch" stats "$id"
say "hutch events --stats $id   (runc's format; one sample)"
"$hutch" events --stats "$id" | jq -c '{type, id, data: {pids: .data.pids, memory: {usage: .data.memory.usage.usage, limit: .data.memory.usage.limit}, cpu_usage_ns: .data.cpu.usage.total}}'
say "hutch delete -f $id"
"$hutch" delete -f "$id"
trap - EXIT
[ -n "$tracing" ] || echo "(hutch.ko is not loaded here: every figure above is from cgroupfs/procfs; see README, module)"
