/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every CLI command gets: the global options, and the command table. */
#ifndef HUTCH_H
#define HUTCH_H

#include <stdbool.h>

#include "error.h"

#define HUTCH_VERSION "0.1.0"
#define HUTCH_OCI_VERSION "1.2.0"
#define HUTCH_DEFAULT_ROOT "/run/hutch"

enum hutch_cgroup_manager { CGROUP_MANAGER_CGROUPFS, CGROUP_MANAGER_DISABLED };
enum hutch_module_mode { MODULE_AUTO, MODULE_ON, MODULE_OFF };

struct hutch_global {
	const char *root;          /* state directory root, --root */
	const char *log_path;      /* --log */
	bool log_json;             /* --log-format json */
	bool debug;                /* --debug */
	enum hutch_cgroup_manager cgroup_manager;
	enum hutch_module_mode module_mode;
	const char *argv0;         /* how we were invoked */
};

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

#endif
