#!/bin/bash
# hutch.ko builds warning-free (W=1) and sparse-clean (C=1) against every installed Debian
# kernel headers tree (6.1 and 6.12 after `make deps`), checkpatch --strict clean (CHECKPATCH=path,
# else the checkpatch.pl `make deps` takes out of Debian's linux-source-6.1),
# and DKMS builds it from the installed source layout.
source "$(dirname "$0")/../lib.sh"

kdirs() { ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | grep -v -e cloud -e rt-amd64; }

# src_copy DIR: the module's sources as `make dkms-install` lays them out.
src_copy() {
	mkdir -p "$1/kmod" "$1/uapi/linux"
	cp "$TOP/Kbuild" "$TOP/dkms.conf" "$TOP/Makefile" "$1/"
	cp "$TOP"/kmod/*.c "$TOP"/kmod/*.h "$1/kmod/"
	cp "$TOP/uapi/linux/hutch.h" "$1/uapi/linux/"
}

test_builds_warning_and_sparse_clean_for_each_kernel() {
	local k n=0 out
	command -v sparse >/dev/null || skip "sparse is not installed (make deps)"
	for k in $(kdirs); do
		[ -f "$k/Makefile" ] || continue
		rm -rf src && src_copy src
		out=$(make -C src module KDIR="$k" W=1 C=1 2>&1) || { echo "$out" | tail -20 | sed 's/^/# /' >&2; fail "build against $k"; }
		[ -f src/hutch.ko ] || fail "no hutch.ko for $k"
		# compiler and sparse output is anything but make's own progress lines
		local noise
		noise=$(grep -vE '^(make|  (CC|LD|CHECK|MODPOST|BTF) |Skipping BTF|  CC \[M\])' <<<"$out" | grep -v '^$' || true)
		[ -z "$noise" ] || { echo "$noise" | sed 's/^/# /' >&2; fail "warnings building against $k"; }
		echo "# built against $k" >&2
		n=$((n + 1))
	done
	((n >= 1)) || skip "no kernel headers under /usr/src"
}

test_checkpatch_clean() {
	local cp=${CHECKPATCH:-}
	[ -n "$cp" ] || cp=$(ls "$TOP"/build/checkpatch/scripts/checkpatch.pl \
		/usr/src/linux-*/scripts/checkpatch.pl 2>/dev/null | head -1)
	[ -n "$cp" ] && [ -x "$cp" ] || fail "no checkpatch.pl: make deps fetches one into build/checkpatch"
	out=$("$cp" --strict --no-tree -q -f "$TOP"/kmod/*.c "$TOP"/kmod/*.h "$TOP/uapi/linux/hutch.h" 2>&1) ||
		{ echo "$out" | sed 's/^/# /' >&2; fail "checkpatch"; }
}

test_dkms_builds_for_each_kernel() {
	command -v dkms >/dev/null || skip "dkms is not installed (make deps)"
	local k kver n=0 ver
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	mkdir -p tree srcs
	src_copy "srcs/hutch-$ver"
	for k in $(kdirs); do
		kver=${k#/usr/src/linux-headers-}
		[ -d "/lib/modules/$kver/build" ] || continue
		dkms add --dkmstree "$PWD/tree" --sourcetree "$PWD/srcs" -m hutch -v "$ver" >/dev/null 2>&1 || true
		out=$(dkms build --dkmstree "$PWD/tree" --sourcetree "$PWD/srcs" -m hutch -v "$ver" -k "$kver" 2>&1) ||
			{ echo "$out" | tail -20 | sed 's/^/# /' >&2; fail "dkms build for $kver"; }
		ls tree/hutch/"$ver"/"$kver"/*/module/hutch.ko* >/dev/null || fail "dkms built no module for $kver"
		n=$((n + 1))
	done
	((n >= 1)) || skip "no kernel with /lib/modules/KVER/build"
}

# The kernels newer than this host's Debian can build modules for (tests/vm/kernels' third
# column): their headers need that release's gcc and glibc, so they are installed in a chroot
# of it (tests/vm/chroot-setup, under /var/cache/hutch) and the module is built there.
# "ROOT KDIR" lines.
chroot_kdirs() {
	local root k
	for root in "${HUTCH_CACHE:-/var/cache/hutch}"/chroot-*; do
		[ -f "$root/.hutch-ready" ] || continue
		for k in "$root"/usr/src/linux-headers-*-amd64; do
			[ -f "$k/Makefile" ] && echo "$root ${k#"$root"}"
		done
	done
}

# in_chroot ROOT DIR CMD...: CMD in ROOT with DIR at /mnt (the cwd), /proc and /dev
in_chroot() {
	unshare --mount --propagation private -- /bin/sh -c '
		root=$1 dir=$2; shift 2
		mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
			mount --bind "$dir" "$root/mnt" || exit 1
		exec chroot "$root" sh -c "cd /mnt && exec \"\$@\"" sh "$@"' sh "$@"
}

# W=1 only: sparse 0.6.4 (trixie's, the newest Debian has) cannot parse the __typeof_unqual__
# of the 6.15+ headers, and Debian's headers package lacks scripts/checker-valid.sh
test_builds_warning_clean_for_each_chroot_kernel() {
	local root k out noise n=0
	while read -r root k; do
		rm -rf src && src_copy src
		out=$(in_chroot "$root" "$PWD/src" make module KDIR="$k" W=1 2>&1) ||
			{ echo "$out" | tail -20 | sed 's/^/# /' >&2; fail "build against $k in $root"; }
		[ -f src/hutch.ko ] || fail "no hutch.ko for $k"
		noise=$(grep -vE '^(make|  (CC|LD|MODPOST|BTF) |Skipping BTF|  CC \[M\]|  BTF \[M\])' <<<"$out" | grep -v '^$' || true)
		[ -z "$noise" ] || { echo "$noise" | sed 's/^/# /' >&2; fail "warnings building against $k"; }
		echo "# built against $k in $root" >&2
		n=$((n + 1))
	done < <(chroot_kdirs)
	((n >= 1)) || skip "no chroot with kernel headers (make deps: tests/vm/chroot-setup)"
}

test_dkms_builds_for_each_chroot_kernel() {
	local root k kver ver n=0 out
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	while read -r root k; do
		kver=${k#/usr/src/linux-headers-}
		rm -rf d && mkdir -p d/tree d/srcs
		src_copy "d/srcs/hutch-$ver"
		out=$(in_chroot "$root" "$PWD/d" sh -c "dkms add --dkmstree /mnt/tree --sourcetree /mnt/srcs -m hutch -v $ver >/dev/null 2>&1;
			dkms build --dkmstree /mnt/tree --sourcetree /mnt/srcs -m hutch -v $ver -k $kver" 2>&1) ||
			{ echo "$out" | tail -20 | sed 's/^/# /' >&2; fail "dkms build for $kver in $root"; }
		ls d/tree/hutch/"$ver"/"$kver"/*/module/hutch.ko* >/dev/null || fail "dkms built no module for $kver"
		echo "# dkms built hutch $ver for $kver in $root" >&2
		n=$((n + 1))
	done < <(chroot_kdirs)
	((n >= 1)) || skip "no chroot with kernel headers (make deps: tests/vm/chroot-setup)"
}

run_tests
