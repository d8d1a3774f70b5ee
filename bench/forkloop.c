// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forkloop N: fork N children that exit at once, waiting for each, and print the mean
 * wall time of one fork+exit+wait in nanoseconds. Built static (bench/kmod-fork-guest.sh
 * runs it inside a busybox container) to measure what hutch.ko's fork and exit tracepoint
 * probes add to a tracked container's processes, and what bpftrace's do.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	long long t0;

	if (n <= 0) {
		fprintf(stderr, "usage: forkloop N (N > 0)\n");
		return 2;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0)
			_exit(0);
		if (waitpid(p, NULL, 0) < 0) {
			perror("waitpid");
			return 1;
		}
	}
	printf("%lld\n", (now_ns() - t0) / n);
	return 0;
}
