#!/bin/bash
# config.json fields the lifecycle applies, observed from inside the container.
source "$(dirname "$0")/../lib.sh"

test_namespaces_are_new() {
	new_bundle b sh -c 'for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done'
	out=$(hutch run -b b c1)
	for n in pid net ipc uts mnt cgroup; do
		assert_not_contains "$out" "$(readlink /proc/self/ns/$n)" "$n namespace"
	done
}

test_shared_namespace_when_not_listed() {
	new_bundle b readlink /proc/self/ns/net
	cfg b 'del(.linux.namespaces[] | select(.type == "network"))'
	assert_eq "$(readlink /proc/self/ns/net)" "$(hutch run -b b c1)"
}

test_join_namespace_by_path() {
	unshare --net=/run/hutch-test-netns-$$ true 2>/dev/null || { touch /run/hutch-test-netns-$$; unshare --net=/run/hutch-test-netns-$$ true; }
	want=$(nsenter --net=/run/hutch-test-netns-$$ readlink /proc/self/ns/net)
	new_bundle b readlink /proc/self/ns/net
	cfg b "(.linux.namespaces[] | select(.type == \"network\")) .path = \"/run/hutch-test-netns-$$\""
	got=$(hutch run -b b c1)
	umount /run/hutch-test-netns-$$; rm -f /run/hutch-test-netns-$$
	assert_eq "$want" "$got"
}

