// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch bundle create --image REF DIR [-- ARGS]: a runnable bundle from a stored image. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image.h"
#include "utils.h"

HUTCH_COMMAND(bundle);
HUTCH_COMMAND(bundle)
{
	enum { O_IMAGE = 256, O_STORE };
	static const struct option opts[] = {
		{ "image", required_argument, NULL, O_IMAGE },
		{ "store", required_argument, NULL, O_STORE },
		{ "tty", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *c = hutch_find_command("bundle");
	struct cli_parser p = { .cmd = c, .shortopts = "t", .longopts = opts };
	int dashes;
	struct image_store s;
	struct image_bundle_opts o = { 0 };
	const char *ref = NULL, *store = NULL, *dir = NULL;
	cleanup_strv char **args = NULL;
	int ret, opt;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return hutch_usage_error(c, err, "%s", argc < 2 ? "missing subcommand" : "unknown subcommand");
	/* the options follow the subcommand (argv[1] is the parser's argv[0]) and end at
	 * the "--" before ARGS, which keep their own options */
	for (dashes = 2; dashes < argc && strcmp(argv[dashes], "--") != 0; dashes++)
		;
	p.argc = dashes - 1;
	p.argv = argv + 1;
	while ((opt = cli_next(&p, err)) > 0) {
		if (opt == O_IMAGE)
			ref = p.arg;
		else if (opt == O_STORE)
			store = p.arg;
		else
			o.terminal = true;
	}
	if (opt < 0)
		return -1;
	for (int i = p.ind + 1; i < dashes; i++) {
		if (dir)
			return hutch_usage_error(c, err, "unexpected argument `%s`", argv[i]);
		dir = argv[i];
	}
	for (int i = dashes + 1; i < argc; i++)
		strv_push(&args, xstrdup(argv[i]));
	if (!ref)
		return hutch_usage_error(c, err, "--image REF is required");
	if (!dir || !*dir)
		return hutch_usage_error(c, err, "missing bundle directory");
	o.args = args;
	if (image_store_open(store, &s, err) < 0)
		return -1;
	ret = image_bundle_create(&s, ref, dir, &o, err);
	image_store_close(&s);
	return ret < 0 ? -1 : 0;
}
