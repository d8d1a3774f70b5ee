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

enum {
	O_MEMORY = 256, O_MEMORY_SWAP, O_MEMORY_RES, O_KMEM, O_KMEM_TCP, O_CPU_SHARES, O_CPU_QUOTA,
	O_CPU_PERIOD, O_CPU_RT_RUNTIME, O_CPU_RT_PERIOD, O_CPUSET_CPUS, O_CPUSET_MEMS, O_PIDS,
	O_BLKIO_WEIGHT,
};

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

HUTCH_COMMAND(update)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "memory-swap", required_argument, NULL, O_MEMORY_SWAP },
		{ "memory-reservation", required_argument, NULL, O_MEMORY_RES },
		{ "kernel-memory", required_argument, NULL, O_KMEM },
		{ "kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP },
		{ "cpu-shares", required_argument, NULL, O_CPU_SHARES },
		{ "cpu-share", required_argument, NULL, O_CPU_SHARES },
		{ "cpu-quota", required_argument, NULL, O_CPU_QUOTA },
		{ "cpu-period", required_argument, NULL, O_CPU_PERIOD },
		{ "cpu-rt-runtime", required_argument, NULL, O_CPU_RT_RUNTIME },
		{ "cpu-rt-period", required_argument, NULL, O_CPU_RT_PERIOD },
		{ "cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_CPUSET_MEMS },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "blkio-weight", required_argument, NULL, O_BLKIO_WEIGHT },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { int opt; const char *sect, *key; bool size; } map[] = {
		{ O_MEMORY, "memory", "limit", true },
		{ O_MEMORY_SWAP, "memory", "swap", true },
		{ O_MEMORY_RES, "memory", "reservation", true },
		{ O_KMEM, "memory", "kernel", true },
		{ O_KMEM_TCP, "memory", "kernelTCP", true },
		{ O_CPU_SHARES, "cpu", "shares", false },
		{ O_CPU_QUOTA, "cpu", "quota", false },
		{ O_CPU_PERIOD, "cpu", "period", false },
		{ O_CPU_RT_RUNTIME, "cpu", "realtimeRuntime", false },
		{ O_CPU_RT_PERIOD, "cpu", "realtimePeriod", false },
		{ O_PIDS, "pids", "limit", false },
		{ O_BLKIO_WEIGHT, "blockIO", "weight", false },
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

	while ((c = cli_next(&p, err)) > 0) {
		const char *flag = "";
		bool done = false;

		for (const struct option *o = opts; o->name; o++)
			if (o->val == c && c >= O_MEMORY) {
				flag = o->name;
				break;
			}

		if (c == 'r') {
			rfile = p.arg;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
			int64_t v;

			if (map[i].opt != c)
				continue;
			if (map[i].size ? parse_size(flag, p.arg, &v, err) < 0 :
					  parse_int(flag, p.arg, &v, err) < 0)
				return -1;
			set(flags, map[i].sect, map[i].key, json_object_new_int64(v));
			done = true;
		}
		if (!done && c == O_CPUSET_CPUS)
			set(flags, "cpu", "cpus", json_object_new_string(p.arg));
		else if (!done && c == O_CPUSET_MEMS)
			set(flags, "cpu", "mems", json_object_new_string(p.arg));
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
