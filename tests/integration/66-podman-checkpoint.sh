#!/bin/bash
# podman's `container checkpoint` / `container restore` with --runtime hutch: podman calls
# `hutch checkpoint` itself, and conmon `hutch restore --bundle --detach --pid-file
# --image-path --work-path`. podman as 80-podman.sh sets it up (podman_setup, tests/lib.sh).
# CRIU runs in the VM guests (6.1, 6.12: the guest image carries podman for this suite,
# tests/vm/mkinitramfs' podman part); on this development host's kernel it cannot, and the
# suite skips naming why.
source "$(dirname "$0")/../lib.sh"

command -v podman >/dev/null && command -v conmon >/dev/null ||
	skip_suite "podman or conmon not installed (make deps)"
command -v criu >/dev/null || skip_suite "criu is not installed (make deps)"
criu_works ||
	skip_suite "\`criu check\` fails on this kernel ($(uname -r)): CRIU cannot run here (the VM guests run this suite)"

podman_setup

# counter NAME: start a container counting into $PWD/data/n (a bind mount of the host's
# directory, so the count is readable while the container is checkpointed) and onto its
# stdout (conmon's pipe: `podman logs`), print its id. Every podman call takes seconds in a
# TCG guest: the tests make few.
counter() {
	mkdir -p data
	pm run -d --name "$1" -v "$PWD/data:/data" "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /data/n.new; mv /data/n.new /data/n; echo "tick $i"; sleep 0.1; done'
	wait_for bash -c "[ \$(cat $PWD/data/n 2>/dev/null || echo 0) -gt 2 ]"
}
count_of() { cat "$PWD/data/n" 2>/dev/null || echo 0; }
# goes_on_from N: the counter passes N without ever reading below it (a restarted process
# would begin again at 1)
goes_on_from() {
	local i n
	for ((i = 0; i < 200; i++)); do
		n=$(count_of)
		[ "$n" -ge "$1" ] || fail "the count went back to $n from $1: the process started anew"
		[ "$n" -le "$1" ] || return 0
		sleep 0.05
	done
	fail "the count stays at $1"
}
ct_status() { "$HUTCH" --root "$PM_HUTCH_ROOT" state "$1" | jq -r .status; }
# left_nothing ID: no hutch state of ID in podman's root, no cgroup of it
left_nothing() {
	! "$HUTCH" --root "$PM_HUTCH_ROOT" list -q 2>/dev/null | grep -qx "$1" ||
		fail "hutch still lists $1"
	[ ! -e "$PM_HUTCH_ROOT/$1" ] || fail "hutch state of $1 left behind"
	! find /sys/fs/cgroup -type d -name "*$1*" 2>/dev/null | grep -q . ||
		fail "cgroup of $1 left behind"
}

# checkpoint --leave-running, then a checkpoint that stops it, then restore
test_checkpoint_restore_keeps_counting() {
	local id at
	id=$(counter c1)
	pm container checkpoint --leave-running c1 >/dev/null
	assert_eq running "$(ct_status "$id")" "status after checkpoint --leave-running"
	goes_on_from "$(count_of)"
	pm container checkpoint c1 >/dev/null
	at=$(count_of)
	left_nothing "$id"
	sleep 0.3
	assert_eq "$at" "$(count_of)" "nothing counts while checkpointed"
	pm container restore c1 >/dev/null
	assert_eq running "$(ct_status "$id")" "status after restore"
	goes_on_from "$at"
	# podman takes the restored container for a running one of its own, and its output
	# still reaches podman's log (the restored init writes into the new conmon's pipe)
	assert_eq exec-ok "$(pm exec c1 echo exec-ok)"
	assert_contains "$(pm logs c1)" "tick $((at + 1))"
	pm rm -f -t 0 c1 >/dev/null
	left_nothing "$id"
}

# the archive of --export brings the container back after `rm`, as another host would
test_export_remove_import() {
	local id at
	id=$(counter c2)
	pm container checkpoint --export "$PWD/c2.tar.gz" c2 >/dev/null
	at=$(count_of)
	[ -s c2.tar.gz ] || fail "no checkpoint archive"
	pm rm c2 >/dev/null
	left_nothing "$id"
	pm container restore --import "$PWD/c2.tar.gz" >/dev/null
	assert_eq running "$(ct_status "$id")" "status of the imported container (same id)"
	goes_on_from "$at"
	pm rm -f -t 0 c2 >/dev/null
	left_nothing "$id"
}

run_tests
