#!/bin/bash
# hutch.ko against the fallbacks (part of `make bench`). This host cannot load modules, so
# the measurement runs in the VM harness's guest (tests/vm): for each kernel, build
# hutch.ko and the image, boot it in bench mode (bench/kmod-guest.sh) and print its table:
# `ps` and `stats` of a 500-process container with the module and without, and the
# overhead of the module's tracepoint probes per fork+exit in a tracked container vs the
# module unloaded. Raw numbers go to bench/results/kmod-KERNEL-DATE.json.
# Under TCG the absolute times are the emulator's; the ratios are the point.
#   bench/kmod.sh [KERNEL...]   (default: every kernel of tests/vm/kernels; run as root)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s all rootfs build/bench/forkloop
res=$top/bench/results
mkdir -p "$res"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
kernels=("$@")
# (not the debug kernel: its sanitizers would be what is measured)
((${#kernels[@]})) || mapfile -t kernels < <(awk '!/^#/ && NF && $2 != "@debug" { print $1 }' tests/vm/kernels)
rc=0
for k in "${kernels[@]}"; do
	tests/vm/fetch-kernel "$k"
	tests/vm/build-module "$k"
	tests/vm/mkinitramfs "$k"
	out=$top/build/vm/$k/bench
	st=0
	HUTCH_VM_TIMEOUT=${HUTCH_VM_TIMEOUT:-600} tests/vm/boot "$k" bench "$out" || st=$?
	echo "## hutch.ko vs fallback, kernel $k (TCG guest)"
	echo
	log=$(tr -d '\r' < "$out/results.log")
	if ! grep -q '^ok - bench' <<<"$log"; then
		echo "bench/kmod.sh: the $k guest did not finish its benchmarks (qemu status $st):" >&2
		grep -v '^\[' <<<"$log" | sed -n '/hutch-vm-dmesg-begin/q;p' | tail -20 >&2
		rc=1
		continue
	fi
	echo '```'
	sed -n 's/^# bench: //p' <<<"$log"
	echo '```'
	sed -n 's/^# bench-json: //p' <<<"$log" | jq --arg d "$stamp" '{date: $d} + .' > "$res/kmod-$k-$stamp.json"
	echo "(raw: bench/results/kmod-$k-$stamp.json)"
	echo
done
exit "$rc"
