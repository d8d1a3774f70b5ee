// SPDX-License-Identifier: GPL-2.0-or-later
/* Mounts and device nodes inside the container rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#include "log.h"
#include "mount.h"
#include "utils.h"

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

char *fd_path(int fd)
{
	return xasprintf("/proc/self/fd/%d", fd);
}

static int open_in_root_depth(int rootfd, const char *path, int create, int depth, hutch_err *err);

/*
 * The common case of a missing path: only its last component is missing (a mount point
 * under /dev or /sys/fs/cgroup). Create it in its parent, resolved in the root, and open
 * it; -1 for anything else (a missing parent, a dangling symlink in the way, "." or ".."
 * last), which the walk of open_in_root_depth handles.
 */
static int create_last(int rootfd, const char *path, int create)
{
	cleanup_free char *dir = xstrdup(path);
	cleanup_close int parent = -1;
	char *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : dir;
	int r;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -1;
	if (slash)
		*slash = '\0';
	parent = openat2_in_root(rootfd, slash && *dir ? dir : "/", O_PATH);
	if (parent < 0)
		return -1;
	if (create == MKPATH_FILE) {
		r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (r >= 0)
			close(r);
	} else {
		r = mkdirat(parent, name, 0755);
	}
	if (r < 0)
		return -1;
	return openat2_in_root(rootfd, path, O_PATH);
}

int open_in_root(int rootfd, const char *path, int create, hutch_err *err)
{
	return open_in_root_depth(rootfd, path, create, 0, err);
}

static int open_in_root_depth(int rootfd, const char *path, int create, int depth, hutch_err *err)
{
	cleanup_free char *copy = NULL;
	cleanup_free char *prefix = NULL;
	cleanup_close int parent = -1;
	char *s, *comp;
	int fd;

	fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || create == MKPATH_NONE)
		return hutch_fail(err, errno, "resolve `%s` in the rootfs", path);
	fd = create_last(rootfd, path, create);
	if (fd >= 0)
		return fd;
	/* Walk prefix by prefix, creating what is missing. */
	parent = openat2_in_root(rootfd, "/", O_PATH);
	if (parent < 0)
		return hutch_fail(err, errno, "open the rootfs");
	copy = xstrdup(path);
	prefix = xstrdup("");
	s = copy;
	while ((comp = strsep(&s, "/"))) {
		bool last;
		char *np;
		int next;

		if (!*comp || strcmp(comp, ".") == 0)
			continue;
		last = !s || s[strspn(s, "/")] == '\0';
		np = xasprintf("%s/%s", prefix, comp);
		free(prefix);
		prefix = np;
		next = openat2_in_root(rootfd, prefix, O_PATH);
		if (next < 0 && errno == ENOENT) {
			int r;

			if (last && create == MKPATH_FILE) {
				r = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, comp, 0755);
			}
			if (r < 0 && errno != EEXIST)
				return hutch_fail(err, errno, "create `%s` in the rootfs", prefix);
			next = openat2_in_root(rootfd, prefix, O_PATH);
			if (next < 0 && errno == ENOENT) {
				/* a dangling symlink: create its target, inside the root */
				cleanup_free char *target = NULL;
				cleanup_free char *rest = NULL;
				cleanup_free char *np2 = NULL;
				ssize_t len;
				char *slash;

				if (depth > 40)
					return hutch_fail(err, ELOOP, "resolve `%s` in the rootfs", path);
				target = xmalloc(PATH_MAX);
				len = readlinkat(parent, comp, target, PATH_MAX - 1);
				if (len < 0)
					return hutch_fail(err, errno, "resolve `%s` in the rootfs", prefix);
				target[len] = '\0';
				rest = xstrdup(s ? s : "");
				slash = strrchr(prefix, '/');
				*slash = '\0';
				if (target[0] == '/')
					np2 = xasprintf("%s/%s", target, rest);
				else
					np2 = xasprintf("%s/%s/%s", prefix, target, rest);
				return open_in_root_depth(rootfd, np2, create, depth + 1, err);
			}
		}
		if (next < 0)
			return hutch_fail(err, errno, "resolve `%s` in the rootfs", prefix);
		close(parent);
		parent = next;
	}
	return steal_fd(&parent);
}

