// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch exec: the options; container_exec (helper/exec.c) does the work. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "container.h"
#include "utils.h"

HUTCH_COMMAND(exec)
{
	enum { O_PROCESS = 256, O_CWD, O_NNP, O_LABEL, O_APPARMOR, O_IGNORED };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, O_PROCESS },
		{ "tty", no_argument, NULL, 't' },
		CLI_OPTS_PROCESS_IO,
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "process-label", required_argument, NULL, O_LABEL },
		{ "apparmor", required_argument, NULL, O_APPARMOR },
		{ "ignore-paused", no_argument, NULL, O_IGNORED },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("exec");
	struct hutch_exec_opts o = { 0 };
	struct cli_process_io io = { 0 };
	cleanup_strv char **env = NULL, **caps = NULL;
	cleanup_free gid_t *gids = NULL;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "te:u:g:dc:",
				.longopts = opts, .in_order = true, .io = &io };
	int c;

	while ((c = cli_next(&p, err)) > 0) {
		uint64_t n;
		switch (c) {
		case O_PROCESS: o.process_file = p.arg; break;
		case 't': o.tty = true; break;
		case O_CWD: o.cwd = p.arg; break;
		case 'e':
			if (!strchr(p.arg, '=') || p.arg[0] == '=')
				return hutch_usage_error(cmd, err, "--env: `%s` is not NAME=VALUE", p.arg);
			strv_push(&env, xstrdup(p.arg));
			break;
		case 'u': o.user = p.arg; break;
		case 'g':
			if (parse_u64(p.arg, &n) < 0 || n > UINT32_MAX - 1)
				return hutch_usage_error(cmd, err, "--additional-gids: `%s` is not a group id", p.arg);
			gids = xrealloc(gids, (o.ngids + 1) * sizeof(gid_t));
			gids[o.ngids++] = n;
			break;
		case 'c': strv_push(&caps, xstrdup(p.arg)); break;
		case O_NNP: o.no_new_privs = true; break;
		case O_LABEL: o.process_label = p.arg; break;
		case O_APPARMOR: o.apparmor = p.arg; break;
		case O_IGNORED:
			break;
		}
	}
	if (c < 0)
		return -1;
	if (p.ind >= argc)
		return hutch_usage_error(cmd, err, "missing container id");
	if (o.process_file && p.ind + 1 < argc)
		return hutch_usage_error(cmd, err, "give either --process or a command, not both");
	o.console_socket = io.console_socket;
	o.pid_file = io.pid_file;
	o.preserve_fds = io.preserve_fds;
	o.detach = io.detach;
	o.env = env;
	o.caps = caps;
	o.gids = gids;
	return container_exec(g, argv[p.ind], &o, argv + p.ind + 1, err);
}
