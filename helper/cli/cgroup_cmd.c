// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <string.h>

#include "cgroup_cmd.h"
#include "cgroup_internal.h"

int cgcmd_open(struct hutch_global *g, const char *id, bool exclusive, struct hutch_state **st,
	       enum hutch_status *status, hutch_err *err)
{
	if (state_open(g, id, exclusive, st, err) < 0)
		return -1;
	*status = state_status(*st);
	if (!(*st)->cg || (*st)->cg->layout == CG_DISABLED) {
		state_free(*st);
		*st = NULL;
		return hutch_fail(err, 0, "container `%s` has no cgroup (created with "
				  "--cgroup-manager disabled)", id);
	}
	return 0;
}
