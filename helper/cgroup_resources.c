// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.resources: parsing with errors that name the JSON path, and applying on the
 * layout the host has. Values are given the OCI (cgroup v1) way; on the unified
 * hierarchy they are converted the way runc and crun convert them:
 *
 *   memory.limit            memory.limit_in_bytes         memory.max
 *   memory.reservation      memory.soft_limit_in_bytes    memory.low
 *   memory.swap (mem+swap)  memory.memsw.limit_in_bytes   memory.swap.max = swap - limit
 *   cpu.shares              cpu.shares                    cpu.weight = 1 + (shares-2)*9999/262142
 *   cpu.quota/period        cpu.cfs_quota_us/_period_us   cpu.max "quota period"
 *   blockIO.weight          blkio.weight | blkio.bfq.weight  io.bfq.weight | io.weight =
 *                                                            1 + (weight-10)*9999/990
 *   blockIO.throttle*       blkio.throttle.*_device       io.max "maj:min rbps=.. wiops=.."
 *   hugepageLimits          hugetlb.SIZE.limit_in_bytes   hugetlb.SIZE.max (+ .rsvd.max)
 *
 * A knob the host's layout has no file for is an error, never silently dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "cgroup_internal.h"
#include "jsonutil.h"
#include "log.h"
#include "utils.h"

struct ctx {
	const char *file;   /* "config.json" */
	const char *base;   /* "linux.resources" or "" */
	hutch_err *err;
	struct hutch_cgroup *cg;
	bool dry, update;
};

static char *full_path(const struct ctx *c, const char *path)
{
	if (c->base[0] == '\0')
		return xstrdup(path);
	if (path[0] == '\0')
		return xstrdup(c->base);
	return xasprintf("%s%s%s", c->base, path[0] == '[' ? "" : ".", path);
}

static int ferr(const struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ferr(const struct ctx *c, const char *path, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	cleanup_free char *fp = full_path(c, path);
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return hutch_fail(c->err, 0, "%s: %s: %s", c->file, fp, msg);
}

/* ---- parsing ---- */

void cg_res_free(struct cg_res *r)
{
	if (!r)
		return;
	free(r->cpus);
	free(r->mems);
	free(r->wdev);
	for (int i = 0; i < 4; i++)
		free(r->thr[i]);
	for (size_t i = 0; i < r->n_huge; i++)
		free(r->huge[i].size);
	free(r->huge);
	for (size_t i = 0; i < r->n_prio; i++)
		free(r->prio[i].name);
	free(r->prio);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].dev);
	free(r->rdma);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	free(r->dev);
	free(r);
}

static void cleanup_resp(struct cg_res **r)
{
	cg_res_free(*r);
}

static int parse_memory(const struct ctx *c, json_object *m, struct cg_res *r)
{
	cleanup_free char *mp = full_path(c, "memory");
	bool dummy = false;

	if (jget_range(m, c->file, mp, "limit", -1, INT64_MAX, &r->has_limit, &r->limit,
		       c->err) < 0 ||
	    jget_range(m, c->file, mp, "reservation", -1, INT64_MAX, &r->has_reservation,
		    &r->reservation, c->err) < 0 ||
	    jget_range(m, c->file, mp, "swap", -1, INT64_MAX, &r->has_swap, &r->swap, c->err) < 0 ||
	    jget_range(m, c->file, mp, "kernel", -1, INT64_MAX, &r->has_kernel, &r->kernel,
		       c->err) < 0 ||
	    jget_range(m, c->file, mp, "kernelTCP", -1, INT64_MAX, &r->has_kernel_tcp,
		    &r->kernel_tcp, c->err) < 0 ||
	    jget_urange(m, c->file, mp, "swappiness", 0, 100, &r->has_swappiness, &r->swappiness,
			c->err) < 0 ||
	    jget_bool(m, c->file, mp, "disableOOMKiller", &r->has_disable_oom, &r->disable_oom,
		      c->err) < 0 ||
	    jget_bool(m, c->file, mp, "checkBeforeUpdate", &dummy, &r->check_before_update,
		      c->err) < 0 ||
	    jget_bool(m, c->file, mp, "useHierarchy", NULL, &dummy, c->err) < 0)
		return -1;
	/* 0 means "not set" in runc for these. */
	if (r->has_limit && r->limit == 0)
		r->has_limit = false;
	if (r->has_swap && r->swap == 0)
		r->has_swap = false;
	if (r->has_swap && r->swap != -1 && r->has_limit && r->limit != -1 && r->swap < r->limit)
		return ferr(c, "memory.swap", "%" PRId64 " is below memory.limit %" PRId64
			    " (swap is the limit of memory plus swap)", r->swap, r->limit);
	return 0;
}

static bool valid_cpulist(const char *s)
{
	for (; *s; s++)
		if (!(*s >= '0' && *s <= '9') && *s != ',' && *s != '-')
			return false;
	return true;
}

