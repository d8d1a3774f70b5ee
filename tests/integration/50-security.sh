#!/bin/bash
# Process security, hooks and terminals, observed from inside real containers:
# capabilities, no_new_privs and seccomp in /proc/self/status, denied syscalls,
# masked and read-only paths, sysctl, hooks in order with their state, the console
# socket and the foreground terminal, the sealed runtime binary (CVE-2019-5736),
# bad profiles, and a rootless container run by a real unprivileged account.
source "$(dirname "$0")/../lib.sh"

HELPERS=$TOP/build/test
STATUS_GREP='grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status'

# Like host_snapshot/assert_clean, but only this suite's cgroups (ids "sec-..."):
# other suites may be creating cgroups of their own meanwhile.
sec_snapshot() { host_snapshot_of sec-; }
sec_assert_clean() { assert_clean "$1" sec-; }

# set_script BUNDLE SCRIPT: process.args = sh -c SCRIPT (any number of lines)
set_script() {
	local f=$1/config.json
	jq --arg s "$2" '.process.args = ["sh", "-c", $s]' "$f" > "$f.new" && mv "$f.new" "$f"
}

field() { # OUTPUT NAME
	awk -v f="$2:" '$1 == f { print $2 }' <<<"$1"
}

test_capabilities_all_five_sets() {
	new_bundle b sh -c "$STATUS_GREP"
	cfg b '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
		effective: ["CAP_KILL", "CAP_CHOWN"],
		permitted: ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
		inheritable: ["CAP_KILL"],
		ambient: ["CAP_KILL"] } | .process.noNewPrivileges = true'
	out=$(hutch run -b b sec-c1)
	# CHOWN=0, KILL=5, NET_RAW=13; for uid 0 execve makes everything permitted effective
	assert_eq 0000000000002021 "$(field "$out" CapBnd)" CapBnd
	assert_eq 0000000000002021 "$(field "$out" CapEff)" CapEff
	assert_eq 0000000000002021 "$(field "$out" CapPrm)" CapPrm
	assert_eq 0000000000000020 "$(field "$out" CapInh)" CapInh
	assert_eq 0000000000000020 "$(field "$out" CapAmb)" CapAmb
	assert_eq 1 "$(field "$out" NoNewPrivs)" NoNewPrivs
	assert_eq 0 "$(field "$out" Seccomp)" Seccomp
}

test_capabilities_kept_for_a_non_root_user() {
	new_bundle b sh -c "id -u; $STATUS_GREP"
	# a non-root program keeps across execve what is ambient, and nothing else
	cfg b '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false |
		.process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		effective: ["CAP_NET_BIND_SERVICE", "CAP_KILL"], permitted: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
	out=$(hutch run -b b sec-c1)
	assert_contains "$out" 1000
	assert_eq 0000000000000400 "$(field "$out" CapEff)" "CapEff after setuid and execve"
	assert_eq 0000000000000400 "$(field "$out" CapAmb)" CapAmb
	assert_eq 0000000000000420 "$(field "$out" CapBnd)" CapBnd
	assert_eq 0 "$(field "$out" NoNewPrivs)" NoNewPrivs
}

test_ambient_without_inheritable_is_left_out_with_a_warning() {
	new_bundle b sh -c "$STATUS_GREP"
	# what buildah asks for: ambient capabilities that are not inheritable (runc and crun
	# leave them out; the kernel refuses them)
	cfg b '.process.capabilities = {bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL", "CAP_CHOWN"],
		permitted: ["CAP_KILL", "CAP_CHOWN"], inheritable: ["CAP_KILL"], ambient: ["CAP_KILL", "CAP_CHOWN"]}'
	out=$(hutch run -b b sec-a1 2>err)
	assert_eq 0000000000000020 "$(field "$out" CapAmb)" "CapAmb: CAP_KILL only"
	assert_contains "$(cat err)" "process.capabilities.ambient: not permitted and inheritable, left out: cap_chown"
}

test_unknown_capability_is_an_error_and_leaves_nothing() {
	new_bundle b true
	cfg b '.process.capabilities.effective += ["CAP_WIZARDRY"]'
	sec_snapshot > snap
	expect_fail 'config.json: process.capabilities.effective[3]: unknown capability "CAP_WIZARDRY"' \
		hutch run -b b sec-c1
	sec_assert_clean snap
}

