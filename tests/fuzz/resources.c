// SPDX-License-Identifier: GPL-2.0-or-later
/* `hutch update -r FILE`: a linux.resources object, parsed and checked against the host's
 * cgroups without writing (the dry run hutch_cgroup_prepare does for config.json). */
#define _GNU_SOURCE
#include "cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_json json_object *res = fuzz_json(data, size, "resources.json");
	cleanup_json json_object *lin = NULL;
	cleanup_err hutch_err err = NULL;
	struct hutch_cgroup *cg = NULL;

	if (!res)
		return 0;
	lin = json_object_new_object();
	json_object_object_add(lin, "resources", json_object_get(res));
	if (hutch_cgroup_prepare(NULL, "fuzz", lin, &cg, &err) == 0)
		hutch_cgroup_free(cg);
	return 0;
}
