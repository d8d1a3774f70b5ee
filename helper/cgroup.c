// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup layout detection, directories and membership on v1, v2 and hybrid hosts.
 *
 * The layout is read at run time from /proc/self/mountinfo: every `cgroup` mount is a
 * v1 hierarchy (its super options name the controllers bound to it, e.g. "cpu,cpuacct"
 * or "name=systemd"); a `cgroup2` mount is the unified hierarchy, which serves the
 * controllers listed in its cgroup.controllers (on a hybrid host only those not bound to
 * a v1 hierarchy, e.g. hugetlb). The container gets one directory per hierarchy.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

#define CG_ROOT "/sys/fs/cgroup"

const char *cg_layout_name(enum cg_layout l)
{
	switch (l) {
	case CG_V1:
		return "v1";
	case CG_V2:
		return "v2";
	case CG_HYBRID:
		return "hybrid";
	default:
		return "disabled";
	}
}

static int cg_layout_parse(const char *s, enum cg_layout *out)
{
	static const enum cg_layout all[] = { CG_DISABLED, CG_V1, CG_V2, CG_HYBRID };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(s, cg_layout_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

struct cg_hier *cg_find(struct hutch_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->nh; i++)
		if (strv_contains(cg->h[i].ctrls, ctrl))
			return &cg->h[i];
	return NULL;
}

struct cg_hier *cg_unified(struct hutch_cgroup *cg)
{
	for (size_t i = 0; i < cg->nh; i++)
		if (cg->h[i].v2)
			return &cg->h[i];
	return NULL;
}

/* ---- small file helpers ---- */

int cg_write(const char *dir, const char *file, const char *value, hutch_err *err)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(p, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t w;

	if (fd < 0)
		return hutch_fail(err, errno, "open `%s`", p);
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return hutch_fail(err, errno, "write \"%s\" to `%s`", value, p);
	return 0;
}

int cg_read(const char *dir, const char *file, char **out, hutch_err *err)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);

	return read_file(p, out, NULL, err);
}

