#!/bin/bash
# Images: pull (anonymous, basic, bearer; OCI index and Docker schema2), the store,
# unpack with whiteouts, bundle create, run --image on an overlay, import, errors.
# Registries are Debian's docker-registry on 127.0.0.1 (free ports), started here;
# images are built here from the busybox rootfs (make rootfs) as OCI layouts.
# shellcheck disable=SC2317
source "$(dirname "$0")/../lib.sh"

IMGDIR=$TOP/tests/image
MKOCI="python3 $IMGDIR/mkoci.py"
PIDS=()
cleanup_image_suite() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup_image_suite EXIT

need() { command -v "$1" >/dev/null || { echo "# $1 missing (make deps)"; exit 0; }; }
for c in docker-registry skopeo htpasswd python3 jq; do need "$c"; done
[ -x "$ROOTFS_TEMPLATE/bin/busybox" ] || { echo "not ok - 70-image: setup: no rootfs (make rootfs)"; exit 0; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_registry NAME [HTPASSWD|tls]: prints "port pid"; the registry's storage is $T_TMP/NAME.
start_registry() {
	local name=$1 htp=${2:-} port cfg tls=""
	if [ "$htp" = tls ]; then
		tls=", tls: {certificate: $T_TMP/tls.crt, key: $T_TMP/tls.key}"
		htp=""
	fi
	port=$(free_port)
	cfg=$T_TMP/$name.yml
	{
		echo "version: 0.1"
		echo "log: {level: error, accesslog: {disabled: true}}"
		echo "storage: {filesystem: {rootdirectory: $T_TMP/$name}, delete: {enabled: true}}"
		echo "http: {addr: 127.0.0.1:$port$tls}"
		[ -z "$htp" ] || echo "auth: {htpasswd: {realm: hutch-test, path: $htp}}"
	} > "$cfg"
	docker-registry serve "$cfg" > "$T_TMP/$name.log" 2>&1 &
	PIDS+=($!)
	echo "$port $!"
}

wait_http() { # URL: until it answers at all
	local i
	for ((i = 0; i < 100; i++)); do
		curl -sk -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "# $1 did not come up" >&2
	return 1
}

# start_proxy UPSTREAM_PORT ARGS...: prints "port pid"
start_proxy() {
	local up=$1 port
	shift
	port=$(free_port)
	python3 "$IMGDIR/proxy.py" "$port" "$up" "$@" > /dev/null 2>&1 &
	echo "$port $!"
}

push() { # SRC DEST [skopeo args]
	local src=$1 dst=$2
	shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "$src" "docker://$dst" > /dev/null
}

layer_digest() { # LAYOUT N: digest of layer N of the layout's (only) image
	local m
	m=$(jq -r '.manifests[0].digest' "$1/index.json")
	jq -r ".layers[$2].digest" "$1/blobs/sha256/${m#sha256:}"
}

# ---- fixtures: images and registries, built once for the suite ----
setup() {
	local l1=$T_TMP/l1 l2=$T_TMP/l2 k
	mkdir -p "$l2/etc" "$l2/opq"
	cp -a "$ROOTFS_TEMPLATE" "$l1"
	mkdir -p "$l1/opq/sub"
	echo a > "$l1/opq/a"
	echo x > "$l1/opq/sub/x"
	echo gone > "$l1/etc/removed"
	tar --numeric-owner -C "$l1" -cf "$T_TMP/l1.tar" .
	# layer 2: whiteouts, a hard link, a symlink, a device node, owner/mode, an xattr
	echo marker > "$l2/etc/marker"
	touch "$l2/etc/.wh.removed" "$l2/opq/.wh..wh..opq"
	echo b > "$l2/opq/b"
	ln "$l2/etc/marker" "$l2/etc/marker-hl"
	ln -s marker "$l2/etc/marker-sl"
	mknod "$l2/etc/null" c 1 3
	echo secret > "$l2/etc/owned"
	chown 1000:2000 "$l2/etc/owned"
	chmod 0640 "$l2/etc/owned"
	python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.hutch", b"yes")' "$l2/etc/marker"
	tar --numeric-owner --xattrs --xattrs-include='*' -C "$l2" -cf "$T_TMP/l2.tar" .
	CONFIG='{"Cmd":["cat","/etc/marker"],"Env":["FOO=bar","PATH=/bin:/sbin"],"WorkingDir":"/etc","User":"nobody","ExposedPorts":{"80/tcp":{},"53/udp":{}},"StopSignal":"SIGINT"}'
	$MKOCI layout "$T_TMP/oci" --ref v1 --gzip --arm64-decoy --config "$CONFIG" "$T_TMP/l1.tar" "$T_TMP/l2.tar"
	# the amd64 manifest the index points at
	AMD64=$(jq -r '.manifests[0].digest' "$T_TMP/oci/index.json")
	AMD64=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' \
		"$T_TMP/oci/blobs/sha256/${AMD64#sha256:}")

	read -r REG REG_PID < <(start_registry reg)
	htpasswd -Bbc "$T_TMP/htpasswd" alice secret 2>/dev/null
	read -r AREG AREG_PID < <(start_registry areg "$T_TMP/htpasswd")
	PIDS+=("$REG_PID" "$AREG_PID")
	wait_http "http://127.0.0.1:$REG/v2/" && wait_http "http://127.0.0.1:$AREG/v2/"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/tls.key" -out "$T_TMP/tls.crt" -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	read -r TREG TREG_PID < <(start_registry treg tls)
	PIDS+=("$TREG_PID")
	wait_http "https://127.0.0.1:$TREG/v2/"
	read -r BREG BREG_PID < <(start_proxy "$REG" --bearer alice:secret)
	PIDS+=("$BREG_PID")
	wait_http "http://127.0.0.1:$BREG/token"

	push "oci:$T_TMP/oci:v1" "127.0.0.1:$REG/test/busybox:v1" --all
	push "oci:$T_TMP/oci:v1" "127.0.0.1:$REG/test/busybox:v2s2" --format v2s2
	push "oci:$T_TMP/oci:v1" "127.0.0.1:$AREG/test/private:v1" --dest-creds alice:secret
	push "oci:$T_TMP/oci:v1" "127.0.0.1:$TREG/test/busybox:v1"
	for k in dotdot abs symlink relsymlink hardlink; do
		$MKOCI evil "$T_TMP/evil-$k.tar" "$k"
		$MKOCI layout "$T_TMP/oci-evil-$k" --ref v1 --config '{"Cmd":["sh"]}' "$T_TMP/l1.tar" "$T_TMP/evil-$k.tar"
		push "oci:$T_TMP/oci-evil-$k:v1" "127.0.0.1:$REG/test/evil-$k:v1"
	done
	# a layer nobody else has, for the tampering test
	head -c 4096 /dev/urandom > "$T_TMP/unique.bin"
	tar -C "$T_TMP" -cf "$T_TMP/unique.tar" unique.bin
	$MKOCI layout "$T_TMP/oci-tamper" --gzip --ref v1 --config '{"Cmd":["sh"]}' "$T_TMP/l1.tar" "$T_TMP/unique.tar"
	push "oci:$T_TMP/oci-tamper:v1" "127.0.0.1:$REG/test/tampered:v1"
	TAMPERED=$(layer_digest "$T_TMP/oci-tamper" 1)
	local data=$T_TMP/reg/docker/registry/v2/blobs/sha256/${TAMPERED:7:2}/${TAMPERED#sha256:}/data
	[ -f "$data" ] || { echo "# tamper: $data missing" >&2; return 1; }
	printf 'X' | dd of="$data" bs=1 seek=600 conv=notrunc status=none
	# 48 MiB of random data in one uncompressed layer: for the interrupted pull
	$MKOCI random "$T_TMP/big.tar" 48
	$MKOCI layout "$T_TMP/oci-big" --gzip --ref v1 --config '{"Cmd":["sh"]}' "$T_TMP/l1.tar" "$T_TMP/big.tar"
	push "oci:$T_TMP/oci-big:v1" "127.0.0.1:$REG/test/big:v1"
	BIG=$(layer_digest "$T_TMP/oci-big" 1)
	export HUTCH_IMAGE_STORE=$T_TMP/store
}
if ! setup > "$T_TMP/setup.log" 2>&1; then
	sed 's/^/# /' "$T_TMP/setup.log"
	echo "not ok - 70-image: setup"
	exit 0
fi

IMG=127.0.0.1:$REG/test/busybox:v1

# each test in its own directory
tdir() { cd "$(mktemp -d "$T_TMP/${FUNCNAME[1]#test_}.XXXX")"; }
fresh_store() { export HUTCH_IMAGE_STORE=$PWD/store-$1; }
nblobs() { find "$HUTCH_IMAGE_STORE/blobs/sha256" -type f 2>/dev/null | wc -l; }

# ---- pull ----
test_pull_oci_index_picks_host_platform() {
	tdir
	local d
	d=$(hutch image pull "$IMG")
	assert_eq "$AMD64" "$d" "manifest digest of linux/amd64"
	hutch image ls | grep -q "^$IMG "
	assert_eq "$AMD64" "$(hutch image inspect "$IMG" | jq -r .digest)"
	assert_eq 2 "$(hutch image inspect "$IMG" | jq '.layers | length')"
	assert_eq bar "$(hutch image inspect "$IMG" | jq -r '.config.config.Env[0]' | cut -d= -f2)"
	# by digest and by short digest
	hutch image inspect "127.0.0.1:$REG/test/busybox@$AMD64" > /dev/null
	hutch image inspect "${AMD64:7:12}" > /dev/null
	hutch image ls --format json | jq -e --arg n "$IMG" 'map(select(.name==$n)) | length == 1' > /dev/null
}

test_progress_only_on_a_terminal() {
	tdir
	fresh_store progress
	hutch image pull "$IMG" > out 2> err
	assert_eq "" "$(cat err)" "stderr of a pull without a terminal"
	assert_eq "$AMD64" "$(cat out)"
	command -v script > /dev/null || skip "script(1) missing"
	fresh_store progress-tty
	script -qec "$HUTCH --root $T_ROOT image pull $IMG" /dev/null > tty.out
	assert_contains "$(cat tty.out)" "Fetching 3 blobs: 3 done"
	# -q keeps a terminal quiet too
	fresh_store progress-quiet
	script -qec "$HUTCH --root $T_ROOT image pull -q $IMG" /dev/null > tty.out
	assert_not_contains "$(cat tty.out)" "Fetching"
}

test_pull_docker_schema2() {
	tdir
	local d mt
	d=$(hutch image pull -q "127.0.0.1:$REG/test/busybox:v2s2")
	mt=$(jq -r .mediaType "$HUTCH_IMAGE_STORE/blobs/sha256/${d#sha256:}")
	assert_eq application/vnd.docker.distribution.manifest.v2+json "$mt"
	assert_eq application/vnd.docker.image.rootfs.diff.tar.gzip \
		"$(hutch image inspect "127.0.0.1:$REG/test/busybox:v2s2" | jq -r '.layers[0].mediaType')"
}

test_pull_basic_auth() {
	tdir
	local name=127.0.0.1:$AREG/test/private:v1
	fresh_store basic
	expect_fail "authentication required; give --creds" hutch image pull "$name"
	expect_fail "authentication failed" hutch image pull --creds alice:wrong "$name"
	assert_eq 0 "$(nblobs)" "blobs after refused pulls"
	hutch image pull --creds alice:secret "$name" > /dev/null
	hutch image rm "$name" > /dev/null
	# the same credentials from an auth file
	printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}' "$AREG" "$(printf alice:secret | base64)" > auth.json
	hutch image pull --authfile auth.json "$name" > /dev/null
	hutch image inspect "$name" > /dev/null
}

test_pull_bearer_token() {
	tdir
	local name=127.0.0.1:$BREG/test/busybox:v1
	fresh_store bearer
	expect_fail "token server refused anonymous access" hutch image pull "$name"
	expect_fail "token server refused the credentials" hutch image pull --creds alice:nope "$name"
	assert_eq "$AMD64" "$(hutch image pull --creds alice:secret "$name")"
	# anonymous tokens, as Docker Hub hands them out
	local port pid
	read -r port pid < <(start_proxy "$REG" --bearer anonymous)
	wait_http "http://127.0.0.1:$port/token"
	fresh_store bearer-anon
	assert_eq "$AMD64" "$(hutch image pull "127.0.0.1:$port/test/busybox:v1")"
	kill "$pid"
}

test_pull_https_with_verification() {
	tdir
	local name=127.0.0.1:$TREG/test/busybox:v1
	fresh_store https
	# loopback registries are plain HTTP unless registries.conf says otherwise
	expect_fail "registry 127.0.0.1:$TREG" hutch image pull "$name"
	echo "secure 127.0.0.1:$TREG  # TLS test registry" > registries.conf
	export HUTCH_REGISTRIES_CONF=$PWD/registries.conf
	expect_fail "certificate" hutch image pull "$name"
	assert_eq "$AMD64" "$(hutch image pull --ca-file "$T_TMP/tls.crt" "$name")"
	# --insecure forces plain HTTP again
	expect_fail "registry 127.0.0.1:$TREG" hutch image pull --insecure "$name"
}

test_wrong_digest_blob_rejected_nothing_stored() {
	tdir
	fresh_store tamper
	expect_fail "blob $TAMPERED: content has digest" hutch image pull "127.0.0.1:$REG/test/tampered:v1"
	assert_eq 0 "$(nblobs)" "blobs stored"
	assert_eq 0 "$(find "$HUTCH_IMAGE_STORE/tmp" -type f | wc -l)" "tmp files"
	expect_fail "not in the store" hutch image inspect "127.0.0.1:$REG/test/tampered:v1"
}

# wait_transfer: the number of partial downloads over 1 MB in the store's tmp dir, once there
# is one (a pull of the big layer is under way), or 0 after 60 s (on a loaded machine a pull
# may take seconds to get going)
wait_transfer() {
	local i n=0
	for ((i = 0; i < 1200; i++)); do
		n=$(find "$HUTCH_IMAGE_STORE/tmp" -type f -size +1M 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] && break
		sleep 0.05
	done
	echo "$n"
}

test_interrupted_pull_leaves_nothing_and_retry_works() {
	tdir
	local port pid pull rc=0 size=0
	fresh_store interrupted
	read -r port pid < <(start_proxy "$REG" --throttle 2048)
	wait_http "http://127.0.0.1:$port/v2/"
	hutch image pull "127.0.0.1:$port/test/big:v1" > pull.out 2> pull.err &
	pull=$!
	# wait until the big layer is coming in, then kill the "registry"
	size=$(wait_transfer)
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	wait "$pull" || rc=$?
	[ "$size" -gt 0 ] || fail "the transfer never started"
	[ "$rc" -ne 0 ] || fail "pull succeeded although the registry died"
	echo "# interrupted pull: $(cat pull.err)" >&2
	[ ! -e "$HUTCH_IMAGE_STORE/blobs/sha256/${BIG#sha256:}" ] || fail "partial layer stored"
	assert_eq 0 "$(nblobs)" "blobs left by the interrupted pull"
	assert_eq 0 "$(find "$HUTCH_IMAGE_STORE/tmp" -type f | wc -l)" "tmp files"
	expect_fail "not in the store" hutch image inspect "127.0.0.1:$port/test/big:v1"
	# the registry is back: the retry succeeds and the layer verifies
	read -r port pid < <(start_proxy "$REG")
	wait_http "http://127.0.0.1:$port/v2/"
	hutch image pull "127.0.0.1:$port/test/big:v1" > /dev/null
	kill "$pid"
	[ -f "$HUTCH_IMAGE_STORE/blobs/sha256/${BIG#sha256:}" ]
	assert_eq "${BIG#sha256:}" "$(sha256sum "$HUTCH_IMAGE_STORE/blobs/sha256/${BIG#sha256:}" | cut -d' ' -f1)"
}

test_killed_pull_leaves_no_usable_blob() {
	tdir
	local port pid pull size=0
	fresh_store killed
	read -r port pid < <(start_proxy "$REG" --throttle 4096)
	wait_http "http://127.0.0.1:$port/v2/"
	hutch image pull -q "127.0.0.1:$port/test/big:v1" > /dev/null 2>&1 &
	pull=$!
	size=$(wait_transfer)
	kill -9 "$pull"
	wait "$pull" 2>/dev/null || true
	kill "$pid"
	[ "$size" -gt 0 ] || fail "the transfer never started"
	# the partial download is only a tmp file: not a blob, no name
	[ ! -e "$HUTCH_IMAGE_STORE/blobs/sha256/${BIG#sha256:}" ] || fail "partial layer stored"
	expect_fail "not in the store" hutch image inspect "127.0.0.1:$port/test/big:v1"
	expect_fail "not in the store" hutch bundle create --image "127.0.0.1:$port/test/big:v1" b
	# the next pull removes the orphan and succeeds
	hutch image pull -q "127.0.0.1:$REG/test/big:v1" > /dev/null
	assert_eq 0 "$(find "$HUTCH_IMAGE_STORE/tmp" -type f | wc -l)" "tmp files after the next pull"
	hutch bundle create --image "127.0.0.1:$REG/test/big:v1" b
	[ -f b/rootfs/big.bin ]
}

test_concurrent_pulls_store_once() {
	tdir
	local port pid a b
	fresh_store concurrent
	read -r port pid < <(start_proxy "$REG" --throttle 20000 --log "$PWD/requests.log")
	wait_http "http://127.0.0.1:$port/v2/"
	hutch image pull -q "127.0.0.1:$port/test/busybox:v1" > a.out &
	a=$!
	hutch image pull -q "127.0.0.1:$port/test/busybox:v1" > b.out &
	b=$!
	wait "$a"
	wait "$b"
	kill "$pid"
	assert_eq "$(cat a.out)" "$(cat b.out)"
	# each blob was fetched from the registry once, and stored once
	assert_eq 0 "$(grep /blobs/ requests.log | sort | uniq -d | wc -l)" "blobs fetched twice"
	assert_eq 3 "$(grep -c /blobs/ requests.log)" "blob fetches (config + 2 layers)"
	hutch image inspect "127.0.0.1:$port/test/busybox:v1" > /dev/null
}

# ---- bundle create: unpack ----
test_bundle_create_applies_whiteouts_and_metadata() {
	tdir
	local r=b/rootfs
	hutch image pull -q "$IMG" > /dev/null
	hutch bundle create --image "$IMG" b
	[ -x $r/bin/busybox ]
	[ ! -e $r/etc/removed ] || fail "whiteout .wh.removed not applied"
	assert_eq b "$(ls $r/opq)" "opaque dir contents"
	assert_eq "$(stat -c %i $r/etc/marker)" "$(stat -c %i $r/etc/marker-hl)" "hard link inode"
	assert_eq marker "$(readlink $r/etc/marker-sl)"
	assert_eq "c 1 3" "$(stat -c '%F' $r/etc/null | cut -c1) $(stat -c '%t %T' $r/etc/null)"
	assert_eq "1000 2000 640" "$(stat -c '%u %g %a' $r/etc/owned)"
	assert_eq yes "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.hutch").decode())' $r/etc/marker)"
	assert_eq '["cat","/etc/marker"]' "$(jq -c .process.args b/config.json)"
	assert_eq /etc "$(jq -r .process.cwd b/config.json)"
	assert_eq "65534 65534" "$(jq -r '"\(.process.user.uid) \(.process.user.gid)"' b/config.json)"
	jq -e '.process.env | index("FOO=bar") and index("PATH=/bin:/sbin") and (map(select(startswith("PATH="))) | length == 1)' b/config.json > /dev/null
	assert_eq "53/udp,80/tcp" "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"] | split(",") | sort | join(",")' b/config.json)"
	assert_eq SIGINT "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' b/config.json)"
	# ARGS after -- replace Cmd
	hutch bundle create --image "$IMG" b2 -- echo hi
	assert_eq '["echo","hi"]' "$(jq -c .process.args b2/config.json)"
	expect_fail "config.json" hutch bundle create --image "$IMG" b
}

test_path_traversal_layers_refused() {
	tdir
	local k msg
	for k in dotdot abs symlink relsymlink hardlink; do
		case $k in
		dotdot) msg="\`..\` would leave the target" ;;
		abs) msg="absolute path" ;;
		symlink | relsymlink) msg="leads outside the target through a symlink" ;;
		hardlink) msg="\`..\` would leave the target" ;;
		esac
		hutch image pull -q "127.0.0.1:$REG/test/evil-$k:v1" > /dev/null
		expect_fail "$msg" hutch bundle create --image "127.0.0.1:$REG/test/evil-$k:v1" "evil-$k"
		[ ! -e "evil-$k" ] || fail "$k: bundle dir left behind"
	done
	# the layer cache for run --image refuses them as well, and leaves nothing
	if has_run_image; then
		image_snapshot > snap
		for k in dotdot symlink; do
			expect_fail "refusing to unpack it" hutch run --image "127.0.0.1:$REG/test/evil-$k:v1" "evil-$k"
		done
		image_clean snap
		assert_eq "" "$(find "$HUTCH_IMAGE_STORE/layers" -mindepth 1 -maxdepth 1 -name '.tmp-*')" "tmp layer dirs"
	fi
	[ ! -e /tmp/hutch-escape-abs ] && [ ! -e /tmp/hutch-escape-symlink ] &&
		[ ! -e /tmp/hutch-escape-relsymlink ] && [ ! -e "$T_TMP/../hutch-escape-dotdot" ] ||
		fail "an entry escaped"
}

