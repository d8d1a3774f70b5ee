# shellcheck shell=bash
# Shared helpers for the integration suites. Source it, define test_* functions,
# then call run_tests. Each test runs in its own subshell under `set -e`; a test
# passes when its function returns 0. Output follows tests/run's protocol.

: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${HUTCH:=$TOP/helper/hutch}"
ROOTFS_TEMPLATE=${ROOTFS_TEMPLATE:-$TOP/build/rootfs}
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/hutch-$T_NAME.XXXXXX")
chmod 755 "$T_TMP"   # containers with a user namespace must reach their bundles
T_ROOT=$T_TMP/state
mkdir -p "$T_ROOT"

# jq is gojq where installed: the same language, but jq 1.6 compiles its builtins at every
# start (~170M instructions, 0.3-0.4 s a call under the VM's TCG, where the suites spend
# most of their time in jq); gojq starts in ~1% of that. HUTCH_TEST_JQ=jq keeps jq.
if [ "${HUTCH_TEST_JQ:-gojq}" = gojq ] && command -v gojq >/dev/null; then
	mkdir -p "$T_TMP/bin"
	ln -s "$(command -v gojq)" "$T_TMP/bin/jq"
	PATH=$T_TMP/bin:$PATH
fi

# How many containers the tests of concurrency start at once: 20, or HUTCH_TEST_PARALLEL
# (the VM harness runs them with 8: one TCG CPU starts a container in ~0.3 s).
# shellcheck disable=SC2034 # (used by the suites)
T_PARALLEL=${HUTCH_TEST_PARALLEL:-20}

# hutch with this suite's private state root (HUTCH_TEST_SYSTEMD=1: with the systemd
# cgroup driver, as 45-systemd.sh runs 40-cgroups.sh).
hutch() { "$HUTCH" --root "$T_ROOT" ${HUTCH_TEST_SYSTEMD:+--systemd-cgroup} "$@"; }

fail() { echo "# FAIL: $*" >&2; return 1; }

assert_eq() { # expected actual [what]
	[ "$1" == "$2" ] || fail "${3:-value}: expected [$1], got [$2]"
}
assert_contains() { # haystack needle [what]
	[[ $1 == *"$2"* ]] || fail "${3:-output}: [$1] does not contain [$2]"
}
assert_not_contains() {
	[[ $1 != *"$2"* ]] || fail "${3:-output}: [$1] contains [$2]"
}
assert_match() { # string regex [what]
	[[ $1 =~ $2 ]] || fail "${3:-output}: [$1] does not match /$2/"
}

# expect_fail MSG cmd...: the command must fail and its stderr must contain MSG.
expect_fail() {
	local msg=$1 out rc=0
	shift
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure of: $* (exit 0)"
	[[ $out == *"$msg"* ]] || fail "error of [$*] is [$out], expected it to contain [$msg]"
}

