// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch pause: freeze every process of a container (v1 freezer or v2 cgroup.freeze). */
#define _GNU_SOURCE
#include "cgroup_cmd.h"
#include "utils.h"

HUTCH_COMMAND(pause)
{
	cleanup_state struct hutch_state *st = NULL;
	enum hutch_status s;

	if (argc != 2 || argv[1][0] == '-')
		return hutch_usage_error(hutch_find_command("pause"), err,
					 argc < 2 ? "missing container id" : "expected exactly one container id");
	if (cgcmd_open(g, argv[1], true, &st, &s, err) < 0)
		return -1;
	if (s == STATUS_PAUSED)
		return hutch_fail(err, 0, "container `%s` is already paused", argv[1]);
	if (s != STATUS_RUNNING)
		return hutch_fail(err, 0, "container `%s` is %s, not running: cannot pause", argv[1],
				  status_name(s));
	return hutch_cgroup_freeze(st->cg, true, err) < 0 ? -1 : 0;
}
