// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CVE-2019-5736 class: a process in a container that can reach a runtime process
 * (hutch exec entering the container, or the init before it executes the user's
 * program) could open /proc/<pid>/exe and overwrite the runtime binary on the host.
 * hutch re-executes itself once so that /proc/<pid>/exe cannot be opened for writing:
 *  - from a private read-only clone of the binary's mount: open_tree(OPEN_TREE_CLONE)
 *    of the binary, made read-only with mount_setattr(), executed with execveat(). The
 *    mount is never attached to any namespace (nothing to clean up, nothing another
 *    process sees), writes through /proc/<pid>/exe fail with EROFS, and only a holder
 *    of CAP_SYS_ADMIN over the host's mounts could make it writable again. No copy:
 *    the page cache is shared. Needs CAP_SYS_ADMIN and Linux 5.12;
 *  - otherwise (rootless, older kernels) from a memfd copy sealed against writes
 *    (EPERM), at the cost of one sendfile of the binary.
 * A binary already on a read-only mount, or already sealed, is used as it is, and so is
 * one that hutch.ko guards against writes for the container the command creates or
 * enters (hutch_kmod_exe_guarded: the module holds deny_write_access on its inode from
 * before any process of the container runs the image's code until delete; ETXTBSY).
 *
 * The clone is a detached mount: closing the last fd of it unmounts it, which waits for
 * an (expedited) RCU grace period, ~0.3 ms of wall time and more on a loaded host. Were
 * the tree fd closed on exec, every re-execution's execveat would wait for it. So the
 * fd is kept across the re-execution (its number in HUTCH_SELFEXE_TREE, which the new
 * image takes out of its environment at once) and closed by the runtime where the wait
 * costs nothing: while the container's program runs (hutch_selfexe_release). It is
 * close-on-exec again in the new image; every process forked toward a container closes
 * its copy first thing (child_begin, a plain reference drop while the runtime holds
 * it), --preserve-fds never counts it as one of the caller's (check_preserved_fds: it is
 * close-on-exec), and create's undoing closes it before anything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmodule.h"
#include "log.h"
#include "security.h"
#include "utils.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define SEALS_REQUIRED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* main's argv, for the re-execution (hutch_selfexe_init) */
static char **selfexe_argv;

#define HELD_TREE_ENV "HUTCH_SELFEXE_TREE"
/* the read-only clone this process was executed from, held (above); -1: none */
static int held_tree = -1;

static bool fd_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & SEALS_REQUIRED) == SEALS_REQUIRED;
}

bool hutch_selfexe_sealed(void)
{
	cleanup_close int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && fd_sealed(fd);
}

void hutch_selfexe_init(char **argv)
{
	const char *v = getenv(HELD_TREE_ENV);
	int fd, fl;

	selfexe_argv = argv;
	if (!v)
		return;
	/* only an O_PATH fd, as open_tree gives, is taken for the clone */
	fd = atoi(v);
	fl = fd > 2 ? fcntl(fd, F_GETFL) : -1;
	if (fl >= 0 && (fl & O_PATH) && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0)
		held_tree = fd;
	unsetenv(HELD_TREE_ENV);
}

void hutch_selfexe_release(void)
{
	if (held_tree >= 0)
		close(held_tree);
	held_tree = -1;
}

int hutch_selfexe_protect(const char *id, hutch_err *err)
{
	char **argv = selfexe_argv;
	const char *mode = getenv("HUTCH_SEALED_EXE");
	cleanup_close int src = -1, mfd = -1;
	const char *off = getenv("HUTCH_NO_SEALED_EXE");
	struct stat st;
	off_t done = 0;

	if (off && *off && *off != '0')
		return 0;
	if (!argv)
		return hutch_fail(err, EINVAL, "hutch_selfexe_protect before hutch_selfexe_init");
	src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return hutch_fail(err, errno, "open /proc/self/exe (is /proc mounted?)");
	if (fd_sealed(src))
		return 0;
	{
		/*
		 * A binary on a read-only mount cannot be written through any fd (EROFS), and
		 * a container cannot remount the host's mount: no copy needed. (An immutable
		 * file is not enough: CAP_LINUX_IMMUTABLE in a container could clear the flag.)
		 */
		struct statvfs sv;

		if (fstatvfs(src, &sv) == 0 && (sv.f_flag & ST_RDONLY))
			return 0;
	}
	/*
	 * HUTCH_SEALED_EXE=memfd: always the copy, =clone: the read-only clone even with the
	 * module's guard (tests use them to cover those paths)
	 */
	if (!mode || !*mode) {
		if (hutch_kmod_exe_guarded(id)) {
			log_debug("hutch.ko guards the runtime's binary: no re-execution");
			return 0;
		}
	}
	if (!mode || strcmp(mode, "memfd")) {
		/* a read-only clone of the binary's mount; on any failure, the memfd copy */
		struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
		cleanup_close int tree = syscall(SYS_open_tree, src, "",
						 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

		if (tree >= 0 && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) == 0) {
			char num[16];

			/* kept open across the execveat: the new image closes it (above) */
			snprintf(num, sizeof(num), "%d", tree);
			if (fcntl(tree, F_SETFD, 0) == 0 && setenv(HELD_TREE_ENV, num, 1) == 0)
				syscall(SYS_execveat, tree, "", argv, environ, AT_EMPTY_PATH);
			log_debug("execveat of a read-only clone of the runtime: %s; using a sealed copy",
				  strerror(errno));
			unsetenv(HELD_TREE_ENV);
		}
	}
	mfd = memfd_create("hutch", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("hutch", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return hutch_fail(err, errno, "memfd_create for the sealed copy of the runtime");
	if (fstat(src, &st) < 0)
		return hutch_fail(err, errno, "fstat /proc/self/exe");
	while (done < st.st_size) {
		ssize_t n = sendfile(mfd, src, &done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hutch_fail(err, n < 0 ? errno : EIO, "copy the runtime into a memfd");
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS_REQUIRED | F_SEAL_EXEC) < 0 &&
	    fcntl(mfd, F_ADD_SEALS, SEALS_REQUIRED) < 0)
		return hutch_fail(err, errno, "seal the runtime's memfd copy");
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	return hutch_fail(err, errno, "re-execute the sealed copy of the runtime");
}