/*
 * A mount must not land on procfs (CVE-2019-16884, CVE-2023-27561: a destination that is,
 * or leads through a link to, /proc would cover the files the runtime writes to apply an
 * LSM profile, sysctls...). Only the files lxcfs-style tools replace may be, named by
 * their real path (as runc allows).
 */
int check_proc_target(int rootfd, int target, const char *dest, hutch_err *err)
{
	static const char *const allowed[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
		"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
		"/proc/sys/kernel/ns_last_pid",
	};
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
	struct statfs sf;
	const char *rel = dest;

	if (fstatfs(target, &sf) < 0)
		return hutch_fail(err, errno, "statfs `%s`", dest);
	if (sf.f_type != PROC_SUPER_MAGIC)
		return 0;
	while (*rel == '/')
		rel++;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		if (strcmp(dest, allowed[i]) == 0) {
			/* by that very path, not through a link */
			int fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

			if (fd >= 0) {
				close(fd);
				return 0;
			}
		}
	}
	return hutch_fail(err, 0, "destination `%s` is on procfs: nothing may be mounted over /proc (but /proc/cpuinfo, /proc/meminfo and the other files lxcfs provides)",
			  dest);
}

/* The data of a filesystem mount with linux.mountLabel added (NULL: leave it as it is). */
static char *labelled_data(const struct hutch_mount *m, const char *label)
{
	if (!label || !*label || !strcmp(m->type, "proc") || !strcmp(m->type, "sysfs") ||
	    !strcmp(m->type, "mqueue") || (m->data && strstr(m->data, "context=")))
		return NULL;
	if (m->data && *m->data)
		return xasprintf("%s,context=\"%s\"", m->data, label);
	return xasprintf("context=\"%s\"", label);
}

/*
 * Make the mount at dest and every mount below it read-only: "rbind" with "ro" must not
 * leave the submounts of the source writable (CVE-2023-25809: a host /sys bound with its
 * cgroup hierarchies).
 */
static int rdonly_recursive(int rootfd, const char *dest, hutch_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	cleanup_close int fd = open_in_root(rootfd, dest, MKPATH_NONE, err);

	if (fd < 0)
		return -1;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return hutch_fail(err, errno, "make `%s` and the mounts below it read-only", dest);
	return 0;
}