# ---- import ----
test_import_docker_archive() {
	tdir
	local r
	skopeo copy -q "oci:$T_TMP/oci:v1" "docker-archive:$PWD/saved.tar:test/imported:v1" > /dev/null
	assert_eq docker.io/test/imported:v1 "$(hutch image import saved.tar)"
	hutch bundle create --image test/imported:v1 b
	assert_eq marker "$(cat b/rootfs/etc/marker)"
	[ ! -e b/rootfs/etc/removed ]
	if hutch run --help > /dev/null 2>&1; then
		r=$(hutch run --image test/imported:v1 imp)
		assert_eq marker "$r"
	fi
	# without a tag, a name is needed
	skopeo copy -q "oci:$T_TMP/oci:v1" "docker-archive:$PWD/untagged.tar" > /dev/null
	expect_fail "give --name NAME" hutch image import untagged.tar
	assert_eq localhost/named:v9 "$(hutch image import --name localhost/named:v9 untagged.tar)"
}

test_import_oci_archive() {
	tdir
	mkdir lay
	skopeo copy -q "oci:$T_TMP/oci:v1" "oci:$PWD/lay:localhost/ocitar:v1" > /dev/null
	tar -C lay -cf oci.tar .
	assert_eq localhost/ocitar:v1 "$(hutch image import oci.tar)"
	hutch bundle create --image localhost/ocitar:v1 b
	assert_eq b "$(ls b/rootfs/opq)"
	echo junk > junk.tar
	expect_fail "not a tar archive" hutch image import junk.tar
}

