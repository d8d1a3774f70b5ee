#!/bin/bash
# Image benchmarks, printed as a markdown table:
#  - pulling a ~100 MB image (busybox + 4 x 25 MB random layers) from Debian's
#    docker-registry on 127.0.0.1: `hutch image pull` vs `skopeo copy` to a directory;
#  - making a container's rootfs: `hutch create --image` (overlay of cached layers)
#    vs `hutch bundle create --image` (unpacking every layer into a fresh bundle).
# Needs: make rootfs, docker-registry, skopeo, hyperfine, python3 (make deps). Run as root.
#   bench/image.sh [RUNS]   (default 5)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hutch=${HUTCH:-$top/helper/hutch}
runs=${1:-5}
for c in docker-registry skopeo hyperfine python3; do
	command -v "$c" > /dev/null || { echo "bench/image.sh: $c missing (make deps)" >&2; exit 1; }
done
[ -x "$top/build/rootfs/bin/busybox" ] || make -C "$top" rootfs > /dev/null
tmp=$(mktemp -d /tmp/hutch-bench-image.XXXXXX)
reg_pid=
cleanup() {
	[ -z "$reg_pid" ] || kill "$reg_pid" 2> /dev/null || true
	"$hutch" --root "$tmp/state" delete --force bench > /dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export HUTCH_IMAGE_STORE=$tmp/store

echo "# building the image..." >&2
tar --numeric-owner -C "$top/build/rootfs" -cf "$tmp/base.tar" .
layers=("$tmp/base.tar")
for i in 1 2 3 4; do
	python3 "$top/tests/image/mkoci.py" random "$tmp/r$i.tar" 25
	layers+=("$tmp/r$i.tar")
done
python3 "$top/tests/image/mkoci.py" layout "$tmp/oci" --ref v1 --gzip \
	--config '{"Cmd":["true"]}' "${layers[@]}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/reg.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $tmp/reg}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$tmp/reg.yml" > "$tmp/reg.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$tmp/oci:v1" "docker://127.0.0.1:$port/bench/big:v1"
ref=127.0.0.1:$port/bench/big:v1
size=$(du -sm "$tmp/reg" | cut -f1)

echo "# pull (${size} MB in the registry)..." >&2
hyperfine -N --runs "$runs" --style none --export-markdown "$tmp/pull.md" \
	--prepare "rm -rf $tmp/store $tmp/skopeo-dir" \
	-n "hutch image pull" "$hutch image pull -q $ref" \
	-n "skopeo copy to dir:" "skopeo copy -q --src-tls-verify=false docker://$ref dir:$tmp/skopeo-dir" > /dev/null

"$hutch" image pull -q "$ref" > /dev/null
echo "# rootfs: overlay snapshot vs unpacking..." >&2
create_cmds=()
if "$hutch" create --help 2>&1 | grep -q -- --image; then
	mkdir -p "$tmp/state"
	# the first create unpacks the layers into the cache; the measured ones reuse it
	"$hutch" --root "$tmp/state" create --image "$ref" bench > /dev/null
	"$hutch" --root "$tmp/state" delete --force bench
	create_cmds=(-n "hutch create --image (overlay)" "$hutch --root $tmp/state create --image $ref bench")
fi
hyperfine -N --runs "$runs" --style none --export-markdown "$tmp/create.md" \
	--prepare "sh -c '$hutch --root $tmp/state delete --force bench >/dev/null 2>&1; rm -rf $tmp/bundle'" \
	"${create_cmds[@]}" \
	-n "hutch bundle create --image (unpack)" "$hutch bundle create --image $ref $tmp/bundle" > /dev/null

echo "## Images: pull of a ${size} MB image on loopback"
echo
cat "$tmp/pull.md"
echo
echo "## Images: container rootfs from a pulled image"
echo
cat "$tmp/create.md"
