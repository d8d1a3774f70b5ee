#!/bin/bash
# containerd (Debian's) running containers on hutch through its runc shim
# (io.containerd.runc.v2): `ctr run --runc-binary`, and a runtime entry in the config
# file with BinaryName, the way a Kubernetes node sets it. containerd is started by
# this suite with its own config, root, state and socket under a temp dir, and stopped
# at the end. The image is an OCI archive written here from build/rootfs with tar and
# sha256sum (no registry).
source "$(dirname "$0")/../lib.sh"

command -v containerd >/dev/null && command -v ctr >/dev/null &&
	command -v containerd-shim-runc-v2 >/dev/null || {
	echo "ok - 85-containerd: all # SKIP containerd not installed (make deps)"
	exit 0
}

# outside $T_TMP: the snapshotter's mounts are gone only once containerd has cleaned up
CD=$(mktemp -d /tmp/hutch-containerd.XXXXXX)
IMG=localhost/hutch-busybox:latest
RUNC_ROOT=$CD/runc   # hutch's --root as the shim passes it

# mkoci ROOTFS OUT.tar [NAME [IMAGE-CONFIG-JSON]]: an OCI image archive with one
# uncompressed layer.
mkoci() {
	local rootfs=$1 out=$2 name=${3:-$IMG} icfg=${4:-'{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}'}
	local d lsize lh csize ch msize mh
	d=$(mktemp -d "$CD/oci.XXXXXX")
	mkdir -p "$d/blobs/sha256"
	blob() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$d/blobs/sha256/$h"; echo "$h"; }
	tar -C "$rootfs" --numeric-owner --sort=name -cf "$d/layer" .
	lsize=$(stat -c %s "$d/layer"); lh=$(blob "$d/layer")
	printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$icfg" "$lh" > "$d/config"
	csize=$(stat -c %s "$d/config"); ch=$(blob "$d/config")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"$ch" "$csize" "$lh" "$lsize" > "$d/manifest"
	msize=$(stat -c %s "$d/manifest"); mh=$(blob "$d/manifest")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
		"$mh" "$msize" "$name" > "$d/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$d/oci-layout"
	tar -C "$d" -cf "$out" oci-layout index.json blobs
	rm -rf "$d"
}

# The runtime entry a Kubernetes node would write (CRI plugin, runc shim, BinaryName).
# The pod sandbox ("pause") image is our busybox with a loop as entrypoint.
cat > "$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
[grpc]
  address = "$CD/containerd.sock"
[ttrpc]
  address = "$CD/containerd.sock.ttrpc"
[debug]
  address = "$CD/debug.sock"
[metrics]
  address = ""
EOF
cri_plugin_toml "$CD" "$RUNC_ROOT" >> "$CD/config.toml"

cd_stop() {
	local id
	if [ -S "$CD/containerd.sock" ]; then
		for id in $(cri pods-q 2>/dev/null); do cri stop-pod "$id"; cri rm-pod "$id"; done >/dev/null 2>&1
		for id in $(c task ls -q 2>/dev/null); do
			c task kill -s KILL "$id" >/dev/null 2>&1
			c task delete -f "$id" >/dev/null 2>&1
		done
		for id in $(c containers ls -q 2>/dev/null); do c containers rm "$id" >/dev/null 2>&1; done
	fi
	if [ -n "${CD_PID:-}" ]; then
		kill "$CD_PID" 2>/dev/null
		wait "$CD_PID" 2>/dev/null
	fi
	awk -v d="$CD" '$5 ~ "^"d {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$CD"
}
trap cd_stop EXIT

c() { ctr --address "$CD/containerd.sock" "$@"; }
# ctr run with hutch as the runc binary of the runc shim
crun_h() { c run --runc-binary "$HUTCH" --runc-root "$RUNC_ROOT" "$@"; }

containerd --config "$CD/config.toml" > "$CD/containerd.log" 2>&1 &
CD_PID=$!
for ((i = 0; i < 100; i++)); do c version >/dev/null 2>&1 && break; sleep 0.1; done
c version >/dev/null 2>&1 || { sed 's/^/# /' "$CD/containerd.log"; echo "not ok - 85-containerd: containerd did not start"; exit 1; }
mkoci "$ROOTFS_TEMPLATE" "$CD/image.tar"
c image import "$CD/image.tar" >/dev/null ||
	{ echo "not ok - 85-containerd: ctr image import"; exit 1; }
# the same images for the CRI plugin (namespace k8s.io), plus the pod sandbox image
mkoci "$ROOTFS_TEMPLATE" "$CD/pause.tar" localhost/hutch-pause:latest \
	'{"Env":["PATH=/bin"],"Entrypoint":["/bin/sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]}'
c -n k8s.io image import "$CD/image.tar" >/dev/null && c -n k8s.io image import "$CD/pause.tar" >/dev/null ||
	{ echo "not ok - 85-containerd: ctr -n k8s.io image import"; exit 1; }

