// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The systemd cgroup driver (--systemd-cgroup, --cgroup-manager systemd), as runc's
 * libcontainer/cgroups/systemd: the container gets a transient scope unit, made over
 * D-Bus (sd-bus, libsystemd loaded on first use) with StartTransientUnit once its first
 * process exists, with PIDs=[pid], Delegate=yes and the resource properties systemd
 * knows; cgroup.c then treats the unit's cgroup like any other path (the v1 hierarchies
 * systemd does not manage get their directories from hutch, every file is written as
 * with cgroupfs), so pause/resume, stats and events work unchanged.
 *
 *   linux.cgroupsPath  "slice:prefix:name" -> unit prefix-name.scope in slice
 *                      (empty slice: system.slice; "-.slice" the root slice);
 *                      unset -> "system.slice:hutch:<id>"
 *   a-b.slice          the cgroup /a.slice/a-b.slice (systemd's slice nesting)
 *
 * The properties (systemd.resource-control(5)), converted as runc converts them:
 *   memory.limit -> MemoryMax, memory.reservation -> MemoryLow,
 *   memory.swap -> MemorySwapMax (v2: swap - limit), cpu.shares -> CPUWeight,
 *   cpu.quota/period -> CPUQuotaPerSecUSec (rounded up to 10 ms) + CPUQuotaPeriodUSec,
 *   cpu.cpus/mems -> AllowedCPUs/AllowedMemoryNodes, pids.limit -> TasksMax,
 *   blockIO.weight -> IOWeight (v2) | BlockIOWeight (v1), and from linux.resources.unified
 *   memory.high/low/min/max, pids.max, cpu.weight -> MemoryHigh/Low/Min/Max, TasksMax,
 *   CPUWeight. Everything else (devices, throttling, hugetlb, ...) is written to the
 *   unit's cgroup files only, which Delegate=yes leaves to us.
 *
 * systemd is reached as systemctl does: root through its private socket
 * /run/systemd/private, else (or when that fails) the system bus.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "cgroup_internal.h"
#include "dl.h"
#include "log.h"
#include "utils.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_PRIVATE "/run/systemd/private"
#define SD_JOB_TIMEOUT_USEC (60ULL * 1000000ULL)

/* ---- names ---- */

static int slice_path(const char *slice, const char *what, char **out, hutch_err *err)
{
	size_t n = strlen(slice);
	cleanup_free char *base = NULL, *path = NULL, *prefix = xstrdup("");

	if (n <= strlen(".slice") || strcmp(slice + n - strlen(".slice"), ".slice") != 0 ||
	    strchr(slice, '/'))
		return hutch_fail(err, 0, "%s: the slice \"%s\" is not a slice unit name "
				  "(NAME.slice, nesting with `-`: a-b.slice is in a.slice)", what, slice);
	base = strndup(slice, n - strlen(".slice"));
	if (!base)
		oom();
	if (strcmp(base, "-") == 0) {
		*out = xstrdup("");
		return 0;
	}
	path = xstrdup("");
	for (char *sv, *c = strtok_r(base, "-", &sv); c; c = strtok_r(NULL, "-", &sv)) {
		char *np = xasprintf("%s/%s%s.slice", path, prefix, c);
		char *pp = xasprintf("%s%s-", prefix, c);

		free(path);
		path = np;
		free(prefix);
		prefix = pp;
	}
	/* strtok_r skips empty components: a-.slice, -a.slice, a--b.slice are invalid */
	if (slice[0] == '-' || strstr(slice, "--") || strstr(slice, "-.slice"))
		return hutch_fail(err, 0, "%s: the slice \"%s\" has an empty component", what,
				  slice);
	*out = steal_ptr(&path);
	return 0;
}

static bool unit_name_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!(((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || strchr(":-_.\\@", *p))))
			return false;
	return *s != '\0' && strlen(s) < 256;
}

