#!/bin/bash
# Container escapes: one test per class of the runc/crun advisories, named after it, each
# really attempting the attack the advisory describes, so that it would succeed against a
# vulnerable runtime. Races are made deterministic where a createContainer hook (which runs
# in the container's mount namespace, between the mounts and pivot_root) can put in place
# what the race would have. CVE-2019-5736 (the runtime binary through /proc/self/exe) is
# tests/integration/50-security.sh: runtime_binary_not_writable_through_proc_exe.
source "$(dirname "$0")/../lib.sh"

HELPERS=$TOP/build/test

# Like host_snapshot/assert_clean, but only this suite's cgroups ("esc-...").
esc_snapshot() { host_snapshot_of esc-; }
esc_assert_clean() { assert_clean "$1" esc-; }

# A relative path that, from any directory outside the container's root, walks up to the
# host's / and on to FILE (from inside the root, ".." stops at its top).
up_to() { printf '../%.0s' {1..40}; echo "${1#/}"; }

# add_hook BUNDLE SCRIPT: a createContainer hook running `sh -c SCRIPT`.
add_hook() {
	local f=$1/config.json
	jq --arg s "$2" '.hooks.createContainer += [{path: "/bin/sh", args: ["sh", "-c", $s]}]' \
		"$f" > "$f.new" && mv "$f.new" "$f"
}

# CVE-2024-21626 ("leaky vessels"): process.cwd of /proc/self/fd/N, for every N a runtime
# could have open, would make a directory fd of the runtime the cwd, outside the root;
# from there ../../.. reaches the host's /. Each run must fail, or run with a cwd that
# does not see the host's file.
test_cve_2024_21626_cwd_proc_self_fd() {
	local n out tpl
	echo "host-secret-21626" > "$T_TMP/marker-21626"
	new_bundle b sh -c "cat $(up_to "$T_TMP/marker-21626") 2>/dev/null; echo cwd=\$(pwd)"
	cfg b '.process.cwd = "/CWD"'
	tpl=$(cat b/config.json)
	esc_snapshot > snap
	# one at a time (in parallel, the VM's TCG guest takes twice as long)
	for ((n = 3; n <= 64; n++)); do
		echo "${tpl/\"\/CWD\"/\"/proc/self/fd/$n\"}" > c.json
		out=$(hutch run -b b --config c.json esc-cwd 2>&1) || continue
		assert_not_contains "$out" "host-secret-21626" "process.cwd /proc/self/fd/$n"
		hutch delete -f esc-cwd >/dev/null 2>&1 || true
	done
	esc_assert_clean snap
	# a missing cwd is made, inside the root
	echo "${tpl/\"\/CWD\"/\"/made/by/hutch\"}" > b/config.json
	out=$(hutch run -b b esc-cwd 2>&1)
	assert_contains "$out" "cwd=/made/by/hutch"
	[ -d b/rootfs/made/by/hutch ] || fail "process.cwd not created in the rootfs"
}

# The same through `exec --cwd`: the exec'd process is handed no fd of the runtime either.
test_cve_2024_21626_exec_cwd_proc_self_fd() {
	local n out
	echo "host-secret-21626" > "$T_TMP/marker-21626e"
	new_bundle b sleep 1000
	hutch run -d -b b esc-exec
	for ((n = 3; n <= 64; n++)); do
		out=$(hutch exec --cwd "/proc/self/fd/$n" esc-exec \
			sh -c "cat $(up_to "$T_TMP/marker-21626e") 2>/dev/null; pwd" 2>&1) || true
		assert_not_contains "$out" "host-secret-21626" "exec --cwd /proc/self/fd/$n"
	done
}

