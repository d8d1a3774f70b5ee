#!/bin/bash
# make demo: run a container from the bundled busybox rootfs (no network needed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hutch=$top/helper/hutch
bundle=$top/build/demo
rm -rf "$bundle"
mkdir -p "$bundle"
cp -a "$top/build/rootfs" "$bundle/rootfs"
(cd "$bundle" && "$hutch" spec)
jq '.process.terminal = false | .hostname = "hutch-demo" |
    .process.args = ["sh", "-c", "echo \"hostname: $(hostname)\"; echo \"my pid: $$ (PID 1 in its own PID namespace)\"; echo processes:; ps -o pid,user,comm; true"]' \
	"$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "+ hutch run -b $bundle demo-$$"
"$hutch" run -b "$bundle" "demo-$$"