int mount_one(int rootfd, const struct hutch_mount *m, bool in_userns, const char *mount_label,
	      hutch_err *err)
{
	cleanup_close int target = -1;
	cleanup_free char *tpath = NULL;
	int create = MKPATH_DIR;
	unsigned long flags = m->flags & ~MS_REMOUNT;

	if (m->bind) {
		struct stat st;

		if (stat(m->source, &st) < 0)
			return hutch_fail(err, errno, "bind mount source `%s`", m->source);
		if (!S_ISDIR(st.st_mode))
			create = MKPATH_FILE;
	}
	target = open_in_root(rootfd, m->destination, create, err);
	if (target < 0)
		return -1;
	if (check_proc_target(rootfd, target, m->destination, err) < 0)
		return -1;
	tpath = fd_path(target);
	if (m->bind) {
		if (mount(m->source, tpath, NULL, MS_BIND | (m->rec ? MS_REC : 0), NULL) < 0)
			return hutch_fail(err, errno, "bind mount `%s` on `%s`", m->source, m->destination);
		if (flags & ~(MS_REC)) {
			/* Bind mounts take their flags only through a remount; keep locked flags. */
			struct statvfs sv;
			cleanup_close int newfd = open_in_root(rootfd, m->destination, MKPATH_NONE, err);
			cleanup_free char *np = NULL;
			unsigned long keep = 0;

			if (newfd < 0)
				return -1;
			np = fd_path(newfd);
			if (statvfs(np, &sv) == 0) {
				keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME |
						    ST_NODIRATIME | ST_RELATIME);
				keep &= ~m->clear;
			}
			if (mount(NULL, np, NULL, MS_BIND | MS_REMOUNT | flags | keep, NULL) < 0)
				return hutch_fail(err, errno, "remount `%s` with its options", m->destination);
		}
		if (m->rec && (flags & MS_RDONLY) && rdonly_recursive(rootfd, m->destination, err) < 0)
			return -1;
	} else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
		return hutch_fail(err, EINVAL, "internal: cgroup mounts are set up by the init");
	} else {
		cleanup_free char *ldata = labelled_data(m, mount_label);
		const char *data = ldata ? ldata : m->data;

		if (mount(m->source ? m->source : m->type, tpath, m->type, flags, data) < 0) {
			if (errno == EPERM && in_userns && strcmp(m->type, "sysfs") == 0) {
				/* sysfs needs a network namespace owned by our user namespace */
				if (mount("/sys", tpath, NULL, MS_BIND | MS_REC, NULL) == 0) {
					if ((flags & MS_RDONLY) &&
					    rdonly_recursive(rootfd, m->destination, err) < 0)
						return -1;
					goto prop;
				}
			}
			return hutch_fail(err, errno, "mount %s on `%s`%s%s", m->type, m->destination,
					  data ? " with " : "", data ? data : "");
		}
		if (mount_label && *mount_label && !strcmp(m->type, "mqueue")) {
			cleanup_close int newfd = open_in_root(rootfd, m->destination, MKPATH_NONE, err);
			cleanup_free char *np = NULL;

			if (newfd < 0)
				return -1;
			/* an O_PATH fd: set the attribute through its /proc/self/fd link */
			np = fd_path(newfd);
			if (setxattr(np, "security.selinux", mount_label, strlen(mount_label), 0) < 0)
				return hutch_fail(err, errno, "linux.mountLabel: label the mqueue mount `%s`",
						  m->destination);
		}
	}
prop:
	if (m->propagation) {
		cleanup_close int newfd = open_in_root(rootfd, m->destination, MKPATH_NONE, err);
		cleanup_free char *np = NULL;

		if (newfd < 0)
			return -1;
		np = fd_path(newfd);
		if (mount(NULL, np, NULL, m->propagation, NULL) < 0)
			return hutch_fail(err, errno, "set propagation of `%s`", m->destination);
	}
	return 0;
}

