#!/bin/bash
# Runs inside the VM (bench/kmod-guest.sh hands over to it when the kernel command line has
# hutch.bench=fork: bench/kmod.sh's second guest, one vCPU under qemu -icount, so the guest's
# clock counts emulated instructions and the host's load does not show in the figures).
# The overhead per fork+exit of hutch.ko's tracepoint probes in a container the module
# tracks, against a bpftrace program doing the same counting on the same tracepoints:
# bench/forkloop (LOOPS forks, each child exits at once, the parent waits) in a busybox
# container, in ROUNDS rounds of three runs each (their order rotating from round to round):
#   tracked   hutch.ko loaded, the container registered (--module on): the module's fork and
#             exit probes count the container's forks and exits
#   none      hutch.ko unloaded, no probe on the tracepoints
#   bpftrace  hutch.ko unloaded, bpftrace counting forks and exits per cgroup on
#             sched_process_fork and sched_process_exit (@forks[cgroup], @exits[cgroup])
# The figures are medians of the rounds; the overheads tracked - none and bpftrace - none,
# and their ratio (issue 16's target: hutch.ko / bpftrace <= 1.0); as a cross-check, the
# medians of each round's own differences. bpftrace's counts are
# checked: its map must hold LOOPS forks for one cgroup, else its run measured nothing.
# Prints "# bench: ..." lines and one "# bench-json: {...}" line, like bench/kmod-guest.sh.
set -euo pipefail
TOP=/hutch
hutch=$TOP/helper/hutch
ko=$TOP/hutch.ko
ROUNDS=${ROUNDS:-15} LOOPS=${LOOPS:-4000}
# bpftrace compiles its program with LLVM at start: seconds of the guest's time under TCG
ATTACH_S=${ATTACH_S:-600}
tmp=$(mktemp -d)
root=$tmp/state
progress() { echo "# bench-progress: $(cut -d' ' -f1 /proc/uptime) s: $*"; }
H() { "$hutch" --root "$root" "$@"; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
fail() {
	echo "not ok - bench: fork+exit: $*"
	exit 0
}

[ -f "$ko" ] || fail "no hutch.ko in the image"
bt=$(command -v bpftrace) || fail "no bpftrace in the image (bench/kmod.sh adds it when the host has it)"
mkdir -p "$tmp/fl"
cp -a "$TOP/build/rootfs" "$tmp/fl/rootfs"
cp "$TOP/build/bench/forkloop" "$tmp/fl/rootfs/bin/forkloop"
(cd "$tmp/fl" && "$hutch" spec)
jq --argjson n "$LOOPS" '.process.terminal = false | .linux.resources.pids.limit = 4096 |
	.process.args = ["/bin/forkloop", ($n | tostring)]' "$tmp/fl/config.json" > "$tmp/c"
mv "$tmp/c" "$tmp/fl/config.json"

# the same counting as the module's fork and exit probes: per cgroup, in a hash map
prog='tracepoint:sched:sched_process_fork { @forks[cgroup] = count(); }
tracepoint:sched:sched_process_exit { @exits[cgroup] = count(); }
BEGIN { printf("attached\n"); }'
loaded() { grep -q '^hutch ' /proc/modules; }
# a run right after rmmod measured the unload's deferred work too (rounds 3 % slower): the
# guest idles a second first (cheap in real time: -icount sleep=on skips idle time)
loop() {
	sleep 1
	H --module "$1" run -b "$tmp/fl" fl
}
# side tracked|none|bpftrace: one run of the loop; its ns per fork+exit+wait in the array of
# that name
side() {
	case $1 in
	tracked)
		loaded || insmod "$ko"
		on+=("$(loop on)")
		return
		;;
	none)
		! loaded || rmmod hutch
		off+=("$(loop off)")
		return
		;;
	esac
	! loaded || rmmod hutch
	"$bt" -e "$prog" > "$tmp/bt.out" 2>&1 &
	bp=$!
	local s=${EPOCHREALTIME/./} i
	for ((i = 0; i < ATTACH_S * 10; i++)); do
		grep -q attached "$tmp/bt.out" && break
		kill -0 "$bp" 2> /dev/null || break
		sleep 0.1
	done
	if ! grep -q attached "$tmp/bt.out"; then
		sed 's/^/# bpftrace: /' "$tmp/bt.out"
		fail "bpftrace did not attach within $ATTACH_S s"
	fi
	attach+=("$(((${EPOCHREALTIME/./} - s) / 1000))")
	bpf+=("$(loop off)")
	kill -TERM "$bp"
	wait "$bp" || true
	# the map printed at exit: one cgroup (the container's) with LOOPS forks
	awk -v n="$LOOPS" -F': ' '/^@forks\[/ && $2 >= n { ok = 1 } END { exit !ok }' "$tmp/bt.out" ||
		{ sed 's/^/# bpftrace: /' "$tmp/bt.out"; fail "bpftrace did not count the $LOOPS forks"; }
}
on=() off=() bpf=() attach=() don=() dbpf=()
sides=(tracked none bpftrace)
for ((r = 0; r < ROUNDS; r++)); do
	# the order rotates from round to round (no side always first or after bpftrace)
	for ((i = 0; i < 3; i++)); do
		side "${sides[(r + i) % 3]}"
	done
	# the overheads of this round (paired: the runs of one round are next to each other)
	don+=($((on[r] - off[r])))
	dbpf+=($((bpf[r] - off[r])))
	progress "fork+exit: round $r: tracked ${on[r]} ns, none ${off[r]} ns, bpftrace ${bpf[r]} ns (attached in ${attach[r]} ms)"
