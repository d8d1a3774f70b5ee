#!/bin/bash
# buildah (Debian's 1.28) with --runtime hutch: a Containerfile with several RUN steps built
# from a local busybox image (build/rootfs committed from scratch: no registry, no network),
# `buildah run`, a failing RUN step. buildah's storage and
# configuration are private to the suite (vfs driver), cgroupfs manager.
source "$(dirname "$0")/../lib.sh"

command -v buildah >/dev/null || {
	echo "ok - $T_NAME: all # SKIP buildah not installed (make deps)"
	exit 0
}
[ -x "$ROOTFS_TEMPLATE/bin/busybox" ] || { echo "not ok - $T_NAME: setup: no rootfs (make rootfs)"; exit 0; }

# outside $T_TMP: buildah's storage is torn down by buildah itself first (bd_cleanup);
# a short path (the runroot may have at most 50 characters)
BD=/tmp/hutch-bd-$$
rm -rf "$BD" && mkdir -m 700 "$BD"
IMG=localhost/hutch-busybox
containers_conf "$BD" cgroupfs
export CONTAINERS_CONF=$BD/containers.conf CONTAINERS_STORAGE_CONF=$BD/storage.conf
# buildah calls the runtime without --root: hutch's default root, as runc's /run/runc
BD_HUTCH_ROOT=/run/hutch

bd() { buildah --root "$BD/root" --runroot "$BD/runroot" --storage-driver vfs "$@"; }

bd_cleanup() {
	bd rm -a >/dev/null 2>&1 || true
	bd rmi -a -f >/dev/null 2>&1 || true
	umount -R "$BD/root" 2>/dev/null || true
	umount -R "$BD/runroot" 2>/dev/null || true
	rm -rf "$BD"
}
trap bd_cleanup EXIT

# the busybox image: build/rootfs committed from scratch (buildah needs no runtime for it)
if ! { c=$(bd from scratch) && bd copy -q "$c" "$ROOTFS_TEMPLATE" / >/dev/null &&
	bd config --cmd sh "$c" && bd commit -q --rm "$c" "$IMG" >/dev/null; }; then
	echo "not ok - $T_NAME: setup: the busybox image $IMG"
	exit 0
fi

# nothing of buildah's containers left: no state in hutch's root, no cgroup (by name: other
# suites run containers at the same time)
assert_no_hutch_state() {
	local left
	left=$(find "$BD_HUTCH_ROOT" -maxdepth 1 -name 'buildah*' 2>/dev/null)
	[ -z "$left" ] || fail "hutch state left: $left"
	left=$(find /sys/fs/cgroup -maxdepth 4 -type d -path '*/hutch/buildah*' 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left: $left"
}

test_build_with_several_run_steps() {
	mkdir ctx
	cat >ctx/Containerfile <<-EOF
		FROM $IMG
		RUN echo step-one > /one
		RUN cat /one > /two && echo step-two >> /two
		ENV GREETING=hello
		WORKDIR /work
		RUN echo "\$GREETING \$((6 * 7)) \$(pwd) \$(id -u)" > /three && ls /one /two > list
		RUN ["/bin/sh", "-c", "grep -c step /two > /four"]
	EOF
	bd bud -q --layers --runtime "$HUTCH" --network none --isolation oci -t localhost/hutch-built ctx >out 2>err ||
		fail "build failed: $(cat err)"
	# the image holds what each step wrote, read back through hutch
	bd from -q --name w1 localhost/hutch-built >/dev/null
	out=$(bd run --runtime "$HUTCH" --network none w1 -- sh -c 'cat /one /two /three /work/list /four' 2>err)
	assert_eq "step-one
step-one
step-two
hello 42 /work 0
/one
/two
2" "$out"
	# four RUN steps, each a layer of its own
	n=$(bd inspect --type image localhost/hutch-built | jq ".OCIv1.rootfs.diff_ids | length")
	[ "$n" -ge 5 ] || fail "layers: $n (want the base and one per RUN step)"
	bd rm w1 >/dev/null
	assert_no_hutch_state
}

test_run_exit_code_and_failing_step() {
	bd from -q --name w2 "$IMG" >/dev/null
	rc=0
	bd run --runtime "$HUTCH" --network none w2 -- sh -c 'echo out; exit 3' >out 2>/dev/null || rc=$?
	assert_eq out "$(cat out)"
	[ "$rc" -ne 0 ] || fail "buildah run: a step exiting 3 succeeded"
	bd rm w2 >/dev/null
	mkdir ctx
	printf 'FROM %s\nRUN echo fine\nRUN sh -c "exit 5"\nRUN echo never > /never\n' "$IMG" >ctx/Containerfile
	rc=0
	bd bud -q --runtime "$HUTCH" --network none --isolation oci -t localhost/hutch-bad ctx >out 2>err || rc=$?
	[ "$rc" -ne 0 ] || fail "the build with a failing RUN step succeeded"
	assert_contains "$(cat err)" 'sh -c "exit 5"'
	assert_contains "$(cat err)" "exit status 5"
	bd images --format '{{.Name}}' | grep -q hutch-bad && fail "an image was tagged after a failed step"
	assert_no_hutch_state
}

run_tests