int cg_sd_parse(const char *cpath, const char *id, struct cg_systemd **out, char **path,
		hutch_err *err)
{
	static const char *const field = "config.json: linux.cgroupsPath";
	cleanup_free char *slice = NULL, *prefix = NULL, *name = NULL, *unit = NULL;
	cleanup_free char *spath = NULL;
	cleanup_free char *what = cpath ? xasprintf("%s: \"%s\"", field, cpath) : xstrdup(field);
	struct cg_systemd *sd;

	if (!cpath) {
		slice = xstrdup("system.slice");
		prefix = xstrdup("hutch");
		name = xstrdup(id);
	} else {
		const char *c1 = strchr(cpath, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c1 || !c2 || strchr(c2 + 1, ':'))
			return hutch_fail(err, 0, "%s: the systemd cgroup manager expects "
					  "\"slice:prefix:name\" (e.g. \"system.slice:hutch:ID\")", what);
		slice = strndup(cpath, (size_t)(c1 - cpath));
		prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
		name = xstrdup(c2 + 1);
		if (!slice || !prefix)
			oom();
		if (!*slice) {
			free(slice);
			slice = xstrdup("system.slice");
		}
		if (!*name)
			return hutch_fail(err, 0, "%s: the name part is empty", what);
	}
	if (slice_path(slice, what, &spath, err) < 0)
		return -1;
	if (strlen(name) > strlen(".slice") &&
	    strcmp(name + strlen(name) - strlen(".slice"), ".slice") == 0)
		return hutch_fail(err, 0, "%s: a slice as the container's own unit is not "
				  "supported by hutch; name a scope (slice:prefix:name)", what);
	unit = *prefix ? xasprintf("%s-%s.scope", prefix, name) : xasprintf("%s.scope", name);
	if (!unit_name_ok(unit))
		return hutch_fail(err, 0, "%s: \"%s\" is not a valid systemd unit name", what, unit);
	sd = xcalloc(1, sizeof(*sd));
	sd->slice = steal_ptr(&slice);
	sd->unit = steal_ptr(&unit);
	*path = xasprintf("%s/%s", spath, sd->unit);
	*out = sd;
	return 0;
}

void cg_sd_free(struct cg_systemd *sd)
{
	if (!sd)
		return;
	free(sd->slice);
	free(sd->unit);
	free(sd);
}

/* ---- the bus ---- */

static void bus_closep(sd_bus **b)
{
	if (*b)
		sd_bus_flush_close_unref(*b);
}

static void msg_unrefp(sd_bus_message **m)
{
	if (*m)
		sd_bus_message_unref(*m);
}

static void bus_error_freep(sd_bus_error *e)
{
	sd_bus_error_free(e);
}

#define cleanup_bus __attribute__((cleanup(bus_closep)))
#define cleanup_msg __attribute__((cleanup(msg_unrefp)))
#define cleanup_bus_error __attribute__((cleanup(bus_error_freep)))

static int bus_connect(sd_bus **out, hutch_err *err)
{
	sd_bus *b = NULL;
	const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	int r;

	if (hutch_dl_load(HUTCH_DL_SYSTEMD, err) < 0)
		return hutch_error_prefix(err, "--systemd-cgroup");
	if (geteuid() == 0 && !addr && access(SD_PRIVATE, F_OK) == 0) {
		if (sd_bus_new(&b) >= 0 && sd_bus_set_address(b, "unix:path=" SD_PRIVATE) >= 0 &&
		    sd_bus_start(b) >= 0) {
			*out = b;
			return 0;
		}
		if (b)
			sd_bus_flush_close_unref(b);
		b = NULL;
	}
	r = sd_bus_open_system(&b);
	if (r < 0) {
		cleanup_free char *comm = NULL;

		if (read_file("/proc/1/comm", &comm, NULL, NULL) == 0)
			comm[strcspn(comm, "\n")] = '\0';
		return hutch_fail(err, -r, "--systemd-cgroup: cannot reach systemd: neither its "
				  "private socket " SD_PRIVATE " nor the D-Bus system bus (%s) "
				  "answers (PID 1 is `%s`: is systemd running, with D-Bus?)",
				  addr ? addr : "/run/dbus/system_bus_socket",
				  comm ? comm : "?");
	}
	*out = b;
	return 0;
}

