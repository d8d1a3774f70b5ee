// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch: command-line entry point. Global options, then one command. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kmodule.h"
#include "log.h"
#include "security.h"
#include "utils.h"

static const struct hutch_command commands[] = {
#define C(n, sum, use) { #n, cmd_##n, sum, use },
#include "commands.list"
#undef C
};

const struct hutch_command *hutch_find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void hutch_print_usage(const struct hutch_command *c)
{
	printf("usage: hutch [GLOBAL OPTIONS] %s %s\n\n%s.\n", c->name, c->usage, c->summary);
}

static void print_help(void)
{
	printf("hutch %s — an OCI runtime (runtime-spec %s) with an optional kernel module\n\n"
	       "usage: hutch [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
	       "Global options:\n"
	       "  --root DIR               state directory (default " HUTCH_DEFAULT_ROOT ")\n"
	       "  --log FILE               write log lines to FILE\n"
	       "  --log-format text|json   log line format (default text)\n"
	       "  --debug                  log debug messages\n"
	       "  --cgroup-manager cgroupfs|systemd|disabled\n"
	       "  --systemd-cgroup         use systemd for cgroups (a transient scope unit)\n"
	       "  --module auto|on|off     use the hutch kernel module (default auto)\n"
	       "  --version, -v            print the version\n\n"
	       "Commands:\n", HUTCH_VERSION, HUTCH_OCI_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nRun `hutch help COMMAND` for a command's options.\n");
}

HUTCH_COMMAND(help)
{
	const struct hutch_command *c;

	if (argc < 2) {
		print_help();
		return 0;
	}
	c = hutch_find_command(argv[1]);
	if (!c)
		return hutch_fail(err, 0, "help: unknown command `%s`", argv[1]);
	hutch_print_usage(c);
	return 0;
}

HUTCH_COMMAND(version)
{
	printf("hutch version %s\nspec: %s\n", HUTCH_VERSION, HUTCH_OCI_VERSION);
	return 0;
}

static int parse_global(struct hutch_global *g, int argc, char **argv, int *next, hutch_err *err)
{
	enum { O_ROOT = 256, O_LOG, O_LOG_FORMAT, O_DEBUG, O_CGROUP_MANAGER, O_SYSTEMD_CGROUP,
	       O_MODULE, O_ROOTLESS };
	static const struct option opts[] = {
		{ "root", required_argument, NULL, O_ROOT },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-format", required_argument, NULL, O_LOG_FORMAT },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "cgroup-manager", required_argument, NULL, O_CGROUP_MANAGER },
		{ "systemd-cgroup", optional_argument, NULL, O_SYSTEMD_CGROUP },
		{ "module", required_argument, NULL, O_MODULE },
		{ "rootless", optional_argument, NULL, O_ROOTLESS },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const log_formats[] = { "text", "json", NULL };
	static const char *const managers[] = { "cgroupfs", "systemd", "disabled", NULL };
	static const enum hutch_cgroup_manager manager_values[] = {
		CGROUP_MANAGER_CGROUPFS, CGROUP_MANAGER_SYSTEMD, CGROUP_MANAGER_DISABLED };
	static const char *const module_modes[] = { "auto", "on", "off", NULL };
	static const enum hutch_module_mode module_values[] = { MODULE_AUTO, MODULE_ON, MODULE_OFF };
	struct cli_parser p = { .argc = argc, .argv = argv, .shortopts = "vh", .longopts = opts,
				.in_order = true };
	const char *v;
	int c, r;

	while ((c = cli_next(&p, err)) > 0) {
		v = p.arg;
		switch (c) {
		case O_DEBUG:
			g->debug = true;
			break;
		case 'v':
			*next = -1;
			return 0;
		case 'h':
			*next = -2;
			return 0;
		case O_SYSTEMD_CGROUP:
			if (v && strcmp(v, "false") == 0)
				break;
			g->cgroup_manager = CGROUP_MANAGER_SYSTEMD;
			break;
		case O_ROOT:
			if (!*v)
				return hutch_fail(err, 0, "--root: empty path");
			g->root = v;
			break;
		case O_LOG:
			g->log_path = v;
			break;
		case O_LOG_FORMAT:
			if ((r = cli_choice(NULL, "log-format", "format", v, log_formats, err)) < 0)
				return -1;
			g->log_json = r == 1;
			break;
		case O_CGROUP_MANAGER:
			if ((r = cli_choice(NULL, "cgroup-manager", "manager", v, managers, err)) < 0)
				return -1;
			g->cgroup_manager = manager_values[r];
			break;
		case O_MODULE:
			if ((r = cli_choice(NULL, "module", "mode", v, module_modes, err)) < 0)
				return -1;
			g->module_mode = module_values[r];
			break;
		case O_ROOTLESS:
			/* runc's --rootless[=]auto|true|false: hutch detects this itself. */
			if (!v && p.ind < argc && (strcmp(argv[p.ind], "true") == 0 ||
						   strcmp(argv[p.ind], "false") == 0 ||
						   strcmp(argv[p.ind], "auto") == 0))
				p.ind++;
			break;
		}
	}
	if (c < 0)
		return -1;
	*next = p.ind;
	return 0;
}

/*
 * HUTCH_DEBUG_FDS set (tests): after the command, every fd it left open (not 0-2, the
 * log's, or one hutch inherited) is reported on stderr, "hutch: fd 5 open at exit:
 * socket:[1234]", so that a test sees what a path forgot to close (35-faults.sh).
 */
static void each_open_fd(void (*fn)(int fd, const char *target, void *arg), void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char target[PATH_MAX];   /* /proc's fd links are at most a page (d_path) */
		int fd = atoi(e->d_name);
		ssize_t n;

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || fd == hutch_log_fd())
			continue;
		n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fn(fd, target, arg);
	}
	closedir(d);
}

