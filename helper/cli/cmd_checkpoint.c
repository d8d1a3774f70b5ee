// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch checkpoint and restore: CRIU (criu.h), with runc's flags. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>

#include "container.h"
#include "criu.h"
#include "cli.h"
#include "utils.h"

enum {
	OPT_IMAGE = 256, OPT_WORK, OPT_LEAVE, OPT_TCP, OPT_LOCKS, OPT_PRE, OPT_PARENT, OPT_CG,
	OPT_PIDFILE, OPT_LAZY, OPT_PS, OPT_STATUS_FD,
};

static int parse(const char *name, int argc, char **argv, struct hutch_criu_opts *o,
		 const char **id, hutch_err *err)
{
	static const struct option dump_opts[] = {
		{ "image-path", required_argument, NULL, OPT_IMAGE },
		{ "work-path", required_argument, NULL, OPT_WORK },
		{ "leave-running", no_argument, NULL, OPT_LEAVE },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "file-locks", no_argument, NULL, OPT_LOCKS },
		{ "pre-dump", no_argument, NULL, OPT_PRE },
		{ "parent-path", required_argument, NULL, OPT_PARENT },
		{ "manage-cgroups-mode", required_argument, NULL, OPT_CG },
		{ "lazy-pages", no_argument, NULL, OPT_LAZY },
		{ "page-server", required_argument, NULL, OPT_PS },
		{ "status-fd", required_argument, NULL, OPT_STATUS_FD },
		{ 0 },
	};
	static const struct option restore_opts[] = {
		{ "image-path", required_argument, NULL, OPT_IMAGE },
		{ "work-path", required_argument, NULL, OPT_WORK },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "file-locks", no_argument, NULL, OPT_LOCKS },
		{ "manage-cgroups-mode", required_argument, NULL, OPT_CG },
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET },
		{ "lazy-pages", no_argument, NULL, OPT_LAZY },
		{ 0 },
	};
	bool restore = name[0] == 'r';
	struct cli_parser p = { .cmd = hutch_find_command(name), .argc = argc, .argv = argv,
				.shortopts = restore ? "b:d" : "",
				.longopts = restore ? restore_opts : dump_opts };
	/* criu_cg_mode of rpc.proto, in the order of cg_modes */
	static const char *const cg_modes[] = { "soft", "full", "strict", "ignore", NULL };
	static const enum hutch_criu_cg_mode cg_values[] = {
		CRIU_CG_SOFT, CRIU_CG_FULL, CRIU_CG_STRICT, CRIU_CG_IGNORE,
	};
	uint64_t n;
	int c, i;

	o->cg_mode = CRIU_CG_DEFAULT;
	o->status_fd = -1;
	while ((c = cli_next(&p, err)) > 0) {
		switch (c) {
		case OPT_IMAGE: o->image_path = p.arg; break;
		case OPT_WORK: o->work_path = p.arg; break;
		case OPT_LEAVE: o->leave_running = true; break;
		case OPT_TCP: o->tcp_established = true; break;
		case OPT_LOCKS: o->file_locks = true; break;
		case OPT_PRE: o->pre_dump = true; break;
		case OPT_PARENT: o->parent_path = p.arg; break;
		case OPT_PIDFILE: o->pid_file = p.arg; break;
		case 'b': o->bundle = p.arg; break;
		case 'd': o->detach = true; break;
		case CLI_OPT_CONSOLE_SOCKET: o->console_socket = p.arg; break;
		case OPT_LAZY: o->lazy_pages = true; break;
		case OPT_PS: o->page_server = p.arg; break;
		case OPT_STATUS_FD:
			if (parse_u64(p.arg, &n) < 0 || n > INT_MAX)
				return hutch_usage_error(p.cmd, err, "--status-fd: `%s` is not a file descriptor number",
							 p.arg);
			o->status_fd = (int)n;
			break;
		case OPT_CG:
			if ((i = cli_choice(p.cmd, "manage-cgroups-mode", "mode", p.arg, cg_modes, err)) < 0)
				return -1;
			o->cg_mode = cg_values[i];
			break;
		}
	}
	if (c < 0 || cli_operands(&p, 1, 1, err) < 0)
		return -1;
	*id = argv[p.ind];
	return 0;
}

HUTCH_COMMAND(checkpoint)
{
	struct hutch_criu_opts o = { 0 };
	const char *id;

	if (parse("checkpoint", argc, argv, &o, &id, err) < 0)
		return -1;
	return container_checkpoint(g, id, &o, err) < 0 ? -1 : 0;
}

HUTCH_COMMAND(restore)
{
	struct hutch_criu_opts o = { 0 };
	const char *id;
	pid_t pid;
	int code;

	if (parse("restore", argc, argv, &o, &id, err) < 0 ||
	    container_restore(g, id, &o, &pid, err) < 0)
		return -1;
	if (o.detach)
		return 0;
	/* in the foreground, as `run`: the init's exit status, then the container goes */
	code = wait_forward(pid);
	if (container_delete(g, id, true, err) < 0)
		return -1;
	return code;
}