static int bus_fail(hutch_err *err, const char *unit, const char *what, const sd_bus_error *e,
		    int r)
{
	if (e && e->name)
		return hutch_fail(err, 0, "systemd: %s `%s`: %s (%s)", what, unit,
				  e->message ? e->message : "failed", e->name);
	return hutch_fail(err, -r, "systemd: %s `%s`", what, unit);
}

/* ---- jobs ---- */

struct job_wait {
	const char *path;   /* the job's object path, once known */
	char **seen;        /* "path result" pairs removed before the path was known */
	char *result;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path) {
		if (strcmp(path, w->path) == 0 && !w->result)
			w->result = xstrdup(result);
	} else {
		strv_push(&w->seen, xasprintf("%s %s", path, result));
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Call Manager.METHOD with the message m (arguments appended) and wait for its job. */
static int call_job(sd_bus *bus, sd_bus_message *m, const char *unit, const char *what,
		    bool *no_unit, hutch_err *err)
{
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	cleanup_msg sd_bus_message *reply = NULL;
	struct job_wait w = { 0 };
	sd_bus_slot *slot = NULL;
	const char *job;
	uint64_t deadline;
	int r, ret = -1;

	if (no_unit)
		*no_unit = false;
	/* Subscribe before the call: the job may finish before the reply is read. */
	r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
				on_job_removed, &w);
	if (r < 0)
		return bus_fail(err, unit, "watch JobRemoved for", NULL, r);
	r = sd_bus_call(bus, m, 0, &e, &reply);
	if (r < 0) {
		if (no_unit && (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
				sd_bus_error_has_name(&e, "org.freedesktop.systemd1.LoadFailed"))) {
			*no_unit = true;
			ret = 0;
		} else {
			bus_fail(err, unit, what, &e, r);
		}
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &job);
	if (r < 0) {
		bus_fail(err, unit, what, NULL, r);
		goto out;
	}
	w.path = job;
	for (char **s = w.seen; s && *s; s++)
		if (str_has_prefix(*s, job) && (*s)[strlen(job)] == ' ')
			w.result = xstrdup(*s + strlen(job) + 1);
	deadline = now_usec() + SD_JOB_TIMEOUT_USEC;
	while (!w.result) {
		uint64_t t = now_usec();

		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			bus_fail(err, unit, "wait for the job of", NULL, r);
			goto out;
		}
		if (r > 0)
			continue;
		if (t >= deadline) {
			hutch_fail(err, ETIMEDOUT, "systemd: %s `%s`: job %s did not finish", what,
				   unit, job);
			goto out;
		}
		r = sd_bus_wait(bus, deadline - t);
		if (r < 0) {
			bus_fail(err, unit, "wait for the job of", NULL, r);
			goto out;
		}
	}
	if (strcmp(w.result, "done") != 0) {
		hutch_fail(err, 0, "systemd: %s `%s`: the job ended with result \"%s\" (see "
			   "`systemctl status %s`)", what, unit, w.result, unit);
		goto out;
	}
	ret = 0;
out:
	sd_bus_slot_unref(slot);
	strv_free(w.seen);
	free(w.result);
	return ret;
}

static int new_call(sd_bus *bus, const char *method, sd_bus_message **m, const char *unit,
		    hutch_err *err)
{
	int r = sd_bus_message_new_method_call(bus, m, SD_DEST, SD_PATH, SD_MANAGER, method);

	if (r < 0)
		return bus_fail(err, unit, method, NULL, r);
	return 0;
}

/* ---- properties ---- */

