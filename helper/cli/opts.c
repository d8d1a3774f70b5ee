// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option parsing for every command and for the global options: getopt_long with its
 * reset, "stop at the first operand" and error mapping in one place, so that every
 * command says "option `--pid-file` needs a value" and "unknown option `--bogus`" alike.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "utils.h"

int hutch_usage_error(const struct hutch_command *c, hutch_err *err, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (!c)
		return hutch_fail(err, 0, "%s (see `hutch --help`)", msg);
	return hutch_fail(err, 0, "%s: %s (usage: hutch %s %s)", c->name, msg, c->name, c->usage);
}

int hutch_parse_format(const struct hutch_command *c, const char *value, bool *json, hutch_err *err)
{
	if (strcmp(value, "json") == 0)
		*json = true;
	else if (strcmp(value, "table") == 0 || strcmp(value, "text") == 0)
		*json = false;
	else
		return hutch_usage_error(c, err, "--format: unknown format `%s` (table or json)", value);
	return 0;
}

/* The long option "--name[=value]" names, or NULL. */
static const struct option *long_option(const struct cli_parser *p, const char *arg)
{
	size_t n = strcspn(arg + 2, "=");

	for (const struct option *o = p->longopts; o && o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, arg + 2, n) == 0)
			return o;
	return NULL;
}

int cli_next(struct cli_parser *p, hutch_err *err)
{
	const char *scope = p->cmd ? "" : "global ";
	cleanup_free char *optstring = NULL;
	cleanup_free char *name = NULL;
	const struct option *lo;
	const char *arg = NULL;
	int c, start;

	if (!p->started) {
		p->started = true;
		p->ind = 0;   /* 0: getopt starts over */
		opterr = 0;
	}
	optstring = xasprintf("%s:%s", p->in_order ? "+" : "", p->shortopts ? p->shortopts : "");
	for (;;) {
		optind = start = p->ind;
		optopt = 0;
		c = getopt_long(p->argc, p->argv, optstring, p->longopts, NULL);
		p->ind = optind;
		p->arg = optarg;
		if (c == 'f' && p->json) {
			if (hutch_parse_format(p->cmd, p->arg, p->json, err) < 0)
				return -1;
		} else if (p->io && c > 0) {
			int r = cli_process_io(p, c, p->io, err);

			if (r < 0)
				return -1;
			if (r == 0)
				break;
		} else {
			break;
		}
	}
	if (c == -1)
		return 0;
	if (c != ':' && c != '?')
		return c;
	/*
	 * getopt has stepped past a long option it complains about (argv[optind - 1]); in a
	 * cluster of short ones ("-xd") it may not have, and optopt is the letter.
	 */
	if (optind > start && optind <= p->argc && strncmp(p->argv[optind - 1], "--", 2) == 0)
		arg = p->argv[optind - 1];
	if (arg)
		name = xasprintf("%.*s", (int)strcspn(arg, "="), arg);
	else
		name = xasprintf("-%c", optopt > 0 && optopt < 128 ? optopt : '?');
	if (c == ':')
		return hutch_usage_error(p->cmd, err, "%soption `%s` needs a value", scope, name);
	if (arg && strchr(arg, '=') && (lo = long_option(p, arg)) && lo->has_arg == no_argument)
		return hutch_usage_error(p->cmd, err, "%soption `%s` takes no value", scope, name);
	return hutch_usage_error(p->cmd, err, "unknown %soption `%s`", scope, name);
}

int cli_parse_format(const struct hutch_command *c, int argc, char **argv, bool in_order,
		     bool *json, hutch_err *err)
{
	static const struct option opts[] = { CLI_OPT_FORMAT, { NULL, 0, NULL, 0 } };
	struct cli_parser p = { .cmd = c, .argc = argc, .argv = argv, .shortopts = "f:",
				.longopts = opts, .in_order = in_order, .json = json };
	int r = cli_next(&p, err);

	return r < 0 ? -1 : p.ind;
}

int cli_operands(const struct cli_parser *p, int min, int max, hutch_err *err)
{
	int n = p->argc - p->ind;

	if (n < min)
		return hutch_usage_error(p->cmd, err, "missing container id");
	if (n > max)
		return hutch_usage_error(p->cmd, err, "unexpected argument `%s`", p->argv[p->ind + max]);
	return 0;
}

const char *cli_only_id(const struct hutch_command *c, int argc, char **argv, hutch_err *err)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	struct cli_parser p = { .cmd = c, .argc = argc, .argv = argv, .longopts = none };

	if (cli_next(&p, err) < 0 || cli_operands(&p, 1, 1, err) < 0)
		return NULL;
	return argv[p.ind];
}

int cli_process_io(const struct cli_parser *p, int c, struct cli_process_io *io, hutch_err *err)
{
	uint64_t n;

	switch (c) {
	case CLI_OPT_CONSOLE_SOCKET:
		io->console_socket = p->arg;
		return 1;
	case CLI_OPT_PID_FILE:
		io->pid_file = p->arg;
		return 1;
	case CLI_OPT_PRESERVE_FDS:
		if (parse_u64(p->arg, &n) < 0 || n > 1024)
			return hutch_usage_error(p->cmd, err, "--preserve-fds: `%s` is not a number from 0 to 1024",
						 p->arg);
		io->preserve_fds = n;
		return 1;
	case 'd':
		io->detach = true;
		return 1;
	}
	return 0;
}

int cli_one_flag(const struct hutch_command *c, int argc, char **argv, const char *name, int letter,
		 bool *on, int min, int max, hutch_err *err)
{
	const struct option opts[] = { { name, no_argument, NULL, letter }, { NULL, 0, NULL, 0 } };
	const char shortopts[] = { (char)letter, '\0' };
	struct cli_parser p = { .cmd = c, .argc = argc, .argv = argv, .shortopts = shortopts,
				.longopts = opts };
	int r;

	while ((r = cli_next(&p, err)) > 0)
		*on = true;
	if (r < 0 || cli_operands(&p, min, max, err) < 0)
		return -1;
	return p.ind;
}

int cli_choice(const struct hutch_command *c, const char *flag, const char *what, const char *value,
	       const char *const *names, hutch_err *err)
{
	cleanup_free char *list = NULL;
	size_t n = 0;

	for (; names[n]; n++)
		if (strcmp(value, names[n]) == 0)
			return (int)n;
	for (size_t i = 0; i < n; i++) {
		char *l = xasprintf("%s%s%s", list ? list : "", i == 0 ? "" : i + 1 < n ? ", " : " or ",
				    names[i]);

		free(list);
		list = l;
	}
	return hutch_usage_error(c, err, "--%s: unknown %s `%s` (%s)", flag, what, value, list);
}
