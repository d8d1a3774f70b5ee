// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Layer tar -> directory. Every entry's parent is opened with openat2(2)
 * RESOLVE_BENEATH from the target's fd, so neither "..", an absolute name nor a
 * symlink (made by this layer or a lower one) can place anything outside the
 * target: such an entry fails the unpack. The entry itself is created with *at
 * calls on that parent and never followed (an existing one is replaced).
 *
 * Whiteouts (OCI image-spec layer.md): ".wh.NAME" removes NAME from lower layers,
 * ".wh..wh..opq" hides every lower entry of its directory. UNPACK_FLAT applies them
 * to what lower layers unpacked in the same dir; UNPACK_OVERLAY writes them the way
 * overlayfs reads them (a 0/0 char device, trusted.overlay.opaque=y).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "dl.h"

#include "image.h"
#include "image_internal.h"
#include "log.h"
#include "utils.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* ---- a small string set: what this layer created (for opaque whiteouts) ---- */
struct strset {
	char **slot;
	size_t cap, n;
};

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool strset_has(const struct strset *s, const char *k)
{
	if (!s->cap)
		return false;
	for (size_t i = str_hash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (strcmp(s->slot[i], k) == 0)
			return true;
	}
}

static void strset_add(struct strset *s, const char *k)
{
	if (strset_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct strset ns = { xcalloc(s->cap ? s->cap * 2 : 64, sizeof(char *)), s->cap ? s->cap * 2 : 64, 0 };

		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = str_hash(s->slot[i]) & (ns.cap - 1);

				while (ns.slot[j])
					j = (j + 1) & (ns.cap - 1);
				ns.slot[j] = s->slot[i];
				ns.n++;
			}
		free(s->slot);
		*s = ns;
	}
	size_t i = str_hash(k) & (s->cap - 1);

	while (s->slot[i])
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = xstrdup(k);
	s->n++;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
}

/* ---- paths ---- */

/*
 * Clean an entry name: drop "./" and empty components. Absolute names and ".."
 * components are refused. "" means the target itself.
 */
static int clean_path(const char *raw, const char *what, char **out, hutch_err *err)
{
	char *buf, *o;
	const char *p = raw;

	if (raw[0] == '/')
		return hutch_fail(err, 0, "%s: entry `%s`: absolute path: refusing to unpack it", what, raw);
	o = buf = xmalloc(strlen(raw) + 1);
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(buf);
			return hutch_fail(err, 0, "%s: entry `%s`: `..` would leave the target: refusing to unpack it",
					  what, raw);
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o != buf)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	*o = '\0';
	*out = buf;
	return 0;
}

static long openat2_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int escape_error(const char *what, const char *entry, const char *path, int e, hutch_err *err)
{
	if (e == EXDEV || e == ELOOP)
		return hutch_fail(err, 0, "%s: entry `%s`: `%s` leads outside the target through a symlink: refusing to unpack it",
				  what, entry, path);
	return hutch_fail(err, e, "%s: entry `%s`: open `%s`", what, entry, path);
}

/*
 * Open directory `path` beneath rootfd (O_PATH, or O_RDONLY when rd), making missing
 * components when create is set. Returns the fd, -ENOENT (without err) when it is
 * missing and create is false, or a negative error.
 */