static int prop_u64(sd_bus_message *m, const char *name, uint64_t v)
{
	return sd_bus_message_append(m, "(sv)", name, "t", v);
}

static int prop_bool(sd_bus_message *m, const char *name, bool v)
{
	return sd_bus_message_append(m, "(sv)", name, "b", (int)v);
}

/* "0-3,7" as the byte mask AllowedCPUs/AllowedMemoryNodes take (bit n: byte n/8). */
static int cpulist_mask(const char *list, uint8_t **out, size_t *len)
{
	cleanup_free uint8_t *mask = NULL;
	size_t n = 0;
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long a, b;

		if (*p == ',' || *p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		errno = 0;
		a = strtoul(p, &end, 10);
		if (end == p || errno || a > 8191)
			return -1;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			if (end == p + 1 || errno || b > 8191 || b < a)
				return -1;
			p = end;
		}
		if (b / 8 + 1 > n) {
			mask = xrealloc(mask, b / 8 + 1);
			memset(mask + n, 0, b / 8 + 1 - n);
			n = b / 8 + 1;
		}
		for (unsigned long i = a; i <= b; i++)
			mask[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	*out = steal_ptr(&mask);
	*len = n;
	return 0;
}

static int prop_mask(sd_bus_message *m, const char *name, const char *list)
{
	cleanup_free uint8_t *mask = NULL;
	size_t n = 0;
	int r;

	if (cpulist_mask(list, &mask, &n) < 0)
		return -EINVAL;
	if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
	    (r = sd_bus_message_append(m, "s", name)) < 0 ||
	    (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
	    (r = sd_bus_message_append_array(m, 'y', mask ? (void *)mask : (void *)"", n)) < 0 ||
	    (r = sd_bus_message_close_container(m)) < 0)
		return r;
	return sd_bus_message_close_container(m);
}

static uint64_t lim(int64_t v)
{
	return v < 0 ? UINT64_MAX : (uint64_t)v;
}

/* A linux.resources.unified value: "max" or a number. */
static bool unified_u64(const char *s, uint64_t *v)
{
	if (strcmp(s, "max") == 0 || strcmp(s, "max\n") == 0) {
		*v = UINT64_MAX;
		return true;
	}
	return parse_u64(s, v) == 0;
}

/* The resource properties for r (none when r is NULL). */
static int append_resources(sd_bus_message *m, const struct hutch_cgroup *cg,
			    const struct cg_res *r)
{
	bool v2 = cg->layout == CG_V2;
	int rc = 0;

	if (!r)
		return 0;
	if (r->has_limit && r->limit != 0)
		rc = rc < 0 ? rc : prop_u64(m, v2 ? "MemoryMax" : "MemoryLimit", lim(r->limit));
	if (r->has_reservation && r->reservation != 0)
		rc = rc < 0 ? rc : prop_u64(m, "MemoryLow", lim(r->reservation));
	if (v2 && r->has_swap && r->swap != 0 && r->has_limit) {
		if (r->swap < 0)
			rc = rc < 0 ? rc : prop_u64(m, "MemorySwapMax", UINT64_MAX);
		else if (r->limit > 0 && r->swap >= r->limit)
			rc = rc < 0 ? rc : prop_u64(m, "MemorySwapMax", (uint64_t)(r->swap - r->limit));
	}
	if (r->has_shares)
		rc = rc < 0 ? rc : v2 ? prop_u64(m, "CPUWeight", 1 + ((r->shares - 2) * 9999) / 262142) :
					prop_u64(m, "CPUShares", r->shares);
	if (r->has_quota && r->quota != 0) {
		uint64_t period = r->has_period && r->period ? r->period : 100000, persec;

		if (r->quota < 0) {
			persec = UINT64_MAX;
		} else {
			persec = (uint64_t)r->quota * 1000000ULL / period;
			/* systemd keeps it in 10 ms steps: round up, the file gets the exact value */
			if (persec % 10000)
				persec = (persec / 10000 + 1) * 10000;
		}
		rc = rc < 0 ? rc : prop_u64(m, "CPUQuotaPerSecUSec", persec);
		if (r->has_period && r->period)
			rc = rc < 0 ? rc : prop_u64(m, "CPUQuotaPeriodUSec", r->period);
	}
	if (r->cpus && *r->cpus)
		rc = rc < 0 ? rc : prop_mask(m, "AllowedCPUs", r->cpus);
	if (r->mems && *r->mems)
		rc = rc < 0 ? rc : prop_mask(m, "AllowedMemoryNodes", r->mems);
	if (r->has_pids)
		rc = rc < 0 ? rc : prop_u64(m, "TasksMax", r->pids > 0 ? (uint64_t)r->pids : UINT64_MAX);
	if (r->has_blkio_weight && r->blkio_weight)
		rc = rc < 0 ? rc : v2 ? prop_u64(m, "IOWeight", 1 + ((r->blkio_weight - 10) * 9999) / 990) :
					prop_u64(m, "BlockIOWeight", r->blkio_weight);
	for (size_t i = 0; v2 && i < r->n_unified; i++) {
		static const char *const map[][2] = {
			{ "memory.high", "MemoryHigh" }, { "memory.low", "MemoryLow" },
			{ "memory.min", "MemoryMin" },   { "memory.max", "MemoryMax" },
			{ "pids.max", "TasksMax" },      { "cpu.weight", "CPUWeight" },
		};
		uint64_t v;

		for (size_t j = 0; j < ARRAY_SIZE(map); j++)
			if (strcmp(r->unified[i].key, map[j][0]) == 0 &&
			    unified_u64(r->unified[i].value, &v))
				rc = rc < 0 ? rc : prop_u64(m, map[j][1], v);
	}
	return rc;
}

/* ---- the unit ---- */

static int reset_failed(sd_bus *bus, const char *unit)
{
	cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;

	if (sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
					   "ResetFailedUnit") < 0 ||
	    sd_bus_message_append(m, "s", unit) < 0)
		return -1;
	return sd_bus_call(bus, m, 0, &e, &reply);
}