# A capability libcap knows but the running kernel lacks is a warning, not an error, and is
# left out of the sets. This host's kernel has every capability libcap knows, so the test
# runs hutch in a private mount namespace where /proc/sys/kernel/cap_last_cap reads 39 (a
# kernel before CAP_CHECKPOINT_RESTORE, 40): the only thing simulated is that number.
test_capability_the_kernel_lacks_is_a_warning() {
	[ "$(cat /proc/sys/kernel/cap_last_cap)" -ge 40 ] || skip "kernel without CAP_CHECKPOINT_RESTORE"
	new_bundle b sh -c "$STATUS_GREP"
	cfg b '.process.capabilities.bounding += ["CAP_CHECKPOINT_RESTORE"] |
		.process.capabilities.effective += ["CAP_CHECKPOINT_RESTORE"] |
		.process.capabilities.permitted += ["CAP_CHECKPOINT_RESTORE"]'
	echo 39 > last_cap
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c 'mount --bind last_cap /proc/sys/kernel/cap_last_cap &&
		exec "$1" --root "$2" run -b b sec-c1' sh "$HUTCH" "$T_ROOT" > out 2> err
	assert_contains "$(cat err)" 'capability "CAP_CHECKPOINT_RESTORE" is not supported by this kernel; ignored'
	# effective and permitted: the defaults (AUDIT_WRITE, KILL, NET_BIND_SERVICE) without
	# bit 40. (Not the bounding set: hutch drops bits up to cap_last_cap, and bit 40, which
	# the real kernel has, is past the simulated 39.)
	assert_eq 0000000020000420 "$(field "$(cat out)" CapEff)" "CapEff"
	assert_eq 0000000020000420 "$(field "$(cat out)" CapPrm)" "CapPrm"
}

test_exec_cap_adds_a_capability() {
	new_bundle b sleep 1000
	hutch run -d -b b sec-c1
	out=$(hutch exec --cap CAP_SYS_ADMIN sec-c1 sh -c "$STATUS_GREP")
	# default caps AUDIT_WRITE(29) KILL(5) NET_BIND_SERVICE(10), plus SYS_ADMIN(21)
	assert_eq 0000000020200420 "$(field "$out" CapEff)" "CapEff with --cap"
	assert_eq 0000000020200420 "$(field "$out" CapBnd)" "CapBnd with --cap"
	expect_fail '--cap: unknown capability "CAP_NOPE"' hutch exec --cap CAP_NOPE sec-c1 true
}

seccomp_profile='{
	defaultAction: "SCMP_ACT_ALLOW",
	architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
	syscalls: [
		{names: ["mkdir", "mkdirat", "no_such_syscall_at_all"], action: "SCMP_ACT_ERRNO", errnoRet: 38},
		{names: ["chmod"], action: "SCMP_ACT_ERRNO",
		 args: [{index: 1, value: 2048, valueTwo: 2048, op: "SCMP_CMP_MASKED_EQ"}]},
		{names: ["fchmodat"], action: "SCMP_ACT_ERRNO",
		 args: [{index: 2, value: 2048, valueTwo: 2048, op: "SCMP_CMP_MASKED_EQ"}]},
		{names: ["syslog"], action: "SCMP_ACT_KILL_PROCESS"},
		{names: ["getcwd"], action: "SCMP_ACT_LOG"}
	]}'

test_seccomp_errno_masked_eq_and_kill() {
	new_bundle b
	set_script b "$STATUS_GREP"'
		mkdir /tmp/x 2>&1; echo mkdir=$?
		touch /tmp/f; chmod 755 /tmp/f; echo chmod755=$?
		chmod 4755 /tmp/f 2>&1; echo chmod4755=$?
		pwd >/dev/null; echo pwd=$?
		echo before-kill; exec dmesg'
	cfg b ".root.readonly = false | .linux.seccomp = $seccomp_profile"
	rc=0
	out=$(hutch run -b b sec-c1 2>&1) || rc=$?
	assert_eq 2 "$(field "$out" Seccomp)" Seccomp
	assert_contains "$out" "Function not implemented"
	assert_contains "$out" "mkdir=1"
	assert_contains "$out" "chmod755=0"
	assert_contains "$out" "Operation not permitted"
	assert_contains "$out" "chmod4755=1"
	assert_contains "$out" "pwd=0"
	assert_contains "$out" "before-kill"
	assert_eq 159 "$rc" "exit status after SCMP_ACT_KILL_PROCESS (128 + SIGSYS)"
}

test_seccomp_applies_to_exec_too() {
	new_bundle b sleep 1000
	cfg b ".linux.seccomp = $seccomp_profile"
	hutch run -d -b b sec-c1
	out=$(hutch exec sec-c1 sh -c "$STATUS_GREP; mkdir /dev/shm/x 2>&1; echo rc=\$?")
	assert_eq 2 "$(field "$out" Seccomp)" Seccomp
	assert_contains "$out" "Function not implemented"
}