static int parse_cpu(const struct ctx *c, json_object *o, struct cg_res *r)
{
	cleanup_free char *cp = full_path(c, "cpu");
	const char *cpus = NULL, *mems = NULL;

	if (jget_urange(o, c->file, cp, "shares", 0, 262144, &r->has_shares, &r->shares,
			c->err) < 0 ||
	    jget_range(o, c->file, cp, "quota", -1, INT64_MAX, &r->has_quota, &r->quota,
		       c->err) < 0 ||
	    jget_urange(o, c->file, cp, "period", 1000, 1000000, &r->has_period, &r->period,
			c->err) < 0 ||
	    jget_urange(o, c->file, cp, "burst", 0, INT64_MAX, &r->has_burst, &r->burst,
			c->err) < 0 ||
	    jget_range(o, c->file, cp, "idle", 0, 1, &r->has_idle, &r->idle, c->err) < 0 ||
	    jget_range(o, c->file, cp, "realtimeRuntime", -1, INT64_MAX, &r->has_rt_runtime,
		    &r->rt_runtime, c->err) < 0 ||
	    jget_urange(o, c->file, cp, "realtimePeriod", 1, INT64_MAX, &r->has_rt_period,
		     &r->rt_period, c->err) < 0 ||
	    jget_str(o, c->file, cp, "cpus", false, &cpus, c->err) < 0 ||
	    jget_str(o, c->file, cp, "mems", false, &mems, c->err) < 0)
		return -1;
	if (r->has_shares && r->shares == 0)
		r->has_shares = false;
	else if (r->has_shares && r->shares < 2)
		return ferr(c, "cpu.shares", "%" PRIu64 " is invalid: must be between 2 and 262144",
			    r->shares);
	if (r->has_quota && r->quota == 0)
		r->has_quota = false;
	if (cpus && !valid_cpulist(cpus))
		return ferr(c, "cpu.cpus", "\"%s\" is not a CPU list like \"0-2,4\"", cpus);
	if (mems && !valid_cpulist(mems))
		return ferr(c, "cpu.mems", "\"%s\" is not a node list like \"0-1\"", mems);
	if (cpus && *cpus)
		r->cpus = xstrdup(cpus);
	if (mems && *mems)
		r->mems = xstrdup(mems);
	return 0;
}

static int parse_devnum(const struct ctx *c, json_object *e, const char *path, int64_t *maj,
			int64_t *min)
{
	cleanup_free char *fp = full_path(c, path);
	bool h1 = false, h2 = false;

	if (jget_range(e, c->file, fp, "major", 0, UINT32_MAX, &h1, maj, c->err) < 0 ||
	    jget_range(e, c->file, fp, "minor", 0, UINT32_MAX, &h2, min, c->err) < 0)
		return -1;
	if (!h1 || !h2) {
		cleanup_free char *p = xasprintf("%s.%s", path, h1 ? "minor" : "major");

		return ferr(c, p, "required");
	}
	return 0;
}

static int parse_pids(const struct ctx *c, json_object *o, struct cg_res *r)
{
	cleanup_free char *pp = full_path(c, "pids");
	bool has = false;

	if (jget_range(o, c->file, pp, "limit", INT64_MIN, INT64_MAX, &has, &r->pids, c->err) < 0)
		return -1;
	if (!has)
		return ferr(c, "pids.limit", "required");
	r->has_pids = r->pids != 0;
	return 0;
}

static int parse_blkio(const struct ctx *c, json_object *o, struct cg_res *r)
{
	static const char *const tkeys[4] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
					      "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	cleanup_free char *bp = full_path(c, "blockIO");
	json_object *a = NULL;

	if (jget_urange(o, c->file, bp, "weight", 0, 1000, &r->has_blkio_weight, &r->blkio_weight,
			c->err) < 0 ||
	    jget_urange(o, c->file, bp, "leafWeight", 0, 1000, &r->has_blkio_leaf, &r->blkio_leaf,
			c->err) < 0)
		return -1;
	if (r->has_blkio_weight && r->blkio_weight == 0)
		r->has_blkio_weight = false;
	if (r->has_blkio_weight && r->blkio_weight < 10)
		return ferr(c, "blockIO.weight", "%" PRIu64 " is invalid: must be between 10 and 1000",
			    r->blkio_weight);
	if (r->has_blkio_leaf && r->blkio_leaf == 0)
		r->has_blkio_leaf = false;
	if (r->has_blkio_leaf && r->blkio_leaf < 10)
		return ferr(c, "blockIO.leafWeight", "%" PRIu64 " is invalid: must be between 10 and "
			    "1000", r->blkio_leaf);
	if (jget_array(o, c->file, bp, "weightDevice", false, &a, c->err) < 0)
		return -1;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		cleanup_free char *p = xasprintf("blockIO.weightDevice[%zu]", i);
		cleanup_free char *fp = full_path(c, p);
		struct cg_devweight w = { 0 };

		if (!json_object_is_type(e, json_type_object))
			return ferr(c, p, "expected an object");
		if (parse_devnum(c, e, p, &w.major, &w.minor) < 0 ||
		    jget_urange(e, c->file, fp, "weight", 10, 1000, &w.has_weight, &w.weight,
				c->err) < 0 ||
		    jget_urange(e, c->file, fp, "leafWeight", 10, 1000, &w.has_leaf, &w.leaf,
				c->err) < 0)
			return -1;
		r->wdev = xrealloc(r->wdev, (r->n_wdev + 1) * sizeof(*r->wdev));
		r->wdev[r->n_wdev++] = w;
	}
	for (int t = 0; t < 4; t++) {
		a = NULL;
		if (jget_array(o, c->file, bp, tkeys[t], false, &a, c->err) < 0)
			return -1;
		for (size_t i = 0; a && i < json_object_array_length(a); i++) {
			json_object *e = json_object_array_get_idx(a, i);
			cleanup_free char *p = xasprintf("blockIO.%s[%zu]", tkeys[t], i);
			cleanup_free char *fp = full_path(c, p);
			struct cg_devrate d = { 0 };
			bool has = false;

			if (!json_object_is_type(e, json_type_object))
				return ferr(c, p, "expected an object");
			if (parse_devnum(c, e, p, &d.major, &d.minor) < 0 ||
			    jget_urange(e, c->file, fp, "rate", 0, INT64_MAX, &has, &d.rate,
					c->err) < 0)
				return -1;
			if (!has) {
				cleanup_free char *pr = xasprintf("%s.rate", p);

				return ferr(c, pr, "required");
			}
			r->thr[t] = xrealloc(r->thr[t], (r->n_thr[t] + 1) * sizeof(*r->thr[t]));
			r->thr[t][r->n_thr[t]++] = d;
		}
	}
	return 0;
}

