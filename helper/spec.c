// SPDX-License-Identifier: GPL-2.0-or-later
/* config.json parsing and validation for the parts the lifecycle applies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "jsonutil.h"
#include "log.h"
#include "net_devices.h"
#include "spec.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define CFG "config.json"

static const struct {
	const char *name;
	int type;
} ns_names[] = {
	{ "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

int ns_type_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (strcmp(ns_names[i].name, name) == 0)
			return ns_names[i].type;
	return -1;
}

const char *ns_name(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (ns_names[i].type == type)
			return ns_names[i].name;
	return "?";
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct {
	const char *name;
	unsigned long set, clear, prop;
	bool bind, rec;
} mount_opts[] = {
	{ "defaults", 0, 0, 0, false, false },
	{ "ro", MS_RDONLY, 0, 0, false, false },
	{ "rw", 0, MS_RDONLY, 0, false, false },
	{ "suid", 0, MS_NOSUID, 0, false, false },
	{ "nosuid", MS_NOSUID, 0, 0, false, false },
	{ "dev", 0, MS_NODEV, 0, false, false },
	{ "nodev", MS_NODEV, 0, 0, false, false },
	{ "exec", 0, MS_NOEXEC, 0, false, false },
	{ "noexec", MS_NOEXEC, 0, 0, false, false },
	{ "sync", MS_SYNCHRONOUS, 0, 0, false, false },
	{ "async", 0, MS_SYNCHRONOUS, 0, false, false },
	{ "dirsync", MS_DIRSYNC, 0, 0, false, false },
	{ "remount", MS_REMOUNT, 0, 0, false, false },
	{ "mand", MS_MANDLOCK, 0, 0, false, false },
	{ "nomand", 0, MS_MANDLOCK, 0, false, false },
	{ "atime", 0, MS_NOATIME, 0, false, false },
	{ "noatime", MS_NOATIME, 0, 0, false, false },
	{ "diratime", 0, MS_NODIRATIME, 0, false, false },
	{ "nodiratime", MS_NODIRATIME, 0, 0, false, false },
	{ "relatime", MS_RELATIME, 0, 0, false, false },
	{ "norelatime", 0, MS_RELATIME, 0, false, false },
	{ "strictatime", MS_STRICTATIME, 0, 0, false, false },
	{ "nostrictatime", 0, MS_STRICTATIME, 0, false, false },
	{ "lazytime", MS_LAZYTIME, 0, 0, false, false },
	{ "nolazytime", 0, MS_LAZYTIME, 0, false, false },
	{ "silent", MS_SILENT, 0, 0, false, false },
	{ "loud", 0, MS_SILENT, 0, false, false },
	{ "bind", 0, 0, 0, true, false },
	{ "rbind", 0, 0, 0, true, true },
	{ "private", 0, 0, MS_PRIVATE, false, false },
	{ "rprivate", 0, 0, MS_PRIVATE | MS_REC, false, false },
	{ "shared", 0, 0, MS_SHARED, false, false },
	{ "rshared", 0, 0, MS_SHARED | MS_REC, false, false },
	{ "slave", 0, 0, MS_SLAVE, false, false },
	{ "rslave", 0, 0, MS_SLAVE | MS_REC, false, false },
	{ "unbindable", 0, 0, MS_UNBINDABLE, false, false },
	{ "runbindable", 0, 0, MS_UNBINDABLE | MS_REC, false, false },
};

/* Options other runtimes accept that need no action from hutch. */
static const char *const ignored_opts[] = { "tmpcopyup", "notmpcopyup", "copy-symlink" };

