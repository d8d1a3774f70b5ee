// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch pause and resume: freeze or thaw every process of a container (v1 freezer or v2
 * cgroup.freeze). */
#define _GNU_SOURCE
#include "cgroup_cmd.h"
#include "utils.h"

static int freeze(struct hutch_global *g, const char *name, bool on, int argc, char **argv,
		  hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	const char *id = cli_only_id(hutch_find_command(name), argc, argv, err);
	enum hutch_status s;

	if (!id || cgcmd_open(g, id, true, &st, &s, err) < 0)
		return -1;
	if (on && s == STATUS_PAUSED)
		return hutch_fail(err, 0, "container `%s` is already paused", id);
	if (on && s != STATUS_RUNNING)
		return hutch_fail(err, 0, "container `%s` is %s, not running: cannot pause", id,
				  status_name(s));
	if (!on && s != STATUS_PAUSED)
		return hutch_fail(err, 0, "container `%s` is %s, not paused: cannot resume", id,
				  status_name(s));
	return hutch_cgroup_freeze(st->cg, on, err) < 0 ? -1 : 0;
}

HUTCH_COMMAND(pause)
{
	return freeze(g, "pause", true, argc, argv, err);
}

HUTCH_COMMAND(resume)
{
	return freeze(g, "resume", false, argc, argv, err);
}
