// SPDX-License-Identifier: GPL-2.0-or-later
/* The seccomp profile compiler: linux.seccomp to a BPF program (not loaded). */
#define _GNU_SOURCE
#include "fuzz.h"
#include "seccomp_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_json json_object *o = fuzz_json(data, size, "seccomp.json");
	cleanup_err hutch_err err = NULL;
	struct hutch_seccomp *s = NULL;

	if (o && hutch_seccomp_compile(o, &s, &err) == 0 && s)
		hutch_seccomp_free(s);
	return 0;
}
