// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: layer unpacking (image_unpack.c). Layers are written with libarchive
 * into temporary files, unpacked into a temporary directory; entries that would
 * land outside must fail the unpack and leave nothing outside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "hutch.h"
#include "image.h"
#include "image_internal.h"
#include "utils.h"

static int failed;
static char base[] = "/tmp/hutch-unit-unpack.XXXXXX";

static void ok(int cond, const char *name)
{
	printf("%s - image_unpack: %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failed = 1;
}

/* An entry: kind 'f' file (data), 'd' dir, 'l' symlink (to), 'h' hard link (to), 'c' char dev. */
struct ent {
	char kind;
	const char *name, *to;
};

static bool zstd_layers;

static char *mklayer(const struct ent *e, const char *tag)
{
	char *path = xasprintf("%s/%s.tar", base, tag);
	struct archive *a = archive_write_new();
	struct archive_entry *ae;

	archive_write_set_format_pax_restricted(a);
	if (zstd_layers)
		archive_write_add_filter_zstd(a);
	archive_write_open_filename(a, path);
	for (; e->kind; e++) {
		ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->name);
		archive_entry_set_mtime(ae, 1000000, 0);
		switch (e->kind) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_size(ae, e->to ? strlen(e->to) : 0);
			if (e->to && strcmp(e->name, "xattr") == 0)
				archive_entry_xattr_add_entry(ae, "user.test", "v", 1);
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e->to);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e->to);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0600);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		}
		archive_write_header(a, ae);
		if (e->kind == 'f' && e->to)
			archive_write_data(a, e->to, strlen(e->to));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

/* Unpack layers (NULL-terminated) into a fresh dir; returns the dir, *msg the first error. */
static char *unpack(const char *tag, enum unpack_mode mode, const struct ent *const *layers, char **msg)
{
	char *dir = xasprintf("%s/%s", base, tag);
	cleanup_close int dfd = -1;

	*msg = NULL;
	mkdir(dir, 0755);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; layers[i]; i++) {
		cleanup_free char *lt = xasprintf("%s-%d", tag, i);
		cleanup_free char *p = mklayer(layers[i], lt);
		cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
		cleanup_err hutch_err err = NULL;

		if (image_unpack_fd(fd, dfd, mode, lt, &err) < 0) {
			*msg = xstrdup(err->msg);
			break;
		}
	}
	return dir;
}

static bool exists(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;

	return lstat(p, &st) == 0;
}

static void refuse(const char *tag, const struct ent *layer, const char *want, const char *outside)
{
	const struct ent *ls[] = { layer, NULL };
	cleanup_free char *msg = NULL, *dir = unpack(tag, UNPACK_FLAT, ls, &msg);
	cleanup_free char *t = xasprintf("refuses %s", tag);

	if (msg && !strstr(msg, want))
		printf("# %s: message `%s` lacks `%s`\n", tag, msg, want);
	if (!msg)
		printf("# %s: unpacked without an error\n", tag);
	ok(msg && strstr(msg, want) && (!outside || access(outside, F_OK) < 0), t);
}

