// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: the option parser every command uses (helper/cli/opts.c). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "utils.h"

#define CHECK_SUITE "opts"
#include "check.h"

enum { O_PID_FILE = 256, O_FLAG };

static const struct option longopts[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "detach", no_argument, NULL, 'd' },
	{ "pid-file", required_argument, NULL, O_PID_FILE },
	{ "pidns", no_argument, NULL, O_FLAG },
	{ NULL, 0, NULL, 0 },
};

static const struct hutch_command cmd = { "try", NULL, "a test command", "[-b DIR] [-d] ID" };

/* What parsing argv gives: "b=VALUE d pid=VALUE flag | operands..." or the error. */
static char *parse(bool in_order, const struct hutch_command *c, const char *const *args)
{
	cleanup_strv char **argv = NULL;
	cleanup_err hutch_err err = NULL;
	cleanup_free char *out = xstrdup("");
	struct cli_parser p = { .cmd = c, .shortopts = "b:d", .longopts = longopts,
				.in_order = in_order };
	int r;

	strv_push(&argv, xstrdup("try"));
	for (size_t i = 0; args[i]; i++)
		strv_push(&argv, xstrdup(args[i]));
	p.argc = strv_len(argv);
	p.argv = argv;
	while ((r = cli_next(&p, &err)) > 0) {
		char *n = r == 'b' ? xasprintf("%sb=%s ", out, p.arg) :
			  r == 'd' ? xasprintf("%sd ", out) :
			  r == O_PID_FILE ? xasprintf("%spid=%s ", out, p.arg) :
			  r == O_FLAG ? xasprintf("%spidns ", out) : xasprintf("%s? ", out);

		free(out);
		out = n;
	}
	if (r < 0)
		return xstrdup(err->msg);
	{
		char *n = xasprintf("%s|", out);

		free(out);
		out = n;
	}
	for (int i = p.ind; i < p.argc; i++) {
		char *n = xasprintf("%s %s", out, argv[i]);

		free(out);
		out = n;
	}
	return steal_ptr(&out);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void same(const char *name, char *got, const char *want)
{
	CHECK(name, strcmp(got, want) == 0, "got [%s], want [%s]", got, want);
	free(got);
}

/* The error must start with want (the usage text follows it). */
static void fails(const char *name, char *got, const char *want)
{
	CHECK(name, strncmp(got, want, strlen(want)) == 0, "got [%s], want [%s...]", got, want);
	free(got);
}

int main(void)
{
	bool json = false;
	cleanup_err hutch_err err = NULL;

	same("long option, value apart", parse(false, &cmd, ARGS("--bundle", "dir", "c1")), "b=dir | c1");
	same("long option, value after =", parse(false, &cmd, ARGS("--bundle=dir", "c1")), "b=dir | c1");
	same("empty value after =", parse(false, &cmd, ARGS("--bundle=", "c1")), "b= | c1");
	same("short option, value apart", parse(false, &cmd, ARGS("-b", "dir", "c1")), "b=dir | c1");
	same("short option, value attached", parse(false, &cmd, ARGS("-bdir", "c1")), "b=dir | c1");
	same("cluster of short options", parse(false, &cmd, ARGS("-db", "dir", "c1")), "d b=dir | c1");
	same("unambiguous abbreviation", parse(false, &cmd, ARGS("--pid-f", "f", "c1")), "pid=f | c1");
	same("options after operands", parse(false, &cmd, ARGS("c1", "-d", "--pid-file", "f")),
	     "d pid=f | c1");
	same("-- ends the options", parse(false, &cmd, ARGS("-d", "--", "-b", "x")), "d | -b x");
	same("in order: stops at the first operand",
	     parse(true, &cmd, ARGS("-d", "c1", "sh", "-b", "x")), "d | c1 sh -b x");
	same("no options at all", parse(false, &cmd, ARGS("c1")), "| c1");
	same("a lone - is an operand", parse(false, &cmd, ARGS("-")), "| -");

	fails("missing value of a long option", parse(false, &cmd, ARGS("c1", "--pid-file")),
	      "try: option `--pid-file` needs a value (usage: hutch try [-b DIR] [-d] ID)");
	fails("missing value of a short option", parse(false, &cmd, ARGS("c1", "-b")),
	      "try: option `-b` needs a value");
	fails("missing value at the end of a cluster", parse(false, &cmd, ARGS("-db")),
	      "try: option `-b` needs a value");
	fails("unknown long option", parse(false, &cmd, ARGS("--bogus", "c1")),
	      "try: unknown option `--bogus`");
	fails("unknown long option with a value", parse(false, &cmd, ARGS("--bogus=1", "c1")),
	      "try: unknown option `--bogus`");
	fails("unknown short option", parse(false, &cmd, ARGS("-x", "c1")), "try: unknown option `-x`");
	fails("unknown short option inside a cluster, after a long one",
	      parse(false, &cmd, ARGS("--detach", "-dx", "c1")), "try: unknown option `-x`");
	fails("value given to a flag", parse(false, &cmd, ARGS("--detach=yes", "c1")),
	      "try: option `--detach` takes no value");
	fails("ambiguous abbreviation", parse(false, &cmd, ARGS("--pid", "c1")),
	      "try: unknown option `--pid`");
	fails("global options: unknown", parse(true, NULL, ARGS("--nope", "list")),
	      "unknown global option `--nope` (see `hutch --help`)");
	fails("global options: missing value", parse(true, NULL, ARGS("--bundle")),
	      "global option `--bundle` needs a value (see `hutch --help`)");
	/* every parse starts over: getopt's state from the one before does not leak */
	same("a second parse starts over", parse(false, &cmd, ARGS("-b", "x", "c2")), "b=x | c2");

	CHECK("--format json", hutch_parse_format(&cmd, "json", &json, &err) == 0 && json);
	CHECK("--format table", hutch_parse_format(&cmd, "table", &json, &err) == 0 && !json);
	json = true;
	CHECK("--format text is table", hutch_parse_format(&cmd, "text", &json, &err) == 0 && !json);
	CHECK("--format yaml is an error",
	      hutch_parse_format(&cmd, "yaml", &json, &err) < 0 && err &&
	      strstr(err->msg, "try: --format: unknown format `yaml` (table or json)"));
	{
		char *a1[] = { "try", "c1", "--format=json", NULL };
		char *a2[] = { "try", "-f", "yaml", "c1", NULL };
		char *a3[] = { "try", "-d", "c1", NULL };
		cleanup_err hutch_err e1 = NULL, e2 = NULL, e3 = NULL;

		json = false;
		/* getopt moves the operands behind the options it parsed */
		CHECK("cli_parse_format: --format=json after the operand",
		      cli_parse_format(&cmd, 3, a1, false, &json, &e1) == 2 && json &&
		      strcmp(a1[2], "c1") == 0);
		CHECK("cli_parse_format: an unknown format is an error",
		      cli_parse_format(&cmd, 4, a2, false, &json, &e2) < 0 && e2 &&
		      strstr(e2->msg, "--format: unknown format `yaml`"));
		CHECK("cli_parse_format: any other option is unknown",
		      cli_parse_format(&cmd, 3, a3, false, &json, &e3) < 0 && e3 &&
		      strstr(e3->msg, "unknown option `-d`"));
	}
	{
		char *one[] = { "try", "c1", NULL }, *two[] = { "try", "c1", "c2", NULL };
		char *none[] = { "try", NULL }, *opt[] = { "try", "-d", "c1", NULL };
		cleanup_err hutch_err e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
		const char *id = cli_only_id(&cmd, 2, one, &e1);

		CHECK("cli_only_id: the id", id && strcmp(id, "c1") == 0);
		CHECK("cli_only_id: a second operand is an error",
		      !cli_only_id(&cmd, 3, two, &e2) && e2 && strstr(e2->msg, "unexpected argument `c2`"));
		CHECK("cli_only_id: no operand is an error",
		      !cli_only_id(&cmd, 1, none, &e3) && e3 && strstr(e3->msg, "missing container id"));
		CHECK("cli_only_id: no option is known",
		      !cli_only_id(&cmd, 3, opt, &e4) && e4 && strstr(e4->msg, "unknown option `-d`"));
	}
	{
		char *a1[] = { "try", "c1", "--all", "9", NULL }, *a2[] = { "try", "-a", "-x", "c1", NULL };
		char *a3[] = { "try", "--all=1", "c1", NULL };
		cleanup_err hutch_err e1 = NULL, e2 = NULL, e3 = NULL;
		bool all = false;

		CHECK("cli_one_flag: the flag after an operand, two operands",
		      cli_one_flag(&cmd, 4, a1, "all", 'a', &all, 1, 2, &e1) == 2 && all &&
		      strcmp(a1[2], "c1") == 0 && strcmp(a1[3], "9") == 0);
		all = false;
		CHECK("cli_one_flag: another option is unknown",
		      cli_one_flag(&cmd, 4, a2, "all", 'a', &all, 1, 2, &e2) < 0 && e2 &&
		      strstr(e2->msg, "unknown option `-x`"));
		CHECK("cli_one_flag: the flag takes no value",
		      cli_one_flag(&cmd, 3, a3, "all", 'a', &all, 1, 1, &e3) < 0 && e3 &&
		      strstr(e3->msg, "option `--all` takes no value"));
	}
	{
		static const char *const one[] = { "only", NULL }, *const three[] = { "a", "b", "c", NULL };
		cleanup_err hutch_err e1 = NULL, e2 = NULL;

		CHECK("cli_choice: the index", cli_choice(&cmd, "mode", "mode", "c", three, &err) == 2);
		CHECK("cli_choice: the alternatives in the error",
		      cli_choice(NULL, "mode", "mode", "d", three, &e1) < 0 && e1 &&
		      strstr(e1->msg, "--mode: unknown mode `d` (a, b or c)"));
		CHECK("cli_choice: one alternative",
		      cli_choice(&cmd, "x", "thing", "", one, &e2) < 0 && e2 &&
		      strstr(e2->msg, "try: --x: unknown thing `` (only)"));
	}
	{
		static const struct option io_opts[] = { CLI_OPTS_PROCESS_IO, { NULL, 0, NULL, 0 } };
		char *a1[] = { "try", "--pid-file=p", "-d", "--console-socket", "s", "--preserve-fds", "1024",
			       "c1", NULL };
		char *a2[] = { "try", "--preserve-fds", "1025", "c1", NULL };
		struct cli_parser p1 = { .cmd = &cmd, .argc = 8, .argv = a1, .shortopts = "d",
					 .longopts = io_opts };
		struct cli_parser p2 = { .cmd = &cmd, .argc = 4, .argv = a2, .shortopts = "d",
					 .longopts = io_opts };
		struct cli_process_io io = { 0 };
		cleanup_err hutch_err e1 = NULL, e2 = NULL;
		int c, n = 0;

		p1.io = &io;
		while ((c = cli_next(&p1, &e1)) > 0)
			n++;
		CHECK("cli_next with .io: every shared option parsed into it",
		      c == 0 && n == 0 && p1.ind == 7 && io.detach && io.preserve_fds == 1024 && io.pid_file &&
		      strcmp(io.pid_file, "p") == 0 && io.console_socket && strcmp(io.console_socket, "s") == 0);
		c = cli_next(&p2, &e2);
		CHECK("cli_process_io: --preserve-fds above 1024",
		      cli_process_io(&p2, c, &io, &e2) < 0 && e2 &&
		      strstr(e2->msg, "--preserve-fds: `1025` is not a number from 0 to 1024"));
		CHECK("cli_process_io: another option is not one", cli_process_io(&p2, 'b', &io, &e2) == 0);
	}
	return check_status();
}
