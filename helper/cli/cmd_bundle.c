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
	const struct hutch_command *c = hutch_find_command("bundle");
	struct image_store s;
	struct image_bundle_opts o = { 0 };
	const char *ref = NULL, *store = NULL, *dir = NULL, *v;
	cleanup_strv char **args = NULL;
	bool bad = false;
	int ret;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return hutch_usage_error(c, err, "%s", argc < 2 ? "missing subcommand" : "unknown subcommand");
	for (int i = 2; i < argc; i++) {
		if ((v = image_opt(argc, argv, &i, "--image", err, &bad)))
			ref = v;
		else if ((v = image_opt(argc, argv, &i, "--store", err, &bad)))
			store = v;
		else if (bad)
			return -1;
		else if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--tty") == 0)
			o.terminal = true;
		else if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++)
				strv_push(&args, xstrdup(argv[i]));
		} else if (argv[i][0] == '-' && argv[i][1])
			return hutch_usage_error(c, err, "unknown option `%s`", argv[i]);
		else if (!dir)
			dir = argv[i];
		else
			return hutch_usage_error(c, err, "unexpected argument `%s`", argv[i]);
	}
	if (bad)
		return -1;
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