# ---- errors ----
test_bad_references() {
	tdir
	local s=$PWD/never
	export HUTCH_IMAGE_STORE=$s
	expect_fail "repository name must be lowercase" hutch image pull Busybox
	expect_fail "invalid tag" hutch image pull "busybox:bad+tag"
	expect_fail "invalid digest" hutch image pull "busybox@sha256:1234"
	expect_fail "image reference: empty" hutch image pull ""
	expect_fail "not a URL" hutch image pull "https://127.0.0.1/x"
	expect_fail "bad registry port" hutch image pull "127.0.0.1:99999/x"
	expect_fail "takes one argument" hutch image pull
	expect_fail "unknown subcommand" hutch image frobnicate
	expect_fail "--image REF is required" hutch bundle create b
	[ ! -e "$s" ] || fail "a store was made for bad input"
}

test_unknown_images() {
	tdir
	fresh_store unknown
	expect_fail "not in the store" hutch image inspect nosuch:image
	expect_fail "not in the store" hutch image rm nosuch
	expect_fail "not in the store" hutch bundle create --image nosuch b
	[ ! -e b ] || fail "bundle dir left behind"
	expect_fail "not found in the registry" hutch image pull "127.0.0.1:$REG/test/busybox:nope"
	expect_fail "not found in the registry" hutch image pull "127.0.0.1:$REG/test/nothing:v1"
	expect_fail "no image for platform linux/s390x" hutch image pull --platform linux/s390x "$IMG"
	assert_eq 0 "$(nblobs)" "blobs after failed pulls"
}

