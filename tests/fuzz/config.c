// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json: spec_load, then what create validates before it touches anything. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fuzz.h"
#include "security.h"
#include "spec.h"

static char bundle[] = "/tmp/hutch-fuzz-config.XXXXXX";

static void bundle_remove(void)
{
	char *rootfs = NULL;

	if (asprintf(&rootfs, "%s/rootfs", bundle) > 0)
		rmdir(rootfs);
	free(rootfs);
	rmdir(bundle);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_spec struct hutch_spec *s = NULL;
	cleanup_err hutch_err err = NULL;
	struct hutch_cgroup *cg = NULL;
	struct hutch_security *sec = NULL;
	json_object *lin = NULL;

	if (bundle[sizeof(bundle) - 2] == 'X') {
		char *rootfs = NULL;

		if (!mkdtemp(bundle) || asprintf(&rootfs, "%s/rootfs", bundle) < 0 || mkdir(rootfs, 0755) < 0)
			abort();
		free(rootfs);
		atexit(bundle_remove);
	}
	if (spec_load(bundle, fuzz_file(data, size), &s, &err) < 0)
		return 0;
	json_object_object_get_ex(s->json, "linux", &lin);
	if (hutch_cgroup_prepare(NULL, "fuzz", lin, &cg, &err) == 0)
		hutch_cgroup_free(cg);
	hutch_error_free(&err);
	if (s->has_process &&
	    hutch_security_prepare(s->json, s->process.json, NULL, s->process.no_new_privs, &sec, &err) == 0)
		hutch_security_free(sec);
	hutch_error_free(&err);
	hutch_hooks_validate(s->json, &err);
	return 0;
}