struct fd_set_list { int *fds; size_t n; };

static void note_fd(int fd, const char *target, void *arg)
{
	struct fd_set_list *l = arg;

	(void)target;
	l->fds = xrealloc(l->fds, (l->n + 1) * sizeof(int));
	l->fds[l->n++] = fd;
}

static void report_fd(int fd, const char *target, void *arg)
{
	const struct fd_set_list *inherited = arg;

	for (size_t i = 0; i < inherited->n; i++)
		if (inherited->fds[i] == fd)
			return;
	fprintf(stderr, "hutch: fd %d open at exit: %s\n", fd, target);
}

int main(int argc, char **argv)
{
	struct hutch_global g = {
		.root = HUTCH_DEFAULT_ROOT,
		.cgroup_manager = CGROUP_MANAGER_CGROUPFS,
		.module_mode = MODULE_AUTO,
		.argv0 = argv[0],
	};
	cleanup_err hutch_err err = NULL;
	const struct hutch_command *c;
	struct fd_set_list inherited = { 0 };
	bool debug_fds = getenv("HUTCH_DEBUG_FDS");
	int next = 0, r;

	if (parse_global(&g, argc, argv, &next, &err) < 0) {
		hutch_log_init(NULL, false, false);
		log_error("%s", err->msg);
		return 1;
	}
	hutch_kmod_setup(&g);
	if (hutch_log_init(g.log_path, g.log_json, g.debug) < 0)
		fprintf(stderr, "hutch: cannot open log file `%s`: %s\n", g.log_path, strerror(errno));
	if (next == -1)
		return cmd_version(&g, argc, argv, &err);
	if (next == -2 || next >= argc) {
		print_help();
		return next >= argc ? 1 : 0;
	}
	c = hutch_find_command(argv[next]);
	if (!c) {
		log_error("unknown command `%s` (see `hutch --help`)", argv[next]);
		return 1;
	}
	for (int i = next + 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			hutch_print_usage(c);
			return 0;
		}
	}
	/* CVE-2019-5736: what enters a container runs protected (security.h); exec once it
	 * knows the container (container_exec) */
	hutch_selfexe_init(argv);
	if ((!strcmp(c->name, "create") || !strcmp(c->name, "run")) &&
	    hutch_selfexe_protect(NULL, &err) < 0) {
		log_error("%s", err->msg);
		return 1;
	}
	if (debug_fds)
		each_open_fd(note_fd, &inherited);
	r = c->run(&g, argc - next, argv + next, &err);
	/* the library's cached connection to hutch.ko (kmodule.c) ends with the command */
	hutch_kmod_release();
	if (debug_fds) {
		each_open_fd(report_fd, &inherited);
		free(inherited.fds);
	}
	if (r < 0) {
		log_error("%s", err ? err->msg : "failed");
		return 1;
	}
	return r;
}
