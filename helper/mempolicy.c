// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.memoryPolicy (runtime-spec 1.3): the NUMA memory policy of the container process,
 * set with set_mempolicy(2) in the init before it executes the process (the policy is
 * inherited across fork and execve).
 *
 *   "memoryPolicy": { "mode": "MPOL_BIND", "nodes": "0-3,7", "flags": ["MPOL_F_STATIC_NODES"] }
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jsonutil.h"
#include "mempolicy.h"
#include "utils.h"

/* the kernel's values (linux/mempolicy.h); not every libc has the newest */
static const struct {
	const char *name;
	int mode;
	bool nodes;      /* needs nodes (true) or must not have any (false for default/local) */
	bool nodes_opt;  /* nodes optional (MPOL_PREFERRED: none means local) */
} modes[] = {
	{ "MPOL_DEFAULT", 0, false, false },
	{ "MPOL_PREFERRED", 1, false, true },
	{ "MPOL_BIND", 2, true, false },
	{ "MPOL_INTERLEAVE", 3, true, false },
	{ "MPOL_LOCAL", 4, false, false },
	{ "MPOL_PREFERRED_MANY", 5, true, false },
	{ "MPOL_WEIGHTED_INTERLEAVE", 6, true, false },
};

static const struct {
	const char *name;
	int flag;
} flags[] = {
	{ "MPOL_F_NUMA_BALANCING", 1 << 13 },
	{ "MPOL_F_RELATIVE_NODES", 1 << 14 },
	{ "MPOL_F_STATIC_NODES", 1 << 15 },
};

#define P "linux.memoryPolicy"

static int fail(hutch_err *err, const char *field, const char *fmt, const char *arg)
{
	cleanup_free char *msg = xasprintf(fmt, arg);

	return hutch_fail(err, 0, "config.json: " P "%s: %s", field, msg);
}

/* "0-3,7" into a bitmask of NUMA nodes; the highest node + 1 in *maxnode */
static int parse_nodes(const char *s, struct hutch_mempolicy *mp, hutch_err *err)
{
	const char *p = s;

	while (*p) {
		char *end;
		unsigned long a, b;

		errno = 0;
		if (*p < '0' || *p > '9')
			return fail(err, ".nodes", "\"%s\" is not a list of nodes like \"0-3,7\"", s);
		a = b = strtoul(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return fail(err, ".nodes", "\"%s\" is not a list of nodes like \"0-3,7\"", s);
			b = strtoul(p, &end, 10);
		}
		if (errno || a > b)
			return fail(err, ".nodes", "\"%s\": a range goes from low to high", s);
		if (b >= HUTCH_MPOL_MAXNODES)
			return fail(err, ".nodes", "\"%s\": a node number is too large", s);
		for (unsigned long n = a; n <= b; n++)
			mp->mask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
		if (b + 1 > mp->maxnode)
			mp->maxnode = b + 1;
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return fail(err, ".nodes", "\"%s\" is not a list of nodes like \"0-3,7\"", s);
		p = end;
	}
	return 0;
}

int mempolicy_parse(json_object *lin, struct hutch_mempolicy *mp, hutch_err *err)
{
	json_object *o = NULL, *jf = NULL;
	const char *mode = NULL, *nodes = NULL;
	size_t i;

	memset(mp, 0, sizeof(*mp));
	if (!lin || jget_obj(lin, "config.json", "linux", "memoryPolicy", false, &o, err) < 0)
		return lin ? -1 : 0;
	if (!o)
		return 0;
	if (jget_str(o, "config.json", P, "mode", true, &mode, err) < 0 ||
	    jget_str(o, "config.json", P, "nodes", false, &nodes, err) < 0 ||
	    jget_array(o, "config.json", P, "flags", false, &jf, err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(mode, modes[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(modes))
		return fail(err, ".mode", "unknown mode \"%s\" (MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, "
			    "MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY or MPOL_LOCAL)",
			    mode);
	mp->mode = modes[i].mode;
	if (nodes && *nodes && parse_nodes(nodes, mp, err) < 0)
		return -1;
	if (mp->maxnode && !modes[i].nodes && !modes[i].nodes_opt)
		return fail(err, ".nodes", "%s takes no nodes", modes[i].name);
	if (!mp->maxnode && modes[i].nodes)
		return fail(err, ".nodes", "%s needs at least one node", modes[i].name);
	for (size_t k = 0; jf && k < json_object_array_length(jf); k++) {
		json_object *e = json_object_array_get_idx(jf, k);
		cleanup_free char *pk = xasprintf(".flags[%zu]", k);
		const char *f;
		size_t j;

		if (!json_object_is_type(e, json_type_string))
			return fail(err, pk, "%s", "expected a string");
		f = json_object_get_string(e);
		for (j = 0; j < ARRAY_SIZE(flags); j++)
			if (strcmp(f, flags[j].name) == 0)
				break;
		if (j == ARRAY_SIZE(flags))
			return fail(err, pk, "unknown flag \"%s\" (MPOL_F_NUMA_BALANCING, "
				    "MPOL_F_RELATIVE_NODES or MPOL_F_STATIC_NODES)", f);
		mp->flags |= flags[j].flag;
	}
	if ((mp->flags & (1 << 14)) && (mp->flags & (1 << 15)))
		return fail(err, ".flags", "%s", "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES "
			    "exclude each other");
	if ((mp->flags & (1 << 13)) && mp->mode != 2 && mp->mode != 5)
		return fail(err, ".flags", "MPOL_F_NUMA_BALANCING needs MPOL_BIND or "
			    "MPOL_PREFERRED_MANY, not %s", mode);
	if ((mp->flags & ((1 << 14) | (1 << 15))) && !mp->maxnode)
		return fail(err, ".flags", "%s", "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES need nodes");
	mp->set = true;
	mp->mode_name = xstrdup(mode);
	mp->nodes = xstrdup(nodes ? nodes : "");
	return 0;
}

int mempolicy_apply(const struct hutch_mempolicy *mp, hutch_err *err)
{
	if (!mp->set)
		return 0;
	/* maxnode counts bits and the kernel ignores the last one: pass one more */
	if (syscall(SYS_set_mempolicy, mp->mode | mp->flags, mp->maxnode ? mp->mask : NULL,
		    mp->maxnode ? mp->maxnode + 1 : 0) < 0)
		return hutch_fail(err, errno, "config.json: " P ": set_mempolicy(%s, nodes \"%s\")",
				  mp->mode_name, mp->nodes);
	return 0;
}

void mempolicy_clear(struct hutch_mempolicy *mp)
{
	free(mp->mode_name);
	free(mp->nodes);
	memset(mp, 0, sizeof(*mp));
}
