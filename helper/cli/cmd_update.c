// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hutch update: change the resources of a created, running or paused container,
 * with runc's flags or a linux.resources document (-r FILE, - for stdin); flags
 * override the document.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_cmd.h"
#include "jsonutil.h"
#include "utils.h"

/* "512m", "1G", "4096", "-1": bytes, 1024-based suffixes as runc (docker units). */
static int parse_size(const char *flag, const char *s, int64_t *out, hutch_err *err)
{
	char *end;
	long long n;
	int64_t mul = 1;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		goto bad;
	if (*end) {
		char u = (char)tolower((unsigned char)*end);

		switch (u) {
		case 'b': mul = 1; break;
		case 'k': mul = 1ll << 10; break;
		case 'm': mul = 1ll << 20; break;
		case 'g': mul = 1ll << 30; break;
		case 't': mul = 1ll << 40; break;
		default: goto bad;
		}
		end++;
		if (u != 'b' && (*end == 'b' || *end == 'B'))
			end++;
		if (*end)
			goto bad;
	}
	if (n > INT64_MAX / mul)
		goto bad;
	*out = n * mul;
	return 0;
bad:
	return hutch_fail(err, 0, "--%s: \"%s\" is not a size (a number of bytes, optionally with "
			  "k, m, g or t; -1 for unlimited)", flag, s);
}

static int parse_int(const char *flag, const char *s, int64_t *out, hutch_err *err)
{
	if (parse_i64(s, out) < 0)
		return hutch_fail(err, 0, "--%s: \"%s\" is not an integer", flag, s);
	return 0;
}

/* obj[sect][key] = v */
static void set(json_object *res, const char *sect, const char *key, json_object *v)
{
	json_object *o;

	if (!json_object_object_get_ex(res, sect, &o) || !json_object_is_type(o, json_type_object)) {
		o = json_object_new_object();
		json_object_object_add(res, sect, o);
	}
	json_object_object_add(o, key, v);
}

/* runc's resource flags: --NAME VALUE sets linux.resources.SECT.KEY */
enum flag_kind { SIZE, INT, STRING };
static const struct { const char *name, *sect, *key; enum flag_kind kind; } resource_flags[] = {
	{ "memory", "memory", "limit", SIZE },
	{ "memory-swap", "memory", "swap", SIZE },
	{ "memory-reservation", "memory", "reservation", SIZE },
	{ "kernel-memory", "memory", "kernel", SIZE },
	{ "kernel-memory-tcp", "memory", "kernelTCP", SIZE },
	{ "cpu-shares", "cpu", "shares", INT },
	{ "cpu-share", "cpu", "shares", INT },
	{ "cpu-quota", "cpu", "quota", INT },
	{ "cpu-period", "cpu", "period", INT },
	{ "cpu-rt-runtime", "cpu", "realtimeRuntime", INT },
	{ "cpu-rt-period", "cpu", "realtimePeriod", INT },
	{ "cpuset-cpus", "cpu", "cpus", STRING },
	{ "cpuset-mems", "cpu", "mems", STRING },
	{ "pids-limit", "pids", "limit", INT },
	{ "blkio-weight", "blockIO", "weight", INT },
};
#define FLAG_VAL 256   /* resource_flags[i] is option FLAG_VAL + i */

HUTCH_COMMAND(update)
{
	struct option opts[ARRAY_SIZE(resource_flags) + 2] = {
		{ "resources", required_argument, NULL, 'r' },
	};
	const struct hutch_command *cmd = hutch_find_command("update");
	cleanup_state struct hutch_state *st = NULL;
	cleanup_json json_object *flags = json_object_new_object();
	cleanup_json json_object *res = NULL;
	const char *rfile = NULL;
	enum hutch_status status;
	int c;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "r:",
				.longopts = opts };

	for (size_t i = 0; i < ARRAY_SIZE(resource_flags); i++)
		opts[i + 1] = (struct option){ resource_flags[i].name, required_argument, NULL,
					       FLAG_VAL + (int)i };
	while ((c = cli_next(&p, err)) > 0) {
		int64_t v;

		if (c == 'r') {
			rfile = p.arg;
		} else if (c >= FLAG_VAL) {
			const char *flag = resource_flags[c - FLAG_VAL].name;
			json_object *value;

			switch (resource_flags[c - FLAG_VAL].kind) {
			case STRING:
				value = json_object_new_string(p.arg);
				break;
			case SIZE:
				if (parse_size(flag, p.arg, &v, err) < 0)
					return -1;
				value = json_object_new_int64(v);
				break;
			default:
				if (parse_int(flag, p.arg, &v, err) < 0)
					return -1;
				value = json_object_new_int64(v);
			}
			set(flags, resource_flags[c - FLAG_VAL].sect, resource_flags[c - FLAG_VAL].key, value);
		}
	}
	if (c < 0 || cli_operands(&p, 1, 1, err) < 0)
		return -1;
	if (rfile) {
		const char *path = strcmp(rfile, "-") == 0 ? "/dev/stdin" : rfile;

		if (json_parse_file(path, rfile, &res, err) < 0)
			return -1;
		if (!json_object_is_type(res, json_type_object))
			return hutch_fail(err, 0, "%s: expected a linux.resources object", rfile);
	} else {
		res = json_object_new_object();
	}
	/* flags override the document */
	json_object_object_foreach(flags, sect, sv) {
		json_object_object_foreach(sv, key, v)
			set(res, sect, key, json_object_get(v));
	}
	if (json_object_object_length(res) == 0)
		return hutch_usage_error(cmd, err, "nothing to update: give -r FILE or a resource flag");
	if (cgcmd_open(g, argv[p.ind], true, &st, &status, err) < 0)
		return -1;
	if (status == STATUS_STOPPED)
		return hutch_fail(err, 0, "container `%s` is stopped: cannot update", argv[p.ind]);
	return hutch_cgroup_update(st->cg, res, rfile ? rfile : "update", "", err) < 0 ? -1 : 0;
}
