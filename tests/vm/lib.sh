# shellcheck shell=bash
# Shared by the tests/vm scripts: paths, the kernel list, package resolution.
set -euo pipefail
VM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_DIR=$VM_TOP/tests/vm
VM_BUILD=${HUTCH_VM_BUILD:-$VM_TOP/build/vm}
# Outside the clone: what is built once per machine (the debug kernel, chroots).
VM_CACHE=${HUTCH_CACHE:-/var/cache/hutch}

vm_die() { echo "vm: $*" >&2; exit 1; }
vm_log() { echo "# vm: $*" >&2; }

# The integration suites that need podman, containerd or the python clients in the guest:
# the guests whose plan (or vm-run's suites) names one of them get build/vm/clients.cpio
# (mkinitramfs) appended (tests/vm/boot).
VM_CLIENT_SUITES=" 45-systemd 66-podman-checkpoint "
# vm_needs_clients TEXT: whether TEXT (a plan "i:NAME:0:3,k:...", or vm-run's "+NAME ...")
# names one of VM_CLIENT_SUITES
vm_needs_clients() {
	local w
	for w in ${1//[,:+]/ }; do
		[[ "$VM_CLIENT_SUITES" != *" $w "* ]] || return 0
	done
	return 1
}

# The kernel names listed in tests/vm/kernels, in order.
vm_kernels() { awk '!/^#/ && NF { print $1 }' "$VM_DIR/kernels"; }

# vm_kernel_meta NAME: the image metapackage alternatives of NAME's line (@debug: the debug
# kernel, tests/vm/build-debug-kernel).
vm_kernel_meta() {
	local v
	v=$(awk -v n="$1" '!/^#/ && $1 == n { print $2; exit }' "$VM_DIR/kernels")
	[ -n "$v" ] || vm_die "kernel '$1' is not listed in tests/vm/kernels (have: $(vm_kernels | xargs))"
	echo "$v"
}

# vm_kernel_chroot NAME: the Debian release whose chroot (tests/vm/chroot-setup) resolves,
# fetches and builds for kernel NAME (the line's third column), or nothing for the host.
vm_kernel_chroot() { awk -v n="$1" '!/^#/ && $1 == n { print $3; exit }' "$VM_DIR/kernels"; }

# vm_apt CMD ARGS...: an apt command on the host, or in the chroot VM_CHROOT names.
vm_apt() {
	if [ -n "${VM_CHROOT:-}" ]; then
		vm_chroot "$VM_CHROOT" "$@"
	else
		"$@"
	fi
}

# vm_meta_dep META[/RELEASE]: the versioned linux-image package a metapackage depends on.
vm_meta_dep() {
	vm_apt apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$1" 2>/dev/null |
		awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

vm_candidate() { vm_apt apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'; }

# vm_resolve NAME: sets VM_KVER (uname -r of the guest kernel), VM_IMAGE_PKG, VM_HEADERS_PKG
# and VM_PKG_VERSION, from the first metapackage alternative that resolves. The image and
# headers packages must have the same candidate version. VM_CHROOT: the kernel's chroot.
vm_resolve() {
	local name=$1 meta alts hv
	VM_CHROOT=$(vm_kernel_chroot "$name")
	IFS='|' read -ra alts <<<"$(vm_kernel_meta "$name")"
	VM_IMAGE_PKG=
	for meta in "${alts[@]}"; do
		VM_IMAGE_PKG=$(vm_meta_dep "$meta")
		[ -z "$VM_IMAGE_PKG" ] || break
	done
	[ -n "$VM_IMAGE_PKG" ] ||
		vm_die "kernel $name: none of ${alts[*]} resolves (run 'make deps', or apt-get update)"
	VM_KVER=${VM_IMAGE_PKG#linux-image-}
	VM_KVER=${VM_KVER%-unsigned}
	VM_HEADERS_PKG=linux-headers-$VM_KVER
	VM_PKG_VERSION=$(vm_candidate "$VM_IMAGE_PKG")
	hv=$(vm_candidate "$VM_HEADERS_PKG")
	[ -n "$VM_PKG_VERSION" ] && [ "$VM_PKG_VERSION" = "$hv" ] ||
		vm_die "kernel $name: $VM_IMAGE_PKG ($VM_PKG_VERSION) and $VM_HEADERS_PKG (${hv:-none}) versions differ"
}

# Per-kernel build directory.
vm_kdir() { echo "$VM_BUILD/$1"; }


# The mirror the system already uses for its main Debian archive.
vm_mirror() {
	local m
	m=$(
		{
			grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{ for (i = 2; i <= NF; i++) print $i }'
			cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep '^deb ' |
				sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{ print $1 }'
		} | grep -E '^https?://[^ ]+/debian/?$' | head -n1
	) || true
	m=${m%/}
	echo "${m:-http://deb.debian.org/debian}"
}

# vm_chroot_dir RELEASE: where tests/vm/chroot-setup puts a Debian RELEASE.
vm_chroot_dir() { echo "$VM_CACHE/chroot-$1"; }

# vm_chroot RELEASE CMD...: run CMD in that chroot, in a private mount namespace with /proc
# and /dev (gone when CMD ends); VM_CHROOT_BIND=DIR: DIR bind-mounted at /mnt, the cwd.
vm_chroot() {
	local root
	root=$(vm_chroot_dir "$1")
	shift
	unshare --mount --propagation private -- /bin/sh -c '
		root=$1 bind=$2; shift 2
		mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" || exit 1
		if [ -n "$bind" ]; then
			mount --bind "$bind" "$root/mnt" && exec chroot "$root" sh -c "cd /mnt && exec \"\$@\"" sh "$@"
		fi
		exec chroot "$root" "$@"' sh "$root" "${VM_CHROOT_BIND:-}" "$@"
}
