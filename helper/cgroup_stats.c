// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Accounting and events read from cgroup files, on v1 and v2 alike:
 *   hutch_cgroup_stats       the stable snapshot of `hutch stats`
 *   hutch_cgroup_runc_stats  runc's `events` stats (field names as in runc's types.Stats)
 *   hutch_cgroup_oom_*       OOM notification (v1 eventfd, v2 inotify on memory.events)
 *   hutch_cgroup_update      new resources on a live container
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

int hutch_cgroup_update(struct hutch_cgroup *cg, json_object *resources, const char *file,
			const char *base, hutch_err *err)
{
	struct cg_res *r = NULL;
	int ret;

	if (cg->layout == CG_DISABLED)
		return hutch_fail(err, 0, "cgroups are disabled for this container "
				  "(--cgroup-manager disabled): nothing to update");
	if (cg_res_parse(resources, file, base, &r, err) < 0)
		return -1;
	ret = cg_res_apply(cg, r, file, base, true, true, err);
	/* systemd: its properties first, so that it keeps (and re-applies) the new values */
	if (ret == 0 && cg->sd)
		ret = cg_sd_set(cg, r, err);
	if (ret == 0)
		ret = cg_res_apply(cg, r, file, base, false, true, err);
	cg_res_free(r);
	return ret;
}

/* ---- helpers ---- */

static uint64_t rd(const char *dir, const char *file)
{
	uint64_t v = 0;

	if (!dir || cg_read_u64(dir, file, &v) < 0 || v == UINT64_MAX)
		return 0;
	return v;
}

static uint64_t keyed(const char *dir, const char *file, const char *key)
{
	uint64_t v = 0;

	if (!dir || cg_read_keyed(dir, file, key, &v) < 0)
		return 0;
	return v;
}

static const char *dir_of(struct hutch_cgroup *cg, const char *ctrl)
{
	struct cg_hier *h = cg_find(cg, ctrl);

	return h ? h->dir : NULL;
}

static bool is_v2(struct hutch_cgroup *cg, const char *ctrl)
{
	struct cg_hier *h = cg_find(cg, ctrl);

	return h && h->v2;
}

/* CPU usage: v1 cpuacct (ns), v2 cpu.stat (usec; present even without the cpu controller). */
static void cpu_usage(struct hutch_cgroup *cg, uint64_t *total, uint64_t *user, uint64_t *sys)
{
	const char *d = dir_of(cg, "cpuacct");
	struct cg_hier *u;

	*total = *user = *sys = 0;
	if (d && !is_v2(cg, "cpuacct")) {
		*total = rd(d, "cpuacct.usage");
		if (cg_exists(d, "cpuacct.usage_user")) {
			*user = rd(d, "cpuacct.usage_user");
			*sys = rd(d, "cpuacct.usage_sys");
		} else {
			long hz = sysconf(_SC_CLK_TCK);

			if (hz <= 0)
				hz = 100;
			*user = keyed(d, "cpuacct.stat", "user") * (1000000000ull / (uint64_t)hz);
			*sys = keyed(d, "cpuacct.stat", "system") * (1000000000ull / (uint64_t)hz);
		}
		return;
	}
	if ((u = cg_unified(cg))) {
		*total = keyed(u->dir, "cpu.stat", "usage_usec") * 1000;
		*user = keyed(u->dir, "cpu.stat", "user_usec") * 1000;
		*sys = keyed(u->dir, "cpu.stat", "system_usec") * 1000;
	}
}

