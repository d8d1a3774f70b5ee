// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hutch stats: an accounting snapshot of a container: hutch.ko's exact figures when
 * the module tracks it (source "module"), else its cgroup files (source "cgroup").
 * Fields are documented in README.md and stay stable; a field a source lacks is null.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroup_cmd.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "utils.h"

/* One container's snapshot, "id" first. */
static int stats_one(struct hutch_global *g, const char *id, json_object **out, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	struct hutch_cgroup_stats s;
	enum hutch_status status;
	json_object *o, *full;

	if (state_open(g, id, false, &st, err) < 0)
		return -1;
	if (hutch_kmod_ct_stats(id, &o, err) < 0)
		return -1;
	if (!o) {
		state_free(st);
		st = NULL;
		if (cgcmd_open(g, id, false, &st, &status, err) < 0 ||
		    hutch_cgroup_stats(st->cg, &s, err) < 0)
			return -1;
		o = hutch_cgroup_stats_json(&s, "cgroup");
		hutch_kmod_stats_mark_missing(o);
	}
	full = json_object_new_object();
	json_object_object_add(full, "id", json_object_new_string(st->id));
	json_object_object_foreach(o, k, v)
		json_object_object_add(full, k, json_object_get(v));
	json_object_put(o);
	*out = full;
	return 0;
}

static const char *field(json_object *o, const char *k)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "-";
}

static void print_row(json_object *o)
{
	printf("%-20s %-7s %14s %14s %14s %14s %10s %6s %14s %14s\n", field(o, "id"),
	       field(o, "source"), field(o, "cpu_user_ns"), field(o, "cpu_system_ns"),
	       field(o, "memory_current_bytes"), field(o, "memory_peak_bytes"), field(o, "page_faults"),
	       field(o, "pids_current"), field(o, "io_read_bytes"), field(o, "io_write_bytes"));
}

static int snapshot(struct hutch_global *g, const char *id, bool json, hutch_err *err)
{
	json_object *arr = NULL;

	if (id) {
		json_object *o;

		if (stats_one(g, id, &o, err) < 0)
			return -1;
		if (json) {
			printf("%s\n", json_str(o, true));
		} else {
			printf("%-22s %s\n", "FIELD", "VALUE");
			json_object_object_foreach(o, k, v)
				printf("%-22s %s\n", k, v ? json_object_get_string(v) : "-");
		}
		json_object_put(o);
		return 0;
	}
	/* --all: every container that is not stopped; hutch.ko's in one dump */
	{
		cleanup_strv char **ids = NULL;
		json_object *mod = NULL;

		if (state_list(g, &ids, err) < 0 || hutch_kmod_stats_all(&mod, err) < 0)
			return -1;
		arr = json_object_new_array();
		if (!json)
			printf("%-20s %-7s %14s %14s %14s %14s %10s %6s %14s %14s\n", "ID", "SOURCE",
			       "CPU_USER_NS", "CPU_SYSTEM_NS", "MEM_CURRENT", "MEM_PEAK", "FAULTS",
			       "PIDS", "IO_READ", "IO_WRITE");
		for (size_t i = 0; ids[i]; i++) {
			cleanup_err hutch_err e = NULL;
			json_object *o, *m;

			if (mod && json_object_object_get_ex(mod, ids[i], &m)) {
				o = json_object_new_object();
				json_object_object_add(o, "id", json_object_new_string(ids[i]));
				json_object_object_foreach(m, k, v)
					json_object_object_add(o, k, json_object_get(v));
			} else if (stats_one(g, ids[i], &o, &e) < 0) {
				continue;   /* stopped, deleted meanwhile, or without a cgroup */
			}
			if (json)
				json_object_array_add(arr, o);
			else {
				print_row(o);
				json_object_put(o);
			}
		}
		if (json)
			printf("%s\n", json_str(arr, true));
		json_object_put(arr);
		json_object_put(mod);
	}
	return 0;
}

HUTCH_COMMAND(stats)
{
	static const struct option opts[] = {
		CLI_OPT_FORMAT,
		{ "all", no_argument, NULL, 'a' },
		{ "watch", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("stats");
	bool json = false, all = false;
	int64_t watch_ms = 0;
	const char *id = NULL;
	int c;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "f:aw:",
				.longopts = opts, .json = &json };

	while ((c = cli_next(&p, err)) > 0) {
		if (c == 'a') {
			all = true;
		} else if (c == 'w') {
			if (parse_duration_ms(p.arg, &watch_ms, err) < 0)
				return hutch_error_prefix(err, "--watch");
			if (watch_ms <= 0)
				return hutch_usage_error(cmd, err, "--watch: the interval must be positive");
		}
	}
	if (c < 0)
		return -1;
	if (all && p.ind < argc)
		return hutch_usage_error(cmd, err, "--all takes no container id");
	if (!all && p.ind >= argc)
		return hutch_usage_error(cmd, err, "missing container id (or --all)");
	if (argc - p.ind > 1)
		return hutch_usage_error(cmd, err, "unexpected argument `%s`", argv[p.ind + 1]);
	if (!all)
		id = argv[p.ind];
	for (;;) {
		struct timespec ts = { watch_ms / 1000, (watch_ms % 1000) * 1000000L };

		if (snapshot(g, id, json, err) < 0)
			return -1;
		if (!watch_ms)
			return 0;
		fflush(stdout);
		while (nanosleep(&ts, &ts) < 0)
			;
	}
}