/* "2MB" -> the kB count, or 0 when it is not a size. */
static uint64_t pagesize_kb(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);

	if (end == s || n == 0)
		return 0;
	if (strcmp(end, "KB") == 0 || strcmp(end, "kB") == 0)
		return n;
	if (strcmp(end, "MB") == 0)
		return n * 1024;
	if (strcmp(end, "GB") == 0)
		return n * 1024 * 1024;
	return 0;
}

/* The huge page sizes this kernel has, as cgroup files name them ("2MB"). */
static char **hugepage_sizes(void)
{
	char **v = NULL;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		unsigned long long kb;

		if (sscanf(de->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
			strv_push(&v, xasprintf("%lluGB", kb / 1024 / 1024));
		else if (kb >= 1024 && kb % 1024 == 0)
			strv_push(&v, xasprintf("%lluMB", kb / 1024));
		else
			strv_push(&v, xasprintf("%lluKB", kb));
	}
	closedir(d);
	return v;
}

static int parse_huge(const struct ctx *c, json_object *a, struct cg_res *r)
{
	cleanup_strv char **sizes = hugepage_sizes();

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		cleanup_free char *p = xasprintf("hugepageLimits[%zu]", i);
		cleanup_free char *fp = full_path(c, p);
		const char *ps = NULL;
		bool has = false;
		uint64_t lim = 0;

		if (!json_object_is_type(e, json_type_object))
			return ferr(c, p, "expected an object");
		if (jget_str(e, c->file, fp, "pageSize", false, &ps, c->err) < 0 ||
		    jget_urange(e, c->file, fp, "limit", 0, INT64_MAX, &has, &lim, c->err) < 0)
			return -1;
		cleanup_free char *pps = xasprintf("%s.pageSize", p);
		if (!ps)
			return ferr(c, pps, "required");
		if (!pagesize_kb(ps))
			return ferr(c, pps, "\"%s\" is not a page size like \"2MB\" or \"1GB\"", ps);
		if (!strv_contains(sizes, ps))
			return ferr(c, pps, "this kernel has no %s huge pages (see /sys/kernel/mm/hugepages)",
				    ps);
		if (!has) {
			cleanup_free char *pl = xasprintf("%s.limit", p);

			return ferr(c, pl, "required");
		}
		r->huge = xrealloc(r->huge, (r->n_huge + 1) * sizeof(*r->huge));
		r->huge[r->n_huge].size = xstrdup(ps);
		r->huge[r->n_huge++].limit = lim;
	}
	return 0;
}

static int parse_network(const struct ctx *c, json_object *o, struct cg_res *r)
{
	cleanup_free char *np = full_path(c, "network");
	json_object *a = NULL;

	if (jget_urange(o, c->file, np, "classID", 0, UINT32_MAX, &r->has_classid, &r->classid,
			c->err) < 0 ||
	    jget_array(o, c->file, np, "priorities", false, &a, c->err) < 0)
		return -1;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		cleanup_free char *p = xasprintf("network.priorities[%zu]", i);
		cleanup_free char *fp = full_path(c, p);
		const char *name = NULL;
		bool has = false;
		uint64_t prio = 0;

		if (!json_object_is_type(e, json_type_object))
			return ferr(c, p, "expected an object");
		if (jget_str(e, c->file, fp, "name", false, &name, c->err) < 0 ||
		    jget_urange(e, c->file, fp, "priority", 0, UINT32_MAX, &has, &prio, c->err) < 0)
			return -1;
		if (!name || !*name || strpbrk(name, " \n/")) {
			cleanup_free char *pn = xasprintf("%s.name", p);

			return ferr(c, pn, "required: an interface name");
		}
		if (!has) {
			cleanup_free char *pp = xasprintf("%s.priority", p);

			return ferr(c, pp, "required");
		}
		r->prio = xrealloc(r->prio, (r->n_prio + 1) * sizeof(*r->prio));
		r->prio[r->n_prio].name = xstrdup(name);
		r->prio[r->n_prio++].prio = prio;
	}
	return 0;
}

static int parse_rdma(const struct ctx *c, json_object *o, struct cg_res *r)
{
	json_object_object_foreach(o, key, val) {
		cleanup_free char *p = xasprintf("rdma.%s", key);
		cleanup_free char *fp = full_path(c, p);
		struct cg_rdma d = { 0 };

		if (!json_object_is_type(val, json_type_object))
			return ferr(c, p, "expected an object");
		if (!*key || strpbrk(key, " \n"))
			return ferr(c, p, "not a device name");
		if (jget_urange(val, c->file, fp, "hcaHandles", 0, INT32_MAX, &d.has_handles,
				&d.handles, c->err) < 0 ||
		    jget_urange(val, c->file, fp, "hcaObjects", 0, INT32_MAX, &d.has_objects,
				&d.objects, c->err) < 0)
			return -1;
		d.dev = xstrdup(key);
		r->rdma = xrealloc(r->rdma, (r->n_rdma + 1) * sizeof(*r->rdma));
		r->rdma[r->n_rdma++] = d;
	}
	return 0;
}

static int parse_unified(const struct ctx *c, json_object *o, struct cg_res *r)
{
	json_object_object_foreach(o, key, val) {
		cleanup_free char *p = xasprintf("unified.\"%s\"", key);

		if (!json_object_is_type(val, json_type_string))
			return ferr(c, p, "expected a string");
		if (!*key || key[0] == '.' || strchr(key, '/') || !strchr(key, '.'))
			return ferr(c, p, "not a cgroup v2 file name like \"memory.high\"");
		r->unified = xrealloc(r->unified, (r->n_unified + 1) * sizeof(*r->unified));
		r->unified[r->n_unified].key = xstrdup(key);
		r->unified[r->n_unified++].value = xstrdup(json_object_get_string(val));
	}
	return 0;
}

