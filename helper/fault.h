/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault injection for tests/integration/35-faults.sh. HUTCH_FAULT("create.cgroup") marks a
 * phase of a command; in the test build (build/test/hutch-fault, compiled with
 * -DHUTCH_FAULT_INJECTION) the process kills itself with SIGKILL there when the
 * environment variable HUTCH_TEST_FAULT names that phase. helper/hutch has none of it.
 */
#ifndef HUTCH_FAULT_H
#define HUTCH_FAULT_H

#ifdef HUTCH_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void hutch_fault(const char *phase)
{
	const char *want = getenv("HUTCH_TEST_FAULT");

	if (want && strcmp(want, phase) == 0)
		kill(getpid(), SIGKILL);
}
#define HUTCH_FAULT(phase) hutch_fault(phase)
#else
#define HUTCH_FAULT(phase) do { } while (0)
#endif

#endif
