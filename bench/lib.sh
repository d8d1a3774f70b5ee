# shellcheck shell=bash disable=SC2154
# Sourced by bench/run.sh and bench/profile.sh: the runtimes' common setting. Needs $top
# (the tree), $hutch (the binary), $tmp (a scratch directory), RT (name -> binary) and
# NAMES (the runtime names), and the long-running container's id in $long_id.

# crun on a hybrid host: a private mount namespace without the cgroup2 mount.
hybrid=false
grep -q ' /sys/fs/cgroup/unified .* cgroup2 ' /proc/self/mountinfo && hybrid=true
in_ns() { # NAME CMD...: run CMD the way runtime NAME is benchmarked
	local n=$1
	shift
	if [ "$n" = crun ] && $hybrid; then
		unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh "$@"
	else
		"$@"
	fi
}

bench_cleanup() {
	for n in "${NAMES[@]}"; do
		in_ns "$n" "${RT[$n]}" --root "$tmp/$n" delete --force "$long_id" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}

# $tmp/bundle: hutch's default spec with /bin/true (ociVersion 1.0.2: Debian 12's crun 1.8
# rejects 1.2.0); $tmp/long: the same rootfs with a sleep (runc wants an absolute path)
bench_bundles() {
	mkdir -p "$tmp/bundle" "$tmp/long"
	cp -a "$top/build/rootfs" "$tmp/bundle/rootfs"
	(cd "$tmp/bundle" && "$hutch" spec)
	jq '.ociVersion = "1.0.2" | .process.args = ["/bin/true"] | .process.terminal = false' \
		"$tmp/bundle/config.json" > "$tmp/c" && mv "$tmp/c" "$tmp/bundle/config.json"
	jq --arg r "$tmp/bundle/rootfs" '.process.args = ["/bin/sleep", "100000"] | .root.path = $r' \
		"$tmp/bundle/config.json" > "$tmp/long/config.json"
}