# A leaked fd of any kind: the container's init and an exec'd process hold stdio and what
# --preserve-fds passes, nothing else (seen from the host, in /proc/PID/fd).
test_cve_2024_21626_no_leaked_fd() {
	local pid out
	fds_of() { ls "/proc/$1/fd" | sort -n | xargs; }
	new_bundle b sleep 1000
	hutch create -b b --preserve-fds 1 esc-fd 3</dev/null
	hutch start esc-fd
	pid=$(hutch state esc-fd | jq .pid)
	assert_eq "0 1 2 3" "$(fds_of "$pid")" "fds of the container's init (--preserve-fds 1)"
	assert_eq "0 1 2 3" "$(hutch exec esc-fd ls /proc/1/fd | xargs)" "/proc/1/fd seen inside"
	hutch exec -d --pid-file p1 esc-fd sleep 1000
	assert_eq "0 1 2" "$(fds_of "$(cat p1)")" "fds of an exec'd process"
	hutch exec -d --pid-file p2 --preserve-fds 2 esc-fd sleep 1000 3</dev/null 4</dev/null
	assert_eq "0 1 2 3 4" "$(fds_of "$(cat p2)")" "fds of an exec'd process (--preserve-fds 2)"
	# a preserved fd that is not open could be one of hutch's own: refused
	expect_fail "--preserve-fds 1: fd 3 is not open" hutch exec --preserve-fds 1 esc-fd true 3<&-
	# The read-only clone hutch re-executes from (CVE-2019-5736) stays open across the
	# re-execution, so that its release overlaps the program: with stdin closed and fd 4
	# free, /proc/self/exe takes fd 0 and the clone fd 4 before the re-execution, where
	# it is still open (with hutch.ko, its socket takes fd 4 the same way). Counting
	# either as the caller's would pass it to the container.
	# (the fds closed in the command substitution's own shell, whose pipe is fd 1 then)
	out=$(exec 0<&- 3</dev/null 4<&- && hutch exec --preserve-fds 2 esc-fd ls /proc/self/fd 2>&1) &&
		fail "exec --preserve-fds 2 with fd 4 not open passed, the program saw: $out"
	assert_contains "$out" "--preserve-fds 2: fd 4 is not open" "exec with the clone at fd 4"
	out=$(exec 0<&- 3</dev/null 4<&- && hutch create -b b --preserve-fds 2 esc-fd2 2>&1) &&
		fail "create --preserve-fds 2 with fd 4 not open passed"
	assert_contains "$out" "--preserve-fds 2: fd 4 is not open" "create with the clone at fd 4"
	expect_fail "esc-fd2" hutch state esc-fd2   # nothing left of it
	# a foreground exec and run: the program sees stdio and its own directory fd only
	assert_eq "0 1 2 3" "$(hutch exec esc-fd ls /proc/self/fd 0</dev/null | xargs)" \
		"/proc/self/fd of a foreground exec"
	cfg b '.process.args = ["ls", "/proc/self/fd"]'
	assert_eq "0 1 2 3" "$(hutch run -b b esc-fd3 0</dev/null | xargs)" \
		"/proc/self/fd of a foreground run"
}

# attack_over_proc ID MOUNT LSM-FIELD LSM-VALUE: run b (whose process prints its
# attr/current and "ran") with MOUNT (a mounts[] entry, JSON) added and, when LSM-VALUE is not
# empty, LSM-FIELD set to it. The mount must be refused; were it not, the process must
# still carry the LSM label (the runtime's write to /proc/self/attr/exec not lost under
# the mount).
attack_over_proc() {
	local id=$1 mount=$2 field=$3 value=$4 dest out
	dest=$(jq -r .destination <<<"$mount")
	[ -z "$value" ] || cfg b ".process.$field = \"$value\""
	[ -n "$value" ] || echo "# no $field here (its LSM is not enabled): the mount is attempted without" >&2
	cfg b ".mounts += [$mount]"
	esc_snapshot > snap
	out=$(hutch run -b b "$id" 2>&1) && {
		[ -n "$value" ] || fail "a mount over /proc at $dest was allowed: $out"
		assert_contains "$out" "$value" "the label of a process run despite the mount"
	}
	assert_contains "$out" "destination \`$dest\` is on procfs"
	esc_assert_clean snap
}