static int open_dir_beneath(int rootfd, const char *path, bool create, bool rd, const char *what,
			    const char *entry, hutch_err *err)
{
	int flags = (rd ? O_RDONLY : O_PATH) | O_DIRECTORY;
	cleanup_free char *prefix = NULL;
	cleanup_close int prev = -1;
	long fd;

	if (!*path)
		path = ".";
	fd = openat2_beneath(rootfd, path, flags);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return escape_error(what, entry, path, errno, err);
	if (!create)
		return -ENOENT;
	/* make the missing components one by one, each resolved beneath rootfd again */
	prefix = xstrdup(path);
	prev = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	for (char *p = prefix;;) {
		char *slash = strchr(p, '/');
		char saved = 0;
		const char *comp = p;

		if (slash) {
			saved = *slash;
			*slash = '\0';
		}
		fd = openat2_beneath(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(prev, comp, 0755) < 0 && errno != EEXIST)
				return hutch_fail(err, errno, "%s: entry `%s`: mkdir `%s`", what, entry, prefix);
			fd = openat2_beneath(rootfd, prefix, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			return escape_error(what, entry, prefix, errno, err);
		close(prev);
		prev = fd;
		if (!slash)
			break;
		*slash = saved;
		p = slash + 1;
	}
	if (rd) {
		fd = openat2_beneath(rootfd, path, flags);
		if (fd < 0)
			return escape_error(what, entry, path, errno, err);
		return fd;
	}
	return steal_fd(&prev);
}

/* Remove name in dirfd, recursively, never following symlinks. */
static int remove_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *e;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_at(fd, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void split(char *rel, const char **parent, const char **name)
{
	char *slash = strrchr(rel, '/');

	if (slash) {
		*slash = '\0';
		*parent = rel;
		*name = slash + 1;
	} else {
		*parent = "";
		*name = rel;
	}
}

static int set_xattrs(struct archive_entry *e, int fd, const char *what, const char *entry, hutch_err *err)
{
	const char *k;
	const void *v;
	size_t n;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &k, &v, &n) == ARCHIVE_OK) {
		/* never let a layer set overlayfs' own attributes */
		if (str_has_prefix(k, "trusted.overlay.")) {
			log_debug("%s: entry `%s`: skipping xattr %s", what, entry, k);
			continue;
		}
		if (fsetxattr(fd, k, v, n, 0) < 0) {
			if (errno == ENOTSUP || errno == EPERM) {
				log_warn("%s: entry `%s`: cannot set xattr %s: %s", what, entry, k, strerror(errno));
				continue;
			}
			return hutch_fail(err, errno, "%s: entry `%s`: set xattr %s", what, entry, k);
		}
	}
	return 0;
}

static int copy_data(struct archive *a, int fd, const char *what, const char *entry, hutch_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (pwrite(fd, buf, size, off) != (ssize_t)size) {
			if (errno == 0)
				errno = EIO;
			return hutch_fail(err, errno, "%s: entry `%s`: write", what, entry);
		}
	}
	if (r != ARCHIVE_EOF)
		return hutch_fail(err, 0, "%s: entry `%s`: %s", what, entry, archive_error_string(a));
	/* sparse files end in a hole */
	if (ftruncate(fd, lseek(fd, 0, SEEK_END)) < 0)
		return hutch_fail(err, errno, "%s: entry `%s`: truncate", what, entry);
	return 0;
}

