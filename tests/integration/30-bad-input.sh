#!/bin/bash
# Bad input: a clear error naming the field, a non-zero exit, nothing left behind.
source "$(dirname "$0")/../lib.sh"

# bad_config MSG JQ-EXPR: create with an edited config must fail with MSG, cleanly. The
# test's first call makes a base bundle and the snapshot; each call then writes bb/config.json
# (the base config, edited, with the base's rootfs): no copy of the rootfs per case.
bad_config() {
	local msg=$1 expr=$2
	if [ ! -d base ]; then
		new_bundle base sleep 1000
		host_snapshot > before
	fi
	mkdir -p bb
	jq --arg r "$PWD/base/rootfs" ".root.path = \$r | $expr" base/config.json > bb/config.json
	expect_fail "$msg" hutch create -b bb c1
	assert_clean before
}

test_malformed_json() {
	new_bundle b true
	echo '{"ociVersion": "1.2.0", "root": {' > b/config.json
	host_snapshot > before
	expect_fail "config.json: invalid JSON at line 2: unexpected end of input" hutch create -b b c1
	echo '{"ociVersion": 1.2.0}' > b/config.json
	expect_fail "config.json: invalid JSON at line 1" hutch create -b b c1
	assert_clean before
}

test_wrong_types_name_the_path() {
	bad_config 'config.json: process.args: expected an array, got a string' '.process.args = "sh"'
	bad_config 'config.json: process.cwd: expected a string, got an integer' '.process.cwd = 5'
	bad_config 'config.json: linux.namespaces[1]: expected an object' '.linux.namespaces[1] = "net"'
	bad_config 'config.json: process.user.uid: must not be negative' '.process.user.uid = -1'
	bad_config 'config.json: root.readonly: expected a boolean' '.root.readonly = "yes"'
	bad_config 'config.json: mounts[0].options[1]: expected a string' '.mounts[0].options = ["ro", 5]'
}

test_unknown_values() {
	bad_config 'config.json: linux.namespaces[2].type: unknown namespace "foo"' '.linux.namespaces[2].type = "foo"'
	bad_config 'config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"' '.process.rlimits[0].type = "RLIMIT_FOO"'
	bad_config 'config.json: linux.devices[0].type: unknown device type "x"' '.linux.devices = [{"path": "/dev/x", "type": "x", "major": 1, "minor": 1}]'
	bad_config 'config.json: linux.rootfsPropagation: unknown propagation "sideways"' '.linux.rootfsPropagation = "sideways"'
	bad_config 'unknown option "bogus" for a bind mount' '.mounts += [{"destination": "/mnt", "source": "/tmp", "options": ["bind", "bogus"]}]'
	bad_config 'config.json: mounts[0]: mount proc on `/proc` with bogus' '.mounts[0].options = ["bogus"]'
}

test_missing_and_invalid_required_fields() {
	bad_config 'config.json: root: missing required field' 'del(.root)'
	bad_config 'config.json: ociVersion: missing required field' 'del(.ociVersion)'
	bad_config 'config.json: process.cwd: "rel" is not an absolute path' '.process.cwd = "rel"'
	bad_config 'config.json: process.args: must hold at least the program' '.process.args = []'
	bad_config 'config.json: mounts[1].destination: "dev" is not an absolute path' '.mounts[1].destination = "dev"'
	bad_config 'config.json: hostname: setting it needs a uts namespace in linux.namespaces' 'del(.linux.namespaces[] | select(.type == "uts"))'
	bad_config 'config.json: linux.namespaces[0].path: `/nonexistent/ns`' '.linux.namespaces[0].path = "/nonexistent/ns"'
	bad_config 'config.json: linux.uidMappings: a new user namespace needs uidMappings' '.linux.namespaces += [{"type": "user"}]'
	bad_config 'config.json: process.oomScoreAdj: 5000 is out of range' '.process.oomScoreAdj = 5000'
	bad_config 'config.json: process.env[2]: "NOEQUALS" is not of the form NAME=VALUE' '.process.env += ["NOEQUALS"]'
	bad_config 'config.json: process.terminal is true: pass --console-socket' '.process.terminal = true'
}

test_missing_rootfs() {
	bad_config 'config.json: root.path: `' '.root.path = "nope"'
	bad_config 'No such file or directory' '.root.path = "nope"'
}

test_failure_inside_the_container_cleans_up() {
	# fails in the init after namespaces, cgroups and some mounts exist
	bad_config 'exec: `/no/such/binary`: executable file not found' '.process.args = ["/no/such/binary"]'
	bad_config 'process.cwd: chdir `/bin/busybox`: Not a directory' '.process.cwd = "/bin/busybox"'
	bad_config 'bind mount source `/nonexistent/src`' '.mounts += [{"destination": "/mnt", "source": "/nonexistent/src", "options": ["bind"]}]'
}

test_duplicate_and_unknown_ids() {
	new_bundle b sleep 1000
	hutch create -b b c1
	host_snapshot > before
	expect_fail 'container `c1` already exists' hutch create -b b c1
	assert_clean before
	hutch delete c1
	for cmd in start state delete kill ps exec; do
		expect_fail 'container `nope` does not exist' hutch $cmd nope $([ $cmd = exec ] && echo true)
	done
}

test_invalid_ids() {
	new_bundle b true
	host_snapshot > before
	expect_fail "invalid container id" hutch create -b b ../escape
	expect_fail "invalid container id" hutch create -b b a/b
	expect_fail "invalid container id" hutch create -b b ..
	expect_fail "container id is too long" hutch create -b b "$(printf 'x%.0s' $(seq 1 1100))"
	assert_clean before
}

test_bad_signals() {
	new_bundle b sleep 1000
	hutch run -d -b b c1
	expect_fail 'invalid signal `SIGFOO`' hutch kill c1 SIGFOO
	expect_fail 'invalid signal `99`' hutch kill c1 99
	expect_fail 'invalid signal `-3`' hutch kill c1 -- -3
	assert_eq running "$(status_of c1)"
}

test_bad_flags() {
	new_bundle b true
	host_snapshot > before
	expect_fail "unknown option \`--bogus\`" hutch create --bogus -b b c1
	expect_fail "option \`--pid-file\` needs a value" hutch create -b b c1 --pid-file
	expect_fail "missing container id" hutch create -b b
	expect_fail "too many arguments" hutch create -b b c1 c2
	expect_fail "--preserve-fds: \`x\` is not a number" hutch create --preserve-fds x -b b c1
	expect_fail "unknown global option \`--nope\`" hutch --nope list
	expect_fail "--format: unknown format \`yaml\`" hutch list --format yaml
	expect_fail "unknown command \`frobnicate\`" hutch frobnicate
	expect_fail "--log-format: unknown format" hutch --log-format xml list
	expect_fail "bundle \`nonexistent\`" hutch create -b nonexistent c1
	assert_clean before
}

run_tests
