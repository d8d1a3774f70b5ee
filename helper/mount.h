/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mounting inside a container's rootfs without ever leaving it. */
#ifndef HUTCH_MOUNT_H
#define HUTCH_MOUNT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

enum { MKPATH_NONE, MKPATH_DIR, MKPATH_FILE };

/*
 * Resolve path inside the tree rooted at rootfd as if rootfd were "/" (symlinks,
 * "..", absolute links all stay inside), creating missing directories (and the
 * last component as a directory or empty file when asked). Returns an O_PATH fd.
 */
int open_in_root(int rootfd, const char *path, int create, hutch_err *err);

/*
 * Refuse a mount target (target: its fd, dest: its path in config.json) on procfs, but
 * for the files lxcfs replaces, named by their real path (CVE-2019-16884, CVE-2023-27561).
 */
int check_proc_target(int rootfd, int target, const char *dest, hutch_err *err);

/* "/proc/self/fd/N" for a mount target fd. */
char *fd_path(int fd);

/*
 * Mount m (from config.json) inside the rootfs at rootfd. Bind mounts with flags
 * are remounted to apply them; propagation is set last. mount_label (linux.mountLabel,
 * NULL for none) labels what is mounted as runc does: `context="LABEL"` is added to the
 * data of filesystem mounts (tmpfs, devpts, ...; not proc, sysfs or one that sets a
 * context itself), mqueue gets it as its root's security.selinux attribute, bind mounts
 * keep the source's labels.
 */
int mount_one(int rootfd, const struct hutch_mount *m, bool in_userns, const char *mount_label,
	      hutch_err *err);

/*
 * Create /dev entries: the defaults plus linux.devices; symlinks fd, stdin...
 * In a user namespace nodes cannot be made: each is bound from the host node of
 * the same path, or from dev_fds[i] (an O_PATH fd of a node the runtime made for
 * linux.devices[i]) when that is >= 0.
 */
int setup_dev(int rootfd, const struct hutch_spec *s, bool in_userns, const int *dev_fds,
	      hutch_err *err);
/* Runtime side, before a container with a new user namespace starts: make each
 * linux.devices node under dir and return O_PATH fds to them (-1 where not needed). */
int make_host_device_nodes(const struct hutch_spec *s, int dirfd, int **fds, hutch_err *err);

#endif
