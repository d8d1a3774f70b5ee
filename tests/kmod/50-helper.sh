#!/bin/bash
# The helper's side: hutch module status|load|unload, hutch trace.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.bash"

test_module_load_status_unload() {
	kmod_require
	kmod_unload
	hutch module status | grep -qx "module: not loaded"
	[ "$(hutch module status -f json | jq .loaded)" = false ]
	hutch module load --path "$HUTCH_KO" max_containers=7 | grep -q "loaded"
	kmod_loaded
	local st
	st=$(hutch module status)
	assert_contains "$st" "module: loaded"
	assert_contains "$st" "version: 0.1.0"
	assert_contains "$st" "protocol: 1 (helper 1: match)"
	assert_contains "$st" "of at most 7"
	[ "$(hutch module status -f json | jq .protocolMatch)" = true ]
	hutch module load --path "$HUTCH_KO" | grep -q "already loaded"
	hutch module unload | grep -q "unloaded"
	! kmod_loaded
	hutch module unload | grep -q "not loaded"
	expect_fail "module load: \`/nonexistent.ko\`" hutch module load --path /nonexistent.ko
	expect_fail "unknown subcommand" hutch module frob
	kmod_dmesg_clean "$KMOD_MARK"
}

test_trace_without_module_is_a_clear_error() {
	kmod_require
	kmod_unload
	expect_fail "hutch.ko is not loaded" hutch trace some-id
	expect_fail "needs the hutch.ko kernel module" hutch --module off trace some-id
}

test_trace_unknown_container() {
	kmod_require
	expect_fail "container \`nope\` is not registered with hutch.ko" hutch trace nope
	expect_fail "missing container id" hutch trace
}

test_trace_prints_json_lines() {
	kmod_require
	local pid out
	# A process that waits for a go, then forks+execs true and exits 3.
	mkfifo go
	sh -c 'read x < go; /bin/true; exit 3' &
	pid=$!
	"$KTEST" reg tr "$pid" 1
	hutch --debug trace --module-name --timeout 10 tr > trace.out 2> trace.err &
	local tp=$!
	wait_long grep -q subscribed trace.err
	echo go > go
	wait "$pid" || true
	sleep 0.3
	"$KTEST" unreg tr
	wait "$tp"
	sed 's/^/# /' trace.out >&2
	out=$(jq -r .event trace.out | tr '\n' ' ')
	assert_eq "fork exec exit exit init-exit empty unregistered " "$out" "event sequence"
	assert_eq "/bin/true" "$(jq -r 'select(.event=="exec") | .filename' trace.out)"
	assert_eq "768" "$(jq -r 'select(.event=="init-exit") | .status' trace.out)"
	assert_eq "$pid" "$(jq -r 'select(.event=="init-exit") | .pid' trace.out)"
	# sequence numbers strictly increase
	jq -s '[.[].seq] | . == (sort) and (. | unique | length) == length' trace.out | grep -qx true
}

run_tests
kmod_unload