static const struct {
	const char *path;
	unsigned int major, minor;
} default_devs[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int make_dev(int rootfd, const char *path, char type, unsigned int major, unsigned int minor,
		    mode_t mode, uid_t uid, gid_t gid, bool in_userns, int src_fd, hutch_err *err)
{
	cleanup_free char *dir = xstrdup(path);
	cleanup_close int dirfd = -1;
	char *base = strrchr(dir, '/');
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	*base++ = '\0';
	dirfd = open_in_root(rootfd, *dir ? dir : "/", MKPATH_DIR, err);
	if (dirfd < 0)
		return -1;
	{
		/* mknodat needs a real directory fd, not O_PATH */
		cleanup_free char *dp = fd_path(dirfd);
		cleanup_close int real = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (real < 0)
			return hutch_fail(err, errno, "open `%s`", dir);
		unlinkat(real, base, 0);
		if (in_userns && fmt != S_IFIFO) {
			/* no mknod in a user namespace: bind the host's node over an empty file */
			cleanup_close int f = openat(real, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
			cleanup_free char *fp = NULL;

			if (f < 0)
				return hutch_fail(err, errno, "create `%s`", path);
			fp = fd_path(f);
			if (src_fd >= 0) {
				/* a detached clone the runtime made: attach it here */
				if (syscall(SYS_move_mount, src_fd, "", f, "",
					    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
					return hutch_fail(err, errno, "attach device `%s`", path);
			} else if (mount(path, fp, NULL, MS_BIND, NULL) < 0) {
				return hutch_fail(err, errno, "bind device `%s`", path);
			}
			/* a device node is neither a program nor setuid (as crun binds them) */
			{
				struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };

				if (syscall(SYS_mount_setattr, real, base, AT_SYMLINK_NOFOLLOW, &a,
					    sizeof(a)) < 0)
					return hutch_fail(err, errno, "make device `%s` nosuid,noexec",
							  path);
			}
			return 0;
		}
		if (mknodat(real, base, fmt | (mode & 07777), makedev(major, minor)) < 0)
			return hutch_fail(err, errno, "mknod `%s`", path);
		if (fchownat(real, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return hutch_fail(err, errno, "chown `%s`", path);
		if (fchmodat(real, base, mode & 07777, 0) < 0)
			return hutch_fail(err, errno, "chmod `%s`", path);
	}
	return 0;
}

/* The host id a container id maps to (the overflow id when unmapped). */
static uint32_t host_id(const struct hutch_idmap *m, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container && id - m[i].container < m[i].size)
			return m[i].host + (id - m[i].container);
	return 65534;
}

int make_host_device_nodes(const struct hutch_spec *s, int dirfd, int **fds, hutch_err *err)
{
	int *v = xmalloc((s->ndevices + 1) * sizeof(int));

	for (size_t i = 0; i < s->ndevices; i++) {
		const struct hutch_device *d = &s->devices[i];
		mode_t fmt = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
		char name[32];

		v[i] = -1;
		if (fmt == S_IFIFO)
			continue;
		snprintf(name, sizeof(name), "dev.%zu", i);
		if (mknodat(dirfd, name, fmt | 0600, makedev(d->major, d->minor)) < 0 ||
		    fchmodat(dirfd, name, d->has_mode ? d->mode & 07777 : 0666, 0) < 0 ||
		    fchownat(dirfd, name, host_id(s->uid_maps, s->nuid_maps, d->has_uid ? d->uid : 0),
			     host_id(s->gid_maps, s->ngid_maps, d->has_gid ? d->gid : 0), 0) < 0 ||
		    (v[i] = syscall(SYS_open_tree, dirfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) {
			int e = errno;

			for (size_t k = 0; k < i; k++)
				if (v[k] >= 0)
					close(v[k]);
			free(v);
			return hutch_fail(err, e, "linux.devices[%zu]: make `%s`", i, d->path);
		}
	}
	*fds = v;
	return 0;
}

int setup_dev(int rootfd, const struct hutch_spec *s, bool in_userns, const int *dev_fds,
	      hutch_err *err)
{
	static const struct {
		const char *target, *link;
	} links[] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" },
	};
	cleanup_close int devfd = -1;
	cleanup_free char *dp = NULL;
	cleanup_close int real = -1;
	mode_t old = umask(0);
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(default_devs) && r == 0; i++) {
		bool overridden = false;

		for (size_t k = 0; k < s->ndevices; k++)
			overridden |= strcmp(s->devices[k].path, default_devs[i].path) == 0;
		if (!overridden)
			r = make_dev(rootfd, default_devs[i].path, 'c', default_devs[i].major,
				     default_devs[i].minor, 0666, 0, 0, in_userns, -1, err);
	}
	for (size_t i = 0; i < s->ndevices && r == 0; i++) {
		const struct hutch_device *d = &s->devices[i];

		r = make_dev(rootfd, d->path, d->type == 'u' ? 'c' : d->type, d->major, d->minor,
			     d->has_mode ? d->mode : 0666, d->has_uid ? d->uid : 0,
			     d->has_gid ? d->gid : 0, in_userns, dev_fds ? dev_fds[i] : -1, err);
	}
	umask(old);
	if (r < 0)
		return r;
	devfd = open_in_root(rootfd, "/dev", MKPATH_DIR, err);
	if (devfd < 0)
		return -1;
	dp = fd_path(devfd);
	real = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (real < 0)
		return hutch_fail(err, errno, "open /dev in the rootfs");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		const char *name = links[i].link + 5;

		if (symlinkat(links[i].target, real, name) < 0 && errno != EEXIST)
			return hutch_fail(err, errno, "symlink `%s`", links[i].link);
	}
	if (access("/proc/kcore", F_OK) == 0)
		(void)!symlinkat("/proc/kcore", real, "core");
	return 0;
}
