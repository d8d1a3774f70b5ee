// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch list and ps. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "state.h"
#include "utils.h"

HUTCH_COMMAND(list)
{
	static const struct option opts[] = {
		CLI_OPT_FORMAT,
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("list");
	cleanup_strv char **ids = NULL;
	bool json = false, quiet = false;
	json_object *arr;
	int c;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "f:q",
				.longopts = opts, .json = &json };

	while ((c = cli_next(&p, err)) > 0)
		quiet = true;
	if (c < 0 || cli_operands(&p, 0, 0, err) < 0)
		return -1;
	if (state_list(g, &ids, err) < 0)
		return -1;
	arr = json_object_new_array();
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	for (size_t i = 0; ids[i]; i++) {
		cleanup_state struct hutch_state *st = NULL;
		cleanup_err hutch_err e = NULL;
		enum hutch_status s;
		json_object *o;

		if (state_open(g, ids[i], false, &st, &e) < 0)
			continue;   /* deleted meanwhile, or not ours */
		s = state_status(st);
		if (quiet) {
			printf("%s\n", st->id);
			continue;
		}
		o = state_oci_json(st, s);
		if (json) {
			json_object_array_add(arr, o);
			continue;
		}
		printf("%-20s %-8d %-10s %-40s %-30s %s\n", st->id, s == STATUS_STOPPED ? 0 : st->pid,
		       status_name(s), st->bundle ? st->bundle : "", st->created ? st->created : "",
		       st->owner && *st->owner ? st->owner : "root");
		json_object_put(o);
	}
	if (json)
		printf("%s\n", json_str(arr, false));
	json_object_put(arr);
	return 0;
}

/* One process's row: uid, ppid, state and command line from /proc. */
static void ps_row(pid_t pid)
{
	cleanup_free char *status = NULL, *cmdline = NULL;
	cleanup_free char *sp = xasprintf("/proc/%d/status", pid);
	cleanup_free char *cp = xasprintf("/proc/%d/cmdline", pid);
	char *uid = NULL, *ppid = NULL, *state = NULL, *name = NULL, *l, *save = NULL;
	size_t n = 0;

	if (read_file(sp, &status, NULL, NULL) < 0)
		return;
	for (l = strtok_r(status, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (str_has_prefix(l, "Uid:"))
			uid = l + 4 + strspn(l + 4, " \t");
		else if (str_has_prefix(l, "PPid:"))
			ppid = l + 5 + strspn(l + 5, " \t");
		else if (str_has_prefix(l, "State:"))
			state = l + 6 + strspn(l + 6, " \t");
		else if (str_has_prefix(l, "Name:"))
			name = l + 5 + strspn(l + 5, " \t");
	}
	if (uid)
		uid[strcspn(uid, " \t")] = '\0';
	if (state)
		state[1] = '\0';
	if (read_file(cp, &cmdline, &n, NULL) == 0 && n > 0) {
		for (size_t i = 0; i + 1 < n; i++)
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
	}
	printf("%-8s %-8d %-8s %-5s %s\n", uid ? uid : "?", pid, ppid ? ppid : "?", state ? state : "?",
	       cmdline && *cmdline ? cmdline : name ? name : "?");
}

/* The table from hutch.ko's one CT_PIDS dump: 1 when printed, 0 to fall back to /proc. */
static int ps_table_module(struct hutch_state *st, hutch_err *err)
{
	struct hutch_kmod_proc *procs = NULL;
	size_t n = 0;
	int r = hutch_kmod_ct_procs(st->id, &procs, &n, err);

	if (r <= 0)
		return r;
	printf("%-8s %-8s %-8s %-5s %s\n", "UID", "PID", "PPID", "STAT", "CMD");
	for (size_t i = 0; i < n; i++) {
		struct hutch_kmod_proc *p = &procs[i];

		for (size_t j = 0; j + 1 < p->cmdline_len; j++)
			if (p->cmdline[j] == '\0')
				p->cmdline[j] = ' ';
		printf("%-8u %-8d %-8d %-5c %s\n", p->uid, p->pid, p->ppid, p->state ? p->state : '?',
		       p->cmdline && *p->cmdline ? p->cmdline : p->comm);
	}
	hutch_kmod_procs_free(procs, n);
	return 1;
}

HUTCH_COMMAND(ps)
{
	const struct hutch_command *cmd = hutch_find_command("ps");
	cleanup_state struct hutch_state *st = NULL;
	cleanup_free pid_t *pids = NULL;
	bool json = false;
	size_t n = 0;
	int ind = cli_parse_format(cmd, argc, argv, false, &json, err);

	if (ind < 0)
		return -1;
	if (ind >= argc)
		return hutch_usage_error(cmd, err, "missing container id");
	/* runc passes extra arguments to ps(1); we accept and ignore them for table output */
	if (state_open(g, argv[ind], false, &st, err) < 0)
		return -1;
	if (state_status(st) == STATUS_STOPPED) {
		pids = NULL;
		n = 0;
	} else if (!json) {
		int r = ps_table_module(st, err);

		if (r != 0)
			return r < 0 ? -1 : 0;
		if (container_pids(st, &pids, &n, err) < 0)
			return -1;
	} else if (container_pids(st, &pids, &n, err) < 0) {
		return -1;
	}
	if (json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_int(pids[i]));
		printf("%s\n", json_str(arr, false));
		json_object_put(arr);
		return 0;
	}
	printf("%-8s %-8s %-8s %-5s %s\n", "UID", "PID", "PPID", "STAT", "CMD");
	for (size_t i = 0; i < n; i++)
		ps_row(pids[i]);
	return 0;
}