static int parse_access(const char *s, unsigned *out)
{
	*out = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			*out |= CG_ACC_READ;
			break;
		case 'w':
			*out |= CG_ACC_WRITE;
			break;
		case 'm':
			*out |= CG_ACC_MKNOD;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int parse_devices(const struct ctx *c, json_object *a, struct cg_res *r)
{
	r->has_devices = true;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		cleanup_free char *p = xasprintf("devices[%zu]", i);
		struct cg_dev_rule d = { .type = 'a', .major = -1, .minor = -1,
					 .access = CG_ACC_READ | CG_ACC_WRITE | CG_ACC_MKNOD };
		cleanup_free char *fp = full_path(c, p);
		const char *type = NULL, *access = NULL;
		bool has_allow = false;

		if (!json_object_is_type(e, json_type_object))
			return ferr(c, p, "expected an object");
		if (jget_bool(e, c->file, fp, "allow", &has_allow, &d.allow, c->err) < 0 ||
		    jget_str(e, c->file, fp, "type", false, &type, c->err) < 0 ||
		    jget_str(e, c->file, fp, "access", false, &access, c->err) < 0)
			return -1;
		if (!has_allow) {
			cleanup_free char *pa = xasprintf("%s.allow", p);

			return ferr(c, pa, "required");
		}
		if (type) {
			cleanup_free char *pt = xasprintf("%s.type", p);

			if (strcmp(type, "a") != 0 && strcmp(type, "b") != 0 && strcmp(type, "c") != 0)
				return ferr(c, pt, "unknown device type \"%s\" (expected \"a\", \"b\" "
					    "or \"c\")", type);
			d.type = type[0];
		}
		if (access) {
			cleanup_free char *pa = xasprintf("%s.access", p);

			if (parse_access(access, &d.access) < 0)
				return ferr(c, pa, "\"%s\" is invalid: use the letters r, w and m",
					    access);
		}
		/* major/minor: a number, or -1 / missing / null for "any" */
		if (jget_range(e, c->file, fp, "major", -1, UINT32_MAX, NULL, &d.major,
			       c->err) < 0 ||
		    jget_range(e, c->file, fp, "minor", -1, UINT32_MAX, NULL, &d.minor, c->err) < 0)
			return -1;
		if (d.type == 'a') {
			d.major = d.minor = -1;
		}
		r->dev = xrealloc(r->dev, (r->n_dev + 1) * sizeof(*r->dev));
		r->dev[r->n_dev++] = d;
	}
	return 0;
}

int cg_res_parse(json_object *o, const char *file, const char *base, struct cg_res **out,
		 hutch_err *err)
{
	static const struct {
		const char *key;
		json_type type;
		int (*parse)(const struct ctx *c, json_object *o, struct cg_res *r);
	} sections[] = {
		{ "memory", json_type_object, parse_memory },
		{ "cpu", json_type_object, parse_cpu },
		{ "pids", json_type_object, parse_pids },
		{ "blockIO", json_type_object, parse_blkio },
		{ "hugepageLimits", json_type_array, parse_huge },
		{ "network", json_type_object, parse_network },
		{ "rdma", json_type_object, parse_rdma },
		{ "unified", json_type_object, parse_unified },
		{ "devices", json_type_array, parse_devices },
	};
	struct ctx c = { .file = file, .base = base, .err = err };
	__attribute__((cleanup(cleanup_resp))) struct cg_res *r = xcalloc(1, sizeof(*r));

	if (!json_object_is_type(o, json_type_object))
		return ferr(&c, "", "expected an object");
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		json_object *m = NULL;

		if ((sections[i].type == json_type_object
			     ? jget_obj(o, file, base, sections[i].key, false, &m, err)
			     : jget_array(o, file, base, sections[i].key, false, &m, err)) < 0 ||
		    (m && sections[i].parse(&c, m, r) < 0))
			return -1;
	}
	*out = steal_ptr(&r);
	return 0;
}

/* ---- applying ---- */

/* The hierarchy serving ctrl for the knob at path, or an error naming both. */
static struct cg_hier *need(struct ctx *c, const char *ctrl, const char *path)
{
	struct cg_hier *h = cg_find(c->cg, ctrl);

	if (!h)
		ferr(c, path, "needs the %s cgroup controller, which this host does not offer "
		     "(cgroup layout %s)", ctrl, cg_layout_name(c->cg->layout));
	return h;
}

static int v1_only(struct ctx *c, struct cg_hier *h, const char *path, const char *why)
{
	if (h->v2)
		return ferr(c, path, "not supported on cgroup v2 (%s)", why);
	return 0;
}

static int wr(struct ctx *c, struct cg_hier *h, const char *path, const char *file,
	      const char *value)
{
	if (c->dry)
		return 0;
	if (cg_write(h->dir, file, value, c->err) < 0) {
		cleanup_free char *fp = full_path(c, path);

		return hutch_error_prefix(c->err, "%s: %s", c->file, fp);
	}
	return 0;
}

