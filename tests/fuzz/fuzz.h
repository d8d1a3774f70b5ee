/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the libFuzzer targets (tests/fuzz/NAME.c, `make fuzz`): each target hands the
 * input to a public parse entry point of the library, as the file it reads, and frees
 * what it got. fuzz_file() puts the input in a memfd and returns its /proc path.
 */
#ifndef HUTCH_FUZZ_H
#define HUTCH_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror("memfd write");
		abort();
	}
	return path;
}

/* The input as JSON, read by the same function the runtime reads its files with. */
static inline json_object *fuzz_json(const uint8_t *data, size_t size, const char *what)
{
	cleanup_err hutch_err err = NULL;
	json_object *o = NULL;

	if (json_parse_file(fuzz_file(data, size), what, &o, &err) < 0)
		return NULL;
	return o;
}

#endif