need_pause() { "$HUTCH" help pause >/dev/null 2>&1 || skip "hutch has no pause/resume command yet (issue 4, cgroup branch)"; }

task_status() { c task ls | awk -v id="$1" '$1 == id {print $3}'; }
LOOP='trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done'

# re-evaluated on every try of wait_for
task_is() { [ "$(task_status "$1")" = "$2" ]; }
task_procs_at_least() { [ "$(c task ps "$1" | tail -n +2 | wc -l)" -ge "$2" ]; }

test_run_output_and_exit_code() {
	local out rc=0
	out=$(crun_h --rm "$IMG" r1 echo hello-from-hutch)
	assert_eq hello-from-hutch "$out"
	crun_h --rm "$IMG" r2 sh -c 'exit 3' || rc=$?
	assert_eq 3 "$rc" "exit code through ctr run"
	assert_eq "" "$(c containers ls -q)" "containers left after --rm"
	assert_eq "" "$(ls -A "$RUNC_ROOT/default" 2>/dev/null)" "hutch state left after --rm"
}

test_task_exec_ps_kill_delete() {
	local out rc=0 pid
	crun_h -d "$IMG" t1 sh -c "$LOOP" >/dev/null
	wait_for task_is t1 RUNNING
	pid=$(c task ls | awk '$1 == "t1" {print $2}')
	# hutch sees the container the shim created, with the same init pid
	assert_eq "$pid" "$("$HUTCH" --root "$RUNC_ROOT/default" state t1 | jq -r .pid)" "init pid"
	out=$(c task exec --exec-id e1 t1 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "')
	assert_contains "$out" in-exec
	assert_contains "$out" "sh -c trap"
	c task exec --exec-id e2 t1 sh -c 'exit 4' || rc=$?
	assert_eq 4 "$rc" "exit code through task exec"
	c task exec --exec-id e3 --cwd /tmp --user 1000 t1 sh -c 'echo $(pwd) $(id -u)' > out
	assert_eq "/tmp 1000" "$(cat out)" "exec cwd/user"
	out=$(c task ps t1)
	assert_contains "$out" "$pid"
	c task kill -s TERM t1
	wait_for task_is t1 STOPPED
	out=$(c task delete t1 2>&1)
	c containers rm t1
	assert_eq "" "$(ls -A "$RUNC_ROOT/default" 2>/dev/null)" "hutch state left after delete"
}

test_task_kill_all_and_sigkill() {
	crun_h -d "$IMG" k1 sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null
	wait_for task_is k1 RUNNING
	wait_for task_procs_at_least k1 3
	c task kill -a -s KILL k1
	wait_for task_is k1 STOPPED
	c task delete k1 >/dev/null
	c containers rm k1
}

test_task_pause_resume() {
	need_pause
	crun_h -d "$IMG" p1 sh -c "$LOOP" >/dev/null
	wait_for task_is p1 RUNNING
	c task pause p1
	assert_eq PAUSED "$(task_status p1)"
	assert_eq paused "$("$HUTCH" --root "$RUNC_ROOT/default" state p1 | jq -r .status)"
	c task resume p1
	assert_eq RUNNING "$(task_status p1)"
	c task kill -s KILL p1
	wait_for task_is p1 STOPPED
	c task delete p1 >/dev/null
	c containers rm p1
}

# The CRI gRPC API, as the kubelet drives it (tests/clients/cri.py; no crictl in Debian 12).
cri() { /usr/bin/python3 "$TOP/tests/clients/cri.py" "$CD/containerd.sock" "$@"; }

test_cri_runtime_entry_with_binaryname() {
	/usr/bin/python3 -c 'import grpc' 2>/dev/null || skip "python3-grpcio missing (make deps)"
	local pod cid out
	# the pod sandbox and a container, both through the "hutch" runtime entry
	pod=$(cri run-pod pod1 hutch)
	assert_eq running "$("$HUTCH" --root "$RUNC_ROOT/k8s.io" state "$pod" | jq -r .status)" "sandbox in hutch's state"
	cid=$(cri create "$pod" ctr1 hutch "$IMG" sh -c 'trap "exit 0" TERM; echo up; while :; do sleep 0.1; done')
	cri start "$cid"
	assert_eq "RUNNING 0" "$(cri status "$cid")"
	# it joined the sandbox's pid namespace (the pod's "pause" loop is visible)
	out=$(cri exec "$cid" sh -c 'echo via-cri; ps')
	assert_contains "$out" via-cri
	assert_contains "$out" 'while :; do sleep 1'
	cri_finish "$pod" "$cid"
	assert_eq "" "$(ls -A "$RUNC_ROOT/k8s.io" 2>/dev/null)" "hutch state left after RemovePodSandbox"
}

run_tests
