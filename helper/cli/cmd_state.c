// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch state, kill, delete. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "jsonutil.h"
#include "state.h"
#include "utils.h"

HUTCH_COMMAND(state)
{
	cleanup_state struct hutch_state *st = NULL;
	const char *id = cli_only_id(hutch_find_command("state"), argc, argv, err);
	json_object *o;

	if (!id || state_open(g, id, false, &st, err) < 0)
		return -1;
	o = state_oci_json(st, state_status(st));
	printf("%s\n", json_str(o, true));
	json_object_put(o);
	return 0;
}

HUTCH_COMMAND(kill)
{
	bool all = false;
	int sig = SIGTERM;
	int i = cli_one_flag(hutch_find_command("kill"), argc, argv, "all", 'a', &all, 1, 2, err);

	if (i < 0 || (argc - i == 2 && parse_signal(argv[i + 1], &sig, err) < 0))
		return -1;
	return container_kill(g, argv[i], sig, all, err);
}

HUTCH_COMMAND(delete)
{
	bool force = false;
	int i = cli_one_flag(hutch_find_command("delete"), argc, argv, "force", 'f', &force, 1, 1, err);

	if (i < 0)
		return -1;
	/* Like runc and crun: --force on a container that is already gone succeeds, so a
	 * client cleaning up after a failed create (podman, containerd) sees no error. */
	if (force && state_validate_id(argv[i], NULL) == 0) {
		cleanup_free char *dir = xasprintf("%s/%s", g->root, argv[i]);

		if (access(dir, F_OK) < 0 && errno == ENOENT)
			return 0;
	}
	return container_delete(g, argv[i], force, err);
}