int main(void)
{
	char *msg, *dir, *outside;

	if (!mkdtemp(base)) {
		printf("not ok - image_unpack: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	outside = xasprintf("%s/outside", base);
	mkdir(outside, 0755);

	{
		const struct ent l[] = { { 'f', "a/../../x", "x" }, { 0 } };
		refuse("dotdot", l, "would leave the target", NULL);
	}
	{
		const struct ent l[] = { { 'f', "/abs-file", "x" }, { 0 } };
		refuse("absolute", l, "absolute path", "/abs-file");
	}
	{
		cleanup_free char *esc = xasprintf("%s/escaped", outside);
		const struct ent l[] = { { 'l', "out", outside }, { 'f', "out/escaped", "x" }, { 0 } };
		refuse("symlink-absolute", l, "through a symlink", esc);
	}
	{
		cleanup_free char *esc = xasprintf("%s/escaped2", outside);
		const struct ent l[] = { { 'l', "up", "../outside" }, { 'f', "up/escaped2", "x" }, { 0 } };
		refuse("symlink-relative", l, "through a symlink", esc);
	}
	{
		const struct ent l[] = { { 'l', "e", "/etc" }, { 'h', "pw", "e/passwd" }, { 0 } };
		refuse("hardlink-through-symlink", l, "through a symlink", NULL);
	}
	{
		const struct ent l[] = { { 'h', "pw", "../../../../etc/passwd" }, { 0 } };
		refuse("hardlink-dotdot", l, "would leave the target", NULL);
	}
	{
		const struct ent l[] = { { 'l', "d", "/" }, { 'd', "d/newdir", NULL }, { 0 } };
		refuse("mkdir-through-symlink", l, "through a symlink", "/newdir");
	}
	/* a symlink that stays inside is fine to write through */
	{
		const struct ent l[] = { { 'd', "sub", NULL }, { 'l', "in", "sub" }, { 'f', "in/file", "hi" },
					 { 'l', "abs", "/elsewhere" }, { 'h', "hl", "sub/file" },
					 { 'f', "./dot/slash//name", "n" }, { 'c', "null", NULL },
					 { 'f', "xattr", "x" }, { 0 } };
		const struct ent *ls[] = { l, NULL };
		char v[4] = "";
		cleanup_free char *xp = NULL;

		dir = unpack("inside", UNPACK_FLAT, ls, &msg);
		if (msg)
			printf("# inside: %s\n", msg);
		xp = xasprintf("%s/xattr", dir);
		ok(!msg && exists(dir, "sub/file") && exists(dir, "hl") && exists(dir, "abs") &&
		   exists(dir, "dot/slash/name") && exists(dir, "null"), "symlinks inside the target are followed, names cleaned");
		ok(getxattr(xp, "user.test", v, sizeof(v)) == 1 && v[0] == 'v', "xattrs are set");
		free(dir);
		free(msg);
	}
	/* an existing symlink at an entry's name is replaced, never written through */
	{
		cleanup_free char *victim = xasprintf("%s/victim", outside);
		const struct ent l1[] = { { 'l', "f", victim }, { 0 } };
		const struct ent l2[] = { { 'f', "f", "new" }, { 0 } };
		const struct ent *ls[] = { l1, l2, NULL };
		struct stat st;
		cleanup_free char *fp = NULL;

		write_file(victim, "old", 3, NULL);
		dir = unpack("replace-symlink", UNPACK_FLAT, ls, &msg);
		fp = xasprintf("%s/f", dir);
		ok(!msg && lstat(fp, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 3, "a symlink is replaced by a file");
		{
			cleanup_free char *c = NULL;

			ok(read_file(victim, &c, NULL, NULL) == 0 && strcmp(c, "old") == 0, "the symlink's target is untouched");
		}
		free(dir);
		free(msg);
	}
	/* whiteouts, flat */
	{
		const struct ent l1[] = { { 'f', "a", "a" }, { 'd', "d", NULL }, { 'f', "d/x", "x" }, { 'd', "d/sub", NULL },
					  { 'f', "keep", "k" }, { 0 } };
		const struct ent l2[] = { { 'f', "d/y", "y" }, { 'f', ".wh.a", NULL }, { 'f', "d/.wh..wh..opq", NULL },
					  { 'f', ".wh.nonexistent", NULL }, { 0 } };
		const struct ent *ls[] = { l1, l2, NULL };

		dir = unpack("whiteout-flat", UNPACK_FLAT, ls, &msg);
		if (msg)
			printf("# whiteout-flat: %s\n", msg);
		ok(!msg && !exists(dir, "a") && exists(dir, "keep") && !exists(dir, ".wh.a"), "flat: .wh.NAME removes NAME");
		ok(!msg && exists(dir, "d/y") && !exists(dir, "d/x") && !exists(dir, "d/sub") &&
		   !exists(dir, "d/.wh..wh..opq"), "flat: opaque dir keeps only this layer's entries");
		free(dir);
		free(msg);
	}
	/* whiteouts, overlay format */
	{
		const struct ent l[] = { { 'f', ".wh.a", NULL }, { 'd', "d", NULL }, { 'f', "d/.wh..wh..opq", NULL }, { 0 } };
		const struct ent *ls[] = { l, NULL };
		cleanup_free char *wa = NULL, *d = NULL;
		struct stat st;
		char v[4] = "";

		dir = unpack("whiteout-overlay", UNPACK_OVERLAY, ls, &msg);
		wa = xasprintf("%s/a", dir);
		d = xasprintf("%s/d", dir);
		ok(!msg && lstat(wa, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
		   "overlay: .wh.NAME becomes a 0/0 char device");
		ok(!msg && getxattr(d, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y',
		   "overlay: opaque dir gets trusted.overlay.opaque=y");
		free(dir);
		free(msg);
	}
	/* zstd-compressed layers (application/vnd.oci.image.layer.v1.tar+zstd) */
	{
		const struct ent l[] = { { 'd', "z", NULL }, { 'f', "z/file", "zstd" }, { 0 } };
		const struct ent *ls[] = { l, NULL };
		cleanup_free char *c = NULL, *p = NULL;

		zstd_layers = true;
		dir = unpack("zstd", UNPACK_FLAT, ls, &msg);
		zstd_layers = false;
		p = xasprintf("%s/z/file", dir);
		if (msg)
			printf("# zstd: %s\n", msg);
		ok(!msg && read_file(p, &c, NULL, NULL) == 0 && strcmp(c, "zstd") == 0, "zstd layers unpack");
		free(dir);
		free(msg);
	}
	/* garbage is not a layer */
	{
		cleanup_free char *p = xasprintf("%s/garbage", base);
		cleanup_close int fd = -1, dfd = open(base, O_PATH | O_DIRECTORY);
		cleanup_err hutch_err err = NULL;

		write_file(p, "this is no tar archive, not at all, really not", 46, NULL);
		fd = open(p, O_RDONLY);
		ok(image_unpack_fd(fd, dfd, UNPACK_FLAT, "garbage", &err) < 0 && strstr(err->msg, "garbage"),
		   "garbage fails with the layer named");
	}
	{
		cleanup_err hutch_err err = NULL;

		image_rm_rf(base, &err);
	}
	free(outside);
	return failed;
}