int mount_parse_options(char *const *options, struct hutch_mount *m, const char *file,
			const char *path, hutch_err *err)
{
	cleanup_free char *data = NULL;

	for (size_t i = 0; options && options[i]; i++) {
		const char *o = options[i];
		bool found = false;

		for (size_t k = 0; k < ARRAY_SIZE(mount_opts); k++) {
			if (strcmp(o, mount_opts[k].name) != 0)
				continue;
			m->flags = (m->flags & ~mount_opts[k].clear) | mount_opts[k].set;
			m->clear = (m->clear & ~mount_opts[k].set) | mount_opts[k].clear;
			if (mount_opts[k].prop)
				m->propagation = mount_opts[k].prop;
			if (mount_opts[k].bind) {
				m->bind = true;
				m->rec = mount_opts[k].rec;
			}
			found = true;
			break;
		}
		for (size_t k = 0; !found && k < ARRAY_SIZE(ignored_opts); k++)
			found = strcmp(o, ignored_opts[k]) == 0;
		if (found)
			continue;
		if (!*o) {
			cleanup_free char *p = jpath_idx(path, i);

			return jfail(err, file, p, "empty mount option");
		}
		/* Anything else is filesystem data, checked by the kernel at mount time. */
		if (data) {
			char *d = xasprintf("%s,%s", data, o);

			free(data);
			data = d;
		} else {
			data = xstrdup(o);
		}
	}
	if (m->bind && data) {
		/*
		 * Filesystem parameters (KEY=VALUE, e.g. a tmpfs's mode=755,size=1k) mean
		 * nothing to a bind mount: the kernel ignores the data of MS_BIND, and runc
		 * accepts them, so they are dropped with a warning. A bare unknown word is
		 * rather a mistyped flag.
		 */
		for (char *o = data, *end; o; o = end ? end + 1 : NULL) {
			end = strchr(o, ',');
			if (!memchr(o, '=', end ? (size_t)(end - o) : strlen(o))) {
				cleanup_free char *p = xstrdup(path);

				return jfail(err, file, p, "unknown option \"%s\" for a bind mount",
					     data);
			}
		}
		log_warn("%s: %s: filesystem options \"%s\" ignored for a bind mount", file, path,
			 data);
		free(data);
		data = NULL;
	}
	m->data = steal_ptr(&data);
	return 0;
}