test_seccomp_notify_listener_gets_fd_and_state() {
	new_bundle b sh -c 'mkdir /dev/shm/x 2>&1; echo rc=$?'
	"$HELPERS/seccomp-listener" "$T_TMP/listener.sock" "$T_TMP/pstate" 18 > ready &
	listener=$!
	wait_for grep -q ready ready
	cfg b ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\",
		listenerPath: \"$T_TMP/listener.sock\", listenerMetadata: \"hello-meta\",
		flags: [\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],
		syscalls: [{names: [\"mkdir\", \"mkdirat\"], action: \"SCMP_ACT_NOTIFY\"}]}"
	out=$(hutch run -b b sec-c1 2>&1)
	wait $listener
	assert_not_contains "$out" "not supported by this kernel"
	# the listener answered EXDEV (18) for the container's mkdir
	assert_contains "$out" "Invalid cross-device link"
	assert_eq '["seccompFd"]' "$(jq -c .fds "$T_TMP/pstate")" fds
	assert_eq hello-meta "$(jq -r .metadata "$T_TMP/pstate")" metadata
	assert_eq sec-c1 "$(jq -r .state.id "$T_TMP/pstate")" state.id
	assert_match "$(jq -r .pid "$T_TMP/pstate")" '^[0-9]+$'
	assert_eq "$(jq -r .state.pid "$T_TMP/pstate")" "$(jq -r .pid "$T_TMP/pstate")" "pid is the init's"
	assert_eq 1.3.0 "$(jq -r .ociVersion "$T_TMP/pstate")" ociVersion
}

test_seccomp_notify_for_exec_and_exec_console_socket() {
	new_bundle b sleep 1000
	sock=$T_TMP/l.sock
	cfg b ".root.readonly = false | .linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\", listenerPath: \"$sock\",
		syscalls: [{names: [\"mkdir\", \"mkdirat\"], action: \"SCMP_ACT_NOTIFY\"}]}"
	"$HELPERS/seccomp-listener" "$sock" "$T_TMP/s1" 18 > r1 &
	wait_for grep -q ready r1
	hutch run -d -b b sec-c1
	# a second listener for the exec'd process, once the first has its fd (and has
	# unlinked the socket path, which `run -d` may return before)
	wait_for test -s "$T_TMP/s1"
	"$HELPERS/seccomp-listener" "$sock" "$T_TMP/s2" 39 > r2 &
	wait_for grep -q ready r2
	hutch exec -d --pid-file "$T_TMP/e.pid" sec-c1 sh -c 'mkdir /tmp/y 2> /tmp/err; sleep 1000'
	wait_for test -s "$T_TMP/s2"
	assert_eq "$(cat "$T_TMP/e.pid")" "$(jq -r .pid "$T_TMP/s2")" "pid sent for the exec'd process"
	assert_eq "$(hutch state sec-c1 | jq -r .pid)" "$(jq -r .pid "$T_TMP/s1")" "pid sent for the init"
	wait_for test -s b/rootfs/tmp/err
	assert_contains "$(cat b/rootfs/tmp/err)" "Directory not empty"
	hutch delete -f sec-c1
	# exec -t with a console socket: the receiver gets the pty of the exec'd process
	new_bundle b2 sleep 1000
	hutch run -d -b b2 sec-c2
	"$HELPERS/console-recv" "$T_TMP/c.sock" "$T_TMP/c.out" $'ping\n' > r3 &
	recv=$!
	wait_for grep -q ready r3
	hutch exec -t --console-socket "$T_TMP/c.sock" sec-c2 sh -c 'read -r x; echo "exec-pty:$x"; tty'
	wait $recv
	out=$(tr -d '\r' < "$T_TMP/c.out")
	assert_contains "$out" "exec-pty:ping"
	assert_match "$out" "/dev/pts/[0-9]+"
}

test_bad_seccomp_profiles_name_the_json_path() {
	new_bundle b true
	sec_snapshot > snap
	cfg b '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir"], action: "SCMP_ACT_EXPLODE"}]}'
	expect_fail 'config.json: linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"' \
		hutch run -b b sec-c1
	cfg b '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_PDP11"]}'
	expect_fail 'config.json: linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_PDP11"' \
		hutch run -b b sec-c1
	cfg b '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["read"], action: "SCMP_ACT_ALLOW"},
		{names: ["chmod"], action: "SCMP_ACT_ERRNO", args: [{index: 1, value: 1, op: "SCMP_CMP_SORTOF"}]}]}'
	expect_fail 'config.json: linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_SORTOF"' \
		hutch run -b b sec-c1
	cfg b '.linux.seccomp = {defaultAction: "SCMP_ACT_NOPE"}'
	expect_fail 'config.json: linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"' \
		hutch create -b b sec-c1
	sec_assert_clean snap
}

test_masked_and_readonly_paths() {
	new_bundle b
	set_script b '
		echo "secret=[$(cat /etc/secret)]"
		echo "dir=[$(ls /srv/hidden)]"
		touch /srv/hidden/new 2>&1
		echo "ro=[$(cat /srv/ro/file)]"
		echo x > /srv/ro/file 2>&1
		echo 1 > /proc/sys/kernel/shmmax 2>&1
		echo "kcore=[$(cat /proc/timer_list 2>&1 | head -c 20)]"'
	echo TOP-SECRET > b/rootfs/etc/secret
	mkdir -p b/rootfs/srv/hidden b/rootfs/srv/ro
	echo hidden > b/rootfs/srv/hidden/file
	echo keep > b/rootfs/srv/ro/file
	cfg b '.root.readonly = false | .linux.maskedPaths += ["/etc/secret", "/srv/hidden", "/no/such/path"] |
		.linux.readonlyPaths += ["/srv/ro", "/no/such/dir"]'
	out=$(hutch run -b b sec-c1 2>&1)
	assert_contains "$out" "secret=[]"
	assert_contains "$out" "dir=[]"
	assert_contains "$out" "ro=[keep]"
	assert_eq 3 "$(grep -c 'Read-only file system' <<<"$out")" "writes refused (masked dir, ro path, /proc/sys)"
	assert_contains "$out" "kcore=[]"
	assert_eq TOP-SECRET "$(cat b/rootfs/etc/secret)" "the masked file itself is untouched"
}

test_sysctl_namespaced_and_refused() {
	new_bundle b sh -c 'cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_default_ttl'
	cfg b '.linux.sysctl = {"kernel.shmmni": "1234", "net.ipv4.ip_default_ttl": "42"}'
	out=$(hutch run -b b sec-c1)
	assert_eq "$(printf '1234\n42')" "$out" "sysctls inside"
	[ "$(cat /proc/sys/net/ipv4/ip_default_ttl)" != 42 ] || fail "the host's sysctl changed"
	sec_snapshot > snap
	cfg b '.linux.sysctl = {"vm.swappiness": "1"}'
	expect_fail 'config.json: linux.sysctl.vm.swappiness: not a namespaced sysctl' hutch run -b b sec-c1
	cfg b '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces |= map(select(.type != "network"))'
	expect_fail 'config.json: linux.sysctl.net.ipv4.ip_forward: needs a network namespace' hutch run -b b sec-c1
	sec_assert_clean snap
}

test_lsm_requested_but_unavailable() {
	[ ! -e /sys/fs/selinux/enforce ] || skip "SELinux is enabled here"
	grep -qs Y /sys/module/apparmor/parameters/enabled && skip "AppArmor is enabled here"
	new_bundle b true
	sec_snapshot > snap
	cfg b '.process.apparmorProfile = "hutch-default"'
	expect_fail 'config.json: process.apparmorProfile: "hutch-default" requested, but AppArmor is not enabled' \
		hutch run -b b sec-c1
	cfg b 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	expect_fail 'config.json: process.selinuxLabel:' hutch run -b b sec-c1
	sec_assert_clean snap
}

# AppArmor, where the kernel has it enabled (the Debian kernels of the VM harness): a
# profile of our own confines the container's process (attr/current names it, a path it
# denies cannot be read, one it allows can), `exec` inherits it and `exec --apparmor`
# picks another. An unknown profile is an error at start that leaves nothing behind.
test_apparmor_profile_is_applied_and_enforced() {
	grep -qs Y /sys/module/apparmor/parameters/enabled || skip "AppArmor is not enabled on this kernel"
	command -v apparmor_parser >/dev/null || skip "apparmor_parser missing (apt-get install apparmor)"
	[ -w /sys/kernel/security/apparmor/.replace ] || skip "securityfs is not mounted"
	local p
	for p in hutch-test-a hutch-test-b; do
		cat > $p.profile <<-EOF
		profile $p flags=(attach_disconnected,mediate_deleted) {
		  file,
		  capability,
		  network,
		  signal,
		  mount,
		  umount,
		  pivot_root,
		  ptrace,
		  unix,
		  deny /etc/denied-$p r,
		}
		EOF
		apparmor_parser -K -r $p.profile
	done
	trap 'apparmor_parser -R hutch-test-a.profile hutch-test-b.profile 2>/dev/null || true' EXIT
	new_bundle b sh -c 'cat /proc/self/attr/current; cat /etc/denied-hutch-test-a || echo "a denied"
		cat /etc/denied-hutch-test-b; sleep 100'
	echo secret-a > b/rootfs/etc/denied-hutch-test-a
	echo readable-b > b/rootfs/etc/denied-hutch-test-b
	cfg b '.process.apparmorProfile = "hutch-test-a"'
	hutch create -b b sec-aa > out 2>&1
	hutch start sec-aa
	wait_for grep -q readable-b out
	out=$(cat out)
	assert_contains "$out" "hutch-test-a (enforce)" "the container's attr/current"
	assert_contains "$out" "Permission denied" "reading a denied path"
	assert_contains "$out" "a denied"
	assert_not_contains "$out" "secret-a"
	out=$(hutch exec sec-aa cat /proc/self/attr/current)
	assert_contains "$out" "hutch-test-a (enforce)" "exec inherits the profile"
	out=$(hutch exec --apparmor hutch-test-b sec-aa sh -c 'cat /proc/self/attr/current; cat /etc/denied-hutch-test-a' 2>&1)
	assert_contains "$out" "hutch-test-b (enforce)" "exec --apparmor"
	assert_contains "$out" "secret-a" "hutch-test-b allows what hutch-test-a denies"
	expect_fail "denied-hutch-test-b" hutch exec --apparmor hutch-test-b sec-aa cat /etc/denied-hutch-test-b
	hutch delete -f sec-aa
	sec_snapshot > snap
	cfg b '.process.apparmorProfile = "hutch-no-such-profile"'
	expect_fail "process.apparmorProfile" hutch run -b b sec-aa
	sec_assert_clean snap
}

# SELinux, where it is the running LSM with a policy loaded (the VM harness boots one of
# each kernel's guests so, with Debian's reference policy, permissive): the container's
# process runs with process.selinuxLabel, its tmpfs, devpts and mqueue mounts carry
# linux.mountLabel, `exec` inherits the label and `exec --process-label` picks another; a
# label the policy does not know is an error that names the field and leaves nothing.
test_selinux_label_and_mount_label_are_applied() {
	[ -e /sys/fs/selinux/enforce ] || skip "SELinux is not enabled on this kernel"
	# selinuxfs lists the policy's classes once one is loaded
	[ -n "$(ls /sys/fs/selinux/class 2>/dev/null)" ] || skip "no SELinux policy loaded"
	local label=system_u:system_r:svirt_t:s0 other=system_u:system_r:unconfined_t:s0
	local mlabel=system_u:object_r:svirt_tmpfs_t:s0 pid out
	new_bundle b sh -c 'cat /proc/self/attr/current; echo; echo started; sleep 100'
	cfg b ".process.selinuxLabel = \"$label\" | .linux.mountLabel = \"$mlabel\""
	hutch create -b b sec-se > out
	hutch start sec-se
	wait_for grep -q started out
	assert_contains "$(tr -d '\0' < out)" "$label" "the container's attr/current"
	pid=$(hutch state sec-se | jq .pid)
	assert_eq "$mlabel" "$(stat -c %C "/proc/$pid/root/dev")" "label of the container's /dev (tmpfs)"
	assert_eq "$mlabel" "$(stat -c %C "/proc/$pid/root/dev/pts")" "label of its devpts"
	assert_eq "$mlabel" "$(stat -c %C "/proc/$pid/root/dev/mqueue")" "label of its mqueue"
	out=$(hutch exec sec-se cat /proc/self/attr/current | tr -d '\0')
	assert_contains "$out" "$label" "exec inherits the label"
	out=$(hutch exec --process-label "$other" sec-se cat /proc/self/attr/current | tr -d '\0')
	assert_contains "$out" "$other" "exec --process-label"
	hutch delete -f sec-se
	sec_snapshot > snap
	cfg b '.process.selinuxLabel = "nosuch_u:nosuch_r:nosuch_t:s0"'
	expect_fail "process.selinuxLabel" hutch run -b b sec-se
	sec_assert_clean snap
}

test_personality_scheduler_ioprio() {
	new_bundle b sh -c 'uname -m; grep -E "^(policy|prio)" /proc/self/sched; cat /proc/self/stat | cut -d" " -f19'
	cfg b '.linux.personality = {domain: "LINUX32"} |
		.process.scheduler = {policy: "SCHED_BATCH", nice: 7} |
		.process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}'
	out=$(hutch run -b b sec-c1)
	assert_contains "$out" "i686"
	assert_match "$out" "policy +: +3"
	assert_eq 7 "$(tail -n1 <<<"$out")" "nice"
}

# Each hook appends "KIND STATUS ID pid|nopid" from the state on its stdin to LOG.
hook_script='#!/bin/sh
read -r s
st=${s#*\"status\":\"}; st=${st%%\"*}
id=${s#*\"id\":\"}; id=${id%%\"*}
case $s in *\"pid\":[1-9]*) p=pid ;; *) p=nopid ;; esac
echo "$1 $st $id $p" >> "$2"
'
hook() { # SCRIPT KIND LOG
	jq -n --arg p "$1" --arg k "$2" --arg f "$3" \
		'{path: $p, args: ["hook.sh", $k, $f], env: ["PATH=/bin:/usr/bin"], timeout: 5}'
}

test_hooks_run_in_order_with_state() {
	new_bundle b sh -c 'echo main >> /hooklog/log'
	mkdir -p "$T_TMP/hl"
	log=$T_TMP/hl/log
	hs=$T_TMP/hook.sh
	printf '%s' "$hook_script" > "$hs"
	# startContainer runs after pivot_root: its path resolves in the container
	printf '%s' "$hook_script" > b/rootfs/hook.sh
	chmod +x "$hs" b/rootfs/hook.sh
	cfg b ".mounts += [{destination: \"/hooklog\", type: \"bind\", source: \"$T_TMP/hl\", options: [\"rbind\"]}] |
		.hooks = {prestart: [$(hook "$hs" prestart "$log")],
			createRuntime: [$(hook "$hs" createRuntime "$log")],
			createContainer: [$(hook "$hs" createContainer "$log")],
			startContainer: [$(hook /hook.sh startContainer /hooklog/log)],
			poststart: [$(hook "$hs" poststart "$log")],
			poststop: [$(hook "$hs" poststop "$log")]}"
	hutch run -b b sec-c1
	sed 's/^/# /' "$log" >&2
	assert_eq "prestart createRuntime createContainer startContainer main poststop" \
		"$(grep -v poststart "$log" | awk '{print $1}' | xargs)" "hook order"
	grep -q '^poststart running sec-c1 pid$' "$log" || fail "poststart did not run with the running state"
	assert_eq "prestart creating sec-c1 pid" "$(sed -n 1p "$log")" prestart
	assert_eq "createRuntime creating sec-c1 pid" "$(sed -n 2p "$log")" createRuntime
	assert_eq "createContainer creating sec-c1 pid" "$(sed -n 3p "$log")" createContainer
	assert_match "$(grep '^startContainer' "$log")" '^startContainer [a-z]+ sec-c1 pid$'
	assert_match "$(grep '^poststop' "$log")" '^poststop stopped sec-c1 '
}

test_failing_hook_aborts_and_cleans_up() {
	new_bundle b true
	sec_snapshot > snap
	cfg b '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo no-way >&2; exit 7"]}]'
	expect_fail 'hooks.createRuntime[0]: `/bin/sh` exited with status 7: no-way' hutch run -b b sec-c1
	cfg b '.hooks = {createContainer: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]}'
	expect_fail 'hooks.createContainer[0]: `/bin/sleep` timed out after 1 s' hutch create -b b sec-c1
	sec_assert_clean snap
	# poststart and poststop failures are warnings only
	cfg b '.hooks = {poststart: [{path: "/bin/false"}], poststop: [{path: "/bin/false"}]}'
	out=$(hutch run -b b sec-c1 2>&1)
	assert_contains "$out" "warning: hooks.poststart[0]"
	assert_contains "$out" "warning: hooks.poststop[0]"
}

test_console_socket_receiver_gets_a_working_pty() {
	new_bundle b sh -c 'read -r line; echo "got:$line"; tty; stty size; [ -t 0 ] && [ -t 1 ] && echo tty-stdio'
	cfg b '.process.terminal = true | .process.consoleSize = {height: 33, width: 101}'
	"$HELPERS/console-recv" "$T_TMP/console.sock" "$T_TMP/console.out" $'hello pty\n' > ready &
	recv=$!
	wait_for grep -q ready ready
	hutch create -b b --console-socket "$T_TMP/console.sock" sec-c1
	hutch start sec-c1
	wait $recv
	out=$(tr -d '\r' < "$T_TMP/console.out")
	assert_contains "$out" "got:hello pty"
	assert_contains "$out" "/dev/pts/0"
	assert_contains "$out" "33 101"
	assert_contains "$out" "tty-stdio"
}

test_foreground_run_and_exec_tty_proxy_the_terminal() {
	new_bundle b sh -c 'read -r x; echo "in:$x"; tty'
	cfg b '.process.terminal = true'
	out=$(echo typed | hutch run -b b sec-c1 | tr -d '\r')
	assert_contains "$out" "in:typed"
	assert_contains "$out" "/dev/pts/0"
	cfg b '.process.terminal = false | .process.args = ["sleep", "1000"]'
	hutch run -d -b b sec-c2
	out=$(echo again | hutch exec -t sec-c2 sh -c 'read -r x; echo "exec:$x"; tty; stty size' | tr -d '\r')
	assert_contains "$out" "exec:again"
	assert_match "$out" "/dev/pts/[0-9]+"
	# a real terminal on our side: raw mode and the window size follow it
	command -v script >/dev/null || skip "script(1) missing"
	out=$(script -qec "stty rows 44 cols 132; $HUTCH --root $T_ROOT exec -t sec-c2 stty size" /dev/null </dev/null | tr -d '\r')
	assert_contains "$out" "44 132"
}

# the attack, against the read-only clone of the runtime's mount (root's default; with
# hutch.ko loaded, the module's write guard on the binary instead) and the sealed memfd
# copy (HUTCH_SEALED_EXE=memfd; what an unprivileged user gets)
test_runtime_binary_not_writable_through_proc_exe() {
	attack_runtime_exe ""
	attack_runtime_exe memfd
}

attack_runtime_exe() {
	local mode=$1 out guarded=
	# with hutch.ko loaded (the VM's +ko runs), the default mode relies on its write guard
	[ -z "$mode" ] && [ -d /sys/module/hutch ] && guarded=1
	mkdir -p "run-$mode" && cd "run-$mode"
	export HUTCH_SEALED_EXE=$mode
	# a private copy: if the protection failed, only this copy is damaged
	cp "$HUTCH" "$T_TMP/hutch-victim"
	victim() { "$T_TMP/hutch-victim" --root "$T_ROOT" "$@"; }
	new_bundle b sleep 1000
	cfg b '.root.readonly = false'
	victim create -b b sec-c1
	# the created container's init is runtime code; a process exec'd into the container
	# (with ptrace rights over it) holds its exe open and writes once the init has exec'd
	victim exec -d --cap CAP_SYS_PTRACE sec-c1 sh -c '
		exec 3</proc/1/exe; l=$(readlink /proc/1/exe); echo "$l" > /tmp/link
		while [ "$(readlink /proc/1/exe)" = "$l" ]; do sleep 0.02; done
		(echo PWNED >> /proc/self/fd/3) 2> /tmp/err; echo $? > /tmp/rc'
	wait_for test -s b/rootfs/tmp/link
	victim start sec-c1
	wait_for test -s b/rootfs/tmp/rc
	echo "# exe seen from the container: $(cat b/rootfs/tmp/link); write: $(cat b/rootfs/tmp/err)" >&2
	# the exe is a read-only clone of the binary's mount (EROFS) or, where that cannot be
	# made, a sealed memfd copy (EPERM)
	assert_eq 1 "$(cat b/rootfs/tmp/rc)" "the write must fail"
	if [ "$mode" = memfd ]; then
		assert_match "$(cat b/rootfs/tmp/link)" '^/memfd:hutch'
		# EPERM from the seals; with hutch.ko loaded, the module's write guard on the
		# registered exe answers first (ETXTBSY)
		assert_match "$(cat b/rootfs/tmp/err)" "Operation not permitted|Text file busy"
	elif [ -n "$guarded" ]; then
		# hutch.ko guards the binary itself (deny_write_access while the container is
		# registered): no re-execution, the exe is the binary, the write gets ETXTBSY
		assert_match "$(cat b/rootfs/tmp/link)" 'hutch-victim'
		assert_match "$(cat b/rootfs/tmp/err)" "Text file busy"
	else
		# EROFS from the read-only mount, or ETXTBSY first while another runtime process
		# (e.g. `start`, still running on a slow machine) executes the same binary
		assert_match "$(cat b/rootfs/tmp/err)" "Read-only file system|Text file busy"
	fi
	cmp -s "$HUTCH" "$T_TMP/hutch-victim" || fail "the runtime binary was modified"
	# the same attack against an exec'd runtime process: its exe is sealed as well
	out=$(victim exec --cap CAP_SYS_PTRACE sec-c1 sh -c 'readlink /proc/$PPID/exe 2>/dev/null; readlink /proc/self/exe')
	[ -n "$guarded" ] || assert_not_contains "$out" "$T_TMP/hutch-victim"
	victim delete -f sec-c1
	cd ..
}

rootless_body() { # USER
	local user=$1 uid
	uid=$(id -u "$user")
	local dir=$T_TMP/rootless
	# the unified hierarchy as the container sees it: its own cgroup, not the host's tree
	# (a cgroup namespace of a user namespace may not mount it: hutch binds the directory)
	local uni=/sys/fs/cgroup cg
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || uni=/sys/fs/cgroup/unified
	cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
	rootless_bundle "$dir" "$uid" '.process.args = ["sh", "-c",
		"id -u; cat /proc/self/uid_map; grep -E \"^(CapEff|NoNewPrivs|Seccomp):\" /proc/self/status; mkdir /tmp/x 2>&1; echo cg: $(ls \($uni | @sh)); true"] |
		.root.readonly = false |
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}' \
		--arg uni "$uni"
	as_user() { as_uid "$uid" "$@"; }
	# as a runc user would run it: hutch may not make cgroups, and with no linux.resources
	# the container runs without them
	out=$(as_user "$HUTCH" --root "$dir/state" run -b "$dir" r1 2>&1) || fail "rootless run: $out"
	echo "$out" | sed 's/^/# /' >&2
	assert_eq 0 "$(head -n1 <<<"$out")" "uid inside"
	assert_match "$out" "0 +$uid +1"
	assert_eq 0000000020000420 "$(field "$out" CapEff)" "CapEff (in the user namespace)"
	assert_eq 1 "$(field "$out" NoNewPrivs)" NoNewPrivs
	assert_eq 2 "$(field "$out" Seccomp)" Seccomp
	assert_contains "$out" "Function not implemented"
	assert_eq "cg: $(ls "$uni$cg" | xargs)" "$(grep '^cg: ' <<<"$out")" "$uni inside (the host's $uni$cg)"
	[ -z "$(ls -A "$dir/state" 2>/dev/null)" ] || fail "rootless state left behind"
	# resources need a cgroup it may not make: a clear error, and nothing left
	jq '.linux.resources = {pids: {limit: 10}}' "$dir/config.json" > "$dir/c"
	chown "$uid:$uid" "$dir/c"
	mv "$dir/c" "$dir/config.json"
	expect_fail "Permission denied" as_user "$HUTCH" --root "$dir/state" run -b "$dir" r2
	[ -z "$(ls -A "$dir/state" 2>/dev/null)" ] || fail "state left behind by the refused run"
}

test_rootless_spec_as_an_unprivileged_user() {
	command -v setpriv >/dev/null || skip "setpriv missing"
	local user=hutch-rl-$$ rc=0 uid
	# a throwaway account, removed however the test ends: useradd, or (the VM's guest has no
	# passwd package) lines of its own in /etc/passwd and /etc/group
	if command -v useradd >/dev/null; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$user"
	else
		[ -w /etc/passwd ] && [ -w /etc/group ] || skip "no useradd, and /etc/passwd is read-only"
		for ((uid = 4000; uid < 5000; uid++)); do
			! cut -d: -f3 /etc/passwd /etc/group | grep -qx "$uid" || continue
			echo "$user:x:$uid:$uid::/nonexistent:/bin/false" >> /etc/passwd
			echo "$user:x:$uid:" >> /etc/group
			break
		done
	fi
	set +e
	(set -e; rootless_body "$user")
	rc=$?
	set -e
	if command -v userdel >/dev/null; then
		userdel "$user"
	else
		sed -i "/^$user:/d" /etc/passwd /etc/group
	fi
	return $rc
}

# One syscall under each remaining action, observed from inside: trap and kill_thread end
# the (single-threaded) process making it with SIGSYS, whether busybox runs mkdir in the
# shell itself or in a child; trace without a tracer fails the call with ENOSYS.
test_seccomp_trap_kill_thread_and_trace() {
	local action
	for action in SCMP_ACT_TRAP SCMP_ACT_KILL_THREAD SCMP_ACT_TRACE; do
		rm -rf b
		new_bundle b sh -c 'echo start; mkdir /dev/shm/x 2>&1; echo "rc=$?"'
		cfg b ".linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\",
			syscalls: [{names: [\"mkdir\", \"mkdirat\"], action: \"$action\"}]}"
		rc=0
		out=$("$HUTCH" --root "$T_ROOT" run -b b sec-t1 2>&1) || rc=$?
		assert_contains "$out" start "$action: the container ran"
		if [ "$action" = SCMP_ACT_TRACE ]; then
			assert_contains "$out" "Function not implemented" "$action: no tracer means ENOSYS"
			assert_contains "$out" "rc=1" "$action: the call failed"
		elif [[ $out != *rc=159* ]]; then
			assert_eq 159 "$rc" "$action: the shell died of SIGSYS"
			assert_not_contains "$out" "rc=" "$action: nothing ran after the call"
		fi
	done
}

# start hears "ok" before the profile is loaded: a profile that denies write() still starts
test_seccomp_denying_write_still_starts() {
	new_bundle b sh -c 'echo unseen; mkdir /dev/shm/made; sleep 100'
	cfg b '.root.readonly = false | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["write", "writev"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	hutch create -b b sec-w1
	hutch start sec-w1
	pid=$(hutch state sec-w1 | jq .pid)
	# the program ran past its failing write
	wait_for test -d "/proc/$pid/root/dev/shm/made"
	hutch delete -f sec-w1
}

run_tests