done
fon=$(printf '%s\n' "${on[@]}" | median)
foff=$(printf '%s\n' "${off[@]}" | median)
fbpf=$(printf '%s\n' "${bpf[@]}" | median)
fatt=$(printf '%s\n' "${attach[@]}" | median)
pon=$(printf '%s\n' "${don[@]}" | median)
pbpf=$(printf '%s\n' "${dbpf[@]}" | median)
awk -v a="$fon" -v b="$foff" -v p="$fbpf" -v r="$ROUNDS" -v l="$LOOPS" -v k="$(uname -r)" -v t="$fatt" 'BEGIN {
	printf "# bench: fork+exit+wait on %s (one vCPU, qemu -icount: 1 ns = 1 instruction), median of %d rounds of %d\n", k, r, l
	printf "# bench: %-44s %7d ns\n", "hutch.ko unloaded, no probes", b
	printf "# bench: %-44s %7d ns  overhead %5d ns (%.2f %%)\n", "tracked by hutch.ko", a, a - b, 100 * (a - b) / b
	printf "# bench: %-44s %7d ns  overhead %5d ns (%.2f %%)\n", "bpftrace counting per cgroup", p, p - b, 100 * (p - b) / b
	printf "# bench: overhead per fork+exit, hutch.ko / bpftrace: %d ns / %d ns = %s\n", a - b, p - b,
		((p - b) > 0 ? sprintf("%.2f", (a - b) / (p - b)) : "n/a (no bpftrace overhead measured)")
	printf "# bench: (bpftrace attached in %d ms of the guest'"'"'s time, median)\n", t
}'
awk -v a="$pon" -v p="$pbpf" 'BEGIN {
	printf "# bench: cross-check, median of the rounds'"'"' own overheads: hutch.ko %d ns / bpftrace %d ns = %s\n", a, p,
		(p > 0 ? sprintf("%.2f", a / p) : "n/a")
}'
ratio=$(awk -v a="$fon" -v b="$foff" -v p="$fbpf" 'BEGIN { if (p > b) printf "%.4f", (a - b) / (p - b); else print "null" }')
jq -cn --arg k "$(uname -r)" --argjson fon "$fon" --argjson foff "$foff" --argjson fbpf "$fbpf" \
	--argjson rounds "$ROUNDS" --argjson loops "$LOOPS" --argjson ratio "$ratio" \
	--argjson on "$(printf '%s\n' "${on[@]}" | jq -s -c .)" \
	--argjson off "$(printf '%s\n' "${off[@]}" | jq -s -c .)" \
	--argjson bpf "$(printf '%s\n' "${bpf[@]}" | jq -s -c .)" \
	--argjson pon "$pon" --argjson pbpf "$pbpf" \
	'{kernel: $k,
	  fork_exit_ns: {clock: "qemu -icount shift=0, one vCPU", tracked: $fon, unloaded: $foff,
	                 bpftrace: $fbpf, overhead: ($fon - $foff), overhead_bpftrace: ($fbpf - $foff),
	                 paired_overhead: {tracked: $pon, bpftrace: $pbpf},
	                 rounds: $rounds, loops: $loops, per_round: {tracked: $on, unloaded: $off, bpftrace: $bpf}},
	  targets: {fork_exit: $ratio}}' | sed 's/^/# bench-json: /'
echo "ok - bench: fork+exit benchmarks ran"