static int wrf(struct ctx *c, struct cg_hier *h, const char *path, const char *file,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int wrf(struct ctx *c, struct cg_hier *h, const char *path, const char *file,
	       const char *fmt, ...)
{
	cleanup_free char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		oom();
	va_end(ap);
	return wr(c, h, path, file, v);
}

/* A file that must exist in the container's directory (checked when applying). */
static int need_file(struct ctx *c, struct cg_hier *h, const char *path, const char *file)
{
	if (c->dry || cg_exists(h->dir, file))
		return 0;
	return ferr(c, path, "this kernel has no %s file in `%s`", file, h->dir);
}

static char *i64s(int64_t v, bool v2)
{
	if (v < 0)
		return xstrdup(v2 ? "max" : "-1");
	return xasprintf("%" PRId64, v);
}

static int apply_memory(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (!(r->has_limit || r->has_reservation || r->has_swap || r->has_kernel ||
	      r->has_kernel_tcp || r->has_swappiness || (r->has_disable_oom && r->disable_oom)))
		return 0;
	if (!(h = need(c, "memory", "memory")))
		return -1;
	/* (update checks it in its dry run already: the systemd driver sets the unit's
	 * properties between the dry run and the writes) */
	if (r->check_before_update && r->has_limit && r->limit > 0 && (!c->dry || c->update)) {
		uint64_t usage;

		if (cg_read_u64(h->dir, h->v2 ? "memory.current" : "memory.usage_in_bytes",
				&usage) == 0 && usage > (uint64_t)r->limit)
			return ferr(c, "memory.limit", "%" PRId64 " is below the current usage %" PRIu64
				    " (checkBeforeUpdate)", r->limit, usage);
	}
	if (h->v2) {
		if (r->has_kernel)
			return ferr(c, "memory.kernel", "not supported on cgroup v2 (kernel memory is "
				    "accounted in memory.max)");
		if (r->has_kernel_tcp)
			return ferr(c, "memory.kernelTCP", "not supported on cgroup v2 (TCP memory is "
				    "accounted in memory.max)");
		if (r->has_swappiness)
			return ferr(c, "memory.swappiness", "not supported on cgroup v2");
		if (r->has_disable_oom && r->disable_oom)
			return ferr(c, "memory.disableOOMKiller", "not supported on cgroup v2");
		if (r->has_limit) {
			cleanup_free char *v = i64s(r->limit, true);

			if (wr(c, h, "memory.limit", "memory.max", v) < 0)
				return -1;
		}
		if (r->has_swap) {
			int64_t limit = r->has_limit ? r->limit : 0, sw;
			uint64_t cur;

			if (!r->has_limit && !c->dry && cg_read_u64(h->dir, "memory.max", &cur) == 0)
				limit = cur == UINT64_MAX ? -1 : (int64_t)cur;
			if (r->swap == -1) {
				sw = -1;
			} else if (limit <= 0 && !c->dry) {
				return ferr(c, "memory.swap", "cannot set a swap limit without a memory "
					    "limit on cgroup v2");
			} else if (r->swap < limit) {
				return ferr(c, "memory.swap", "%" PRId64 " is below the memory limit %"
					    PRId64, r->swap, limit);
			} else {
				sw = r->swap - limit;
			}
			cleanup_free char *v = i64s(sw, true);
			if (need_file(c, h, "memory.swap", "memory.swap.max") < 0 ||
			    wr(c, h, "memory.swap", "memory.swap.max", v) < 0)
				return -1;
		} else if (r->has_limit && r->limit == -1 && cg_exists(h->dir, "memory.swap.max")) {
			if (wr(c, h, "memory.limit", "memory.swap.max", "max") < 0)
				return -1;
		}
		if (r->has_reservation) {
			cleanup_free char *v = i64s(r->reservation, true);

			if (wr(c, h, "memory.reservation", "memory.low", v) < 0)
				return -1;
		}
		return 0;
	}
	/* v1: memsw must stay >= limit, so the order of the two writes depends on growth. */
	if (r->has_swap) {
		uint64_t cur = 0;
		bool swap_first = r->swap == -1;

		if (need_file(c, h, "memory.swap", "memory.memsw.limit_in_bytes") < 0)
			return -1;
		if (!r->has_limit && r->swap != -1 && !c->dry &&
		    cg_read_u64(h->dir, "memory.limit_in_bytes", &cur) == 0 && (uint64_t)r->swap < cur)
			return ferr(c, "memory.swap", "%" PRId64 " is below the memory limit %" PRIu64,
				    r->swap, cur);
		if (!swap_first && !c->dry &&
		    cg_read_u64(h->dir, "memory.memsw.limit_in_bytes", &cur) == 0)
			swap_first = (uint64_t)r->swap > cur;
		cleanup_free char *sv = i64s(r->swap, false);
		cleanup_free char *lv = r->has_limit ? i64s(r->limit, false) : NULL;
		if (swap_first) {
			if (wr(c, h, "memory.swap", "memory.memsw.limit_in_bytes", sv) < 0 ||
			    (lv && wr(c, h, "memory.limit", "memory.limit_in_bytes", lv) < 0))
				return -1;
		} else {
			if ((lv && wr(c, h, "memory.limit", "memory.limit_in_bytes", lv) < 0) ||
			    wr(c, h, "memory.swap", "memory.memsw.limit_in_bytes", sv) < 0)
				return -1;
		}
	} else if (r->has_limit) {
		cleanup_free char *lv = i64s(r->limit, false);

		/* Unlimited memory with swap not given: unlimit swap too (runc). */
		if (r->limit == -1 && !c->dry && cg_exists(h->dir, "memory.memsw.limit_in_bytes") &&
		    wr(c, h, "memory.limit", "memory.memsw.limit_in_bytes", "-1") < 0)
			return -1;
		if (wr(c, h, "memory.limit", "memory.limit_in_bytes", lv) < 0)
			return -1;
	}
	if (r->has_reservation) {
		cleanup_free char *v = i64s(r->reservation, false);

		if (wr(c, h, "memory.reservation", "memory.soft_limit_in_bytes", v) < 0)
			return -1;
	}
	if (r->has_kernel) {
		cleanup_free char *v = i64s(r->kernel, false);

		if (need_file(c, h, "memory.kernel", "memory.kmem.limit_in_bytes") < 0 ||
		    wr(c, h, "memory.kernel", "memory.kmem.limit_in_bytes", v) < 0)
			return -1;
	}
	if (r->has_kernel_tcp) {
		cleanup_free char *v = i64s(r->kernel_tcp, false);

		if (need_file(c, h, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes") < 0 ||
		    wr(c, h, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", v) < 0)
			return -1;
	}
	if (r->has_swappiness &&
	    wrf(c, h, "memory.swappiness", "memory.swappiness", "%" PRIu64, r->swappiness) < 0)
		return -1;
	if (r->has_disable_oom && r->disable_oom &&
	    wr(c, h, "memory.disableOOMKiller", "memory.oom_control", "1") < 0)
		return -1;
	return 0;
}

/* Realtime budget: directories hutch created above the leaf start with none. */
static int rt_ancestors(struct ctx *c, struct cg_hier *h, const struct cg_res *r)
{
	size_t n = strv_len(h->created);

	if (c->dry)
		return 0;
	for (size_t i = 0; i + 1 < n || (i < n && strcmp(h->created[i], h->dir) != 0); i++) {
		struct cg_hier tmp = *h;

		tmp.dir = h->created[i];
		if (r->has_rt_period &&
		    wrf(c, &tmp, "cpu.realtimePeriod", "cpu.rt_period_us", "%" PRIu64, r->rt_period) < 0)
			return -1;
		if (r->has_rt_runtime && r->rt_runtime > 0 &&
		    wrf(c, &tmp, "cpu.realtimeRuntime", "cpu.rt_runtime_us", "%" PRId64,
			r->rt_runtime) < 0)
			return -1;
	}
	return 0;
}

static int apply_cpu(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (r->has_shares || r->has_quota || r->has_period || r->has_burst || r->has_idle ||
	    r->has_rt_runtime || r->has_rt_period) {
		if (!(h = need(c, "cpu", "cpu")))
			return -1;
		if (h->v2) {
			if (r->has_rt_runtime || r->has_rt_period)
				return ferr(c, r->has_rt_runtime ? "cpu.realtimeRuntime" :
					    "cpu.realtimePeriod", "not supported on cgroup v2 "
					    "(no realtime group scheduling there)");
			if (r->has_shares &&
			    wrf(c, h, "cpu.shares", "cpu.weight", "%" PRIu64,
				1 + ((r->shares - 2) * 9999) / 262142) < 0)
				return -1;
			if (r->has_quota || r->has_period) {
				cleanup_free char *cur = NULL;
				cleanup_free char *q = NULL;
				uint64_t period = 100000;
				char qbuf[32] = "max";
				cleanup_err hutch_err e = NULL;

				if (!c->dry && cg_read(h->dir, "cpu.max", &cur, &e) == 0) {
					unsigned long long p = 0;

					if (sscanf(cur, "%31s %llu", qbuf, &p) == 2)
						period = p;
				}
				if (r->has_period)
					period = r->period;
				q = r->has_quota ? i64s(r->quota, true) : xstrdup(qbuf);
				if (wrf(c, h, r->has_quota ? "cpu.quota" : "cpu.period", "cpu.max",
					"%s %" PRIu64, q, period) < 0)
					return -1;
			}
			if (r->has_burst &&
			    wrf(c, h, "cpu.burst", "cpu.max.burst", "%" PRIu64, r->burst) < 0)
				return -1;
		} else {
			if (r->has_shares &&
			    wrf(c, h, "cpu.shares", "cpu.shares", "%" PRIu64, r->shares) < 0)
				return -1;
			if (r->has_period &&
			    wrf(c, h, "cpu.period", "cpu.cfs_period_us", "%" PRIu64, r->period) < 0)
				return -1;
			if (r->has_quota) {
				cleanup_free char *q = i64s(r->quota, false);

				if (wr(c, h, "cpu.quota", "cpu.cfs_quota_us", q) < 0)
					return -1;
			}
			if (r->has_burst &&
			    (need_file(c, h, "cpu.burst", "cpu.cfs_burst_us") < 0 ||
			     wrf(c, h, "cpu.burst", "cpu.cfs_burst_us", "%" PRIu64, r->burst) < 0))
				return -1;
			if (r->has_rt_runtime || r->has_rt_period) {
				if (need_file(c, h, r->has_rt_runtime ? "cpu.realtimeRuntime" :
					      "cpu.realtimePeriod", "cpu.rt_runtime_us") < 0 ||
				    rt_ancestors(c, h, r) < 0)
					return -1;
				if (r->has_rt_period &&
				    wrf(c, h, "cpu.realtimePeriod", "cpu.rt_period_us", "%" PRIu64,
					r->rt_period) < 0)
					return -1;
				if (r->has_rt_runtime &&
				    wrf(c, h, "cpu.realtimeRuntime", "cpu.rt_runtime_us", "%" PRId64,
					r->rt_runtime) < 0)
					return -1;
			}
		}
		if (r->has_idle &&
		    (need_file(c, h, "cpu.idle", "cpu.idle") < 0 ||
		     wrf(c, h, "cpu.idle", "cpu.idle", "%" PRId64, r->idle) < 0))
			return -1;
	}
	if (r->cpus || r->mems) {
		if (!(h = need(c, "cpuset", r->cpus ? "cpu.cpus" : "cpu.mems")))
			return -1;
		if (r->cpus && wr(c, h, "cpu.cpus", "cpuset.cpus", r->cpus) < 0)
			return -1;
		if (r->mems && wr(c, h, "cpu.mems", "cpuset.mems", r->mems) < 0)
			return -1;
	}
	return 0;
}

static int apply_pids(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;
	cleanup_free char *v = NULL;

	if (!r->has_pids)
		return 0;
	if (!(h = need(c, "pids", "pids.limit")))
		return -1;
	v = r->pids < 0 ? xstrdup("max") : xasprintf("%" PRId64, r->pids);
	return wr(c, h, "pids.limit", "pids.max", v);
}

/* blkio on v1, io on the unified hierarchy. */
static const char *h_io_name(struct ctx *c)
{
	return cg_find(c->cg, "blkio") ? "blkio" : "io";
}

static uint64_t blkio_to_io_weight(uint64_t w)
{
	return 1 + ((w - 10) * 9999) / 990;
}

static int apply_blkio(struct ctx *c, const struct cg_res *r)
{
	static const char *const v1files[4] = {
		"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device" };
	static const char *const v2keys[4] = { "rbps", "wbps", "riops", "wiops" };
	static const char *const tkeys[4] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
					      "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	struct cg_hier *h;
	bool any = r->has_blkio_weight || r->has_blkio_leaf || r->n_wdev;

	for (int t = 0; t < 4; t++)
		any = any || r->n_thr[t];
	if (!any)
		return 0;
	if (!(h = need(c, h_io_name(c), "blockIO")))
		return -1;
	if (h->v2) {
		bool bfq = !c->dry && cg_exists(h->dir, "io.bfq.weight");

		if (r->has_blkio_leaf)
			return ferr(c, "blockIO.leafWeight", "not supported on cgroup v2");
		if (r->has_blkio_weight) {
			if (bfq ? wrf(c, h, "blockIO.weight", "io.bfq.weight", "%" PRIu64,
				      r->blkio_weight) < 0 :
				  (need_file(c, h, "blockIO.weight", "io.weight") < 0 ||
				   wrf(c, h, "blockIO.weight", "io.weight", "default %" PRIu64,
				       blkio_to_io_weight(r->blkio_weight)) < 0))
				return -1;
		}
		for (size_t i = 0; i < r->n_wdev; i++) {
			const struct cg_devweight *w = &r->wdev[i];
			cleanup_free char *p = xasprintf("blockIO.weightDevice[%zu]", i);

			if (w->has_leaf)
				return ferr(c, p, "leafWeight is not supported on cgroup v2");
			if (!w->has_weight)
				continue;
			if (bfq ? wrf(c, h, p, "io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRIu64,
				      w->major, w->minor, w->weight) < 0 :
				  (need_file(c, h, p, "io.weight") < 0 ||
				   wrf(c, h, p, "io.weight", "%" PRId64 ":%" PRId64 " %" PRIu64, w->major,
				       w->minor, blkio_to_io_weight(w->weight)) < 0))
				return -1;
		}
		for (int t = 0; t < 4; t++)
			for (size_t i = 0; i < r->n_thr[t]; i++) {
				const struct cg_devrate *d = &r->thr[t][i];
				cleanup_free char *p = xasprintf("blockIO.%s[%zu]", tkeys[t], i);
				cleanup_free char *rate = d->rate ? xasprintf("%" PRIu64, d->rate) :
					xstrdup("max");

				if (need_file(c, h, p, "io.max") < 0 ||
				    wrf(c, h, p, "io.max", "%" PRId64 ":%" PRId64 " %s=%s", d->major,
					d->minor, v2keys[t], rate) < 0)
					return -1;
			}
		return 0;
	}
	if (r->has_blkio_weight) {
		const char *f = !c->dry && !cg_exists(h->dir, "blkio.weight") &&
			cg_exists(h->dir, "blkio.bfq.weight") ? "blkio.bfq.weight" : "blkio.weight";

		if (need_file(c, h, "blockIO.weight", f) < 0 ||
		    wrf(c, h, "blockIO.weight", f, "%" PRIu64, r->blkio_weight) < 0)
			return -1;
	}
	if (r->has_blkio_leaf &&
	    (need_file(c, h, "blockIO.leafWeight", "blkio.leaf_weight") < 0 ||
	     wrf(c, h, "blockIO.leafWeight", "blkio.leaf_weight", "%" PRIu64, r->blkio_leaf) < 0))
		return -1;
	for (size_t i = 0; i < r->n_wdev; i++) {
		const struct cg_devweight *w = &r->wdev[i];
		cleanup_free char *p = xasprintf("blockIO.weightDevice[%zu]", i);
		const char *f = !c->dry && !cg_exists(h->dir, "blkio.weight_device") &&
			cg_exists(h->dir, "blkio.bfq.weight_device") ? "blkio.bfq.weight_device" :
			"blkio.weight_device";

		if (w->has_weight &&
		    (need_file(c, h, p, f) < 0 ||
		     wrf(c, h, p, f, "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
			 w->weight) < 0))
			return -1;
		if (w->has_leaf &&
		    (need_file(c, h, p, "blkio.leaf_weight_device") < 0 ||
		     wrf(c, h, p, "blkio.leaf_weight_device", "%" PRId64 ":%" PRId64 " %" PRIu64,
			 w->major, w->minor, w->leaf) < 0))
			return -1;
	}
	for (int t = 0; t < 4; t++)
		for (size_t i = 0; i < r->n_thr[t]; i++) {
			const struct cg_devrate *d = &r->thr[t][i];
			cleanup_free char *p = xasprintf("blockIO.%s[%zu]", tkeys[t], i);

			if (need_file(c, h, p, v1files[t]) < 0 ||
			    wrf(c, h, p, v1files[t], "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
				d->minor, d->rate) < 0)
				return -1;
		}
	return 0;
}

static int apply_huge(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (!r->n_huge)
		return 0;
	if (!(h = need(c, "hugetlb", "hugepageLimits")))
		return -1;
	for (size_t i = 0; i < r->n_huge; i++) {
		cleanup_free char *p = xasprintf("hugepageLimits[%zu]", i);
		cleanup_free char *f = xasprintf(h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
						 r->huge[i].size);
		cleanup_free char *rsvd = xasprintf(h->v2 ? "hugetlb.%s.rsvd.max" :
						    "hugetlb.%s.rsvd.limit_in_bytes", r->huge[i].size);

		if (need_file(c, h, p, f) < 0 ||
		    wrf(c, h, p, f, "%" PRIu64, r->huge[i].limit) < 0)
			return -1;
		if (!c->dry && cg_exists(h->dir, rsvd) &&
		    wrf(c, h, p, rsvd, "%" PRIu64, r->huge[i].limit) < 0)
			return -1;
	}
	return 0;
}

static int apply_network(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (r->has_classid) {
		if (c->cg->layout == CG_V2)
			return ferr(c, "network.classID", "not supported on cgroup v2 (there is no "
				    "net_cls controller; use BPF or nftables cgroup matching)");
		if (!(h = need(c, "net_cls", "network.classID")) ||
		    v1_only(c, h, "network.classID", "no net_cls controller") < 0 ||
		    wrf(c, h, "network.classID", "net_cls.classid", "%" PRIu64, r->classid) < 0)
			return -1;
	}
	if (r->n_prio) {
		if (c->cg->layout == CG_V2)
			return ferr(c, "network.priorities", "not supported on cgroup v2 (there is no "
				    "net_prio controller)");
		if (!(h = need(c, "net_prio", "network.priorities")) ||
		    v1_only(c, h, "network.priorities", "no net_prio controller") < 0)
			return -1;
		for (size_t i = 0; i < r->n_prio; i++) {
			cleanup_free char *p = xasprintf("network.priorities[%zu]", i);

			if (wrf(c, h, p, "net_prio.ifpriomap", "%s %" PRIu64, r->prio[i].name,
				r->prio[i].prio) < 0)
				return -1;
		}
	}
	return 0;
}

static int apply_rdma(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (!r->n_rdma)
		return 0;
	if (!(h = need(c, "rdma", "rdma")))
		return -1;
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct cg_rdma *d = &r->rdma[i];
		cleanup_free char *p = xasprintf("rdma.%s", d->dev);
		cleanup_free char *hs = d->has_handles ? xasprintf("%" PRIu64, d->handles) :
			xstrdup("max");
		cleanup_free char *os = d->has_objects ? xasprintf("%" PRIu64, d->objects) :
			xstrdup("max");

		if (wrf(c, h, p, "rdma.max", "%s hca_handle=%s hca_object=%s", d->dev, hs, os) < 0)
			return -1;
	}
	return 0;
}

static int apply_unified(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;

	if (!r->n_unified)
		return 0;
	if (!(h = cg_unified(c->cg)))
		return ferr(c, "unified", "needs cgroup v2, and this host has only cgroup v1");
	for (size_t i = 0; i < r->n_unified; i++) {
		const struct cg_kv *kv = &r->unified[i];
		cleanup_free char *p = xasprintf("unified.\"%s\"", kv->key);
		cleanup_free char *ctrl = xasprintf("%.*s", (int)strcspn(kv->key, "."), kv->key);

		if (strcmp(ctrl, "cgroup") != 0 && !strv_contains(h->ctrls, ctrl)) {
			struct cg_hier *o = cg_find(c->cg, ctrl);

			if (o)
				return ferr(c, p, "the %s controller is on a cgroup v1 hierarchy on this "
					    "host (layout %s), not on the unified one", ctrl,
					    cg_layout_name(c->cg->layout));
			return ferr(c, p, "the %s controller is not available on the unified "
				    "hierarchy here (layout %s)", ctrl, cg_layout_name(c->cg->layout));
		}
		if (need_file(c, h, p, kv->key) < 0 || wr(c, h, p, kv->key, kv->value) < 0)
			return -1;
	}
	return 0;
}

static int apply_devices(struct ctx *c, const struct cg_res *r)
{
	struct cg_hier *h;
	cleanup_free struct cg_dev_rule *all = NULL;
	size_t n = r->n_dev;

	if (!r->has_devices)
		return 0;
	h = cg_find(c->cg, "devices");
	if (!h)
		h = cg_unified(c->cg);
	if (!h)
		return ferr(c, "devices", "needs the devices cgroup controller or cgroup v2, and this "
			    "host has neither");
	if (c->dry)
		return 0;
	all = xcalloc(n ? n : 1, sizeof(*all));
	if (n)
		memcpy(all, r->dev, n * sizeof(*all));
	cg_devices_defaults(&all, &n);
	if (h->v2 ? cg_devices_apply_bpf(h->dir, all, n, c->err) :
		    cg_devices_apply_v1(h->dir, all, n, c->err)) {
		cleanup_free char *fp = full_path(c, "devices");

		return hutch_error_prefix(c->err, "%s: %s", c->file, fp);
	}
	return 0;
}

int cg_res_apply(struct hutch_cgroup *cg, const struct cg_res *r, const char *file,
		 const char *base, bool dry, bool update, hutch_err *err)
{
	struct ctx c = { .file = file, .base = base, .err = err, .cg = cg, .dry = dry,
			 .update = update };

	if (cg->layout == CG_DISABLED)
		return 0;
	if (apply_devices(&c, r) < 0 || apply_memory(&c, r) < 0 || apply_cpu(&c, r) < 0 ||
	    apply_pids(&c, r) < 0 || apply_blkio(&c, r) < 0 || apply_huge(&c, r) < 0 ||
	    apply_network(&c, r) < 0 || apply_rdma(&c, r) < 0 || apply_unified(&c, r) < 0)
		return -1;
	return 0;
}