test_user_namespace_with_mappings() {
	new_bundle b sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /tmp/owned'
	cfg b '.linux.namespaces += [{"type": "user"}] |
	       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .mounts |= map(if .destination == "/sys" then . + {"type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end) |
	       .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	chown 100000:100000 b/rootfs
	touch b/rootfs/tmp/owned && chown 100000:100000 b/rootfs/tmp/owned
	out=$(hutch run -b b c1 | xargs)
	assert_eq "0 100000 65536 0 100000 65536 0 0" "$out"
}

test_time_namespace_offsets() {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	new_bundle b cat /proc/uptime
	cfg b '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}}'
	host=$(cut -d. -f1 /proc/uptime)
	got=$(hutch run -b b c1 | cut -d. -f1)
	[ "$got" -ge $((host + 86400 - 5)) ] || fail "uptime $got is not about $host + 86400"
}

test_hostname_and_domainname() {
	new_bundle b sh -c 'hostname; cat /proc/sys/kernel/domainname'
	cfg b '.hostname = "h1" | .domainname = "example.test"'
	assert_eq "h1 example.test" "$(hutch run -b b c1 | xargs)"
}

test_readonly_root_and_writable_tmpfs() {
	new_bundle b sh -c 'touch /x 2>&1; touch /dev/shm/ok && echo shm-ok'
	out=$(hutch run -b b c1)
	assert_contains "$out" "Read-only file system"
	assert_contains "$out" "shm-ok"
	cfg b '.root.readonly = false'
	hutch run -b b c2
	[ -e b/rootfs/x ] || fail "writable root did not take the write"
}

test_bind_mounts_ro_rw_and_file() {
	mkdir -p host-dir && echo hello > host-dir/f && echo single > host-file
	new_bundle b sh -c 'cat /mnt/ro/f; (echo w > /mnt/ro/g) 2>&1; echo w > /mnt/rw/g && echo rw-ok; cat /etc/single'
	cfg b ".mounts += [
		{\"destination\": \"/mnt/ro\", \"type\": \"bind\", \"source\": \"$PWD/host-dir\", \"options\": [\"rbind\", \"ro\", \"nosuid\"]},
		{\"destination\": \"/mnt/rw\", \"source\": \"$PWD/host-dir\", \"options\": [\"bind\"]},
		{\"destination\": \"/etc/single\", \"source\": \"host-file\", \"options\": [\"bind\", \"ro\"]}]"
	cp host-file b/
	out=$(hutch run -b b c1)
	assert_contains "$out" "hello"
	assert_contains "$out" "Read-only file system"
	assert_contains "$out" "rw-ok"
	assert_contains "$out" "single"
	[ -e host-dir/g ] || fail "rw bind mount did not write through"
}

test_tmpfs_options_and_propagation_flags() {
	new_bundle b sh -c 'grep " /scratch " /proc/self/mountinfo'
	cfg b '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=700", "size=1m", "rprivate"]}]'
	out=$(hutch run -b b c1)
	assert_contains "$out" "nosuid,nodev,noexec"
	assert_contains "$out" "size=1024k"
	assert_contains "$out" "mode=700"
}

test_mount_destination_symlink_stays_inside_rootfs() {
	mkdir -p outside
	new_bundle b sh -c 'ls /escape/ 2>&1; echo done'
	# a symlink in the rootfs pointing at an absolute host path
	ln -s "$PWD/outside" b/rootfs/escape
	cfg b '.mounts += [{"destination": "/escape/victim", "type": "tmpfs", "source": "tmpfs"}]'
	hutch run -b b c1 > /dev/null
	[ ! -e outside/victim ] || fail "the mount followed a symlink out of the rootfs"
	[ -d "b/rootfs/$PWD/outside/victim" ] || fail "the target was not created inside the rootfs"
	grep -q "$PWD/outside/victim" /proc/self/mountinfo && fail "a mount leaked to the host"
	true
}

test_dev_defaults_and_linux_devices() {
	new_bundle b sh -c 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mydev; for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done; echo x > /dev/null && echo null-ok'
	cfg b '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 5, "gid": 6}]'
	out=$(hutch run -b b c1)
	assert_match "$out" "crw-rw---- +1 5 +6 +1, +3 .*/dev/mydev"
	assert_match "$out" "crw-rw-rw- .* 1, +7 .*/dev/full"
	assert_contains "$out" "/proc/self/fd"
	assert_contains "$out" "pts/ptmx"
	assert_contains "$out" "null-ok"
}

test_process_env_cwd_user_umask() {
	new_bundle b sh -c 'echo "$GREETING $(pwd) $(id -u):$(id -g) [$(id -G)] $(umask) $HOME"'
	mkdir -p b/rootfs/work
	cfg b '.process.env += ["GREETING=hi"] | .process.cwd = "/work" |
	       .process.user = {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 63}'
	assert_eq "hi /work 1000:100 [100 5 6] 0077 /" "$(hutch run -b b c1)"
}

test_rlimits_oom_score_and_no_new_privileges() {
	new_bundle b sh -c 'ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status'
	cfg b '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}] |
	       .process.oomScoreAdj = 77 | .process.noNewPrivileges = true'
	out=$(hutch run -b b c1 | xargs)
	assert_eq "123 456 77 NoNewPrivs: 1" "$out"
}

test_rlimit_above_hard_limit_is_reported() {
	hard=$(ulimit -Hn)
	new_bundle b true
	cfg b ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": $((hard + 1)), \"hard\": $((hard + 1))}]"
	# root may raise it; where the host forbids it, the error must say so
	out=$(hutch run -b b c1 2>&1) && return 0
	assert_contains "$out" "process.rlimits[0]"
}

test_cgroup_mount_inside() {
	new_bundle b sh -c 'ls /sys/fs/cgroup; cat /proc/self/cgroup | head -3'
	out=$(hutch run -b b c1)
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		assert_contains "$out" "cgroup.procs"
	else
		assert_contains "$out" "memory"
		assert_contains "$out" "pids"
	fi
}

test_log_json_format() {
	expect_fail "does not exist" hutch --log "$PWD/log.json" --log-format json state nope
	line=$(tail -n1 log.json)
	assert_eq error "$(jq -r .level <<<"$line")"
	assert_contains "$(jq -r .msg <<<"$line")" "does not exist"
	assert_match "$(jq -r .time <<<"$line")" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
}

test_global_flags_version_help() {
	assert_contains "$(hutch --version)" "spec: 1.2.0"
	assert_contains "$(hutch help)" "create"
	for c in create start run exec state kill delete list ps spec features; do
		assert_contains "$(hutch help $c)" "usage: hutch [GLOBAL OPTIONS] $c" "help $c"
		assert_contains "$(hutch $c --help)" "usage:" "$c --help"
	done
	# the systemd manager is accepted (commands that make no cgroup never reach systemd)
	hutch --systemd-cgroup list >/dev/null
	hutch --cgroup-manager systemd list >/dev/null
	expect_fail "unknown manager" hutch --cgroup-manager foo list
}

test_features_json() {
	out=$(hutch features)
	assert_eq 1.2.0 "$(jq -r .ociVersionMax <<<"$out")"
	assert_contains "$(jq -c .linux.namespaces <<<"$out")" '"time"'
	assert_contains "$(jq -c .linux.capabilities <<<"$out")" '"CAP_SYS_ADMIN"'
	assert_contains "$(jq -c .mountOptions <<<"$out")" '"rbind"'
}

test_spec_default_and_rootless() {
	hutch spec
	assert_eq '["sh"]' "$(jq -c .process.args config.json)"
	expect_fail "exists" hutch spec
	mkdir r && hutch spec --rootless --bundle r
	assert_contains "$(jq -c '.linux.namespaces' r/config.json)" '"user"'
	assert_eq "$(id -u)" "$(jq '.linux.uidMappings[0].hostID' r/config.json)"
}

test_cgroup_manager_disabled() {
	new_bundle b cat /proc/self/cgroup
	cfg b 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	host_snapshot > before
	out=$(hutch --cgroup-manager disabled run -b b c1)
	assert_eq "$(cat /proc/self/cgroup)" "$out" "cgroups untouched"
	assert_clean before
}

test_overlay_mount() {
	mkdir -p lower upper work && echo from-lower > lower/l
	new_bundle b sh -c 'cat /ov/l; echo new > /ov/u; ls /ov | xargs'
	cfg b ".mounts += [{\"destination\": \"/ov\", \"type\": \"overlay\", \"source\": \"overlay\",
		\"options\": [\"lowerdir=$PWD/lower\", \"upperdir=$PWD/upper\", \"workdir=$PWD/work\"]}]"
	out=$(hutch run -b b c1)
	assert_contains "$out" "from-lower"
	assert_contains "$out" "l u"
	assert_eq new "$(cat upper/u)" "write landed in the upper dir"
	[ ! -e lower/u ] || fail "lower dir was written"
}

test_rootfs_propagation() {
	new_bundle b sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	cfg b '.linux.rootfsPropagation = "rprivate"'
	out=$(hutch run -b b c1)
	assert_not_contains "$out" "shared:" "rprivate root"
	assert_not_contains "$out" "master:" "rprivate root"
	cfg b '.linux.rootfsPropagation = "rshared"'
	assert_contains "$(hutch run -b b c2)" "shared:" "rshared root"
}

test_devices_in_a_user_namespace_are_bound() {
	new_bundle b sh -c 'echo hi > /dev/mynull && echo ok; grep /dev/mynull /proc/self/mountinfo | wc -l'
	cfg b '.linux.namespaces += [{"type": "user"}] |
	       .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
	       .mounts |= map(if .destination == "/sys" then . + {"type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]} else . end) |
	       .mounts |= map(select(.destination != "/sys/fs/cgroup")) |
	       .linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3}]'
	chown 100000:100000 b/rootfs
	out=$(hutch run -b b c1 | xargs)
	assert_eq "ok 1" "$out" "device bound from the host"
}

test_exec_no_new_privs_flag() {
	new_bundle b sleep 1000
	cfg b '.process.noNewPrivileges = false'
	hutch run -d -b b c1
	assert_eq "NoNewPrivs: 0" "$(hutch exec c1 grep NoNewPrivs /proc/self/status | xargs)"
	assert_eq "NoNewPrivs: 1" "$(hutch exec --no-new-privs c1 grep NoNewPrivs /proc/self/status | xargs)"
	hutch delete -f c1
}

run_tests
