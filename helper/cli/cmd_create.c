// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch create, start and run. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "image.h"
#include "security.h"
#include "terminal.h"
#include "log.h"
#include "utils.h"

enum { OPT_NO_PIVOT = 256, OPT_NO_KEYRING, OPT_CONFIG, OPT_KEEP, OPT_IMAGE, OPT_NET, OPT_IP };

static const struct option create_opts[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	CLI_OPTS_PROCESS_IO,
	{ "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
	{ "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "publish", required_argument, NULL, 'p' },
	{ "ip", required_argument, NULL, OPT_IP },
	{ NULL, 0, NULL, 0 },
};

/* Options shared by create and run; run adds --detach and --keep. */
static int parse_create(const struct hutch_command *cmd, bool is_run, int argc, char **argv,
			struct hutch_create_opts *o, bool *detach, bool *keep, const char **id,
			const char **image, char ***args, hutch_err *err)
{
	struct cli_process_io io = { 0 };
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv,
				.shortopts = is_run ? "b:dp:" : "b:p:", .longopts = create_opts, .io = &io };
	int c;

	while ((c = cli_next(&p, err)) > 0) {
		switch (c) {
		case 'b':
			o->bundle = p.arg;
			break;
		case OPT_CONFIG:
			o->config_path = p.arg;
			break;
		case OPT_NO_PIVOT:
			o->no_pivot = true;
			break;
		case OPT_NO_KEYRING:
			o->no_new_keyring = true;
			break;
		case OPT_KEEP:
			if (!is_run)
				return hutch_usage_error(cmd, err, "unknown option `--keep`");
			*keep = true;
			break;
		case OPT_IMAGE:
			*image = p.arg;
			break;
		case OPT_NET:
			if (strcmp(p.arg, "bridge") != 0 && strcmp(p.arg, "none") != 0)
				return hutch_usage_error(cmd, err, "--net: \"%s\" is not bridge or none", p.arg);
			o->net.mode = p.arg;
			break;
		case 'p':
			strv_push(&o->net.ports, xstrdup(p.arg));
			break;
		case OPT_IP:
			o->net.ip = p.arg;
			break;
		}
	}
	if (c < 0)
		return -1;
	if (io.detach && !is_run)
		return hutch_usage_error(cmd, err, "unknown option `--detach`");
	o->console_socket = io.console_socket;
	o->pid_file = io.pid_file;
	o->preserve_fds = io.preserve_fds;
	*detach = io.detach;
	/* --image REF ID [--] [ARGS...]: ARGS replace the image's Cmd */
	if (*image && p.ind < argc - 1) {
		int i = p.ind + 1;

		if (strcmp(argv[i], "--") == 0)
			i++;
		for (; i < argc; i++)
			strv_push(args, xstrdup(argv[i]));
		argc = p.ind + 1;
	}
	if (*image && o->bundle)
		return hutch_usage_error(cmd, err, "--image and --bundle cannot be used together");
	if (p.ind != argc - 1)
		return hutch_usage_error(cmd, err, p.ind >= argc ? "missing container id" : "too many arguments");
	*id = argv[p.ind];
	if (*keep && *detach)
		return hutch_usage_error(cmd, err, "--keep and --detach cannot be used together");
	return 0;
}

/* run|create --image REF: the bundle is an overlay snapshot of the image (image_bundle.c). */
static int create_maybe_image(struct hutch_global *g, const char *id, struct hutch_create_opts *o,
			      const char *image, char **args, pid_t *pid, hutch_err *err)
{
	cleanup_free char *bundle = NULL;

	if (!image)
		return container_create(g, id, o, pid, err);
	if (hutch_image_prepare_bundle(image, id, g->root, args, &bundle, err) < 0)
		return -1;
	o->bundle = bundle;
	if (container_create(g, id, o, pid, err) < 0) {
		cleanup_err hutch_err e2 = NULL;

		hutch_image_release(id, g->root, &e2);
		return -1;
	}
	return 0;
}

static void create_opts_free(struct hutch_create_opts *o)
{
	strv_free(o->net.ports);
}

HUTCH_COMMAND(create)
{
	struct hutch_create_opts o __attribute__((cleanup(create_opts_free))) = { 0 };
	bool detach = false, keep = false;
	const char *id, *image = NULL;
	cleanup_strv char **args = NULL;

	if (parse_create(hutch_find_command("create"), false, argc, argv, &o, &detach, &keep, &id, &image, &args,
			 err) < 0)
		return -1;
	return create_maybe_image(g, id, &o, image, args, NULL, err);
}

HUTCH_COMMAND(start)
{
	const char *id = cli_only_id(hutch_find_command("start"), argc, argv, err);

	return id ? container_start(g, id, err) : -1;
}

HUTCH_COMMAND(run)
{
	struct hutch_create_opts o __attribute__((cleanup(create_opts_free))) = { 0 };
	bool detach = false, keep = false;
	const char *id, *image = NULL;
	cleanup_strv char **args = NULL;
	cleanup_close int master = -1;
	struct hutch_tty_proxy *proxy = NULL;
	pid_t pid;
	int code;

	if (parse_create(hutch_find_command("run"), true, argc, argv, &o, &detach, &keep, &id, &image, &args,
			 err) < 0)
		return -1;
	o.foreground = !detach;
	if (!detach)
		o.tty_master = &master;
	if (create_maybe_image(g, id, &o, image, args, &pid, err) < 0)
		return -1;
	if (container_start(g, id, err) < 0) {
		cleanup_err hutch_err e2 = NULL;

		container_delete(g, id, true, &e2);
		return -1;
	}
	/* the program runs: the release of the re-execution's clone overlaps it (security.h) */
	hutch_selfexe_release();
	if (detach)
		return 0;
	/* a terminal without --console-socket: we proxy it (terminal.h) */
	if (master >= 0 && hutch_terminal_proxy_start(master, &proxy, err) < 0) {
		cleanup_err hutch_err e2 = NULL;

		container_delete(g, id, true, &e2);
		return -1;
	}
	/* we are the subreaper: the init is our child now */
	code = wait_forward(pid);
	hutch_terminal_proxy_end(proxy);
	if (!keep) {
		cleanup_err hutch_err e2 = NULL;

		if (container_delete(g, id, true, &e2) < 0)
			log_warn("%s", e2->msg);
	}
	return code;
}