# new_bundle DIR [ARGS...]: a bundle with a private copy of the busybox rootfs and
# the default config from `hutch spec`, process.args set to ARGS (default sh).
new_bundle() {
	local dir=$1
	shift
	mkdir -p "$dir"
	cp -a "$ROOTFS_TEMPLATE" "$dir/rootfs"
	(cd "$dir" && "$HUTCH" spec)
	if [ $# -gt 0 ]; then
		cfg "$dir" ".process.args = $(json_array "$@") | .process.terminal = false"
	else
		cfg "$dir" '.process.terminal = false'
	fi
}

# json_array ARGS...: the arguments as a JSON array of strings (no jq: it is called often).
json_array() {
	local a out= sep=
	for a in "$@"; do
		a=${a//\\/\\\\}
		a=${a//\"/\\\"}
		a=${a//$'\n'/\\n}
		a=${a//$'\t'/\\t}
		a=${a//$'\r'/\\r}
		out+=$sep\"$a\"
		sep=,
	done
	echo "[$out]"
}

# as_uid UID CMD...: CMD as uid and gid UID, without supplementary groups or inheritable caps.
as_uid() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all "$@"
}

# rootless_bundle DIR UID JQ-EXPR [JQ-ARGS...]: a bundle owned by UID: a copy of the busybox
# rootfs and the config `hutch spec --rootless` writes when UID runs it, edited by JQ-EXPR
# (with JQ-ARGS, e.g. --arg NAME VALUE) and process.terminal false.
rootless_bundle() {
	local dir=$1 uid=$2 expr=$3
	shift 3
	mkdir -p "$dir"
	cp -a "$ROOTFS_TEMPLATE" "$dir/rootfs"
	chown -R "$uid:$uid" "$dir"
	as_uid "$uid" sh -c "cd '$dir' && '$HUTCH' spec --rootless"
	jq "$@" ".process.terminal = false | $expr" "$dir/config.json" > "$dir/c"
	chown "$uid:$uid" "$dir/c"
	mv "$dir/c" "$dir/config.json"
}

# containers_conf DIR MANAGER: DIR/containers.conf and DIR/storage.conf for podman or buildah
# on hutch's suites: storage (vfs), runroot, tmp dir and event log under DIR, no network,
# rlimits within the hard limit (the defaults are above it on these machines), the cgroup
# manager MANAGER (cgroupfs or systemd). Use with CONTAINERS_CONF/CONTAINERS_STORAGE_CONF.
containers_conf() {
	mkdir -p "$1/tmp"
	cat >"$1/containers.conf" <<-EOF
		[containers]
		netns = "none"
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		[engine]
		cgroup_manager = "$2"
		events_logger = "file"
		events_logfile_path = "$1/events.log"
		tmp_dir = "$1/tmp"
	EOF
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/runroot"\n' "$1" "$1" >"$1/storage.conf"
}

# podman_setup: Debian's podman (with conmon) on hutch for a suite (80-podman.sh,
# 66-podman-checkpoint.sh): a private storage, config and run state under PM (outside
# $T_TMP: podman tears its storage down itself first, pm_cleanup at the suite's exit), `pm`
# (podman --runtime $HUTCH, cgroupfs, vfs), IMG (localhost/hutch-busybox imported from
# build/rootfs: no registry). Podman 4.3 does not pass --runtime-flag to `delete`, so
# hutch keeps podman's containers in its default root PM_HUTCH_ROOT (as runc does with
# /run/runc); ids are podman's own. Ends the suite with one "not ok" line if the import fails.
podman_setup() {
	PM=$(mktemp -d /tmp/hutch-podman.XXXXXX)
	IMG=localhost/hutch-busybox
	PM_HUTCH_ROOT=/run/hutch
	containers_conf "$PM" cgroupfs
	export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf
	PM_HAD_LIBPOD_PARENT=false PM_HAD_LIBPOD_LOCK=false
	! ls -d /sys/fs/cgroup/*libpod_parent /sys/fs/cgroup/*/libpod_parent >/dev/null 2>&1 ||
		PM_HAD_LIBPOD_PARENT=true
	[ ! -e /dev/shm/libpod_lock ] || PM_HAD_LIBPOD_LOCK=true
	trap pm_cleanup EXIT
	tar -C "$ROOTFS_TEMPLATE" -c . | pm import -q - "$IMG" >/dev/null ||
		{ echo "not ok - $T_NAME: import the busybox rootfs as $IMG"; exit 1; }
}

pm() {
	podman --root "$PM/root" --runroot "$PM/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --runtime "$HUTCH" "$@"
}

pm_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1 || true
	pm rmi -a -f >/dev/null 2>&1 || true
	# vfs layers may hold read-only dirs; podman's storage is ours alone
	umount -R "$PM/root" 2>/dev/null || true
	umount -R "$PM/runroot" 2>/dev/null || true
	rm -rf "$PM"
	# what podman creates outside its storage: conmon's cgroup and the shm lock file
	if ! $PM_HAD_LIBPOD_PARENT; then
		find /sys/fs/cgroup -depth -type d -path '*/libpod_parent*' -exec rmdir {} + 2>/dev/null
	fi
	$PM_HAD_LIBPOD_LOCK || rm -f /dev/shm/libpod_lock
	return 0
}

# criu_works: CRIU is installed and `criu check` passes on this kernel (the VM guests'; not
# this development host's 6.18, see README's Checkpoint and restore)
# skip_suite REASON: the whole suite is skipped (one line), its temp dir removed.
skip_suite() {
	echo "ok - $T_NAME: all # SKIP $*"
	rm -rf "$T_TMP"
	exit 0
}
criu_works() { command -v criu >/dev/null && criu check >/dev/null 2>&1; }
need_criu() {
	command -v criu >/dev/null || skip "criu is not installed (make deps)"
	criu_works || skip "\`criu check\` fails on this kernel ($(uname -r)): CRIU cannot run here"
}

# cfg BUNDLE JQ-EXPR: edit BUNDLE/config.json in place.
cfg() {
	local f=$1/config.json
	jq "$2" "$f" > "$f.new" && mv "$f.new" "$f"
}

# A snapshot of everything a container may leave on the host.
host_snapshot() {
	{
		echo "== mounts"
		# this suite's files, and places a runtime could leak into
		awk '{print $5, $9}' /proc/self/mountinfo |
			grep -E "^($T_TMP|/run/hutch|/sys/fs/cgroup|/dev|/proc)" | sort
		echo "== cgroups"
		find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path '*hutch*' 2>/dev/null | sort
		echo "== state"
		ls -A "$T_ROOT" 2>/dev/null
	}
}

# host_snapshot_of PATTERN: host_snapshot with only the cgroups matching PATTERN (a suite's
# own ids): other suites may be making cgroups meanwhile.
host_snapshot_of() {
	host_snapshot | awk -v p="$1" '/^== cgroups/ { c = 1; print; next } /^==/ { c = 0 } !c || $0 ~ p'
}

# assert_clean SNAPSHOT-FILE [PATTERN]: nothing new since the snapshot (host_snapshot, or
# host_snapshot_of PATTERN) was taken.
assert_clean() {
	local now
	if [ -n "${2:-}" ]; then
		now=$(host_snapshot_of "$2")
	else
		now=$(host_snapshot)
	fi
	if [ "$now" != "$(cat "$1")" ]; then
		diff <(cat "$1") <(echo "$now") | sed 's/^/# /' >&2
		fail "host state changed: something was left behind"
	fi
}

# wait_for_s SECONDS CMD...: retry CMD every 50 ms until it succeeds, for up to SECONDS.
wait_for_s() {
	local i n=$(($1 * 20))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $*"
}
# wait_for CMD...: retry for up to 5 s.
wait_for() { wait_for_s 5 "$@"; }

status_of() { hutch state "$1" | jq -r .status; }

# cri_plugin_toml DIR ROOT [OPTION...]: containerd's CRI plugin config as a Kubernetes node
# writes it: a runtime entry "hutch" (runc shim, BinaryName = hutch, Root = ROOT, then each
# OPTION line, e.g. "SystemdCgroup = true") as the default, host-network pods (the CNI dirs
# under DIR stay empty), the pause image localhost/hutch-pause. This host denies lowering
# oom_score_adj even to root (no CAP_SYS_RESOURCE; runc fails the same way), so the
# sandbox's -998 is clamped with restrict_oom_score_adj, as on such nodes.
cri_plugin_toml() {
	local dir=$1 root=$2 o
	shift 2
	cat <<-EOF
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "localhost/hutch-pause:latest"
		  restrict_oom_score_adj = true
		  disable_apparmor = true
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "$dir/cni-bin"
		    conf_dir = "$dir/cni-conf"
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    default_runtime_name = "hutch"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hutch]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hutch.options]
		        BinaryName = "$HUTCH"
		        Root = "$root"
	EOF
	for o in "$@"; do echo "        $o"; done
}

# cri_finish POD CID: through the suite's `cri` (tests/clients/cri.py), as the kubelet ends
# a pod: ExecSync passes the exit code, StopContainer, RemoveContainer, StopPodSandbox,
# RemovePodSandbox.
cri_finish() {
	local rc=0
	cri exec "$2" sh -c 'exit 6' || rc=$?
	assert_eq 6 "$rc" "exit code through ExecSync"
	cri stop "$2"
	assert_eq "EXITED 0" "$(cri status "$2")"
	cri rm "$2"
	cri stop-pod "$1"
	cri rm-pod "$1"
}

# Remove every container this suite left in its root.
cleanup_containers() {
	local id
	# newest first: a parent cgroup directory goes with the container that made it, the oldest
	for id in $(ls -t "$T_ROOT" 2>/dev/null); do
		hutch delete --force "$id" >/dev/null 2>&1 || true
	done
}

run_tests() {
	local t rc names
	names=$(declare -F | awk '{print $3}' | grep '^test_' || true)
	if [ -n "${TESTS:-}" ]; then
		names=$(grep -E "$TESTS" <<<"$names" || true)
	fi
	for t in $names; do
		# HUTCH_TEST_DEADLINE (epoch seconds; the VM harness sets it from its time limit):
		# once it has passed, the remaining tests are reported as skipped, not started.
		if [ -n "${HUTCH_TEST_DEADLINE:-}" ] && [ "$(date +%s)" -ge "$HUTCH_TEST_DEADLINE" ]; then
			echo "ok - $T_NAME: ${t#test_} # SKIP out of time (HUTCH_TEST_DEADLINE)"
			continue
		fi
		# not in a `||` list: there errexit would be ignored inside the subshell
		set +e
		local t0=${EPOCHREALTIME/./}
		(
			set -eE
			mkdir -p "$T_TMP/$t"
			cd "$T_TMP/$t"
			"$t"
		)
		rc=$?
		cleanup_containers
		# HUTCH_TEST_TIMES=1 (the VM harness): how long each test took, for the budget.
		[ -z "${HUTCH_TEST_TIMES:-}" ] ||
			echo "#   ${t#test_} took $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
		if [ "$rc" -eq 0 ]; then
			echo "ok - $T_NAME: ${t#test_}"
		elif [ "$rc" -eq 77 ]; then
			# the reason skip() gave, on the TAP line itself
			echo "ok - $T_NAME: ${t#test_} # SKIP $(cat "$T_TMP/.skip-reason" 2>/dev/null)"
			rm -f "$T_TMP/.skip-reason"
		else
			echo "not ok - $T_NAME: ${t#test_}"
		fi
	done
	rm -rf "$T_TMP"
}

# skip REASON: end the current test as skipped.
skip() { echo "# SKIP: $*" >&2; printf '%s' "$*" 2>/dev/null > "$T_TMP/.skip-reason"; exit 77; }