static int start_unit(sd_bus *bus, struct hutch_cgroup *cg, pid_t pid, bool *exists,
		      hutch_err *err)
{
	struct cg_systemd *sd = cg->sd;
	cleanup_msg sd_bus_message *m = NULL;
	cleanup_free char *desc = xasprintf("hutch container %s", sd->unit);
	bool v2 = cg->layout == CG_V2;
	int r;

	if (new_call(bus, "StartTransientUnit", &m, sd->unit, err) < 0)
		return -1;
	r = sd_bus_message_append(m, "ss", sd->unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", desc, "Slice", "s",
					  sd->slice, "PIDs", "au", 1, (uint32_t)pid);
	if (r >= 0)
		r = prop_bool(m, "Delegate", true);
	if (r >= 0)
		r = prop_bool(m, "DefaultDependencies", false);
	if (r >= 0)
		r = prop_bool(m, "MemoryAccounting", true);
	if (r >= 0)
		r = prop_bool(m, "CPUAccounting", true);
	if (r >= 0)
		r = prop_bool(m, v2 ? "IOAccounting" : "BlockIOAccounting", true);
	if (r >= 0)
		r = prop_bool(m, "TasksAccounting", true);
	if (r >= 0)
		r = append_resources(m, cg, cg->res);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0)
		return r == -EINVAL ? hutch_fail(err, 0, "config.json: linux.resources.cpu: "
						 "cpus/mems: not a CPU list") :
				      bus_fail(err, sd->unit, "build StartTransientUnit for", NULL, r);
	*exists = false;
	if (call_job(bus, m, sd->unit, "start the transient unit", NULL, err) < 0) {
		if (*err && strstr((*err)->msg, "org.freedesktop.systemd1.UnitExists"))
			*exists = true;
		return -1;
	}
	return 0;
}

