// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The container-process side of create and exec: join and create namespaces,
 * build the root filesystem, pivot into it, wait for `start`, exec the program.
 * Everything here runs in forked children and reports failures over the sync
 * socket (sync.h) before exiting; nothing returns to the caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "log.h"
#include "mount.h"
#include "security.h"
#include "sync.h"
#include "terminal.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int write_proc_self(const char *file, const char *data, hutch_err *err)
{
	cleanup_free char *p = xasprintf("self/%s", file);

	return proc_write(p, data, err);
}

/*
 * Close every fd of hutch's before the container's process could name one (CVE-2024-21626:
 * a process.cwd of /proc/self/fd/N): all but stdio, the preserved fds (3 .. 3+preserve-1)
 * and keep[] (sockets to the runtime, close-on-exec, closed before the exec).
 */
static int close_runtime_fds(int preserve, const int *keep, size_t nkeep, hutch_err *err)
{
	unsigned int from = 3 + preserve;

	for (;;) {
		unsigned int next = ~0U;

		/* the lowest fd to keep at or above from: close everything below it */
		for (size_t i = 0; i < nkeep; i++)
			if (keep[i] >= 0 && (unsigned int)keep[i] >= from && (unsigned int)keep[i] < next)
				next = keep[i];
		if (next > from && syscall(SYS_close_range, from, next - 1, 0) < 0)
			return hutch_fail(err, errno, "close the runtime's file descriptors");
		if (next == ~0U)
			return 0;
		from = next + 1;
	}
}

/*
 * chdir to the process's cwd, which must then be inside the container's root: getcwd
 * fails (or says "(unreachable)") for a directory outside it.
 */
static int enter_cwd(const char *cwd, const char *as, hutch_err *err)
{
	cleanup_free char *now = NULL;

	if (chdir(cwd) < 0)
		return hutch_fail(err, errno, "process.cwd: chdir `%s`%s", cwd, as);
	now = getcwd(NULL, 0);
	if (!now || now[0] != '/')
		return hutch_fail(err, now ? 0 : errno,
				  "process.cwd: `%s`%s is outside the container's root", cwd, as);
	return 0;
}

/* ---- namespaces ------------------------------------------------------- */

static int join_namespaces(struct hutch_ctx *c, bool user_only, hutch_err *err)
{
	/* user first, mount last: joining the others needs the caps the user ns gives */
	static const int order[] = { CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
				     CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS };

	for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
		if (user_only != (order[o] == CLONE_NEWUSER))
			continue;
		for (size_t i = 0; i < c->njoin; i++) {
			if (c->join_types[i] != order[o])
				continue;
			if (setns(c->join_fds[i], order[o]) < 0)
				return hutch_fail(err, errno, "join %s namespace `%s`", ns_name(order[o]),
						  spec_get_ns(c->spec, order[o])->path);
		}
	}
	return 0;
}