test_rm_removes_unreferenced_blobs() {
	tdir
	fresh_store rm
	hutch image pull -q "$IMG" > /dev/null
	hutch image pull -q "127.0.0.1:$REG/test/busybox:v2s2" > /dev/null
	hutch bundle create --image "$IMG" b > /dev/null
	local before
	before=$(nblobs)
	assert_eq "$IMG" "$(hutch image rm "$IMG")"
	[ "$(nblobs)" -lt "$before" ] || fail "rm removed no blob"
	hutch bundle create --image "127.0.0.1:$REG/test/busybox:v2s2" b2 > /dev/null
	hutch image rm "127.0.0.1:$REG/test/busybox:v2s2" > /dev/null
	assert_eq 0 "$(nblobs)" "blobs after removing every image"
	assert_eq "" "$(ls "$HUTCH_IMAGE_STORE/layers")" "cached layers after removing every image"
}

# ---- run|create --image: an overlay rootfs ----
# What an image container may leave behind: mounts under this suite's directory (the
# store and the state root are there), state, bundles. Not host-wide mounts and cgroups:
# other suites on this machine create and remove theirs meanwhile.
image_snapshot() {
	awk -v t="$T_TMP/" 'index($5, t) == 1 {print $5, $9}' /proc/self/mountinfo | sort
	ls -A "$T_ROOT" "$HUTCH_IMAGE_STORE/containers" 2>/dev/null
}
image_clean() {
	local now
	now=$(image_snapshot)
	[ "$now" == "$(cat "$1")" ] || { diff "$1" <(echo "$now") | sed 's/^/# /' >&2; fail "left behind"; }
}