# CVE-2019-16884: a mount destination that is a link to /proc in the rootfs puts a
# directory of the image over /proc, where the runtime writes the LSM profile
# (attr/exec): the write lands in a plain file and the process runs unconfined. Refused;
# where AppArmor is loaded, with a profile requested, the process never runs unconfined.
test_cve_2019_16884_mount_over_proc_via_symlink() {
	local aa=
	mkdir -p fakeproc/self/attr/apparmor
	: > fakeproc/self/attr/exec
	: > fakeproc/self/attr/apparmor/exec
	new_bundle b sh -c 'cat /proc/self/attr/current; echo ran'
	ln -s /proc b/rootfs/evil
	if grep -qs Y /sys/module/apparmor/parameters/enabled && command -v apparmor_parser >/dev/null; then
		printf 'profile hutch-esc-16884 flags=(attach_disconnected) {\n file,\n capability,\n mount,\n umount,\n pivot_root,\n}\n' > p
		apparmor_parser -K -r p
		trap 'apparmor_parser -R p 2>/dev/null || true' EXIT
		aa=hutch-esc-16884
	fi
	attack_over_proc esc-16884 "{\"destination\": \"/evil\", \"source\": \"$PWD/fakeproc\", \"options\": [\"rbind\"]}" \
		apparmorProfile "$aa"
	# the files lxcfs replaces may be covered, named by their real path only
	echo fake-cpuinfo > cpuinfo
	cfg b "del(.process.apparmorProfile) | .process.args = [\"cat\", \"/proc/cpuinfo\"] |
		.mounts[-1] = {destination: \"/proc/cpuinfo\", source: \"$PWD/cpuinfo\", options: [\"bind\"]}"
	assert_eq fake-cpuinfo "$(hutch run -b b esc-16884)" "/proc/cpuinfo from a bind mount"
	ln -s /proc/cpuinfo b/rootfs/evilcpu
	cfg b '.mounts[-1].destination = "/evilcpu"'
	expect_fail 'destination `/evilcpu` is on procfs' hutch run -b b esc-16884
}

# CVE-2023-27561 (16884 again, through a volume): a filesystem mount whose destination
# leads through a relative link into /proc (here /proc/self/attr, where the labels are
# written). Refused, with SELinux as with AppArmor.
test_cve_2023_27561_volume_through_symlink_into_proc() {
	local se=
	new_bundle b sh -c 'cat /proc/self/attr/current; echo; echo ran'
	mkdir -p b/rootfs/data
	ln -s ../proc/self/attr b/rootfs/data/vol
	[ -z "$(ls /sys/fs/selinux/class 2>/dev/null)" ] || se=system_u:system_r:svirt_t:s0
	attack_over_proc esc-27561 '{"destination": "/data/vol", "type": "tmpfs", "source": "tmpfs", "options": ["rw"]}' \
		selinuxLabel "$se"
}

# CVE-2021-30465: a mount destination swapped for a symlink while the container is made.
# Another process (here on the host, as a second container sharing the volume would)
# keeps turning vol/dst into a link that, followed outside the root, leads to a host
# directory; a hook in the container's mount namespace records any mount there.
test_cve_2021_30465_mount_destination_symlink_race() {
	local i racer
	mkdir -p shared victim
	new_bundle b true
	cfg b ".mounts += [{destination: \"/vol\", source: \"$PWD/shared\", options: [\"rbind\"]},
		{destination: \"/vol/dst\", type: \"tmpfs\", source: \"tmpfs\", options: [\"rw\"]},
		{destination: \"/vol/dst/sub\", source: \"$PWD/shared\", options: [\"rbind\"]}]"
	add_hook b "grep -q ' $PWD/victim' /proc/self/mountinfo && touch $PWD/escaped; true"
	(
		link=$(up_to "$PWD/victim")
		while :; do
			mkdir -p shared/dst 2>/dev/null || true
			rm -rf shared/dst 2>/dev/null || true
			ln -sfn "$link" shared/dst 2>/dev/null || true
			rm -rf shared/dst 2>/dev/null || true
		done
	) &
	racer=$!
	# as many creates as containers the concurrency tests start (fewer in the VM's guest)
	for ((i = 0; i < 2 * T_PARALLEL; i++)); do
		hutch run -b b esc-30465 >/dev/null 2>&1 || true
		hutch delete -f esc-30465 >/dev/null 2>&1 || true
	done
	kill "$racer"
	wait "$racer" 2>/dev/null || true
	[ ! -e escaped ] || fail "a mount landed on $PWD/victim, outside the rootfs"
	[ -z "$(ls -A victim)" ] || fail "files made in $PWD/victim, outside the rootfs"
}

# CVE-2022-29162: the inheritable set is empty unless process.capabilities.inheritable
# asks, whatever the caller of the runtime had there (then execve of a file with
# inheritable file capabilities would gain them).
test_cve_2022_29162_inheritable_caps_empty() {
	command -v setpriv >/dev/null || skip "setpriv missing"
	local out
	new_bundle b grep CapInh /proc/self/status
	out=$(setpriv --inh-caps=+net_raw,+sys_admin "$HUTCH" --root "$T_ROOT" run -b b esc-29162)
	assert_contains "$out" "CapInh:	0000000000000000" "with process.capabilities (none inheritable)"
	cfg b 'del(.process.capabilities)'
	out=$(setpriv --inh-caps=+net_raw,+sys_admin "$HUTCH" --root "$T_ROOT" run -b b esc-29162)
	assert_contains "$out" "CapInh:	0000000000000000" "without process.capabilities"
	cfg b '.process.capabilities = {bounding: ["CAP_NET_RAW"], inheritable: ["CAP_NET_RAW"]}'
	out=$(hutch run -b b esc-29162)
	assert_contains "$out" "CapInh:	0000000000002000" "what the config asks for"
	new_bundle c sleep 1000
	hutch run -d -b c esc-29162e
	out=$(setpriv --inh-caps=+net_raw,+sys_admin "$HUTCH" --root "$T_ROOT" exec esc-29162e grep CapInh /proc/self/status)
	assert_contains "$out" "CapInh:	0000000000000000" "exec"
}

# CVE-2023-25809: a rootless container must not write to the host's cgroup hierarchy of
# the user running it. The user gets a delegated cgroup of its own (as systemd gives
# user@.service), hutch runs in it; inside, the container tries to make cgroups in every
# hierarchy it sees: with the config of `spec --rootless`, and without its cgroup mount
# (left with the "rbind, ro" /sys, whose submounts rootless runc left writable).
test_cve_2023_25809_rootless_cgroup_not_writable() {
	command -v setpriv >/dev/null || skip "setpriv missing"
	local uid=4242 uni=/sys/fs/cgroup deleg out found variant
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || uni=/sys/fs/cgroup/unified
	[ -d "$uni" ] || skip "no cgroup2 hierarchy"
	deleg=$uni/esc-25809-$$
	mkdir "$deleg"
	trap "find '$deleg' -depth -type d -exec rmdir {} + 2>/dev/null || true" EXIT
	chown -R "$uid:$uid" "$deleg"
	for variant in '.' 'del(.mounts[] | select(.destination == "/sys/fs/cgroup"))'; do
		rm -rf r
		rootless_bundle r "$uid" '.process.args = ["sh", "-c",
			"for d in /sys/fs/cgroup /sys/fs/cgroup/* /sys/fs/cgroup/*/*; do [ -d $d ] && mkdir $d/esc-25809-made 2>/dev/null && echo made in $d; done; true"] | '"$variant"
		out=$(sh -c "echo \$\$ > '$deleg/cgroup.procs' && exec setpriv --reuid=$uid --regid=$uid --clear-groups --inh-caps=-all '$HUTCH' --root '$PWD/r/state' run -b '$PWD/r' esc-25809" 2>&1) ||
			fail "rootless run ($variant): $out"
		found=$(find /sys/fs/cgroup -maxdepth 6 -name esc-25809-made 2>/dev/null)
		[ -z "$found" ] || fail "the rootless container ($variant) made cgroups on the host: $out"
	done
}

# CVE-2025-31133: maskedPaths bind the container's /dev/null over files; with /dev/null
# swapped (by a race; here by a hook) for a link to a procfs file or for another file,
# the "mask" would bind that instead: a window on a host-wide file. Refused.
test_cve_2025_31133_masked_paths_dev_null_swapped() {
	local out how
	new_bundle b sh -c 'cat /etc/masked-31133; echo ran'
	echo "not-masked" > b/rootfs/etc/masked-31133
	cfg b '.linux.maskedPaths += ["/etc/masked-31133"]'
	for how in "ln -sf /proc/sys/kernel/core_pattern" "cp /etc/passwd"; do
		cfg b 'del(.hooks)'
		add_hook b "rm -f '$PWD/b/rootfs/dev/null'; $how '$PWD/b/rootfs/dev/null'"
		esc_snapshot > snap
		out=$(hutch run -b b esc-31133 2>&1) || true
		assert_not_contains "$out" "ran" "a container with a swapped /dev/null ($how)"
		assert_contains "$out" "the container's /dev/null is not the null device"
		esc_assert_clean snap
	done
}

# CVE-2025-52565: with process.terminal, /dev/console replaced by a link (the race; here a
# hook) must not get the pty bound over the link's target. hutch binds nothing at
# /dev/console: the target stays an ordinary file, no mount shows it.
test_cve_2025_52565_dev_console_symlink() {
	[ -x "$HELPERS/console-recv" ] || skip "build/test/console-recv missing (make all)"
	local recv out
	new_bundle b sh -c 'grep -c victim-52565 /proc/self/mountinfo; cat /etc/victim-52565'
	echo "untouched" > b/rootfs/etc/victim-52565
	cfg b '.process.terminal = true'
	add_hook b "ln -sf /etc/victim-52565 '$PWD/b/rootfs/dev/console'"
	"$HELPERS/console-recv" "$T_TMP/c52565.sock" "$T_TMP/c52565.out" '' > ready &
	recv=$!
	wait_for grep -q ready ready
	hutch run -b b --console-socket "$T_TMP/c52565.sock" esc-52565 || true
	wait $recv || true
	out=$(tr -d '\r' < "$T_TMP/c52565.out")
	assert_contains "$out" $'0\nuntouched' "mounts at the console link's target"
}

# CVE-2025-52881: the writes the runtime makes to /proc redirected, by a mount that a
# shared-mount race puts in place (here a hook), to another procfs file: a namespaced
# sysctl (net.ipv4.ip_forward) written into a host-wide one. Refused: nothing written.
test_cve_2025_52881_procfs_write_redirect() {
	local victim=/proc/sys/kernel/printk_ratelimit_burst old out
	old=$(cat $victim)
	trap "echo '$old' > $victim" EXIT
	new_bundle b echo ran
	cfg b '.linux.sysctl = {"net.ipv4.ip_forward": "77"}'
	add_hook b "mount --bind '$PWD/b/rootfs$victim' '$PWD/b/rootfs/proc/sys/net/ipv4/ip_forward'"
	esc_snapshot > snap
	out=$(hutch run -b b esc-52881 2>&1) || true
	assert_eq "$old" "$(cat $victim)" "$victim after the redirected sysctl"
	assert_not_contains "$out" "ran"
	assert_contains "$out" "is redirected"
	esc_assert_clean snap
}

# CVE-2025-52881, the LSM write: /proc/1/attr/.../exec of the container's init covered by
# another procfs file that takes any write (its comm), so that the profile or label would be
# lost without an error. Refused; where AppArmor or SELinux is enabled.
test_cve_2025_52881_lsm_attr_redirect() {
	local field value out
	if grep -qs Y /sys/module/apparmor/parameters/enabled && command -v apparmor_parser >/dev/null; then
		printf 'profile hutch-esc-52881 flags=(attach_disconnected) {\n file,\n capability,\n}\n' > p
		apparmor_parser -K -r p
		trap 'apparmor_parser -R p 2>/dev/null || true' EXIT
		field=apparmorProfile value=hutch-esc-52881
	elif [ -n "$(ls /sys/fs/selinux/class 2>/dev/null)" ]; then
		field=selinuxLabel value=system_u:system_r:svirt_t:s0
	else
		skip "neither AppArmor nor SELinux (with a policy) is enabled on this kernel"
	fi
	new_bundle b sh -c 'cat /proc/self/attr/current; echo; echo ran'
	cfg b ".process.$field = \"$value\""
	add_hook b "for f in attr/apparmor/exec attr/exec; do
		[ ! -e '$PWD/b/rootfs/proc/1/'\$f ] || mount --bind '$PWD/b/rootfs/proc/1/comm' '$PWD/b/rootfs/proc/1/'\$f
	done"
	esc_snapshot > snap
	out=$(hutch run -b b esc-52881a 2>&1) && assert_contains "$out" "$value" "the label of a process run despite the mount"
	assert_contains "$out" "is redirected"
	esc_assert_clean snap
}

# /dev in the rootfs a link to a host directory: the /dev tmpfs and its nodes are made
# inside the rootfs, the host directory stays empty and unmounted.
test_dev_symlink_to_host_dir() {
	local out
	mkdir hostdev
	new_bundle b sh -c 'ls /dev/null && echo ran'
	rm -rf b/rootfs/dev
	ln -s "$PWD/hostdev" b/rootfs/dev
	esc_snapshot > snap
	out=$(hutch run -b b esc-dev 2>&1)
	assert_contains "$out" "ran"
	[ -z "$(ls -A hostdev)" ] || fail "nodes made in the host's directory: $(ls hostdev)"
	! grep -q " $PWD/hostdev " /proc/self/mountinfo || fail "a mount on the host's directory"
	[ -c "b/rootfs$PWD/hostdev/null" ] || [ -d "b/rootfs$PWD/hostdev" ] ||
		fail "the link was not followed inside the rootfs"
	esc_assert_clean snap
}

run_tests