static int become_root(hutch_err *err)
{
	if (setresgid(0, 0, 0) < 0)
		return hutch_fail(err, errno, "setresgid(0) in the user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return hutch_fail(err, errno, "setresuid(0) in the user namespace (is uid 0 mapped?)");
	return 0;
}

static void init_stage2(struct hutch_ctx *c) __attribute__((noreturn));

/*
 * The first steps of a process the runtime forks toward the container: let go of the
 * state dir's lock, enter the cgroups (cgroup.h), wait for the runtime's go if it has
 * cgroups to write for us (one round trip fewer when it has none).
 */
static void child_begin(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;

	/* the runtime's held clone (security.h): our copy goes now, the runtime's later */
	hutch_selfexe_release();
	if (c->state_fd >= 0)
		close(c->state_fd);   /* its flock must end with the runtime command */
	if (c->cg && hutch_cgroup_enter_self(c->cg, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (c->await_go && sync_recv(c->sync_fd, SYNC_GO, NULL, NULL, &err) < 0)
		_exit(1);
}

void init_stage1(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;
	struct hutch_spec *s = c->spec;
	int newflags = s->ns_new & ~CLONE_NEWUSER;
	pid_t pid;

	child_begin(c);
	if (join_namespaces(c, true, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (spec_get_ns(s, CLONE_NEWUSER) && !(s->ns_new & CLONE_NEWUSER) && become_root(&err) < 0)
		sync_die(c->sync_fd, &err);
	if (s->ns_new & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0) {
			hutch_fail(&err, errno, "create the user namespace");
			sync_die(c->sync_fd, &err);
		}
		if (sync_send(c->sync_fd, SYNC_USERNS, 0, NULL) < 0 ||
		    sync_recv(c->sync_fd, SYNC_USERNS_DONE, NULL, NULL, &err) < 0)
			_exit(1);
		if (become_root(&err) < 0)
			sync_die(c->sync_fd, &err);
	}
	if (join_namespaces(c, false, &err) < 0)
		sync_die(c->sync_fd, &err);
	/* (the init is in the container's cgroup by now: the new namespace's root) */
	if ((newflags & CLONE_NEWCGROUP) &&
	    read_file("/proc/self/cgroup", &c->host_cgroups, NULL, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (newflags && unshare(newflags) < 0) {
		hutch_fail(&err, errno, "create namespaces (%s%s%s%s%s%s%s)",
			   newflags & CLONE_NEWNS ? "mount " : "", newflags & CLONE_NEWUTS ? "uts " : "",
			   newflags & CLONE_NEWIPC ? "ipc " : "", newflags & CLONE_NEWNET ? "network " : "",
			   newflags & CLONE_NEWPID ? "pid " : "", newflags & CLONE_NEWCGROUP ? "cgroup " : "",
			   newflags & CLONE_NEWTIME ? "time" : "");
		sync_die(c->sync_fd, &err);
	}
	if (s->has_time_offsets) {
		cleanup_free char *offs = xasprintf("monotonic %lld %lld\nboottime %lld %lld\n",
						    (long long)s->time_offsets[0][0],
						    (long long)s->time_offsets[0][1],
						    (long long)s->time_offsets[1][0],
						    (long long)s->time_offsets[1][1]);

		if (write_proc_self("timens_offsets", offs, &err) < 0)
			sync_die(c->sync_fd, &err);
	}
	pid = fork();
	if (pid < 0) {
		hutch_fail(&err, errno, "fork the container init");
		sync_die(c->sync_fd, &err);
	}
	if (pid == 0)
		init_stage2(c);
	sync_send(c->sync_fd, SYNC_PID, pid, NULL);
	_exit(0);
}

bool init_direct_possible(const struct hutch_ctx *c)
{
	const struct hutch_spec *s = c->spec;

	return c->njoin == 0 && !spec_get_ns(s, CLONE_NEWUSER) &&
	       !(s->ns_new & (CLONE_NEWUSER | CLONE_NEWTIME)) && !s->has_time_offsets;
}

void init_direct(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;

	child_begin(c);
	/* in all its cgroups now: they become the namespace's roots */
	if (c->spec->ns_new & CLONE_NEWCGROUP) {
		if (read_file("/proc/self/cgroup", &c->host_cgroups, NULL, &err) < 0)
			sync_die(c->sync_fd, &err);
		if (unshare(CLONE_NEWCGROUP) < 0) {
			hutch_fail(&err, errno, "create namespaces (cgroup)");
			sync_die(c->sync_fd, &err);
		}
	}
	init_stage2(c);
}

/* ---- root filesystem -------------------------------------------------- */

/*
 * This process's own cgroup path in the hierarchy whose controllers are ctrls, as the host
 * sees it: from /proc/self/cgroup as it read before the process entered a new cgroup
 * namespace (where it reads "/"), or now.
 */
static char *own_cgroup_path(const struct hutch_ctx *c, const char *ctrls)
{
	cleanup_free char *buf = NULL;
	char *line, *save = NULL;

	if (c->host_cgroups)
		buf = xstrdup(c->host_cgroups);
	else if (read_file("/proc/self/cgroup", &buf, NULL, NULL) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		if (strcmp(c1 + 1, ctrls) == 0)
			return xstrdup(c2 + 1);
	}
	return NULL;
}

/*
 * Bind the container's own cgroup directory of the hierarchy mounted at host_mnt onto
 * target: what a cgroup namespace would show, where the kernel does not let the container
 * mount the hierarchy itself.
 */
static int bind_cgroup(const struct hutch_ctx *c, const char *host_mnt, const char *ctrls,
		       const char *target, hutch_err *err)
{
	cleanup_free char *own = own_cgroup_path(c, ctrls);
	cleanup_free char *src = xasprintf("%s%s", host_mnt, own ? own : "/");

	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return hutch_fail(err, errno, "bind cgroup `%s`", src);
	return 0;
}

static int remount_ro(const char *target, hutch_err *err);

/* Remount what is now mounted at path (a fresh lookup: an fd opened before the
 * mount points below it). */
static int remount_ro_at(int rootfd, const char *path, hutch_err *err)
{
	cleanup_close int fd = open_in_root(rootfd, path, MKPATH_NONE, err);
	cleanup_free char *p = NULL;

	if (fd < 0)
		return -1;
	p = fd_path(fd);
	return remount_ro(p, err);
}

static int remount_ro(const char *target, hutch_err *err)
{
	struct statvfs sv;
	unsigned long keep = 0;

	if (statvfs(target, &sv) == 0)
		keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME | ST_NOATIME);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		return hutch_fail(err, errno, "remount `%s` read-only", target);
	return 0;
}

/*
 * A "cgroup" mount: cgroup2 on a unified host; on v1/hybrid a tmpfs holding each
 * host hierarchy. With a new cgroup namespace the hierarchies are mounted afresh
 * (showing the container's cgroup as their root); otherwise, or when mounting is
 * not allowed, the container's own cgroup directories are bound. A cgroup namespace owned
 * by a user namespace may not mount them: the kernel says EPERM, or EBUSY for a hierarchy
 * whose superblock belongs to the initial user namespace (cgroup2 always; runc and crun
 * fall back to the bind for both).
 */
static int mount_cgroups(struct hutch_ctx *c, int rootfd, const struct hutch_mount *m, hutch_err *err)
{
	bool cgns = c->spec->ns_new & CLONE_NEWCGROUP;
	unsigned long flags = (m->flags & ~MS_RDONLY) | MS_NOSUID | MS_NOEXEC | MS_NODEV;
	cleanup_close int target = open_in_root(rootfd, m->destination, MKPATH_DIR, err);
	cleanup_free char *tpath = NULL;
	cleanup_free char *mi = NULL;
	struct statfs sf;
	char *line, *save = NULL;

	if (target < 0 || check_proc_target(rootfd, target, m->destination, err) < 0)
		return -1;
	tpath = fd_path(target);
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		if (!cgns || mount("cgroup2", tpath, "cgroup2", flags, NULL) < 0) {
			if (cgns && errno != EPERM && errno != EBUSY)
				return hutch_fail(err, errno, "mount cgroup2 on `%s`", m->destination);
			if (bind_cgroup(c, "/sys/fs/cgroup", "", tpath, err) < 0)
				return -1;
		}
		return (m->flags & MS_RDONLY) ? remount_ro_at(rootfd, m->destination, err) : 0;
	}
	if (mount("tmpfs", tpath, "tmpfs", flags, "mode=755") < 0)
		return hutch_fail(err, errno, "mount tmpfs on `%s`", m->destination);
	if (read_file("/proc/self/mountinfo", &mi, NULL, err) < 0)
		return -1;
	for (line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5], *sep, *rest, *fstype, *src, *superopts, *name;
		cleanup_free char *dest = NULL;
		cleanup_free char *ctrls = NULL;
		cleanup_free char *sp = NULL;
		cleanup_close int sub = -1;
		char *p = line;
		bool v2;

		for (int i = 0; i < 5; i++)
			f[i] = strsep(&p, " ");
		if (!p || !f[4] || !(sep = strstr(p, " - ")))
			continue;
		rest = sep + 3;
		fstype = strsep(&rest, " ");
		src = strsep(&rest, " ");
		superopts = rest;
		(void)src;
		if (!fstype || !superopts || (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2")))
			continue;
		if (!str_has_prefix(f[4], "/sys/fs/cgroup/"))
			continue;
		name = f[4] + strlen("/sys/fs/cgroup/");
		if (!*name || strchr(name, '/'))
			continue;
		v2 = strcmp(fstype, "cgroup2") == 0;
		/* the controller list as /proc/self/cgroup shows it: superopts minus rw/ro */
		ctrls = xstrdup("");
		if (!v2) {
			char *o, *os = superopts;

			while ((o = strsep(&os, ","))) {
				char *n;

				if (!strcmp(o, "rw") || !strcmp(o, "ro") || !*o)
					continue;
				n = xasprintf("%s%s%s", ctrls, *ctrls ? "," : "", o);
				free(ctrls);
				ctrls = n;
			}
		}
		dest = xasprintf("%s/%s", m->destination, name);
		sub = open_in_root(rootfd, dest, MKPATH_DIR, err);
		if (sub < 0)
			return -1;
		sp = fd_path(sub);
		if (!cgns || mount("cgroup", sp, fstype, flags, v2 ? NULL : ctrls) < 0) {
			if (cgns && errno != EPERM && errno != EBUSY)
				return hutch_fail(err, errno, "mount cgroup %s on `%s`", ctrls, dest);
			if (bind_cgroup(c, f[4], ctrls, sp, err) < 0)
				return -1;
		}
		if ((m->flags & MS_RDONLY) && remount_ro_at(rootfd, dest, err) < 0)
			return -1;
	}
	return (m->flags & MS_RDONLY) ? remount_ro_at(rootfd, m->destination, err) : 0;
}

static bool dev_is_tmpfs_mount(const struct hutch_spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (strcmp(s->mounts[i].destination, "/dev") == 0)
			return !s->mounts[i].bind;
	return false;
}

static int setup_rootfs(struct hutch_ctx *c, hutch_err *err)
{
	struct hutch_spec *s = c->spec;
	bool userns = spec_has_ns(s, CLONE_NEWUSER);
	cleanup_close int rootfd = -1;

	bool own_ns = spec_has_ns(s, CLONE_NEWNS);

	/*
	 * Without a mount namespace (runtime-spec: the container inherits the runtime's), the
	 * mounts are made in the host's, on a private bind of the rootfs that `delete`
	 * detaches (STATE_HOST_MOUNTS); the host's / keeps its propagation.
	 */
	if (own_ns && mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return hutch_fail(err, errno, "make / a slave mount");
	if (mount(s->root, s->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return hutch_fail(err, errno, "bind the rootfs `%s`", s->root);
	if (!own_ns && mount(NULL, s->root, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return hutch_fail(err, errno, "make the rootfs `%s` private", s->root);
	rootfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return hutch_fail(err, errno, "open the rootfs `%s`", s->root);
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct hutch_mount *m = &s->mounts[i];
		int r;

		if (m->type && (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")))
			r = mount_cgroups(c, rootfd, m, err);
		else
			r = mount_one(rootfd, m, userns, hutch_security_mount_label(c->sec), err);
		if (r < 0)
			return hutch_error_prefix(err, "config.json: mounts[%zu]", i);
	}
	if (dev_is_tmpfs_mount(s) && setup_dev(rootfd, s, userns, c->dev_fds, err) < 0)
		return -1;
	{
		/* a missing process.cwd is made, inside the root (as runc does); what cannot
		 * be is left for chdir to report */
		cleanup_err hutch_err ignored = NULL;
		int cwd = open_in_root(rootfd, c->proc->cwd, MKPATH_DIR, &ignored);

		if (cwd >= 0)
			close(cwd);
	}
	return 0;
}

static int enter_rootfs(struct hutch_ctx *c, hutch_err *err)
{
	struct hutch_spec *s = c->spec;
	cleanup_close int oldroot = -1, newroot = -1;

	if (!spec_has_ns(s, CLONE_NEWNS)) {
		if (chroot(s->root) < 0 || chdir("/") < 0)
			return hutch_fail(err, errno, "chroot `%s`", s->root);
		return 0;
	}
	if (c->no_pivot) {
		if (chdir(s->root) < 0 || mount(s->root, "/", NULL, MS_MOVE, NULL) < 0 ||
		    chroot(".") < 0 || chdir("/") < 0)
			return hutch_fail(err, errno, "move the rootfs to / (--no-pivot)");
	} else {
		oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		newroot = open(s->root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (oldroot < 0 || newroot < 0)
			return hutch_fail(err, errno, "open roots for pivot_root");
		if (fchdir(newroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
			return hutch_fail(err, errno, "pivot_root to `%s`", s->root);
		/* the old root now sits under the new one: detach it without propagating */
		if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
		    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
			return hutch_fail(err, errno, "detach the old root");
	}
	if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
		return hutch_fail(err, errno, "set linux.rootfsPropagation");
	if (s->root_readonly && remount_ro("/", err) < 0)
		return hutch_error_prefix(err, "root.readonly");
	return 0;
}

/*
 * stdio on the host's /dev/null (conmon's stdin) is reopened on the container's own: a
 * file of a mount outside the container's mount namespace is one CRIU cannot dump
 * ("Can't lookup mount"), as runc's reOpenDevNull has it.
 */
static int reopen_dev_null(hutch_err *err)
{
	cleanup_close int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat null, st;

	if (fd < 0 || fstat(fd, &null) < 0 || !S_ISCHR(null.st_mode))
		return 0;   /* no /dev/null of its own: nothing to reopen on */
	for (int i = 0; i < 3; i++)
		if (fstat(i, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev &&
		    dup3(fd, i, 0) < 0)
			return hutch_fail(err, errno, "reopen /dev/null as fd %d", i);
	return 0;
}

/* ---- process ---------------------------------------------------------- */

char *find_executable(const char *name, char *const *env)
{
	const char *path = NULL;
	cleanup_free char *copy = NULL;
	char *dir, *save = NULL;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	for (size_t i = 0; env && env[i]; i++)
		if (str_has_prefix(env[i], "PATH="))
			path = env[i] + 5;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *full = xasprintf("%s/%s", *dir ? dir : ".", name);
		struct stat st;

		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		free(full);
	}
	return NULL;
}

static char *home_of(uid_t uid)
{
	cleanup_file FILE *f = fopen("/etc/passwd", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		char *fields[7], *p = line;
		int n = 0;

		while (n < 7 && (fields[n] = strsep(&p, ":")))
			n++;
		if (n >= 6 && (uid_t)strtoul(fields[2], NULL, 10) == uid) {
			fields[5][strcspn(fields[5], "\n")] = '\0';
			return xstrdup(fields[5]);
		}
	}
	return xstrdup("/");
}

static int set_rlimits(const struct hutch_process *p, hutch_err *err)
{
	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };

		if (setrlimit(p->rlimits[i].resource, &rl) < 0) {
			struct rlimit cur;

			getrlimit(p->rlimits[i].resource, &cur);
			return hutch_fail(err, errno,
					  "process.rlimits[%zu]: set %llu/%llu (the current hard limit is %llu)",
					  i, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
					  (unsigned long long)cur.rlim_max);
		}
	}
	return 0;
}

/* crun's annotation run.oci.keep_original_groups=1 (podman --group-add keep-groups) */
static bool keep_original_groups(const struct hutch_spec *s)
{
	json_object *v;

	return s && s->annotations &&
	       json_object_object_get_ex(s->annotations, "run.oci.keep_original_groups", &v) &&
	       json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "1") == 0;
}

/*
 * The supplementary groups: process.user.additionalGids; with keep_original_groups, the
 * groups hutch was started with plus those (no setgroups at all when there are none to add,
 * as in crun, so a user namespace that denies setgroups keeps them too).
 */
static int set_groups(const struct hutch_user *u, bool keep, hutch_err *err)
{
	cleanup_free gid_t *all = NULL;
	int n;

	if (!keep) {
		if (setgroups(u->ngids, u->gids) < 0 && !(errno == EPERM && u->ngids == 0))
			return hutch_fail(err, errno, "process.user.additionalGids: setgroups");
		return 0;
	}
	if (!u->ngids)
		return 0;
	n = getgroups(0, NULL);
	if (n < 0)
		return hutch_fail(err, errno, "run.oci.keep_original_groups: getgroups");
	all = xcalloc((size_t)n + u->ngids, sizeof(*all));
	n = getgroups(n, all);
	if (n < 0)
		return hutch_fail(err, errno, "run.oci.keep_original_groups: getgroups");
	for (size_t i = 0; i < u->ngids; i++) {
		bool dup = false;

		for (int k = 0; k < n && !dup; k++)
			dup = all[k] == u->gids[i];
		if (!dup)
			all[n++] = u->gids[i];
	}
	if (setgroups((size_t)n, all) < 0)
		return hutch_fail(err, errno, "process.user.additionalGids: setgroups (with "
				  "run.oci.keep_original_groups)");
	return 0;
}

static int set_user(const struct hutch_process *p, bool keep_groups, hutch_err *err)
{
	const struct hutch_user *u = &p->user;

	if (prctl(PR_SET_KEEPCAPS, 1) < 0)
		return hutch_fail(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (set_groups(u, keep_groups, err) < 0)
		return -1;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return hutch_fail(err, errno, "process.user.gid: setresgid(%u)", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return hutch_fail(err, errno, "process.user.uid: setresuid(%u)", u->uid);
	if (u->has_umask)
		umask(u->umask);
	else
		umask(0022);
	return 0;
}

static char **build_env(const struct hutch_process *p)
{
	char **env = NULL;
	bool home = false;

	for (size_t i = 0; p->env && p->env[i]; i++) {
		home |= str_has_prefix(p->env[i], "HOME=");
		strv_push(&env, xstrdup(p->env[i]));
	}
	if (!home) {
		cleanup_free char *h = home_of(p->user.uid);

		strv_push(&env, xasprintf("HOME=%s", h));
	}
	if (!env)
		env = xcalloc(1, sizeof(char *));
	return env;
}

int process_exec(struct hutch_ctx *c, int reply_fd, hutch_err *err)
{
	struct hutch_process *p = c->proc;
	cleanup_strv char **env = build_env(p);
	cleanup_free char *exe = NULL;

	if (!p->args)   /* container_start refuses a config without process first */
		return hutch_fail(err, 0, "config.json: process: missing");
	if (enter_cwd(p->cwd, "", err) < 0)
		return -1;
	exe = find_executable(p->args[0], env);
	if (!exe)
		return hutch_fail(err, 0, "exec: `%s`: executable file not found in $PATH", p->args[0]);
	if (set_user(p, keep_original_groups(c->spec), err) < 0)
		return -1;
	/* as the user now: a cwd only it can reach must still work */
	{
		cleanup_free char *as = xasprintf(" as uid %u", p->user.uid);

		if (enter_cwd(p->cwd, as, err) < 0)
			return -1;
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hutch_fail(err, errno, "process.noNewPrivileges");
	hutch_security_set_ready_fd(c->sec, reply_fd);
	if (c->sec && hutch_security_apply_process(c->sec, err) < 0)
		return -1;
	if (reply_fd >= 0) {
		if (!hutch_security_ready_sent(c->sec))
			(void)!write(reply_fd, "ok", 2);
		close(reply_fd);
	}
	execve(exe, p->args, env);
	return hutch_fail(err, errno, "exec `%s`", exe);
}

static int keep_fds(int preserve)
{
	/* stdio and the preserved fds stay; everything else closes at exec */
	for (int fd = 3; fd < 3 + preserve; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return syscall(SYS_close_range, 3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC);
}

static void init_stage2(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;
	cleanup_free char *state_json = NULL;
	struct hutch_spec *s = c->spec;
	char cmd[16] = "";
	int conn;

	if (sync_recv(c->sync_fd, SYNC_GO, NULL, NULL, &err) < 0)
		_exit(1);
	setsid();
	if (!c->no_new_keyring &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c->id) < 0 && errno != ENOSYS)
		log_debug("session keyring: %s", strerror(errno));
	if ((spec_has_ns(s, CLONE_NEWNS) || s->nmounts) && setup_rootfs(c, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (sync_send(c->sync_fd, SYNC_HOOKS, 0, NULL) < 0 ||
	    sync_recv(c->sync_fd, SYNC_HOOKS_DONE, NULL, &state_json, &err) < 0)
		_exit(1);
	if (hutch_hooks_run(s->json, "createContainer", state_json, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (enter_rootfs(c, &err) < 0 || reopen_dev_null(&err) < 0)
		sync_die(c->sync_fd, &err);
	{
		int keep[] = { c->sync_fd, c->listen_fd, c->console_fd,
			       hutch_security_listener_fd(c->sec), hutch_log_fd() };

		if (close_runtime_fds(c->preserve_fds, keep, ARRAY_SIZE(keep), &err) < 0)
			sync_die(c->sync_fd, &err);
	}
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		hutch_fail(&err, errno, "hostname: sethostname");
		sync_die(c->sync_fd, &err);
	}
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		hutch_fail(&err, errno, "domainname: setdomainname");
		sync_die(c->sync_fd, &err);
	}
	if (c->sec && hutch_security_apply_fs(c->sec, &err) < 0)
		sync_die(c->sync_fd, &err);
	/* security part: the pty (container devpts, after pivot_root) and the notify state */
	if (c->proc->terminal &&
	    hutch_terminal_setup(c->console_fd, c->proc->console_height, c->proc->console_width, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (c->console_fd >= 0)
		close(c->console_fd);
	hutch_security_set_state(c->sec, state_json, 0);
	if (set_rlimits(c->proc, &err) < 0 || mempolicy_apply(&s->mempolicy, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (enter_cwd(c->proc->cwd, "", &err) < 0)
		sync_die(c->sync_fd, &err);
	if (c->proc->args) {   /* none without process (spec.c) */
		cleanup_strv char **env = build_env(c->proc);
		cleanup_free char *exe = find_executable(c->proc->args[0], env);

		if (!exe) {
			hutch_fail(&err, 0, "exec: `%s`: executable file not found in $PATH",
				   c->proc->args[0]);
			sync_die(c->sync_fd, &err);
		}
	}
	keep_fds(c->preserve_fds);
	if (sync_send(c->sync_fd, SYNC_READY, 0, NULL) < 0)
		_exit(1);
	close(c->sync_fd);

	/* Created: wait for `start` to connect and say so. */
	for (;;) {
		ssize_t n;

		conn = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		n = read(conn, cmd, sizeof(cmd) - 1);
		if (n == 5 && memcmp(cmd, "start", 5) == 0)
			break;
		close(conn);
	}
	close(c->listen_fd);
	if (hutch_hooks_run(s->json, "startContainer", state_json, &err) < 0 ||
	    process_exec(c, conn, &err) < 0) {
		(void)!write(conn, err->msg, strlen(err->msg));
		_exit(127);
	}
	_exit(127);
}

/* ---- exec ------------------------------------------------------------- */

/* The process that runs the program: in every namespace of the container by now. */
__attribute__((noreturn)) static void exec_stage2(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;
	int host_pid = 0;

	if (sync_recv(c->sync_fd, SYNC_GO, &host_pid, NULL, &err) < 0)
		_exit(1);
	hutch_security_set_state(c->sec, NULL, host_pid);
	if (fchdir(c->exec_rootfd) < 0 || chroot(".") < 0) {
		hutch_fail(&err, errno, "enter the container's root");
		sync_die(c->sync_fd, &err);
	}
	close(c->exec_rootfd);
	close(c->exec_pidfd);
	{
		int keep[] = { c->sync_fd, c->console_fd, hutch_security_listener_fd(c->sec),
			       hutch_log_fd() };

		if (close_runtime_fds(c->preserve_fds, keep, ARRAY_SIZE(keep), &err) < 0)
			sync_die(c->sync_fd, &err);
	}
	if (c->proc->terminal || getpgrp() != getpid())
		setsid();
	if (c->proc->terminal &&
	    hutch_terminal_setup(c->console_fd, c->proc->console_height,
				 c->proc->console_width, &err) < 0)
		sync_die(c->sync_fd, &err);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (set_rlimits(c->proc, &err) < 0)
		sync_die(c->sync_fd, &err);
	keep_fds(c->preserve_fds);
	process_exec(c, -1, &err);
	sync_die(c->sync_fd, &err);
}

void exec_stage1(struct hutch_ctx *c)
{
	cleanup_err hutch_err err = NULL;
	pid_t pid;

	child_begin(c);
	if (c->exec_nsflags && setns(c->exec_pidfd, c->exec_nsflags) < 0) {
		hutch_fail(&err, errno, "join the container's namespaces");
		sync_die(c->sync_fd, &err);
	}
	/* already born in the container's pid namespace (or sharing ours): no second fork */
	if (!(c->exec_nsflags & CLONE_NEWPID))
		exec_stage2(c);
	pid = fork();
	if (pid < 0) {
		hutch_fail(&err, errno, "fork");
		sync_die(c->sync_fd, &err);
	}
	if (pid == 0)
		exec_stage2(c);
	sync_send(c->sync_fd, SYNC_PID, pid, NULL);
	_exit(0);
}