static int parse_mounts(struct hutch_spec *s, hutch_err *err)
{
	json_object *arr = NULL;
	size_t n;

	if (jget_array(s->json, CFG, "", "mounts", false, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	n = json_object_array_length(arr);
	s->mounts = xcalloc(n, sizeof(*s->mounts));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *p = jpath_idx("mounts", i);
		cleanup_free char *po = jpath_key(p, "options");
		json_object *e = json_object_array_get_idx(arr, i);
		struct hutch_mount *m = &s->mounts[s->nmounts++];
		cleanup_strv char **opts = NULL;
		const char *dst = NULL, *src = NULL, *type = NULL;

		if (!e || json_object_get_type(e) != json_type_object)
			return jfail(err, CFG, p, "expected an object");
		if (jget_str(e, CFG, p, "destination", true, &dst, err) < 0 ||
		    jget_str(e, CFG, p, "source", false, &src, err) < 0 ||
		    jget_str(e, CFG, p, "type", false, &type, err) < 0 ||
		    jget_strv(e, CFG, p, "options", false, &opts, err) < 0)
			return -1;
		if (dst[0] != '/') {
			cleanup_free char *pd = jpath_key(p, "destination");

			return jfail(err, CFG, pd, "\"%s\" is not an absolute path", dst);
		}
		m->destination = xstrdup(dst);
		m->source = xstrdup(src);
		m->type = xstrdup(type && *type ? type : NULL);
		if (mount_parse_options(opts, m, CFG, po, err) < 0)
			return -1;
		if (m->type && strcmp(m->type, "bind") == 0) {
			free(m->type);
			m->type = NULL;
			m->bind = true;
		}
		if (!m->bind && !m->type)
			return jfail(err, CFG, p, "mount has neither a type nor a bind option");
		if (m->bind && !m->source) {
			cleanup_free char *ps = jpath_key(p, "source");

			return jfail(err, CFG, ps, "missing required field for a bind mount");
		}
		if (m->bind && m->source[0] != '/') {
			/* relative bind sources are relative to the bundle */
			char *abs = xasprintf("%s/%s", s->bundle, m->source);

			free(m->source);
			m->source = abs;
		}
	}
	return 0;
}

static int parse_rlimits(json_object *proc, const char *file, const char *path,
			 struct hutch_process *p, hutch_err *err)
{
	json_object *arr = NULL;
	size_t n;

	if (jget_array(proc, file, path, "rlimits", false, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	n = json_object_array_length(arr);
	p->rlimits = xcalloc(n, sizeof(*p->rlimits));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *k = jpath_key(path, "rlimits");
		cleanup_free char *pp = jpath_idx(k, i);
		json_object *e = json_object_array_get_idx(arr, i);
		struct hutch_rlimit *r = &p->rlimits[p->nrlimits];
		const char *type = NULL;
		size_t j;

		if (!e || json_object_get_type(e) != json_type_object)
			return jfail(err, file, pp, "expected an object");
		if (jget_str(e, file, pp, "type", true, &type, err) < 0 ||
		    jget_u64(e, file, pp, "soft", true, UINT64_MAX, &r->soft, err) < 0 ||
		    jget_u64(e, file, pp, "hard", true, UINT64_MAX, &r->hard, err) < 0)
			return -1;
		for (j = 0; j < ARRAY_SIZE(rlimit_names); j++)
			if (strcmp(type, rlimit_names[j].name) == 0)
				break;
		if (j == ARRAY_SIZE(rlimit_names)) {
			cleanup_free char *pt = jpath_key(pp, "type");

			return jfail(err, file, pt, "unknown rlimit \"%s\"", type);
		}
		if (r->soft > r->hard)
			return jfail(err, file, pp, "soft limit is above the hard limit");
		for (size_t q = 0; q < p->nrlimits; q++)
			if (p->rlimits[q].resource == rlimit_names[j].resource) {
				cleanup_free char *pt = jpath_key(pp, "type");

				return jfail(err, file, pt, "duplicate rlimit \"%s\"", type);
			}
		r->resource = rlimit_names[j].resource;
		p->nrlimits++;
	}
	return 0;
}

int spec_parse_process(json_object *proc, const char *file, const char *path,
		       struct hutch_process *p, hutch_err *err)
{
	cleanup_free char *pu = jpath_key(path, "user");
	cleanup_free char *pc = jpath_key(path, "consoleSize");
	json_object *user = NULL, *console = NULL, *gids = NULL;
	const char *cwd = NULL;
	uint64_t v;
	int64_t oom;

	p->json = proc;
	if (jget_bool(proc, file, path, "terminal", NULL, &p->terminal, err) < 0 ||
	    jget_strv(proc, file, path, "args", false, &p->args, err) < 0 ||
	    jget_strv(proc, file, path, "env", false, &p->env, err) < 0 ||
	    jget_str(proc, file, path, "cwd", true, &cwd, err) < 0 ||
	    jget_bool(proc, file, path, "noNewPrivileges", NULL, &p->no_new_privs, err) < 0 ||
	    jget_obj(proc, file, path, "user", false, &user, err) < 0 ||
	    jget_obj(proc, file, path, "consoleSize", false, &console, err) < 0)
		return -1;
	if (!p->args || !p->args[0]) {
		cleanup_free char *pa = jpath_key(path, "args");

		return jfail(err, file, pa, "must hold at least the program to run");
	}
	if (cwd[0] != '/') {
		cleanup_free char *pw = jpath_key(path, "cwd");

		return jfail(err, file, pw, "\"%s\" is not an absolute path", cwd);
	}
	p->cwd = xstrdup(cwd);
	for (size_t i = 0; p->env && p->env[i]; i++) {
		if (!strchr(p->env[i], '=')) {
			cleanup_free char *pe = jpath_key(path, "env");
			cleanup_free char *pi = jpath_idx(pe, i);

			return jfail(err, file, pi, "\"%s\" is not of the form NAME=VALUE", p->env[i]);
		}
	}
	if (user) {
		if (jget_u64(user, file, pu, "uid", false, UINT32_MAX - 1, &v, err) < 0)
			return -1;
		p->user.uid = json_object_object_get_ex(user, "uid", NULL) ? (uid_t)v : 0;
		v = 0;
		if (jget_u64(user, file, pu, "gid", false, UINT32_MAX - 1, &v, err) < 0)
			return -1;
		p->user.gid = v;
		if (json_object_object_get_ex(user, "umask", NULL)) {
			if (jget_u64(user, file, pu, "umask", false, 0777, &v, err) < 0)
				return -1;
			p->user.umask = v;
			p->user.has_umask = true;
		}
		if (jget_array(user, file, pu, "additionalGids", false, &gids, err) < 0)
			return -1;
		if (gids) {
			size_t n = json_object_array_length(gids);
			cleanup_free char *pg = jpath_key(pu, "additionalGids");

			p->user.gids = xcalloc(n, sizeof(gid_t));
			for (size_t i = 0; i < n; i++) {
				json_object *g = json_object_array_get_idx(gids, i);

				if (!g || json_object_get_type(g) != json_type_int ||
				    json_object_get_int64(g) < 0 || json_object_get_int64(g) >= UINT32_MAX) {
					cleanup_free char *pi = jpath_idx(pg, i);

					return jfail(err, file, pi, "expected a group id");
				}
				p->user.gids[p->user.ngids++] = json_object_get_int64(g);
			}
		}
		const char *uname = NULL;

		if (jget_str(user, file, pu, "username", false, &uname, err) < 0)
			return -1;
	}
	if (console) {
		if (jget_u64(console, file, pc, "height", false, UINT16_MAX, &v, err) < 0)
			return -1;
		p->console_height = v;
		v = 0;
		if (jget_u64(console, file, pc, "width", false, UINT16_MAX, &v, err) < 0)
			return -1;
		p->console_width = v;
	}
	if (json_object_object_get_ex(proc, "oomScoreAdj", NULL)) {
		if (jget_i64(proc, file, path, "oomScoreAdj", false, &oom, err) < 0)
			return -1;
		if (oom < -1000 || oom > 1000) {
			cleanup_free char *po = jpath_key(path, "oomScoreAdj");

			return jfail(err, file, po, "%lld is out of range (-1000 to 1000)", (long long)oom);
		}
		p->oom_score_adj = oom;
		p->has_oom_score_adj = true;
	}
	return parse_rlimits(proc, file, path, p, err);
}

static int parse_idmaps(json_object *lin, const char *key, struct hutch_idmap **out, size_t *n,
			hutch_err *err)
{
	json_object *arr = NULL;
	cleanup_free char *pk = jpath_key("linux", key);

	if (jget_array(lin, CFG, "linux", key, false, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	*out = xcalloc(json_object_array_length(arr), sizeof(**out));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		cleanup_free char *p = jpath_idx(pk, i);
		json_object *e = json_object_array_get_idx(arr, i);
		uint64_t c, h, s;

		if (!e || json_object_get_type(e) != json_type_object)
			return jfail(err, CFG, p, "expected an object");
		if (jget_u64(e, CFG, p, "containerID", true, UINT32_MAX, &c, err) < 0 ||
		    jget_u64(e, CFG, p, "hostID", true, UINT32_MAX, &h, err) < 0 ||
		    jget_u64(e, CFG, p, "size", true, UINT32_MAX, &s, err) < 0)
			return -1;
		if (s == 0)
			return jfail(err, CFG, p, "size must be at least 1");
		(*out)[(*n)++] = (struct hutch_idmap){ c, h, s };
	}
	return 0;
}

static int parse_namespaces(struct hutch_spec *s, json_object *lin, hutch_err *err)
{
	json_object *arr = NULL;
	int seen = 0;

	if (jget_array(lin, CFG, "linux", "namespaces", false, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	s->namespaces = xcalloc(json_object_array_length(arr), sizeof(*s->namespaces));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		cleanup_free char *p = jpath_idx("linux.namespaces", i);
		json_object *e = json_object_array_get_idx(arr, i);
		const char *type = NULL, *path = NULL;
		int t;

		if (!e || json_object_get_type(e) != json_type_object)
			return jfail(err, CFG, p, "expected an object");
		if (jget_str(e, CFG, p, "type", true, &type, err) < 0 ||
		    jget_str(e, CFG, p, "path", false, &path, err) < 0)
			return -1;
		t = ns_type_from_name(type);
		if (t < 0) {
			cleanup_free char *pt = jpath_key(p, "type");

			return jfail(err, CFG, pt, "unknown namespace \"%s\"", type);
		}
		if (seen & t) {
			cleanup_free char *pt = jpath_key(p, "type");

			return jfail(err, CFG, pt, "namespace \"%s\" listed twice", type);
		}
		seen |= t;
		if (path && *path) {
			struct stat st;

			if (stat(path, &st) < 0) {
				cleanup_free char *pp = jpath_key(p, "path");

				return hutch_fail(err, errno, CFG ": %s: `%s`", pp, path);
			}
		} else {
			path = NULL;
			s->ns_new |= t;
		}
		s->namespaces[s->nnamespaces++] = (struct hutch_ns){ t, xstrdup(path) };
	}
	return 0;
}

static int parse_time_offsets(struct hutch_spec *s, json_object *lin, hutch_err *err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	json_object *to = NULL;

	if (jget_obj(lin, CFG, "linux", "timeOffsets", false, &to, err) < 0)
		return -1;
	if (!to)
		return 0;
	if (!(s->ns_new & CLONE_NEWTIME))
		return jfail(err, CFG, "linux.timeOffsets", "needs a new time namespace");
	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *p = xasprintf("linux.timeOffsets.%s", clocks[i]);
		json_object *c = NULL;
		uint64_t ns = 0;

		if (jget_obj(to, CFG, "linux.timeOffsets", clocks[i], false, &c, err) < 0)
			return -1;
		if (!c)
			continue;
		if (jget_i64(c, CFG, p, "secs", false, &s->time_offsets[i][0], err) < 0 ||
		    jget_u64(c, CFG, p, "nanosecs", false, 999999999, &ns, err) < 0)
			return -1;
		s->time_offsets[i][1] = ns;
	}
	s->has_time_offsets = true;
	return 0;
}

static int parse_devices(struct hutch_spec *s, json_object *lin, hutch_err *err)
{
	json_object *arr = NULL;

	if (jget_array(lin, CFG, "linux", "devices", false, &arr, err) < 0)
		return -1;
	if (!arr)
		return 0;
	s->devices = xcalloc(json_object_array_length(arr), sizeof(*s->devices));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		cleanup_free char *p = jpath_idx("linux.devices", i);
		json_object *e = json_object_array_get_idx(arr, i);
		struct hutch_device *d = &s->devices[s->ndevices];
		const char *type = NULL, *path = NULL;
		uint64_t v;

		if (!e || json_object_get_type(e) != json_type_object)
			return jfail(err, CFG, p, "expected an object");
		if (jget_str(e, CFG, p, "type", true, &type, err) < 0 ||
		    jget_str(e, CFG, p, "path", true, &path, err) < 0)
			return -1;
		if (strlen(type) != 1 || !strchr("cbup", type[0])) {
			cleanup_free char *pt = jpath_key(p, "type");

			return jfail(err, CFG, pt, "unknown device type \"%s\" (c, b, u or p)", type);
		}
		if (path[0] != '/' || !str_has_prefix(path, "/dev/")) {
			cleanup_free char *pp = jpath_key(p, "path");

			return jfail(err, CFG, pp, "\"%s\" is not a path under /dev", path);
		}
		d->type = type[0];
		if (d->type != 'p') {
			if (jget_i64(e, CFG, p, "major", true, &d->major, err) < 0 ||
			    jget_i64(e, CFG, p, "minor", true, &d->minor, err) < 0)
				return -1;
		}
		if (json_object_object_get_ex(e, "fileMode", NULL)) {
			if (jget_u64(e, CFG, p, "fileMode", false, 07777, &v, err) < 0)
				return -1;
			d->mode = v;
			d->has_mode = true;
		}
		if (json_object_object_get_ex(e, "uid", NULL)) {
			if (jget_u64(e, CFG, p, "uid", false, UINT32_MAX - 1, &v, err) < 0)
				return -1;
			d->uid = v;
			d->has_uid = true;
		}
		if (json_object_object_get_ex(e, "gid", NULL)) {
			if (jget_u64(e, CFG, p, "gid", false, UINT32_MAX - 1, &v, err) < 0)
				return -1;
			d->gid = v;
			d->has_gid = true;
		}
		d->path = xstrdup(path);
		s->ndevices++;
	}
	return 0;
}

/*
 * linux.intelRdt needs the resctrl filesystem; hutch does not manage resctrl groups, so any
 * setting is refused with the reason rather than ignored.
 */
static int check_intel_rdt(json_object *lin, hutch_err *err)
{
	json_object *o = NULL;
	struct statfs fs;

	if (jget_obj(lin, CFG, "linux", "intelRdt", false, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	if (statfs("/sys/fs/resctrl", &fs) < 0 || fs.f_type != RDTGROUP_SUPER_MAGIC)
		return jfail(err, CFG, "linux.intelRdt", "needs Intel RDT (resctrl), and this host "
			     "has no resctrl filesystem mounted at /sys/fs/resctrl");
	return jfail(err, CFG, "linux.intelRdt", "is not supported by hutch (resctrl groups "
		     "are not managed); remove it");
}

/* linux.netDevices (runtime-spec 1.3): checked here, moved by net_devices.c */
static int check_net_devices(const struct hutch_spec *s, hutch_err *err)
{
	cleanup_free char *lines = NULL;

	return net_devices_parse(s, &lines, err);
}

/* hostname / domainname and the sysctl kernel.hostname / kernel.domainname must agree */
static int check_uts_sysctl(struct hutch_spec *s, const char *field, const char *value,
			    hutch_err *err)
{
	json_object *lin, *sc, *v;
	cleanup_free char *dotted = xasprintf("kernel.%s", field);
	cleanup_free char *slashed = xasprintf("kernel/%s", field);
	const char *key = dotted;

	if (!value || !json_object_object_get_ex(s->json, "linux", &lin) ||
	    !json_object_object_get_ex(lin, "sysctl", &sc) ||
	    !json_object_is_type(sc, json_type_object))
		return 0;
	if (!json_object_object_get_ex(sc, key, &v)) {
		key = slashed;
		if (!json_object_object_get_ex(sc, key, &v))
			return 0;
	}
	if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), value) == 0)
		return 0;
	{
		cleanup_free char *p = xasprintf("linux.sysctl.%s", key);

		return jfail(err, CFG, p, "\"%s\" conflicts with %s \"%s\"",
			     json_object_get_string(v), field, value);
	}
}

static int parse_linux(struct hutch_spec *s, hutch_err *err)
{
	json_object *lin = NULL;
	const char *prop = NULL;

	if (jget_obj(s->json, CFG, "", "linux", false, &lin, err) < 0)
		return -1;
	if (!lin)
		return 0;
	if (parse_namespaces(s, lin, err) < 0 ||
	    parse_idmaps(lin, "uidMappings", &s->uid_maps, &s->nuid_maps, err) < 0 ||
	    parse_idmaps(lin, "gidMappings", &s->gid_maps, &s->ngid_maps, err) < 0 ||
	    parse_time_offsets(s, lin, err) < 0 || parse_devices(s, lin, err) < 0 ||
	    mempolicy_parse(lin, &s->mempolicy, err) < 0 || check_intel_rdt(lin, err) < 0 ||
	    check_net_devices(s, err) < 0 ||
	    jget_str(lin, CFG, "linux", "rootfsPropagation", false, &prop, err) < 0)
		return -1;
	if (prop) {
		static const struct {
			const char *n;
			unsigned long f;
		} props[] = {
			{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
			{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
			{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
			{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(props); i++)
			if (strcmp(prop, props[i].n) == 0)
				break;
		if (i == ARRAY_SIZE(props))
			return jfail(err, CFG, "linux.rootfsPropagation", "unknown propagation \"%s\"", prop);
		s->rootfs_propagation = props[i].f;
	}
	if ((s->nuid_maps || s->ngid_maps) && !(s->ns_new & CLONE_NEWUSER))
		return jfail(err, CFG, "linux.uidMappings",
			     "id mappings need a new user namespace in linux.namespaces");
	if ((s->ns_new & CLONE_NEWUSER) && (!s->nuid_maps || !s->ngid_maps))
		return jfail(err, CFG, "linux.uidMappings",
			     "a new user namespace needs uidMappings and gidMappings");
	return 0;
}

int spec_load(const char *bundle, const char *config_path, struct hutch_spec **out, hutch_err *err)
{
	cleanup_spec struct hutch_spec *s = xcalloc(1, sizeof(*s));
	cleanup_free char *cfgpath = NULL;
	json_object *root = NULL, *proc = NULL;
	const char *rootpath = NULL, *ver = NULL;
	struct stat st;
	char *abs;

	abs = realpath(bundle ? bundle : ".", NULL);
	if (!abs)
		return hutch_fail(err, errno, "bundle `%s`", bundle ? bundle : ".");
	s->bundle = abs;
	cfgpath = config_path ? xstrdup(config_path) : xasprintf("%s/config.json", s->bundle);
	if (json_parse_file(cfgpath, CFG, &s->json, err) < 0)
		return -1;
	if (json_object_get_type(s->json) != json_type_object)
		return jfail(err, CFG, "", "the document must be a JSON object");
	if (jget_str(s->json, CFG, "", "ociVersion", true, &ver, err) < 0)
		return -1;
	if (strncmp(ver, "1.", 2) != 0)
		return jfail(err, CFG, "ociVersion", "unsupported version \"%s\" (1.x)", ver);
	if (jget_obj(s->json, CFG, "", "root", true, &root, err) < 0 ||
	    jget_str(root, CFG, "root", "path", true, &rootpath, err) < 0)
		return -1;
	if (jget_bool(root, CFG, "root", "readonly", NULL, &s->root_readonly, err) < 0)
		return -1;
	s->root = rootpath[0] == '/' ? xstrdup(rootpath) : xasprintf("%s/%s", s->bundle, rootpath);
	if (stat(s->root, &st) < 0)
		return hutch_fail(err, errno, CFG ": root.path: `%s`", s->root);
	if (!S_ISDIR(st.st_mode))
		return jfail(err, CFG, "root.path", "`%s` is not a directory", s->root);
	abs = realpath(s->root, NULL);
	if (!abs)
		return hutch_fail(err, errno, CFG ": root.path: `%s`", s->root);
	free(s->root);
	s->root = abs;

	const char *hn = NULL, *dn = NULL;

	if (jget_str(s->json, CFG, "", "hostname", false, &hn, err) < 0 ||
	    jget_str(s->json, CFG, "", "domainname", false, &dn, err) < 0 ||
	    jget_obj(s->json, CFG, "", "process", false, &proc, err) < 0 ||
	    jget_obj(s->json, CFG, "", "annotations", false, &s->annotations, err) < 0)
		return -1;
	s->hostname = xstrdup(hn);
	s->domainname = xstrdup(dn);
	if (proc) {
		if (spec_parse_process(proc, CFG, "process", &s->process, err) < 0)
			return -1;
		s->has_process = true;
	} else {
		/* runtime-spec: process is REQUIRED only if start is called; create sets the
		 * container up in / and container_start refuses it */
		s->process.cwd = xstrdup("/");
	}
	if (parse_mounts(s, err) < 0 || parse_linux(s, err) < 0)
		return -1;
	if (check_uts_sysctl(s, "hostname", s->hostname, err) < 0 ||
	    check_uts_sysctl(s, "domainname", s->domainname, err) < 0)
		return -1;
	/* a uts namespace joined by path is the container's too (runc sets it there) */
	if ((s->hostname || s->domainname) && !spec_has_ns(s, CLONE_NEWUTS))
		return jfail(err, CFG, s->hostname ? "hostname" : "domainname",
			     "setting it needs a uts namespace in linux.namespaces");
	*out = steal_ptr(&s);
	return 0;
}

void spec_process_clear(struct hutch_process *p)
{
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->user.gids);
	memset(p, 0, sizeof(*p));
}

void spec_free(struct hutch_spec *s)
{
	mempolicy_clear(&s->mempolicy);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].source);
		free(s->mounts[i].type);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->nnamespaces; i++)
		free(s->namespaces[i].path);
	free(s->namespaces);
	for (size_t i = 0; i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->uid_maps);
	free(s->gid_maps);
	spec_process_clear(&s->process);
	free(s->bundle);
	free(s->root);
	free(s->hostname);
	free(s->domainname);
	if (s->json)
		json_object_put(s->json);
	free(s);
}

bool spec_has_ns(const struct hutch_spec *s, int type)
{
	return spec_get_ns(s, type) != NULL;
}

const struct hutch_ns *spec_get_ns(const struct hutch_spec *s, int type)
{
	for (size_t i = 0; i < s->nnamespaces; i++)
		if (s->namespaces[i].type == type)
			return &s->namespaces[i];
	return NULL;
}

static json_object *strarr(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *mnt(const char *dst, const char *type, const char *src, const char *const *opts)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "destination", json_object_new_string(dst));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	json_object_object_add(m, "options", strarr(opts));
	return m;
}

