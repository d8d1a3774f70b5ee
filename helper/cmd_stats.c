// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hutch stats: an accounting snapshot of a container read from its cgroup files
 * (source "cgroup"). Fields are documented in README.md and stay stable.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_cmd.h"
#include "jsonutil.h"
#include "utils.h"

HUTCH_COMMAND(stats)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("stats");
	cleanup_state struct hutch_state *st = NULL;
	struct hutch_cgroup_stats s;
	enum hutch_status status;
	bool json = false;
	json_object *o;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		if (c == 'f') {
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "table") == 0)
				json = false;
			else
				return hutch_usage_error(cmd, err, "--format: unknown format `%s` "
							 "(table or json)", optarg);
		} else if (c == ':') {
			return hutch_usage_error(cmd, err, "option `%s` needs a value", argv[optind - 1]);
		} else {
			return hutch_usage_error(cmd, err, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return hutch_usage_error(cmd, err, "missing container id");
	if (argc - optind > 1)
		return hutch_usage_error(cmd, err, "unexpected argument `%s`", argv[optind + 1]);
	if (cgcmd_open(g, argv[optind], false, &st, &status, err) < 0 ||
	    hutch_cgroup_stats(st->cg, &s, err) < 0)
		return -1;
	o = hutch_cgroup_stats_json(&s, "cgroup");
	if (json) {
		json_object *full = json_object_new_object();

		json_object_object_add(full, "id", json_object_new_string(st->id));
		json_object_object_foreach(o, k, v)
			json_object_object_add(full, k, json_object_get(v));
		printf("%s\n", json_str(full, true));
		json_object_put(full);
	} else {
		printf("%-22s %s\n", "FIELD", "VALUE");
		printf("%-22s %s\n", "id", st->id);
		json_object_object_foreach(o, k, v)
			printf("%-22s %s\n", k, json_object_get_string(v));
	}
	json_object_put(o);
	return 0;
}
