/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CLI layer: the command table and what every command shares. Never included by the library. */
#ifndef HUTCH_CLI_H
#define HUTCH_CLI_H

#include <getopt.h>
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
/* For a command's --help and for argument errors (c NULL: the global options). */
int hutch_usage_error(const struct hutch_command *c, hutch_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hutch_print_usage(const struct hutch_command *c);
/*
 * --format VALUE of list, ps, stats, net ls, image ls, module status: *json for "json",
 * not for "table" (or "text").
 */
int hutch_parse_format(const struct hutch_command *c, const char *value, bool *json, hutch_err *err);

/*
 * The options create, run and exec share, in their longopts tables: --console-socket PATH,
 * --pid-file PATH, --preserve-fds N and -d|--detach ("d" in shortopts).
 */
enum { CLI_OPT_CONSOLE_SOCKET = 0x400, CLI_OPT_PID_FILE, CLI_OPT_PRESERVE_FDS };
#define CLI_OPTS_PROCESS_IO \
	{ "console-socket", required_argument, NULL, CLI_OPT_CONSOLE_SOCKET }, \
	{ "pid-file", required_argument, NULL, CLI_OPT_PID_FILE }, \
	{ "preserve-fds", required_argument, NULL, CLI_OPT_PRESERVE_FDS }, \
	{ "detach", no_argument, NULL, 'd' }
struct cli_process_io {
	const char *console_socket, *pid_file;
	int preserve_fds;
	bool detach;
};

/*
 * The options of one command (opts.c), getopt_long's way: "--name value", "--name=value",
 * "-x value", "-xVALUE", clusters of short flags, and "--" to end the options.
 *
 *	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv,
 *				.shortopts = "b:d", .longopts = longopts };
 *	while ((c = cli_next(&p, err)) > 0)
 *		switch (c) { case 'b': bundle = p.arg; break; ... }
 *	if (c < 0)
 *		return -1;
 *	operands: argv[p.ind] .. argv[argc - 1]
 */
struct cli_parser {
	const struct hutch_command *cmd;   /* for the errors; NULL: the global options */
	int argc;
	char **argv;                       /* argv[0] is the command (not parsed) */
	const char *shortopts;             /* getopt's letters: "b:dp:" ("" or NULL: none) */
	const struct option *longopts;     /* getopt_long's table (flag NULL, val != 0) */
	bool in_order;                     /* stop at the first operand (exec CMD ARGS...);
					      else options may follow operands */
	bool *json;                        /* set: cli_next parses CLI_OPT_FORMAT itself, into
					      *json (hutch_parse_format) */
	struct cli_process_io *io;         /* set: cli_next parses CLI_OPTS_PROCESS_IO itself,
					      into *io (cli_process_io) */
	int ind;                           /* out: where parsing stopped (the first operand) */
	const char *arg;                   /* out: the value of the option just returned */
	bool started;
};
/*
 * The next option's val (> 0); 0 when the options end; <0 with *err set for an unknown
 * option ("unknown option `--bogus`"), a missing value ("option `--pid-file` needs a
 * value") or a value given to a flag ("option `--detach` takes no value").
 */
int cli_next(struct cli_parser *p, hutch_err *err);
/*
 * After cli_next's 0: the operands must number min to max ("missing container id",
 * "unexpected argument `X`"); returns 0, or <0 with *err set.
 */
int cli_operands(const struct cli_parser *p, int min, int max, hutch_err *err);
/* A command that takes one container id and no option (start, state, pause, resume):
 * the id, or NULL with *err set. */
const char *cli_only_id(const struct hutch_command *c, int argc, char **argv, hutch_err *err);
/*
 * A command whose only option is one flag, --NAME|-LETTER (kill --all, delete --force):
 * *on set when given; the index of its first operand (they must number min to max), or <0
 * with *err set.
 */
int cli_one_flag(const struct hutch_command *c, int argc, char **argv, const char *name, int letter,
		 bool *on, int min, int max, hutch_err *err);
/*
 * VALUE of --FLAG, one of NAMES (NULL-terminated): its index, or <0 with *err set,
 * "--FLAG: unknown WHAT `VALUE` (a, b or c)".
 */
int cli_choice(const struct hutch_command *c, const char *flag, const char *what, const char *value,
	       const char *const *names, hutch_err *err);
/* -f|--format table|json in a longopts table ("f:" in shortopts for -f). */
#define CLI_OPT_FORMAT { "format", required_argument, NULL, 'f' }
/*
 * A command whose only option is -f|--format: the index of its first operand, or <0
 * with *err set.
 */
int cli_parse_format(const struct hutch_command *c, int argc, char **argv, bool in_order,
		     bool *json, hutch_err *err);

/* Option C of cli_next: 1 when it is one of CLI_OPTS_PROCESS_IO (its value now in *io),
 * 0 when not, <0 with *err set for a bad value. cli_next calls it when p->io is set. */
int cli_process_io(const struct cli_parser *p, int c, struct cli_process_io *io, hutch_err *err);

#define HUTCH_COMMAND(n) \
	int cmd_##n(struct hutch_global *g, int argc, char **argv, hutch_err *err)

/* A prototype for every command in the table. */
#define C(n, sum, use) HUTCH_COMMAND(n);
#include "commands.list"
#undef C

#endif