/* Read/write bytes (and ops) summed over devices. */
static void io_totals(struct hutch_cgroup *cg, uint64_t *rb, uint64_t *wb)
{
	const char *d = dir_of(cg, "blkio");
	struct cg_hier *u = cg_unified(cg);
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;

	*rb = *wb = 0;
	if (d && !is_v2(cg, "blkio")) {
		if (cg_read(d, "blkio.throttle.io_service_bytes_recursive", &buf, &e) < 0)
			return;
		for (char *sv, *l = strtok_r(buf, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			char dev[64], op[32];
			unsigned long long v;

			if (sscanf(l, "%63s %31s %llu", dev, op, &v) != 3)
				continue;
			if (strcmp(op, "Read") == 0)
				*rb += v;
			else if (strcmp(op, "Write") == 0)
				*wb += v;
		}
		return;
	}
	if (u && cg_read(u->dir, "io.stat", &buf, &e) == 0) {
		for (char *sv, *l = strtok_r(buf, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			char *p;
			unsigned long long v;

			if ((p = strstr(l, "rbytes=")) && sscanf(p, "rbytes=%llu", &v) == 1)
				*rb += v;
			if ((p = strstr(l, "wbytes=")) && sscanf(p, "wbytes=%llu", &v) == 1)
				*wb += v;
		}
	}
}

int hutch_cgroup_stats(struct hutch_cgroup *cg, struct hutch_cgroup_stats *st, hutch_err *err)
{
	const char *d;

	memset(st, 0, sizeof(*st));
	if (cg->layout == CG_DISABLED)
		return hutch_fail(err, 0, "cgroups are disabled for this container "
				  "(--cgroup-manager disabled): no accounting");
	cpu_usage(cg, &st->cpu_total_ns, &st->cpu_user_ns, &st->cpu_system_ns);
	if ((d = dir_of(cg, "memory"))) {
		if (is_v2(cg, "memory")) {
			st->memory_current_bytes = rd(d, "memory.current");
			st->memory_peak_bytes = rd(d, "memory.peak");
			st->page_faults = keyed(d, "memory.stat", "pgfault");
			st->major_page_faults = keyed(d, "memory.stat", "pgmajfault");
		} else {
			st->memory_current_bytes = rd(d, "memory.usage_in_bytes");
			st->memory_peak_bytes = rd(d, "memory.max_usage_in_bytes");
			st->page_faults = keyed(d, "memory.stat", "total_pgfault");
			st->major_page_faults = keyed(d, "memory.stat", "total_pgmajfault");
		}
	}
	if ((d = dir_of(cg, "pids")))
		st->pids_current = rd(d, "pids.current");
	else {
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;

		if (hutch_cgroup_pids(cg, &pids, &n, NULL) == 0)
			st->pids_current = n;
	}
	io_totals(cg, &st->io_read_bytes, &st->io_write_bytes);
	return 0;
}

json_object *hutch_cgroup_stats_json(const struct hutch_cgroup_stats *st, const char *source)
{
	json_object *o = json_object_new_object();

#define F(name) json_object_object_add(o, #name, json_object_new_uint64(st->name))
	json_object_object_add(o, "source", json_object_new_string(source));
	F(cpu_total_ns);
	F(cpu_user_ns);
	F(cpu_system_ns);
	F(memory_current_bytes);
	F(memory_peak_bytes);
	F(page_faults);
	F(major_page_faults);
	F(pids_current);
	F(io_read_bytes);
	F(io_write_bytes);
#undef F
	return o;
}

/* ---- runc's events stats ---- */

static void add_u(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *runc_cpu(struct hutch_cgroup *cg)
{
	json_object *cpu = json_object_new_object(), *usage = json_object_new_object(),
		    *thr = json_object_new_object();
	uint64_t total, user, sys;
	const char *d = dir_of(cg, "cpuacct");
	const char *cd = dir_of(cg, "cpu");

	cpu_usage(cg, &total, &user, &sys);
	add_u(usage, "total", total);
	if (d && !is_v2(cg, "cpuacct")) {
		cleanup_free char *buf = NULL;
		cleanup_err hutch_err e = NULL;
		json_object *pc = json_object_new_array();

		if (cg_read(d, "cpuacct.usage_percpu", &buf, &e) == 0)
			for (char *sv, *t = strtok_r(buf, " \n", &sv); t; t = strtok_r(NULL, " \n", &sv))
				json_object_array_add(pc, json_object_new_uint64(strtoull(t, NULL, 10)));
		json_object_object_add(usage, "percpu", pc);
	}
	add_u(usage, "kernel", sys);
	add_u(usage, "user", user);
	if (!cd || is_v2(cg, "cpu")) {
		struct cg_hier *u = cg_unified(cg);

		cd = u ? u->dir : NULL;
		add_u(thr, "periods", keyed(cd, "cpu.stat", "nr_periods"));
		add_u(thr, "throttledPeriods", keyed(cd, "cpu.stat", "nr_throttled"));
		add_u(thr, "throttledTime", keyed(cd, "cpu.stat", "throttled_usec") * 1000);
	} else {
		add_u(thr, "periods", keyed(cd, "cpu.stat", "nr_periods"));
		add_u(thr, "throttledPeriods", keyed(cd, "cpu.stat", "nr_throttled"));
		add_u(thr, "throttledTime", keyed(cd, "cpu.stat", "throttled_time"));
	}
	json_object_object_add(cpu, "usage", usage);
	json_object_object_add(cpu, "throttling", thr);
	return cpu;
}

static json_object *mem_entry(const char *d, const char *prefix, bool v2)
{
	json_object *o = json_object_new_object();
	cleanup_free char *u = xasprintf("%s.usage_in_bytes", prefix);
	cleanup_free char *m = xasprintf("%s.max_usage_in_bytes", prefix);
	cleanup_free char *l = xasprintf("%s.limit_in_bytes", prefix);
	cleanup_free char *f = xasprintf("%s.failcnt", prefix);
	uint64_t lim = 0;

	if (v2)
		return o;
	add_u(o, "usage", rd(d, u));
	add_u(o, "max", rd(d, m));
	cg_read_u64(d, l, &lim);
	add_u(o, "limit", lim);
	add_u(o, "failcnt", rd(d, f));
	return o;
}

static json_object *runc_memory(struct hutch_cgroup *cg)
{
	json_object *mem = json_object_new_object(), *raw = json_object_new_object();
	const char *d = dir_of(cg, "memory");
	bool v2 = is_v2(cg, "memory");
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;

	if (!d)
		return mem;
	if (cg_read(d, "memory.stat", &buf, &e) == 0)
		for (char *sv, *l = strtok_r(buf, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			char *sp = strchr(l, ' ');

			if (!sp)
				continue;
			*sp = '\0';
			add_u(raw, l, strtoull(sp + 1, NULL, 10));
		}
	if (v2) {
		json_object *u = json_object_new_object(), *s = json_object_new_object();
		uint64_t lim = 0, slim = 0, cur = rd(d, "memory.current");

		add_u(mem, "cache", keyed(d, "memory.stat", "file"));
		cg_read_u64(d, "memory.max", &lim);
		add_u(u, "usage", cur);
		add_u(u, "max", rd(d, "memory.peak"));
		add_u(u, "limit", lim);
		add_u(u, "failcnt", keyed(d, "memory.events", "max"));
		/* as runc: swap is reported as memory+swap, like v1 memsw */
		cg_read_u64(d, "memory.swap.max", &slim);
		add_u(s, "usage", cur + rd(d, "memory.swap.current"));
		add_u(s, "max", rd(d, "memory.swap.peak") + rd(d, "memory.peak"));
		add_u(s, "limit", lim == UINT64_MAX || slim == UINT64_MAX ? UINT64_MAX : lim + slim);
		add_u(s, "failcnt", keyed(d, "memory.swap.events", "max"));
		json_object_object_add(mem, "usage", u);
		json_object_object_add(mem, "swap", s);
	} else {
		add_u(mem, "cache", keyed(d, "memory.stat", "total_cache"));
		json_object_object_add(mem, "usage", mem_entry(d, "memory", false));
		json_object_object_add(mem, "swap", mem_entry(d, "memory.memsw", false));
		json_object_object_add(mem, "kernel", mem_entry(d, "memory.kmem", false));
		json_object_object_add(mem, "kernelTCP", mem_entry(d, "memory.kmem.tcp", false));
	}
	json_object_object_add(mem, "raw", raw);
	return mem;
}

static void blk_add(json_object *a, unsigned maj, unsigned min, const char *op, uint64_t v)
{
	json_object *e = json_object_new_object();

	add_u(e, "major", maj);
	add_u(e, "minor", min);
	json_object_object_add(e, "op", json_object_new_string(op));
	add_u(e, "value", v);
	json_object_array_add(a, e);
}

static json_object *runc_blkio(struct hutch_cgroup *cg)
{
	json_object *b = json_object_new_object(), *bytes = json_object_new_array(),
		    *ios = json_object_new_array();
	const char *d = dir_of(cg, "blkio");
	struct cg_hier *u = cg_unified(cg);
	cleanup_err hutch_err e = NULL;

	if (d && !is_v2(cg, "blkio")) {
		static const char *const files[2] = { "blkio.throttle.io_service_bytes_recursive",
						      "blkio.throttle.io_serviced_recursive" };
		json_object *arr[2] = { bytes, ios };

		for (int i = 0; i < 2; i++) {
			cleanup_free char *buf = NULL;

			if (cg_read(d, files[i], &buf, &e) < 0) {
				hutch_error_free(&e);
				continue;
			}
			for (char *sv, *l = strtok_r(buf, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
				unsigned maj, min;
				char op[32];
				unsigned long long v;

				if (sscanf(l, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
					blk_add(arr[i], maj, min, op, v);
			}
		}
	} else if (u) {
		cleanup_free char *buf = NULL;

		if (cg_read(u->dir, "io.stat", &buf, &e) == 0)
			for (char *sv, *l = strtok_r(buf, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
				unsigned maj, min;
				unsigned long long rb = 0, wb = 0, ri = 0, wi = 0;
				char *p;

				if (sscanf(l, "%u:%u", &maj, &min) != 2)
					continue;
				if ((p = strstr(l, "rbytes=")))
					sscanf(p, "rbytes=%llu", &rb);
				if ((p = strstr(l, "wbytes=")))
					sscanf(p, "wbytes=%llu", &wb);
				if ((p = strstr(l, "rios=")))
					sscanf(p, "rios=%llu", &ri);
				if ((p = strstr(l, "wios=")))
					sscanf(p, "wios=%llu", &wi);
				blk_add(bytes, maj, min, "Read", rb);
				blk_add(bytes, maj, min, "Write", wb);
				blk_add(ios, maj, min, "Read", ri);
				blk_add(ios, maj, min, "Write", wi);
			}
	}
	json_object_object_add(b, "ioServiceBytesRecursive", bytes);
	json_object_object_add(b, "ioServicedRecursive", ios);
	return b;
}

static json_object *runc_hugetlb(struct hutch_cgroup *cg)
{
	json_object *o = json_object_new_object();
	const char *d = dir_of(cg, "hugetlb");
	bool v2 = is_v2(cg, "hugetlb");
	DIR *dd;
	struct dirent *de;

	if (!d || !(dd = opendir("/sys/kernel/mm/hugepages")))
		return o;
	while ((de = readdir(dd))) {
		unsigned long long kb;
		cleanup_free char *size = NULL;

		if (sscanf(de->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
			size = xasprintf("%lluGB", kb >> 20);
		else if (kb >= 1024 && kb % 1024 == 0)
			size = xasprintf("%lluMB", kb >> 10);
		else
			size = xasprintf("%lluKB", kb);
		json_object *e = json_object_new_object();
		if (v2) {
			cleanup_free char *cur = xasprintf("hugetlb.%s.current", size);
			cleanup_free char *ev = xasprintf("hugetlb.%s.events", size);

			add_u(e, "usage", rd(d, cur));
			add_u(e, "failcnt", keyed(d, ev, "max"));
		} else {
			cleanup_free char *u = xasprintf("hugetlb.%s.usage_in_bytes", size);
			cleanup_free char *m = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
			cleanup_free char *f = xasprintf("hugetlb.%s.failcnt", size);

			add_u(e, "usage", rd(d, u));
			add_u(e, "max", rd(d, m));
			add_u(e, "failcnt", rd(d, f));
		}
		json_object_object_add(o, size, e);
	}
	closedir(dd);
	return o;
}

json_object *hutch_cgroup_runc_stats(struct hutch_cgroup *cg)
{
	json_object *o = json_object_new_object(), *pids = json_object_new_object();
	const char *d = dir_of(cg, "pids");

	if (cg->layout == CG_DISABLED)
		return o;
	json_object_object_add(o, "cpu", runc_cpu(cg));
	json_object_object_add(o, "memory", runc_memory(cg));
	add_u(pids, "current", rd(d, "pids.current"));
	add_u(pids, "limit", rd(d, "pids.max"));
	json_object_object_add(o, "pids", pids);
	json_object_object_add(o, "blkio", runc_blkio(cg));
	json_object_object_add(o, "hugetlb", runc_hugetlb(cg));
	return o;
}

/* ---- OOM ---- */

static uint64_t v2_oom_count(const char *dir)
{
	return keyed(dir, "memory.events", "oom_kill");
}

int hutch_cgroup_oom_fd(struct hutch_cgroup *cg, hutch_err *err)
{
	struct cg_hier *h;

	if (cg->oomfd >= 0)
		return cg->oomfd;
	if (cg->layout == CG_DISABLED || !(h = cg_find(cg, "memory")))
		return hutch_fail(err, 0, "cgroup: no memory controller for this container (layout %s):"
				  " no OOM events", cg_layout_name(cg->layout));
	if (h->v2) {
		cleanup_close int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		cleanup_free char *p = xasprintf("%s/memory.events", h->dir);

		if (fd < 0)
			return hutch_fail(err, errno, "inotify_init1");
		if (inotify_add_watch(fd, p, IN_MODIFY) < 0)
			return hutch_fail(err, errno, "cgroup: watch `%s`", p);
		cg->oom_seen = v2_oom_count(h->dir);
		cg->oomfd = steal_fd(&fd);
		return cg->oomfd;
	}
	{
		cleanup_close int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		cleanup_free char *p = xasprintf("%s/memory.oom_control", h->dir);
		cleanup_close int ofd = open(p, O_RDONLY | O_CLOEXEC);
		cleanup_free char *line = NULL;

		if (efd < 0)
			return hutch_fail(err, errno, "eventfd");
		if (ofd < 0)
			return hutch_fail(err, errno, "cgroup: open `%s`", p);
		line = xasprintf("%d %d", efd, ofd);
		if (cg_write(h->dir, "cgroup.event_control", line, err) < 0)
			return -1;
		cg->oomfd = steal_fd(&efd);
		return cg->oomfd;
	}
}

int hutch_cgroup_oom_read(struct hutch_cgroup *cg)
{
	struct cg_hier *h = cg_find(cg, "memory");

	if (cg->oomfd < 0 || !h)
		return -1;
	if (h->v2) {
		char buf[4096];
		uint64_t now;

		while (read(cg->oomfd, buf, sizeof(buf)) > 0)
			;
		if (access(h->dir, F_OK) < 0)
			return -1;
		now = v2_oom_count(h->dir);
		if (now > cg->oom_seen) {
			uint64_t n = now - cg->oom_seen;

			cg->oom_seen = now;
			return n > 1000 ? 1000 : (int)n;
		}
		return 0;
	}
	{
		uint64_t n = 0;

		if (read(cg->oomfd, &n, sizeof(n)) != sizeof(n))
			return 0;
		/* the eventfd also fires when the cgroup is removed */
		if (access(h->dir, F_OK) < 0)
			return -1;
		return n > 1000 ? 1000 : (int)n;
	}
}
