#!/bin/bash
# hutch.ko against the fallbacks (part of `make bench`). This host cannot load modules, so
# the measurement runs in the VM harness's guest (tests/vm): for each kernel, build
# hutch.ko and the image, boot it in bench mode (bench/kmod-guest.sh) and print its table:
# `run` of /bin/true with the module (whose write guard of the runtime binary replaces the
# CVE-2019-5736 re-execution) and without, `ps` of 10 containers x 100 processes and
# `stats --all` of 100 containers with the module and without, and the CPU per sample of
# `stats --all --watch`. Then the overhead of the module's tracepoint probes per fork+exit
# in a tracked container vs the module unloaded and vs a bpftrace program doing the same
# counting (when the host has bpftrace: `make bench` installs it; it goes into that guest
# only, as an extra cpio with its libraries). Raw numbers of both guests go to
# bench/results/kmod-KERNEL-DATE.json.
# Under TCG the absolute times are the emulator's; the ratios are the point. The fork+exit
# figure is a few hundred emulated instructions in a fork+exit+wait of ~200000, far below
# the noise of a TCG guest's wall clock on a loaded host (rounds differed by 2x), so it
# runs in a second guest (hutch.bench=fork, bench/kmod-fork-guest.sh) with one vCPU under
# qemu -icount shift=0 (HUTCH_VM_ICOUNT): its clock counts instructions, 1 ns each.
# The `run` ratio moved between 0.75 and 0.99 from one run to the next in the first guest
# (a TCG wall clock on a shared host), so it is measured in such a guest too (runicount:
# bench/kmod-guest.sh's run part, one vCPU, -icount; .targets.run_icount, which
# bench/targets.sh prefers).
#   bench/kmod.sh [KERNEL...]   (default: every kernel of tests/vm/kernels; run as root)
#   KMOD_BENCH_PARTS=run,ps,stats,nl,fork,runicount   only those parts (default all but nl):
#   fork and runicount are guests of their own, the others go to the first as
#   hutch.bench= (none left: no first guest)
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
# bpftrace_cpio OUT: bpftrace and its libraries (as ldd lists them) as a cpio archive
# for the /usr-merged guest; nothing without bpftrace on the host.
bpftrace_cpio() {
	local bt lib d=$top/build/vm/bpftrace.d
	bt=$(command -v bpftrace) || return 1
	rm -rf "$d" && mkdir -p "$d/usr/bin"
	cp -L "$bt" "$d/usr/bin/bpftrace"
	local dst
	for lib in $(ldd "$bt" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		dst=$lib
		case $dst in /usr/*) ;; *) dst=/usr$dst ;; esac
		mkdir -p "$d${dst%/*}"
		cp -L "$lib" "$d$dst"
	done
	(cd "$d" && find . -print0 | LC_ALL=C sort -z | cpio --quiet --null -o -H newc -R 0:0) > "$1"
}
parts=${KMOD_BENCH_PARTS:-run,ps,stats,fork,runicount}
guest_parts=$(tr , '\n' <<<"$parts" | grep -vx -e fork -e runicount | paste -sd, || true)
fork='' runic=''
[[ ",$parts," != *,fork,* ]] || fork=1
[[ ",$parts," != *,runicount,* ]] || runic=1
rc=0
for k in "${kernels[@]}"; do
	tests/vm/fetch-kernel "$k"
	tests/vm/build-module "$k"
	tests/vm/mkinitramfs "$k"
	out=$top/build/vm/$k/bench
	mkdir -p "$out"
	initrd=$top/build/vm/$k/initramfs.cpio
	# the guests' JSON lines, deep-merged at the end (the second's fork_exit_ns and
	# targets.fork_exit join the first's); ran: the parts measured
	json='' ran=''
	if [ -n "$guest_parts" ]; then
		st=0
		HUTCH_VM_APPEND="${HUTCH_VM_APPEND:-}${KMOD_BENCH_PARTS:+ hutch.bench=$guest_parts}" \
			HUTCH_VM_MEM=${HUTCH_VM_MEM:-3072} HUTCH_VM_TIMEOUT=${HUTCH_VM_TIMEOUT:-3600} \
			tests/vm/boot "$k" bench "$out" || st=$?
		log=$(tr -d '\r' < "$out/results.log")
		if ! grep -q '^ok - bench' <<<"$log"; then
			echo "bench/kmod.sh: the $k guest did not finish its benchmarks (qemu status $st):" >&2
			grep -v '^\[' <<<"$log" | sed -n '/hutch-vm-dmesg-begin/q;p' | tail -20 >&2
			rc=1
			continue
		fi
		json=$(sed -n 's/^# bench-json: //p' <<<"$log")
		ran=$guest_parts
	fi
	echo "## hutch.ko vs fallback, kernel $k (TCG guest)"
	echo
	echo '```'
	[ -z "$guest_parts" ] || sed -n 's/^# bench: //p' <<<"$log"
	# `run` with and without the module again, in a guest whose clock counts instructions
	if [ -n "$runic" ]; then
		mkdir -p "$out/runic"
		st=0
		HUTCH_VM_MEM=${HUTCH_VM_MEM:-3072} HUTCH_VM_CPUS=1 \
			HUTCH_VM_ICOUNT=${HUTCH_VM_ICOUNT:-shift=0,sleep=on} \
			HUTCH_VM_APPEND="${HUTCH_VM_APPEND:-} hutch.bench=run hutch.clock=icount" \
			HUTCH_VM_TIMEOUT=${HUTCH_VM_TIMEOUT:-3600} tests/vm/boot "$k" bench "$out/runic" || st=$?
		rlog=$(tr -d '\r' < "$out/runic/results.log")
		if grep -q '^ok - bench' <<<"$rlog"; then
			echo "run with and without hutch.ko, instruction clock (one vCPU, qemu -icount):"
			sed -n 's/^# bench: //p' <<<"$rlog" | grep -v '^clock:' | grep -e '^run ' -e ' ratio$'
			json+=$'\n'$(sed -n 's/^# bench-json: //p' <<<"$rlog" |
				jq -c '{run_us_icount: (.run_us + {clock: .clock}), targets: {run_icount: .targets.run}}')
			ran+=${ran:+,}runicount
		else
			echo "bench/kmod.sh: the $k instruction-clock guest did not finish (qemu status $st):" >&2
			grep -v '^\[' <<<"$rlog" | sed -n '/hutch-vm-dmesg-begin/q;p' | tail -20 >&2
			rc=1
		fi
	fi
	# the fork+exit figure: a second guest with bpftrace, one vCPU, an instruction clock
	if [ -z "$fork" ]; then
		:
	elif bpftrace_cpio "$out/bpftrace.cpio"; then
		cat "$initrd" "$out/bpftrace.cpio" > "$out/initramfs-bpftrace.cpio"
		rm "$out/bpftrace.cpio"
		mkdir -p "$out/fork"
		st=0
		HUTCH_VM_INITRD=$out/initramfs-bpftrace.cpio HUTCH_VM_MEM=${HUTCH_VM_MEM:-3072} HUTCH_VM_CPUS=1 \
			HUTCH_VM_ICOUNT=${HUTCH_VM_ICOUNT:-shift=0,sleep=on} HUTCH_VM_APPEND="${HUTCH_VM_APPEND:-} hutch.bench=fork" \
			HUTCH_VM_TIMEOUT=${HUTCH_VM_TIMEOUT:-3600} tests/vm/boot "$k" bench "$out/fork" || st=$?
		rm -f "$out/initramfs-bpftrace.cpio"
		flog=$(tr -d '\r' < "$out/fork/results.log")
		sed -n 's/^# bench: //p' <<<"$flog"
		if grep -q '^ok - bench' <<<"$flog"; then
			json+=$'\n'$(sed -n 's/^# bench-json: //p' <<<"$flog")
			ran+=${ran:+,}fork
		else
			echo "bench/kmod.sh: the $k fork+exit guest did not finish (qemu status $st):" >&2
			grep -v '^\[' <<<"$flog" | sed -n '/hutch-vm-dmesg-begin/q;p' | tail -20 >&2
			rc=1
		fi
	else
		echo "bench/kmod.sh: no bpftrace on the host (make bench installs it): no fork+exit figure" >&2
	fi
	echo '```'
	if [ -n "$ran" ]; then
		jq -n --arg d "$stamp" --arg p "$ran" 'reduce inputs as $o ({date: $d}; . * $o) | .parts = $p' \
			<<<"$json" > "$res/kmod-$k-$stamp.json"
		echo "(raw: bench/results/kmod-$k-$stamp.json)"
	fi
	echo
done
exit "$rc"
