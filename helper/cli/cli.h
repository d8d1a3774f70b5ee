/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CLI layer: the command table and what every command shares. Never included by the library. */
#ifndef HUTCH_CLI_H
#define HUTCH_CLI_H

#include <stdbool.h>

#include "hutch.h"

/*
 * A command parses its own arguments (argv[0] is the command name) and returns
 * its exit status: 0, or >0 for a status to exit with; on failure it returns <0
 * with *err set, and main reports the error and exits 1.
 */
struct hutch_command {
	const char *name;
	int (*run)(struct hutch_global *g, int argc, char **argv, hutch_err *err);
	const char *summary;
	const char *usage;   /* printed by `hutch help NAME` and `NAME --help` */
};

const struct hutch_command *hutch_find_command(const char *name);
/* For a command's --help and for argument errors. */
int hutch_usage_error(const struct hutch_command *c, hutch_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hutch_print_usage(const struct hutch_command *c);
/* --format VALUE of list, ps, stats, net ls: *json for "json", not for "table". */
int hutch_parse_format(const struct hutch_command *c, const char *value, bool *json, hutch_err *err);

#define HUTCH_COMMAND(n) \
	int cmd_##n(struct hutch_global *g, int argc, char **argv, hutch_err *err)

/* A prototype for every command in the table. */
#define C(n, sum, use) HUTCH_COMMAND(n);
#include "commands.list"
#undef C

/* "--name value" or "--name=value" at argv[*i]: the value, or NULL when argv[*i]
 * is another argument (or, with *bad set, when the value is missing). */
const char *image_opt(int argc, char **argv, int *i, const char *name, hutch_err *err, bool *bad);

#endif