int cg_sd_start(struct hutch_cgroup *cg, pid_t pid, hutch_err *err)
{
	cleanup_bus sd_bus *bus = NULL;
	bool exists = false;

	if (bus_connect(&bus, err) < 0)
		return -1;
	if (start_unit(bus, cg, pid, &exists, err) == 0)
		goto started;
	if (!exists)
		return -1;
	/* a unit of that name left failed or inactive (a container of that id that died) */
	hutch_error_free(err);
	reset_failed(bus, cg->sd->unit);
	if (start_unit(bus, cg, pid, &exists, err) < 0)
		return hutch_error_prefix(err, "linux.cgroupsPath: the unit %s exists already",
					  cg->sd->unit);
started:
	cg->sd->started = true;
	log_debug("systemd: started %s in %s for pid %d", cg->sd->unit, cg->sd->slice, (int)pid);
	return 0;
}

int cg_sd_set(struct hutch_cgroup *cg, const struct cg_res *r, hutch_err *err)
{
	cleanup_bus sd_bus *bus = NULL;
	cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	int rc;

	if (bus_connect(&bus, err) < 0 || new_call(bus, "SetUnitProperties", &m, cg->sd->unit, err) < 0)
		return -1;
	rc = sd_bus_message_append(m, "sb", cg->sd->unit, 1);
	if (rc >= 0)
		rc = sd_bus_message_open_container(m, 'a', "(sv)");
	if (rc >= 0)
		rc = append_resources(m, cg, r);
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	if (rc < 0)
		return rc == -EINVAL ? hutch_fail(err, 0, "update: cpu.cpus/mems: not a CPU list") :
				       bus_fail(err, cg->sd->unit, "build SetUnitProperties for", NULL, rc);
	rc = sd_bus_call(bus, m, 0, &e, &reply);
	if (rc < 0)
		return bus_fail(err, cg->sd->unit, "set the properties of", &e, rc);
	return 0;
}

int cg_sd_stop(struct hutch_cgroup *cg, hutch_err *err)
{
	cleanup_bus sd_bus *bus = NULL;
	cleanup_msg sd_bus_message *m = NULL;
	bool gone = false;

	if (!cg->sd || !cg->sd->started)
		return 0;
	if (bus_connect(&bus, err) < 0 || new_call(bus, "StopUnit", &m, cg->sd->unit, err) < 0)
		return -1;
	if (sd_bus_message_append(m, "ss", cg->sd->unit, "replace") < 0)
		return bus_fail(err, cg->sd->unit, "build StopUnit for", NULL, -ENOMEM);
	/* a scope whose processes are all gone has stopped already: NoSuchUnit is fine */
	if (call_job(bus, m, cg->sd->unit, "stop", &gone, err) < 0)
		return -1;
	reset_failed(bus, cg->sd->unit);
	cg->sd->started = false;
	return 0;
}

/* ---- state ---- */

json_object *cg_sd_to_json(const struct cg_systemd *sd)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "unit", json_object_new_string(sd->unit));
	json_object_object_add(o, "slice", json_object_new_string(sd->slice));
	return o;
}

int cg_sd_from_json(json_object *o, struct cg_systemd **out, hutch_err *err)
{
	json_object *u, *s;
	struct cg_systemd *sd;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "unit", &u) ||
	    !json_object_object_get_ex(o, "slice", &s) || !json_object_is_type(u, json_type_string) ||
	    !json_object_is_type(s, json_type_string))
		return hutch_fail(err, 0, "state.json: cgroup.systemd: expected {unit, slice}");
	sd = xcalloc(1, sizeof(*sd));
	sd->unit = xstrdup(json_object_get_string(u));
	sd->slice = xstrdup(json_object_get_string(s));
	sd->started = true;
	*out = sd;
	return 0;
}
