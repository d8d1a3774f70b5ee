# shellcheck shell=bash
# Shared by the tests/vm scripts: paths, the kernel list, package resolution.
set -euo pipefail
VM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_DIR=$VM_TOP/tests/vm
VM_BUILD=${HUTCH_VM_BUILD:-$VM_TOP/build/vm}

vm_die() { echo "vm: $*" >&2; exit 1; }
vm_log() { echo "# vm: $*" >&2; }

# The kernel names listed in tests/vm/kernels, in order.
vm_kernels() { awk '!/^#/ && NF { print $1 }' "$VM_DIR/kernels"; }

# vm_kernel_meta NAME: the image metapackage alternatives of NAME's line.
vm_kernel_meta() {
	local v
	v=$(awk -v n="$1" '!/^#/ && $1 == n { print $2; exit }' "$VM_DIR/kernels")
	[ -n "$v" ] || vm_die "kernel '$1' is not listed in tests/vm/kernels (have: $(vm_kernels | xargs))"
	echo "$v"
}

# vm_meta_dep META[/RELEASE]: the versioned linux-image package a metapackage depends on.
vm_meta_dep() {
	apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$1" 2>/dev/null |
		awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

vm_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'; }

# vm_resolve NAME: sets VM_KVER (uname -r of the guest kernel), VM_IMAGE_PKG, VM_HEADERS_PKG
# and VM_PKG_VERSION, from the first metapackage alternative that resolves. The image and
# headers packages must have the same candidate version.
vm_resolve() {
	local name=$1 meta alts hv
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