bool cg_exists(const char *dir, const char *file)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);

	return access(p, F_OK) == 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;
	char *nl;

	if (cg_read(dir, file, &buf, &e) < 0)
		return -1;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (strcmp(buf, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	return parse_u64(buf, out);
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out)
{
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;
	size_t kl = strlen(key);

	if (cg_read(dir, file, &buf, &e) < 0)
		return -1;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
			return parse_u64(line + kl + 1, out);
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* ---- layout detection ---- */

static void hier_clear(struct cg_hier *h)
{
	free(h->mount);
	free(h->dir);
	strv_free(h->ctrls);
	strv_free(h->created);
	memset(h, 0, sizeof(*h));
}

static void self_fds_close(struct hutch_cgroup *cg)
{
	for (size_t i = 0; cg->self_fds && i < cg->nh; i++)
		if (cg->self_fds[i] >= 0)
			close(cg->self_fds[i]);
	free(cg->self_fds);
	cg->self_fds = NULL;
}

void hutch_cgroup_free(struct hutch_cgroup *cg)
{
	if (cg == NULL)
		return;
	self_fds_close(cg);
	for (size_t i = 0; i < cg->nh; i++)
		hier_clear(&cg->h[i]);
	free(cg->h);
	free(cg->path);
	cg_res_free(cg->res);
	cg_sd_free(cg->sd);
	if (cg->v2fd >= 0)
		close(cg->v2fd);
	if (cg->oomfd >= 0)
		close(cg->oomfd);
	free(cg);
}

static struct hutch_cgroup *cg_new(enum cg_layout l)
{
	struct hutch_cgroup *cg = xcalloc(1, sizeof(*cg));

	cg->layout = l;
	cg->v2fd = -1;
	cg->oomfd = -1;
	return cg;
}

static struct cg_hier *cg_add(struct hutch_cgroup *cg)
{
	cg->h = xrealloc(cg->h, (cg->nh + 1) * sizeof(*cg->h));
	memset(&cg->h[cg->nh], 0, sizeof(cg->h[0]));
	return &cg->h[cg->nh++];
}

/* Unescape the octal escapes (\040) mountinfo uses in paths, in place. */
static void unescape_mount(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

static bool is_v1_controller_opt(const char *o)
{
	static const char *const known[] = { "cpu", "cpuacct", "cpuset", "memory", "devices",
					     "freezer", "blkio", "pids", "net_cls", "net_prio",
					     "hugetlb", "rdma", "perf_event", "misc" };

	if (str_has_prefix(o, "name="))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(o, known[i]) == 0)
			return true;
	return false;
}

/* This process's cgroup in the v1 hierarchy holding ctrl (or v2 when ctrl is ""). */
static char *own_cgroup(const char *ctrl)
{
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;

	if (read_file("/proc/self/cgroup", &buf, NULL, &e) < 0)
		return xstrdup("/");
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2;

		if (!c1)
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2)
			continue;
		*c2 = '\0';
		if (*ctrl == '\0') {
			if (c1[1] == '\0')
				return xstrdup(c2 + 1);
			continue;
		}
		cleanup_strv char **names = NULL;
		for (char *sv, *t = strtok_r(c1 + 1, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
			strv_push(&names, xstrdup(t));
		if (strv_contains(names, ctrl))
			return xstrdup(c2 + 1);
	}
	return xstrdup("/");
}

/* Join a and b with exactly one slash between, result without a trailing slash. */
static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *r;

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	r = *b ? xasprintf("%.*s/%s", (int)la, a, b) : xasprintf("%.*s", (int)la, a);
	if (*r == '\0') {
		free(r);
		r = xstrdup("/");
	}
	return r;
}

/* Read the mount table into cg->h (dir not yet set). */
static int cg_detect(struct hutch_cgroup *cg, hutch_err *err)
{
	cleanup_free char *buf = NULL;
	struct statfs sfs;
	bool have_v1 = false, have_v2 = false;

	if (read_file("/proc/self/mountinfo", &buf, NULL, err) < 0)
		return -1;
	for (char *sv, *line = strtok_r(buf, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *f[5] = { 0 }, *sep = strstr(line, " - "), *fstype, *superopts, *p = line;

		if (!sep)
			continue;
		*sep = '\0';
		for (int i = 0; i < 5; i++)
			f[i] = strsep(&p, " ");
		if (!f[4])
			continue;
		p = sep + 3;
		fstype = strsep(&p, " ");
		strsep(&p, " ");
		superopts = p ? p : (char *)"";
		if (strcmp(fstype, "cgroup") == 0) {
			cleanup_strv char **ctrls = NULL;
			bool dup = false;

			for (char *sv2, *o = strtok_r(superopts, ",", &sv2); o; o = strtok_r(NULL, ",", &sv2))
				if (is_v1_controller_opt(o))
					strv_push(&ctrls, xstrdup(o));
			if (!ctrls)
				continue;
			for (size_t i = 0; i < cg->nh && !dup; i++)
				dup = !cg->h[i].v2 && strv_contains(cg->h[i].ctrls, ctrls[0]);
			if (dup)
				continue;
			struct cg_hier *h = cg_add(cg);

			unescape_mount(f[4]);
			h->mount = xstrdup(f[4]);
			h->ctrls = steal_ptr(&ctrls);
			have_v1 = true;
		} else if (strcmp(fstype, "cgroup2") == 0 && !have_v2) {
			struct cg_hier *h = cg_add(cg);

			unescape_mount(f[4]);
			h->mount = xstrdup(f[4]);
			h->v2 = true;
			have_v2 = true;
		}
	}
	if (statfs(CG_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		have_v1 = false;
	if (!have_v1 && !have_v2)
		return hutch_fail(err, 0, "cgroup: no cgroup file system is mounted "
				  "(use --cgroup-manager disabled to run without cgroups)");
	if (!have_v1) {
		/* pure v2: drop any stray v1 mounts */
		for (size_t i = 0; i < cg->nh;) {
			if (!cg->h[i].v2) {
				hier_clear(&cg->h[i]);
				memmove(&cg->h[i], &cg->h[i + 1], (cg->nh - i - 1) * sizeof(cg->h[0]));
				cg->nh--;
			} else {
				i++;
			}
		}
	}
	cg->layout = have_v1 && have_v2 ? CG_HYBRID : have_v2 ? CG_V2 : CG_V1;
	return 0;
}

/* Set each hierarchy's directory from the cgroupsPath; v2 controllers from the parent. */
static int cg_resolve(struct hutch_cgroup *cg, const char *cpath, hutch_err *err)
{
	bool rel = cpath[0] != '/';

	for (size_t i = 0; i < cg->nh; i++) {
		struct cg_hier *h = &cg->h[i];
		cleanup_free char *own = rel ? own_cgroup(h->v2 ? "" : h->ctrls[0]) : NULL;
		cleanup_free char *inner = NULL;

		/* v2: our own cgroup most likely holds processes (a scope), and no
		 * process may live below one that does: start from its parent, as runc. */
		if (rel && h->v2 && own && strcmp(own, "/") != 0) {
			char *slash = strrchr(own, '/');

			if (slash == own)
				slash[1] = '\0';
			else if (slash)
				*slash = '\0';
		}
		inner = rel ? path_join(own, cpath) : xstrdup(cpath);

		h->dir = path_join(h->mount, inner);
		if (i == 0 || h->v2 || strv_contains(h->ctrls, "pids")) {
			free(cg->path);
			cg->path = xstrdup(inner);
		}
		if (h->v2) {
			/* Controllers the container's parent can hand down: the nearest
			 * existing ancestor's cgroup.controllers. */
			cleanup_free char *anc = xstrdup(h->dir);
			cleanup_free char *list = NULL;
			cleanup_err hutch_err e = NULL;

			for (;;) {
				char *slash = strrchr(anc, '/');

				if (!slash || slash == anc || strlen(anc) <= strlen(h->mount))
					break;
				*slash = '\0';
				if (access(anc, F_OK) == 0)
					break;
			}
			/* systemd: the unit's parents are made and enabled along the whole
			 * path (by systemd, and hutch for the rest): what the root offers */
			if (strlen(anc) < strlen(h->mount) || cg->sd) {
				free(anc);
				anc = xstrdup(h->mount);
			}
			if (cg_read(anc, "cgroup.controllers", &list, &e) == 0)
				for (char *sv, *t = strtok_r(list, " \n", &sv); t;
				     t = strtok_r(NULL, " \n", &sv))
					if (!cg_find(cg, t))
						strv_push(&h->ctrls, xstrdup(t));
		}
	}
	return 0;
}

/* ---- prepare / create / enter / destroy ---- */

static int validate_cgroups_path(const char *p, hutch_err *err)
{
	if (*p == '\0')
		return hutch_fail(err, 0, "config.json: linux.cgroupsPath: must not be empty");
	if (strchr(p, ':'))
		return hutch_fail(err, 0, "config.json: linux.cgroupsPath: \"%s\": systemd-style "
				  "slice:prefix:name paths need the systemd cgroup manager "
				  "(--systemd-cgroup); use a path with cgroupfs", p);
	cleanup_free char *copy = xstrdup(p);
	for (char *sv, *c = strtok_r(copy, "/", &sv); c; c = strtok_r(NULL, "/", &sv))
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
			return hutch_fail(err, 0, "config.json: linux.cgroupsPath: \"%s\": "
					  "must not contain `.` or `..`", p);
	return 0;
}

int hutch_cgroup_prepare(const struct hutch_global *g, const char *id, json_object *linux_obj,
			 struct hutch_cgroup **out, hutch_err *err)
{
	struct hutch_cgroup *cg;
	json_object *jp = NULL, *jr = NULL, *jdev;
	cleanup_free char *cpath = NULL;
	struct cg_systemd *sd = NULL;
	bool systemd = g && g->cgroup_manager == CGROUP_MANAGER_SYSTEMD;

	if (g && g->cgroup_manager == CGROUP_MANAGER_DISABLED) {
		cg = cg_new(CG_DISABLED);
		cg->path = xstrdup("");
		*out = cg;
		return 0;
	}
	if (linux_obj && json_object_object_get_ex(linux_obj, "cgroupsPath", &jp) &&
	    !json_object_is_type(jp, json_type_null)) {
		if (!json_object_is_type(jp, json_type_string))
			return hutch_fail(err, 0, "config.json: linux.cgroupsPath: expected a string");
		if (!systemd && validate_cgroups_path(json_object_get_string(jp), err) < 0)
			return -1;
		cpath = xstrdup(json_object_get_string(jp));
	} else if (!systemd) {
		cpath = xasprintf("/hutch/%s", id);
	}
	if (systemd) {
		/* the scope's cgroup, from the slice:prefix:name form (the default when unset) */
		char *p = NULL;

		if (cg_sd_parse(cpath && *cpath ? cpath : NULL, id, &sd, &p, err) < 0)
			return -1;
		free(cpath);
		cpath = p;
	}
	if (strcmp(cpath, "/") == 0)
		return hutch_fail(err, 0, "config.json: linux.cgroupsPath: must not be the root cgroup");

	cleanup_cgroup struct hutch_cgroup *c = cg_new(CG_V1);
	c->sd = sd;
	if (cg_detect(c, err) < 0 || cg_resolve(c, cpath, err) < 0)
		return -1;
	if (linux_obj && json_object_object_get_ex(linux_obj, "resources", &jr) &&
	    !json_object_is_type(jr, json_type_null)) {
		if (cg_res_parse(jr, "config.json", "linux.resources", &c->res, err) < 0)
			return -1;
		if (json_object_object_get_ex(linux_obj, "devices", &jdev))
			cg_devices_allow_listed(c->res, jdev);
		if (cg_res_apply(c, c->res, "config.json", "linux.resources", true, false, err) < 0)
			return -1;
	}
	*out = steal_ptr(&c);
	return 0;
}

/* v1 cpuset: a new directory has empty cpus/mems; copy them from the parent. */
static int cpuset_inherit(const char *dir, hutch_err *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	cleanup_free char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');

	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *cur = NULL, *pv = NULL;

		if (cg_read(dir, files[i], &cur, err) < 0)
			return -1;
		if (cur[0] != '\n' && cur[0] != '\0')
			continue;
		if (cg_read(parent, files[i], &pv, err) < 0)
			return -1;
		if (pv[0] == '\n' || pv[0] == '\0') {
			/* a parent another container is setting up right now */
			free(pv);
			pv = NULL;
			if (cpuset_inherit(parent, err) < 0 || cg_read(parent, files[i], &pv, err) < 0)
				return -1;
		}
		if (cg_write(dir, files[i], pv, err) < 0)
			return -1;
	}
	return 0;
}

/* v2: enable the wanted controllers in dir's cgroup.subtree_control, one at a time so
 * one refusal (e.g. cpu with realtime tasks around) does not block the others. */
static void enable_subtree(const char *dir, char **want)
{
	cleanup_free char *avail = NULL, *on = NULL;
	cleanup_err hutch_err e = NULL;
	cleanup_strv char **av = NULL, **has = NULL;

	if (cg_read(dir, "cgroup.controllers", &avail, &e) < 0 ||
	    cg_read(dir, "cgroup.subtree_control", &on, &e) < 0)
		return;
	/* A non-root cgroup holding processes (hutch's own, for a relative path): domain
	 * controllers are refused there, and enabling only the threaded ones (cpu, pids)
	 * would turn it into a thread root under which a new domain cgroup cannot take
	 * processes (EOPNOTSUPP). Leave it alone; the container gets no controllers. */
	{
		cleanup_free char *procs = NULL;
		cleanup_err hutch_err e2 = NULL;
		cleanup_free char *self = xasprintf("%s/cgroup.type", dir);

		if (access(self, F_OK) == 0 && cg_read(dir, "cgroup.procs", &procs, &e2) == 0 &&
		    procs[0] != '\0') {
			log_debug("cgroup: %s holds processes: no controllers enabled below it", dir);
			return;
		}
	}
	for (char *sv, *t = strtok_r(avail, " \n", &sv); t; t = strtok_r(NULL, " \n", &sv))
		strv_push(&av, xstrdup(t));
	for (char *sv, *t = strtok_r(on, " \n", &sv); t; t = strtok_r(NULL, " \n", &sv))
		strv_push(&has, xstrdup(t));
	for (char **w = want; w && *w; w++) {
		cleanup_free char *plus = xasprintf("+%s", *w);
		cleanup_err hutch_err e2 = NULL;

		if (strv_contains(has, *w) || !strv_contains(av, *w))
			continue;
		if (cg_write(dir, "cgroup.subtree_control", plus, &e2) < 0)
			log_debug("cgroup: enabling %s in %s: %s", *w, dir, e2->msg);
	}
}

/* mount/hutch, the parent every default path /hutch/<id> shares. */
static bool cg_default_parent(const char *p, const struct cg_hier *h)
{
	cleanup_free char *want = path_join(h->mount, "hutch");

	return strcmp(p, want) == 0;
}

/*
 * systemd: the controllers systemd 252 manages in its slices' cgroup.subtree_control are
 * its own (a unit's Delegate=yes and accounting properties get them); the others
 * (hugetlb, rdma, misc) it neither enables nor disables, so hutch enables them.
 */
static char **sd_unmanaged(char **ctrls)
{
	static const char *const sd_ctrls[] = { "cpu", "cpuset", "io", "memory", "pids" };
	char **out = NULL;

	for (char **c = ctrls; c && *c; c++) {
		bool mine = false;

		for (size_t i = 0; i < ARRAY_SIZE(sd_ctrls); i++)
			mine = mine || strcmp(*c, sd_ctrls[i]) == 0;
		if (!mine)
			strv_push(&out, xstrdup(*c));
	}
	return out;
}

static int hier_mkdirs(struct cg_hier *h, bool systemd, hutch_err *err)
{
	cleanup_strv char **want = systemd ? sd_unmanaged(h->ctrls) : NULL;

	const char *rest = h->dir + strlen(h->mount);
	cleanup_free char *cur = xstrdup(h->mount);
	cleanup_free char *copy = xstrdup(rest);

	for (char *sv, *c = strtok_r(copy, "/", &sv); c; c = strtok_r(NULL, "/", &sv)) {
		cleanup_free char *next = path_join(cur, c);
		int tries = 0;

		if (h->v2)
			enable_subtree(cur, systemd ? want : h->ctrls);
		while (mkdir(next, 0755) < 0) {
			int e = errno;

			/* The shared parent of default paths (mount/hutch) is hutch's even when
			 * another container made it first: the last one out removes it. */
			if (e == EEXIST && strcmp(next, h->dir) != 0 && cg_default_parent(next, h) &&
			    !strv_contains(h->created, next)) {
				strv_push(&h->created, xstrdup(next));
				goto descend;
			}
			if (e == EEXIST)
				goto descend;
			/* a parent removed by another container's delete just now */
			if (e == ENOENT && tries++ < 5 && mkdir(cur, 0755) == 0) {
				if (cg_default_parent(cur, h) && !strv_contains(h->created, cur))
					strv_push(&h->created, xstrdup(cur));
				continue;
			}
			return hutch_fail(err, e, "cgroup: mkdir `%s`", next);
		}
		strv_push(&h->created, xstrdup(next));
		if (!h->v2 && strv_contains(h->ctrls, "cpuset") && cpuset_inherit(next, err) < 0)
			return -1;
descend:
		free(cur);
		cur = steal_ptr(&next);
	}
	return 0;
}

/* Every hierarchy's directory (below systemd's slices: see sd_unmanaged). */
static int cg_make_dirs(struct hutch_cgroup *cg, hutch_err *err)
{
	for (size_t i = 0; i < cg->nh; i++) {
		if (hier_mkdirs(&cg->h[i], cg->sd != NULL, err) < 0)
			return -1;
		if (cg->h[i].v2) {
			/* What the new directory really got. */
			cleanup_free char *list = NULL;
			cleanup_err hutch_err e = NULL;
			cleanup_strv char **got = NULL;

			if (cg_read(cg->h[i].dir, "cgroup.controllers", &list, &e) == 0)
				for (char *sv, *t = strtok_r(list, " \n", &sv); t;
				     t = strtok_r(NULL, " \n", &sv))
					if (strv_contains(cg->h[i].ctrls, t))
						strv_push(&got, xstrdup(t));
			strv_free(cg->h[i].ctrls);
			cg->h[i].ctrls = steal_ptr(&got);
		}
	}
	if (cg->res && cg_res_apply(cg, cg->res, "config.json", "linux.resources", false, false,
				    err) < 0)
		return -1;
	return 0;
}

int hutch_cgroup_create(struct hutch_cgroup *cg, hutch_err *err)
{
	if (cg->layout == CG_DISABLED)
		return 0;
	/* systemd: the scope is made with the first pid, in hutch_cgroup_enter */
	if (cg->sd && !cg->sd->started)
		return 0;
	if (cg_make_dirs(cg, err) < 0)
		goto fail;
	return 0;
fail:
	hutch_cgroup_destroy(cg, NULL);
	return -1;
}

bool hutch_cgroup_rootless_fallback(struct hutch_cgroup *cg, const struct hutch_error *e)
{
	if ((geteuid() == 0 && in_initial_userns()) || cg->layout == CG_DISABLED || cg->res || !e ||
	    (e->status != EACCES && e->status != EPERM && e->status != EROFS))
		return false;
	/* (create has removed what it made) */
	for (size_t i = 0; i < cg->nh; i++)
		hier_clear(&cg->h[i]);
	cg->nh = 0;
	cg->layout = CG_DISABLED;
	return true;
}

int hutch_cgroup_enter_open(struct hutch_cgroup *cg)
{
	self_fds_close(cg);
	/* a systemd unit's directories are made when it starts, with the pid in it */
	if (cg->layout == CG_DISABLED || (cg->sd && !cg->sd->started))
		return 0;
	cg->self_fds = xcalloc(cg->nh, sizeof(int));
	for (size_t i = 0; i < cg->nh; i++) {
		cleanup_free char *p = xasprintf("%s/tasks", cg->h[i].dir);

		/* v2 has no `tasks`; where this fails the parent writes cgroup.procs */
		cg->self_fds[i] = cg->h[i].v2 ? -1 : open(p, O_WRONLY | O_CLOEXEC);
	}
	return 0;
}

int hutch_cgroup_enter_self(struct hutch_cgroup *cg, hutch_err *err)
{
	int r = 0;

	for (size_t i = 0; cg->self_fds && i < cg->nh; i++) {
		ssize_t w;

		if (cg->self_fds[i] < 0)
			continue;
		do
			w = write(cg->self_fds[i], "0", 1);
		while (w < 0 && errno == EINTR);
		if (w < 0 && r == 0)
			r = hutch_fail(err, errno, "cgroup: enter `%s`", cg->h[i].dir);
	}
	self_fds_close(cg);
	return r;
}

bool hutch_cgroup_enter_pending(const struct hutch_cgroup *cg, bool v2_entered)
{
	if (!cg || cg->layout == CG_DISABLED)
		return false;
	for (size_t i = 0; i < cg->nh; i++)
		if (!(cg->h[i].v2 && v2_entered) && !(cg->self_fds && cg->self_fds[i] >= 0))
			return true;
	return false;
}

int hutch_cgroup_enter(struct hutch_cgroup *cg, pid_t pid, bool v2_entered, hutch_err *err)
{
	cleanup_free char *s = xasprintf("%d", (int)pid);
	int r = 0;

	if (cg->layout == CG_DISABLED)
		return 0;
	if (cg->sd && !cg->sd->started) {
		/* the transient unit, with pid in it; then the directories systemd does not
		 * make (v1 hierarchies it does not manage) and the files, as with cgroupfs */
		if (cg_sd_start(cg, pid, err) < 0 || cg_make_dirs(cg, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < cg->nh && r == 0; i++) {
		/* in already (clone3), or the child enters by itself (hutch_cgroup_enter_self) */
		if ((cg->h[i].v2 && v2_entered) || (cg->self_fds && cg->self_fds[i] >= 0))
			continue;
		if (cg_write(cg->h[i].dir, "cgroup.procs", s, err) < 0)
			r = hutch_error_prefix(err, "cgroup: move pid %d", (int)pid);
	}
	self_fds_close(cg);
	return r;
}

int hutch_cgroup_v2_fd(struct hutch_cgroup *cg)
{
	struct cg_hier *h;

	if (cg->layout == CG_DISABLED || !(h = cg_unified(cg)) || (cg->sd && !cg->sd->started))
		return -1;
	if (cg->v2fd < 0)
		cg->v2fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return cg->v2fd;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* rmdir, retrying on EBUSY for up to ~2 s while the last tasks exit. */
static int rmdir_retry(const char *p)
{
	for (int i = 0; i < 200; i++) {
		if (rmdir(p) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		sleep_ms(10);
	}
	return -1;
}

/*
 * Before a cgroup with rdma limits goes: set them back to "max". The kernel keeps a
 * per-device pool for a cgroup with limits and frees it when the limits return to max;
 * when the cgroup is removed with limits still set (6.1's rdmacg_css_offline only raises
 * them, its css_free then frees the cgroup under the pool), the pool stays on the device's
 * list pointing into freed memory, and removing the RDMA device later corrupts the list
 * (a list_del BUG seen in the VM harness). Best effort: nothing to do without rdma.max.
 */
static void rdma_limits_to_max(const char *dir)
{
	cleanup_free char *path = xasprintf("%s/rdma.max", dir), *buf = NULL;

	if (read_file(path, &buf, NULL, NULL) < 0)
		return;
	for (char *sv, *line = strtok_r(buf, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		size_t n = strcspn(line, " ");
		cleanup_free char *dev = strndup(line, n), *reset = NULL;

		if (!dev)
			oom();
		if (!line[n] || !strstr(line + n, "=") ||
		    (strstr(line + n, "hca_handle=max") && strstr(line + n, "hca_object=max")))
			continue;
		reset = xasprintf("%s hca_handle=max hca_object=max", dev);
		if (write_file(path, reset, strlen(reset), NULL) < 0)
			log_debug("cgroup: reset the rdma limits of `%s` in `%s` failed", dev, dir);
	}
}

/* Remove the sub-cgroups the container made inside its own directory, deepest first. */
static int rmdir_children(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);

		rdma_limits_to_max(sub);
		if (rmdir_children(sub) < 0 || rmdir_retry(sub) < 0)
			r = -1;
	}
	closedir(d);
	return r;
}

int hutch_cgroup_destroy(struct hutch_cgroup *cg, hutch_err *err)
{
	int ret = 0;

	if (cg == NULL || cg->layout == CG_DISABLED)
		return 0;
	if (cg->v2fd >= 0) {
		close(cg->v2fd);
		cg->v2fd = -1;
	}
	/* systemd removes the unit's cgroup in the hierarchies it manages; hutch the rest */
	if (cg->sd && cg_sd_stop(cg, err) < 0)
		ret = -1;
	for (size_t i = 0; i < cg->nh; i++) {
		struct cg_hier *h = &cg->h[i];
		size_t n = strv_len(h->created);

		if (n == 0)
			continue;
		if (strcmp(h->created[n - 1], h->dir) == 0) {
			if (h->v2 || strv_contains(h->ctrls, "rdma"))
				rdma_limits_to_max(h->dir);
			/* sub-cgroups the container made, or tasks still leaving: the slow way */
			if (rmdir(h->dir) < 0 && errno != ENOENT &&
			    (rmdir_children(h->dir), rmdir_retry(h->created[n - 1]) < 0)) {
				if (ret == 0)
					ret = hutch_fail(err, errno, "cgroup: rmdir `%s`", h->dir);
				continue;
			}
			free(h->created[--n]);
			h->created[n] = NULL;
		}
		/* Parents: only when empty; another container may still be using them. */
		while (n > 0) {
			if (rmdir(h->created[n - 1]) < 0 && errno != ENOENT) {
				if (errno != EBUSY && errno != ENOTEMPTY && ret == 0)
					ret = hutch_fail(err, errno, "cgroup: rmdir `%s`",
							 h->created[n - 1]);
				break;
			}
			free(h->created[--n]);
			h->created[n] = NULL;
		}
	}
	return ret;
}

/* ---- state ---- */

json_object *hutch_cgroup_to_json(struct hutch_cgroup *cg)
{
	json_object *o = json_object_new_object(), *hs = json_object_new_array();

	json_object_object_add(o, "layout", json_object_new_string(cg_layout_name(cg->layout)));
	json_object_object_add(o, "path", json_object_new_string(cg->path ? cg->path : ""));
	for (size_t i = 0; i < cg->nh; i++) {
		struct cg_hier *h = &cg->h[i];
		json_object *jh = json_object_new_object(), *c = json_object_new_array(),
			    *cr = json_object_new_array();

		json_object_object_add(jh, "version", json_object_new_int(h->v2 ? 2 : 1));
		json_object_object_add(jh, "mount", json_object_new_string(h->mount));
		json_object_object_add(jh, "dir", json_object_new_string(h->dir));
		for (char **s = h->ctrls; s && *s; s++)
			json_object_array_add(c, json_object_new_string(*s));
		for (char **s = h->created; s && *s; s++)
			json_object_array_add(cr, json_object_new_string(*s));
		json_object_object_add(jh, "controllers", c);
		json_object_object_add(jh, "created", cr);
		json_object_array_add(hs, jh);
	}
	json_object_object_add(o, "hierarchies", hs);
	if (cg->sd)
		json_object_object_add(o, "systemd", cg_sd_to_json(cg->sd));
	return o;
}

/* hier_mkdirs's list before it runs: every directory of the path that does not exist yet,
 * and the shared default parent, which is hutch's whoever made it. */
static char **hier_planned(const struct cg_hier *h)
{
	cleanup_free char *cur = xstrdup(h->mount);
	cleanup_free char *copy = xstrdup(h->dir + strlen(h->mount));
	char **v = xcalloc(1, sizeof(char *));

	for (char *sv, *c = strtok_r(copy, "/", &sv); c; c = strtok_r(NULL, "/", &sv)) {
		char *next = path_join(cur, c);

		if (access(next, F_OK) < 0 || (strcmp(next, h->dir) != 0 && cg_default_parent(next, h)))
			strv_push(&v, xstrdup(next));
		free(cur);
		cur = next;
	}
	return v;
}

json_object *hutch_cgroup_plan_json(struct hutch_cgroup *cg)
{
	json_object *o;
	char ***saved = xcalloc(cg->nh + 1, sizeof(char **));

	for (size_t i = 0; i < cg->nh; i++) {
		saved[i] = cg->h[i].created;
		cg->h[i].created = hier_planned(&cg->h[i]);
	}
	o = hutch_cgroup_to_json(cg);
	for (size_t i = 0; i < cg->nh; i++) {
		strv_free(cg->h[i].created);
		cg->h[i].created = saved[i];
	}
	free(saved);
	return o;
}

static int strv_from_json(json_object *a, char ***out)
{
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string))
			return -1;
		strv_push(out, xstrdup(json_object_get_string(s)));
	}
	return 0;
}

int hutch_cgroup_from_json(json_object *o, struct hutch_cgroup **out, hutch_err *err)
{
	json_object *jl, *jp, *hs, *js;
	enum cg_layout l;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "layout", &jl) ||
	    cg_layout_parse(json_object_get_string(jl), &l) < 0)
		return hutch_fail(err, 0, "state.json: cgroup: missing or unknown layout");
	cleanup_cgroup struct hutch_cgroup *cg = cg_new(l);
	cg->path = xstrdup(json_object_object_get_ex(o, "path", &jp) ?
			   json_object_get_string(jp) : "");
	if (l == CG_DISABLED) {
		*out = steal_ptr(&cg);
		return 0;
	}
	if (!json_object_object_get_ex(o, "hierarchies", &hs) ||
	    !json_object_is_type(hs, json_type_array))
		return hutch_fail(err, 0, "state.json: cgroup.hierarchies: expected an array");
	for (size_t i = 0; i < json_object_array_length(hs); i++) {
		json_object *jh = json_object_array_get_idx(hs, i), *v, *m, *d, *c = NULL, *cr = NULL;
		struct cg_hier *h;

		if (!json_object_object_get_ex(jh, "version", &v) ||
		    !json_object_object_get_ex(jh, "mount", &m) ||
		    !json_object_object_get_ex(jh, "dir", &d))
			return hutch_fail(err, 0, "state.json: cgroup.hierarchies[%zu]: incomplete", i);
		json_object_object_get_ex(jh, "controllers", &c);
		json_object_object_get_ex(jh, "created", &cr);
		h = cg_add(cg);
		h->v2 = json_object_get_int(v) == 2;
		h->mount = xstrdup(json_object_get_string(m));
		h->dir = xstrdup(json_object_get_string(d));
		if (strv_from_json(c, &h->ctrls) < 0 || strv_from_json(cr, &h->created) < 0)
			return hutch_fail(err, 0, "state.json: cgroup.hierarchies[%zu]: bad lists", i);
	}
	if (json_object_object_get_ex(o, "systemd", &js) && cg_sd_from_json(js, &cg->sd, err) < 0)
		return -1;
	*out = steal_ptr(&cg);
	return 0;
}

const char *hutch_cgroup_path(struct hutch_cgroup *cg)
{
	return cg->path ? cg->path : "";
}

/* ---- processes ---- */

/* The directory whose cgroup.procs lists every process of the container. */
static const char *procs_dir(struct hutch_cgroup *cg)
{
	static const char *const pref[] = { "pids", "freezer", "memory", "cpu", "devices" };
	struct cg_hier *h = cg_unified(cg);

	if (h)
		return h->dir;
	for (size_t i = 0; i < ARRAY_SIZE(pref); i++)
		if ((h = cg_find(cg, pref[i])))
			return h->dir;
	return cg->nh ? cg->h[0].dir : NULL;
}

static int collect_pids(const char *dir, pid_t **pids, size_t *n, hutch_err *err)
{
	cleanup_free char *buf = NULL;
	cleanup_err hutch_err e = NULL;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (cg_read(dir, "cgroup.procs", &buf, &e) < 0) {
		if (e->status == ENOENT)
			return 0;
		return hutch_fail(err, e->status, "cgroup: read `%s/cgroup.procs`", dir);
	}
	for (char *sv, *t = strtok_r(buf, "\n", &sv); t; t = strtok_r(NULL, "\n", &sv)) {
		int64_t v;

		if (parse_i64(t, &v) < 0 || v <= 0)
			continue;
		*pids = xrealloc(*pids, (*n + 1) * sizeof(**pids));
		(*pids)[(*n)++] = (pid_t)v;
	}
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && r == 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		r = collect_pids(sub, pids, n, err);
	}
	closedir(d);
	return r;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int hutch_cgroup_pids(struct hutch_cgroup *cg, pid_t **pids, size_t *n, hutch_err *err)
{
	const char *dir;
	size_t j = 0;

	*pids = NULL;
	*n = 0;
	/* systemd: before the unit exists its path may be another container's */
	if (cg->layout == CG_DISABLED || (cg->sd && !cg->sd->started) || !(dir = procs_dir(cg)))
		return 0;
	if (collect_pids(dir, pids, n, err) < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(*pids, *n, sizeof(**pids), cmp_pid);
	for (size_t i = 0; i < *n; i++)
		if (j == 0 || (*pids)[j - 1] != (*pids)[i])
			(*pids)[j++] = (*pids)[i];
	*n = j;
	return 0;
}

/* ---- freezer ---- */

static bool v1_frozen(const char *dir, bool *transitional)
{
	cleanup_free char *s = NULL;
	cleanup_err hutch_err e = NULL;

	if (transitional)
		*transitional = false;
	if (cg_read(dir, "freezer.state", &s, &e) < 0)
		return false;
	if (transitional)
		*transitional = str_has_prefix(s, "FREEZING");
	return str_has_prefix(s, "FROZEN");
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Wait until key in dir/cgroup.events (v2) reads want, up to timeout_ms: the kernel wakes
 * a poll for POLLPRI on the file when it changes, so there is no sleep-and-look loop.
 * Each look reads through the polled fd, which re-arms it. 0 once it reads want, -1 on
 * timeout or when the file cannot be read.
 */
static int cg_events_wait(const char *dir, const char *key, uint64_t want, int timeout_ms)
{
	cleanup_free char *p = xasprintf("%s/cgroup.events", dir);
	cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
	int64_t end = now_ms() + timeout_ms;
	size_t klen = strlen(key);

	if (fd < 0)
		return -1;
	for (;;) {
		char buf[512];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		int64_t left;
		char *line;

		if (n < 0)
			return -1;
		buf[n] = '\0';
		for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
			if (strncmp(line, key, klen) == 0 && line[klen] == ' ' &&
			    strtoull(line + klen + 1, NULL, 10) == want)
				return 0;
		left = end - now_ms();
		if (left <= 0 || (poll(&pfd, 1, (int)left) < 0 && errno != EINTR))
			return -1;
	}
}

int hutch_cgroup_wait_empty(struct hutch_cgroup *cg, int timeout_ms)
{
	struct cg_hier *h = cg->layout == CG_DISABLED ? NULL : cg_unified(cg);
	int64_t end = now_ms() + timeout_ms;

	if (h && cg_exists(h->dir, "cgroup.events"))
		return cg_events_wait(h->dir, "populated", 0, timeout_ms);
	/* v1 only: no notification, look every millisecond */
	for (;;) {
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;

		if (hutch_cgroup_pids(cg, &pids, &n, NULL) < 0 || n == 0)
			return 0;
		if (now_ms() >= end)
			return -1;
		sleep_ms(1);
	}
}

static bool v2_frozen(const char *dir)
{
	uint64_t v;

	return cg_read_keyed(dir, "cgroup.events", "frozen", &v) == 0 && v == 1;
}

int hutch_cgroup_freeze(struct hutch_cgroup *cg, bool freeze, hutch_err *err)
{
	struct cg_hier *h;

	if (cg->layout == CG_DISABLED)
		return hutch_fail(err, 0, "cgroup: cgroups are disabled (--cgroup-manager disabled): "
				  "cannot %s", freeze ? "pause" : "resume");
	if ((h = cg_find(cg, "freezer")) && !h->v2) {
		const char *want = freeze ? "FROZEN" : "THAWED";

		for (int i = 0; i < 1000; i++) {
			bool trans;
			bool fz;

			/* Writing FROZEN again nudges tasks that were forking. */
			if (i % 10 == 0 && cg_write(h->dir, "freezer.state", want, err) < 0)
				return -1;
			fz = v1_frozen(h->dir, &trans);
			if (freeze ? fz : (!fz && !trans))
				return 0;
			sleep_ms(5);
		}
		if (freeze) {
			cleanup_err hutch_err e = NULL;

			cg_write(h->dir, "freezer.state", "THAWED", &e);
		}
		return hutch_fail(err, ETIMEDOUT, "cgroup: %s `%s`", freeze ? "freeze" : "thaw", h->dir);
	}
	if ((h = cg_unified(cg))) {
		if (cg_write(h->dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
			return -1;
		if (cg_events_wait(h->dir, "frozen", freeze, 5000) == 0 || v2_frozen(h->dir) == freeze)
			return 0;
		if (freeze) {
			cleanup_err hutch_err e = NULL;

			cg_write(h->dir, "cgroup.freeze", "0", &e);
		}
		return hutch_fail(err, ETIMEDOUT, "cgroup: %s `%s`", freeze ? "freeze" : "thaw", h->dir);
	}
	return hutch_fail(err, 0, "cgroup: no freezer on this host (layout %s): neither a v1 freezer "
			  "hierarchy nor cgroup v2", cg_layout_name(cg->layout));
}

bool hutch_cgroup_frozen(struct hutch_cgroup *cg)
{
	struct cg_hier *h;

	if (cg->layout == CG_DISABLED)
		return false;
	if ((h = cg_find(cg, "freezer")) && !h->v2)
		return v1_frozen(h->dir, NULL);
	if ((h = cg_unified(cg)))
		return v2_frozen(h->dir);
	return false;
}
