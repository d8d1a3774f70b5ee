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
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("kill");
	bool all = false;
	int c, sig = SIGTERM;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "a",
				.longopts = opts };

	while ((c = cli_next(&p, err)) > 0) {
		if (c == 'a')
			all = true;
	}
	if (c < 0 || cli_operands(&p, 1, 2, err) < 0)
		return -1;
	if (argc - p.ind == 2 && parse_signal(argv[p.ind + 1], &sig, err) < 0)
		return -1;
	return container_kill(g, argv[p.ind], sig, all, err);
}

HUTCH_COMMAND(delete)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("delete");
	bool force = false;
	int c;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "f",
				.longopts = opts };

	while ((c = cli_next(&p, err)) > 0) {
		if (c == 'f')
			force = true;
	}
	if (c < 0 || cli_operands(&p, 1, 1, err) < 0)
		return -1;
	/* Like runc and crun: --force on a container that is already gone succeeds, so a
	 * client cleaning up after a failed create (podman, containerd) sees no error. */
	if (force && state_validate_id(argv[p.ind], NULL) == 0) {
		cleanup_free char *dir = xasprintf("%s/%s", g->root, argv[p.ind]);

		if (access(dir, F_OK) < 0 && errno == ENOENT)
			return 0;
	}
	return container_delete(g, argv[p.ind], force, err);
}
