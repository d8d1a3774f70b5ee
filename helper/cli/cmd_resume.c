// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch resume: thaw a paused container. */
#define _GNU_SOURCE
#include "cgroup_cmd.h"
#include "utils.h"

HUTCH_COMMAND(resume)
{
	cleanup_state struct hutch_state *st = NULL;
	enum hutch_status s;

	if (argc != 2 || argv[1][0] == '-')
		return hutch_usage_error(hutch_find_command("resume"), err,
					 argc < 2 ? "missing container id" : "expected exactly one container id");
	if (cgcmd_open(g, argv[1], true, &st, &s, err) < 0)
		return -1;
	if (s != STATUS_PAUSED)
		return hutch_fail(err, 0, "container `%s` is %s, not paused: cannot resume", argv[1],
				  status_name(s));
	return hutch_cgroup_freeze(st->cg, false, err) < 0 ? -1 : 0;
}