static int whiteout(int rootfd, const char *parent, const char *name, enum unpack_mode mode, struct strset *made,
		    const char *what, const char *entry, hutch_err *err)
{
	bool opaque = strcmp(name, WH_OPAQUE) == 0;
	const char *victim = name + strlen(WH_PREFIX);
	cleanup_close int pfd = -1;

	if (!opaque && (str_has_prefix(name, WH_PREFIX WH_PREFIX) || !*victim))
		return 0;   /* aufs metadata (.wh..wh.plnk etc.): nothing to do */
	if (!opaque && (strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0))
		return hutch_fail(err, 0, "%s: entry `%s`: invalid whiteout", what, entry);
	if (mode == UNPACK_OVERLAY) {
		pfd = open_dir_beneath(rootfd, parent, true, opaque, what, entry, err);
		if (pfd < 0)
			return -1;
		if (opaque) {
			if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return hutch_fail(err, errno, "%s: entry `%s`: mark directory opaque", what, entry);
			return 0;
		}
		if (remove_at(pfd, victim) < 0 || mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: make whiteout", what, entry);
		return 0;
	}
	pfd = open_dir_beneath(rootfd, parent, false, opaque, what, entry, err);
	if (pfd == -ENOENT)
		return 0;
	if (pfd < 0)
		return -1;
	if (!opaque) {
		if (remove_at(pfd, victim) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: remove `%s`", what, entry, victim);
		return 0;
	}
	/* opaque: remove what lower layers put here, keep what this layer made */
	{
		int dfd = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
		DIR *d = fdopendir(dfd);
		struct dirent *e;
		cleanup_strv char **gone = NULL;

		if (!d) {
			close(dfd);
			return hutch_fail(err, errno, "%s: entry `%s`: read directory", what, entry);
		}
		while ((e = readdir(d))) {
			cleanup_free char *k = NULL;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			k = *parent ? xasprintf("%s/%s", parent, e->d_name) : xstrdup(e->d_name);
			if (!strset_has(made, k))
				strv_push(&gone, xstrdup(e->d_name));
		}
		closedir(d);
		for (size_t i = 0; gone && gone[i]; i++)
			if (remove_at(pfd, gone[i]) < 0)
				return hutch_fail(err, errno, "%s: entry `%s`: remove `%s`", what, entry, gone[i]);
	}
	return 0;
}

static int unpack_entry(struct archive *a, struct archive_entry *e, int rootfd, enum unpack_mode mode,
			struct strset *made, const char *what, hutch_err *err)
{
	const char *raw = archive_entry_pathname(e);
	cleanup_free char *rel = NULL, *relcopy = NULL;
	cleanup_close int pfd = -1, fd = -1;
	const char *parent, *name, *hl;
	mode_t type = archive_entry_filetype(e);
	mode_t perm = archive_entry_perm(e) & 07777;
	uid_t uid = archive_entry_uid(e);
	gid_t gid = archive_entry_gid(e);
	struct timespec ts[2] = {
		{ archive_entry_atime(e), archive_entry_atime_nsec(e) },
		{ archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
	};
	struct stat st;
	bool exists;

	if (!raw)
		return hutch_fail(err, 0, "%s: an entry without a name", what);
	if (clean_path(raw, what, &rel, err) < 0)
		return -1;
	if (!archive_entry_atime_is_set(e))
		ts[0] = ts[1];
	if (!*rel)
		return 0;   /* "./": the target itself */
	relcopy = xstrdup(rel);
	split(relcopy, &parent, &name);
	if (str_has_prefix(name, WH_PREFIX))
		return whiteout(rootfd, parent, name, mode, made, what, raw, err);

	pfd = open_dir_beneath(rootfd, parent, true, false, what, raw, err);
	if (pfd < 0)
		return -1;
	if (made)
		strset_add(made, rel);
	exists = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	hl = archive_entry_hardlink(e);
	if (exists && !(type == AE_IFDIR && S_ISDIR(st.st_mode) && !hl) && remove_at(pfd, name) < 0)
		return hutch_fail(err, errno, "%s: entry `%s`: replace the existing entry", what, raw);

	if (hl) {
		cleanup_free char *trel = NULL;
		cleanup_close int tpfd = -1;
		const char *tparent, *tname;

		if (clean_path(hl, what, &trel, err) < 0)
			return -1;
		if (!*trel)
			return hutch_fail(err, 0, "%s: entry `%s`: hard link to the target itself", what, raw);
		split(trel, &tparent, &tname);
		tpfd = open_dir_beneath(rootfd, tparent, false, false, what, raw, err);
		if (tpfd == -ENOENT)
			return hutch_fail(err, ENOENT, "%s: entry `%s`: hard link target `%s`", what, raw, hl);
		if (tpfd < 0)
			return -1;
		if (linkat(tpfd, tname, pfd, name, 0) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: hard link to `%s`", what, raw, hl);
		return 0;
	}
	switch (type) {
	case AE_IFDIR:
		if (!exists || !S_ISDIR(st.st_mode))
			if (mkdirat(pfd, name, 0700) < 0)
				return hutch_fail(err, errno, "%s: entry `%s`: mkdir", what, raw);
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		break;
	case AE_IFREG:
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: create", what, raw);
		if (copy_data(a, fd, what, raw, err) < 0)
			return -1;
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);

		if (!target)
			return hutch_fail(err, 0, "%s: entry `%s`: symlink without a target", what, raw);
		if (symlinkat(target, pfd, name) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: symlink", what, raw);
		if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: chown", what, raw);
		utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, name, type | perm,
			    makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: mknod", what, raw);
		fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		break;
	case AE_IFSOCK:
		return 0;
	default:
		return hutch_fail(err, 0, "%s: entry `%s`: unsupported file type %o", what, raw, type);
	}
	if (fd < 0)
		return hutch_fail(err, errno, "%s: entry `%s`: open", what, raw);
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) {
		if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 || fchmodat(pfd, name, perm, 0) < 0)
			return hutch_fail(err, errno, "%s: entry `%s`: set owner and mode", what, raw);
		utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	/* owner first: chown clears set-id bits and file capabilities */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, perm) < 0)
		return hutch_fail(err, errno, "%s: entry `%s`: set owner and mode", what, raw);
	if (set_xattrs(e, fd, what, raw, err) < 0)
		return -1;
	futimens(fd, ts);
	return 0;
}

int image_unpack_fd(int layerfd, int dirfd, enum unpack_mode mode, const char *what, hutch_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	struct strset made = { 0 };
	int r, ret = 0;

	if (hutch_dl_load(HUTCH_DL_ARCHIVE, err) < 0)
		return -1;
	a = archive_read_new();
	if (!a)
		oom();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, layerfd, 1 << 16) != ARCHIVE_OK) {
		ret = hutch_fail(err, 0, "%s: %s", what, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (unpack_entry(a, e, dirfd, mode, mode == UNPACK_FLAT ? &made : NULL, what, err) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (r != ARCHIVE_EOF)
		ret = hutch_fail(err, 0, "%s: not a valid layer tar: %s", what, archive_error_string(a));
out:
	archive_read_free(a);
	strset_free(&made);
	return ret;
}

/* ---- the layer cache ---- */

int image_layer_dir(const struct image_store *s, const char *digest, char **dir, hutch_err *err)
{
	cleanup_free char *final = xasprintf("%s/layers/%s", s->root, digest + 7);
	cleanup_free char *lockrel = xasprintf("locks/layer-%s", digest + 7);
	cleanup_free char *tmp = NULL, *blob = NULL, *what = NULL;
	cleanup_close int lk = -1, bfd = -1, dfd = -1;
	struct stat st;

	if (stat(final, &st) == 0 && S_ISDIR(st.st_mode))
		goto done;
	lk = openat(s->dirfd, lockrel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk < 0 || flock(lk, LOCK_EX) < 0)
		return hutch_fail(err, errno, "image store: lock `%s/%s`", s->root, lockrel);
	if (stat(final, &st) == 0 && S_ISDIR(st.st_mode))
		goto done;   /* unpacked by someone else meanwhile */
	blob = image_blob_path(s, digest);
	bfd = open(blob, O_RDONLY | O_CLOEXEC);
	if (bfd < 0)
		return hutch_fail(err, errno, "image store: layer %s", digest);
	tmp = xasprintf("%s/layers/.tmp-%.12s-XXXXXX", s->root, digest + 7);
	if (!mkdtemp(tmp))
		return hutch_fail(err, errno, "image store: mkdtemp in `%s/layers`", s->root);
	dfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	what = xasprintf("layer %s", digest);
	if (dfd < 0 || image_unpack_fd(bfd, dfd, UNPACK_OVERLAY, what, err) < 0 ||
	    chmod(tmp, 0755) < 0 || rename(tmp, final) < 0) {
		cleanup_err hutch_err e2 = NULL;

		if (err && !*err)
			hutch_fail(err, errno, "image store: unpack layer %s", digest);
		image_rm_rf(tmp, &e2);
		return -1;
	}
	log_debug("unpacked layer %s", digest);
done:
	*dir = steal_ptr(&final);
	return 0;
}
