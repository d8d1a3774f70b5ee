#!/bin/sh
# cycle.sh RUNTIME ROOT BUNDLE ID [GLOBAL-OPTS...]: create -> start -> wait -> delete,
# the sequence a client (podman/conmon, containerd's shim) drives. "wait" polls
# `state` until the container has stopped.
rt=$1 root=$2 bundle=$3 id=$4
shift 4
"$rt" --root "$root" "$@" create --bundle "$bundle" "$id" </dev/null >/dev/null || exit 1
"$rt" --root "$root" "$@" start "$id" || exit 1
while :; do
	case $("$rt" --root "$root" "$@" state "$id") in
	*'"stopped"'*) break ;;
	esac
done
exec "$rt" --root "$root" "$@" delete "$id"
