/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the cgroup commands: update, pause, resume, events, stats. */
#ifndef HUTCH_CGROUP_CMD_H
#define HUTCH_CGROUP_CMD_H

#include "cgroup.h"
#include "cli.h"
#include "state.h"

/*
 * Open container id (exclusive lock when exclusive) and check it has a cgroup;
 * *status is its status now. Fails with a clear message when cgroups are disabled.
 */
int cgcmd_open(struct hutch_global *g, const char *id, bool exclusive, struct hutch_state **st,
	       enum hutch_status *status, hutch_err *err);

#endif