json_object *spec_default(bool rootless)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL
	};
	static const char *const args[] = { "sh", NULL };
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi", NULL
	};
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger", NULL };
	static const char *const o_none[] = { NULL };
	static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const o_pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					     "mode=0620", "gid=5", NULL };
	static const char *const o_pts_rl[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
						"mode=0620", NULL };
	static const char *const o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const o_mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const o_sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const o_sys_rl[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const o_cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	json_object *s = json_object_new_object(), *p = json_object_new_object();
	json_object *user = json_object_new_object(), *c = json_object_new_object();
	json_object *rl = json_object_new_object(), *root = json_object_new_object();
	json_object *mounts = json_object_new_array(), *lin = json_object_new_object();
	json_object *ns = json_object_new_array();
	static const char *const nss[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
	static const char *const nss_rl[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };

	json_object_object_add(s, "ociVersion", json_object_new_string("1.2.0"));
	json_object_object_add(p, "terminal", json_object_new_boolean(true));
	json_object_object_add(user, "uid", json_object_new_int(0));
	json_object_object_add(user, "gid", json_object_new_int(0));
	json_object_object_add(p, "user", user);
	json_object_object_add(p, "args", strarr(args));
	json_object_object_add(p, "env", strarr(env));
	json_object_object_add(p, "cwd", json_object_new_string("/"));
	json_object_object_add(c, "bounding", strarr(caps));
	json_object_object_add(c, "effective", strarr(caps));
	json_object_object_add(c, "permitted", strarr(caps));
	json_object_object_add(p, "capabilities", c);
	json_object_object_add(rl, "type", json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(rl, "hard", json_object_new_int(1024));
	json_object_object_add(rl, "soft", json_object_new_int(1024));
	json_object_object_add(p, "rlimits", json_object_new_array());
	json_object_array_add(json_object_object_get(p, "rlimits"), rl);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(true));
	json_object_object_add(s, "process", p);
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(root, "readonly", json_object_new_boolean(true));
	json_object_object_add(s, "root", root);
	json_object_object_add(s, "hostname", json_object_new_string("hutch"));
	json_object_array_add(mounts, mnt("/proc", "proc", "proc", o_none));
	json_object_array_add(mounts, mnt("/dev", "tmpfs", "tmpfs", o_dev));
	json_object_array_add(mounts, mnt("/dev/pts", "devpts", "devpts", rootless ? o_pts_rl : o_pts));
	json_object_array_add(mounts, mnt("/dev/shm", "tmpfs", "shm", o_shm));
	json_object_array_add(mounts, mnt("/dev/mqueue", "mqueue", "mqueue", o_mq));
	if (rootless)
		json_object_array_add(mounts, mnt("/sys", "none", "/sys", o_sys_rl));
	else
		json_object_array_add(mounts, mnt("/sys", "sysfs", "sysfs", o_sys));
	json_object_array_add(mounts, mnt("/sys/fs/cgroup", "cgroup", "cgroup", o_cg));
	json_object_object_add(s, "mounts", mounts);
	for (const char *const *n = rootless ? nss_rl : nss; *n; n++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "type", json_object_new_string(*n));
		json_object_array_add(ns, e);
	}
	if (rootless) {
		for (int i = 0; i < 2; i++) {
			json_object *a = json_object_new_array(), *m = json_object_new_object();

			json_object_object_add(m, "containerID", json_object_new_int(0));
			json_object_object_add(m, "hostID", json_object_new_int64(i ? getegid() : geteuid()));
			json_object_object_add(m, "size", json_object_new_int(1));
			json_object_array_add(a, m);
			json_object_object_add(lin, i ? "gidMappings" : "uidMappings", a);
		}
	} else {
		json_object *res = json_object_new_object(), *devs = json_object_new_array();
		json_object *d = json_object_new_object();

		json_object_object_add(d, "allow", json_object_new_boolean(false));
		json_object_object_add(d, "access", json_object_new_string("rwm"));
		json_object_array_add(devs, d);
		json_object_object_add(res, "devices", devs);
		json_object_object_add(lin, "resources", res);
	}
	json_object_object_add(lin, "namespaces", ns);
	json_object_object_add(lin, "maskedPaths", strarr(masked));
	json_object_object_add(lin, "readonlyPaths", strarr(ro));
	json_object_object_add(s, "linux", lin);
	return s;
}