has_run_image() { hutch run --help 2>&1 | grep -q -- --image; }

test_run_image_overlay() {
	tdir
	has_run_image || skip "run --image not wired in yet"
	local out snap layers
	hutch image pull -q "$IMG" > /dev/null
	image_snapshot > snap
	out=$(hutch run --image "$IMG" r1)
	assert_eq marker "$out"
	out=$(hutch run --image "$IMG" r2 -- sh -c 'cat /etc/removed 2>&1; ls /opq; id -u; pwd; echo $FOO')
	assert_eq "cat: can't open '/etc/removed': No such file or directory
b
65534
/etc
bar" "$out"
	image_clean snap
	assert_eq "" "$(ls "$HUTCH_IMAGE_STORE/containers")" "container dirs after delete"
	# the layers were unpacked once and are cached
	layers=$(stat -c %i "$HUTCH_IMAGE_STORE"/layers/*)
	hutch run --image "$IMG" r3 -- true
	assert_eq "$layers" "$(stat -c %i "$HUTCH_IMAGE_STORE"/layers/*)" "layer dirs inodes"
	hutch image inspect "$IMG" | jq -e '.layers | all(.unpacked)' > /dev/null
	# kernels before 6.8 (no lowerdir+) get one lowerdir= option string
	assert_eq marker "$(HUTCH_OVERLAY_LEGACY=1 hutch run --image "$IMG" r4)"
	image_clean snap
}

test_create_image_copies_nothing() {
	tdir
	has_run_image || skip "run --image not wired in yet"
	local snap b
	hutch image pull -q "$IMG" > /dev/null
	image_snapshot > snap
	hutch create --image "$IMG" c1 -- sleep 100
	b=$(hutch state c1 | jq -r .bundle)
	assert_eq overlay "$(awk -v m="$b/rootfs" '$5 == m {print $(NF-2)}' /proc/self/mountinfo)" "rootfs of c1"
	assert_eq 0 "$(find "$b/upper" -mindepth 1 -type f | wc -l)" "files copied into the upper dir"
	# the same id again: refused, and the first container keeps its rootfs
	expect_fail "container \`c1\` already exists" hutch create --image "$IMG" c1
	expect_fail "cannot be used together" hutch create --image "$IMG" --bundle . c1
	[ -d "$b/upper" ] || fail "the bundle of c1 was removed by the refused create"
	hutch start c1
	hutch exec --user 0:0 c1 sh -c 'echo new > /etc/marker'
	assert_eq new "$(cat "$b/upper/etc/marker")"
	assert_eq marker "$(cat "$HUTCH_IMAGE_STORE"/layers/*/etc/marker)" "lower layer untouched"
	hutch delete --force c1
	[ ! -e "$b" ] || fail "bundle $b left behind"
	image_clean snap
	expect_fail "not in the store" hutch run --image nosuch c2
	# an id a bundle container already has: the image bundle made for it is removed again
	new_bundle plain true
	hutch create -b plain c3
	expect_fail "c3" hutch create --image "$IMG" c3
	hutch delete c3
	image_clean snap
}

# After each test (run_tests calls this): containers, and any overlay a failed delete left,
# so one failure cannot keep the suite from removing its directory.
cleanup_containers() {
	local id m
	for id in $(ls "$T_ROOT" 2>/dev/null); do
		hutch delete --force "$id" > /dev/null 2>&1 || true
	done
	for m in $(awk -v t="$T_TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo); do
		umount -l "$m" 2>/dev/null || true
	done
}

run_tests
