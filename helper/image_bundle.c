// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bundles from images.
 *  - `bundle create --image REF DIR`: every layer unpacked (flat, whiteouts applied)
 *    into DIR/rootfs, and DIR/config.json made from the image config.
 *  - `run|create --image REF ID`: STORE/containers/ID-KEY/{config.json,rootfs,upper,work}
 *    where rootfs is an overlay of the cached layer dirs (image_layer_dir) with a
 *    private upper dir: creating a container copies nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image.h"
#include "image_internal.h"
#include "log.h"
#include "spec.h"
#include "utils.h"

/* The default spec of `hutch spec`, with a writable root: the image's rootfs is ours. */
static json_object *image_default_spec(void)
{
	json_object *s = spec_default(false), *root;

	if (json_object_object_get_ex(s, "root", &root))
		json_object_object_add(root, "readonly", json_object_new_boolean(false));
	return s;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int strings(json_object *arr, const char *path, char ***out, hutch_err *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return hutch_fail(err, 0, "image config: %s: expected an array of strings", path);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			return hutch_fail(err, 0, "image config: %s[%zu]: expected a string", path, i);
		strv_push(out, xstrdup(json_object_get_string(v)));
	}
	return 0;
}

static json_object *strv_json(char *const *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* Look NAME (or numeric id) up in the rootfs' passwd/group file: field 2 (id) and 3 (gid). */
static int lookup_db(int rootfd, const char *file, const char *name, long *id, long *gid)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	cleanup_close int fd = -1;
	cleanup_file FILE *f = NULL;
	cleanup_free char *line = NULL;
	size_t n = 0;

	if (rootfd < 0)
		return -1;
	fd = syscall(SYS_openat2, rootfd, file, &how, sizeof(how));
	if (fd < 0 || !(f = fdopen(fd, "r")))
		return -1;
	fd = -1;
	while (getline(&line, &n, f) > 0) {
		char *save = NULL, *nm = strtok_r(line, ":", &save), *pw, *ids, *gids;
		uint64_t v;

		if (!nm || !(pw = strtok_r(NULL, ":", &save)) || !(ids = strtok_r(NULL, ":", &save)))
			continue;
		gids = strtok_r(NULL, ":", &save);
		if (strcmp(nm, name) != 0 && strcmp(ids, name) != 0)
			continue;
		if (parse_u64(ids, &v) < 0)
			continue;
		*id = v;
		if (gid && gids && parse_u64(gids, &v) == 0)
			*gid = v;
		return 0;
	}
	return -1;
}

static int resolve_user(const char *user, int rootfd, json_object *ju, hutch_err *err)
{
	cleanup_free char *u = xstrdup(user);
	char *g = strchr(u, ':');
	long uid = -1, gid = -1;
	uint64_t v;

	if (g)
		*g++ = '\0';
	if (parse_u64(u, &v) == 0 && v < 0xffffffffu) {
		uid = v;
		lookup_db(rootfd, "/etc/passwd", u, &uid, &gid);
	} else if (lookup_db(rootfd, "/etc/passwd", u, &uid, &gid) < 0) {
		return hutch_fail(err, 0, "image config: config.User: no user `%s` in the image's /etc/passwd", u);
	}
	if (g && *g) {
		if (parse_u64(g, &v) == 0 && v < 0xffffffffu)
			gid = v;
		else if (lookup_db(rootfd, "/etc/group", g, &gid, NULL) < 0)
			return hutch_fail(err, 0, "image config: config.User: no group `%s` in the image's /etc/group", g);
	}
	json_object_object_add(ju, "uid", json_object_new_int64(uid));
	json_object_object_add(ju, "gid", json_object_new_int64(gid < 0 ? 0 : gid));
	return 0;
}

int image_make_config(json_object *imgconfig, const char *ref, int rootfs_dirfd,
		      const struct image_bundle_opts *o, json_object **out, hutch_err *err)
{
	json_object *spec = image_default_spec(), *proc = get(spec, "process"), *c = get(imgconfig, "config");
	json_object *v, *ann = json_object_new_object();
	cleanup_strv char **args = NULL, **env = NULL, **ienv = NULL;
	int ret = -1;

	json_object_object_add(spec, "annotations", ann);
	if (c && !json_object_is_type(c, json_type_object)) {
		hutch_fail(err, 0, "image config: config: expected an object");
		goto out;
	}
	if (strings(get(c, "Entrypoint"), "config.Entrypoint", &args, err) < 0)
		goto out;
	if (o && o->args && o->args[0]) {
		for (size_t i = 0; o->args[i]; i++)
			strv_push(&args, xstrdup(o->args[i]));
	} else if (strings(get(c, "Cmd"), "config.Cmd", &args, err) < 0) {
		goto out;
	}
	if (!args) {
		hutch_fail(err, 0, "image %s has no Entrypoint or Cmd: give the command to run", ref);
		goto out;
	}
	json_object_object_add(proc, "args", strv_json(args));
	json_object_object_add(proc, "terminal", json_object_new_boolean(o && o->terminal));
	/* Env: the image's entries override the defaults of the same name */
	if (strings(get(proc, "env"), "process.env", &env, err) < 0 ||
	    strings(get(c, "Env"), "config.Env", &ienv, err) < 0)
		goto out;
	for (size_t i = 0; ienv && ienv[i]; i++) {
		size_t k = strcspn(ienv[i], "=");

		for (size_t j = 0; env && env[j]; j++)
			if (strncmp(env[j], ienv[i], k) == 0 && env[j][k] == '=') {
				free(env[j]);
				env[j] = xstrdup("");
			}
		strv_push(&env, xstrdup(ienv[i]));
	}
	{
		json_object *a = json_object_new_array();

		for (size_t j = 0; env && env[j]; j++)
			if (*env[j])
				json_object_array_add(a, json_object_new_string(env[j]));
		json_object_object_add(proc, "env", a);
	}
	if ((v = get(c, "WorkingDir")) && json_object_is_type(v, json_type_string) && *json_object_get_string(v)) {
		if (json_object_get_string(v)[0] != '/') {
			hutch_fail(err, 0, "image config: config.WorkingDir: `%s` is not absolute", json_object_get_string(v));
			goto out;
		}
		json_object_object_add(proc, "cwd", json_object_new_string(json_object_get_string(v)));
	}
	if ((v = get(c, "User")) && json_object_is_type(v, json_type_string) && *json_object_get_string(v))
		if (resolve_user(json_object_get_string(v), rootfs_dirfd, get(proc, "user"), err) < 0)
			goto out;
	if ((v = get(c, "ExposedPorts")) && json_object_is_type(v, json_type_object)) {
		cleanup_free char *ports = NULL;

		json_object_object_foreach(v, port, val) {
			char *old = ports;

			(void)val;
			ports = xasprintf("%s%s%s", old ? old : "", old ? "," : "", port);
			free(old);
		}
		if (ports)
			json_object_object_add(ann, "org.opencontainers.image.exposedPorts", json_object_new_string(ports));
	}
	if ((v = get(c, "StopSignal")) && json_object_is_type(v, json_type_string))
		json_object_object_add(ann, "org.opencontainers.image.stopSignal",
				       json_object_new_string(json_object_get_string(v)));
	json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(ref));
	*out = spec;
	spec = NULL;
	ret = 0;
out:
	if (spec)
		json_object_put(spec);
	return ret;
}

static int write_json(const char *path, json_object *j, hutch_err *err)
{
	const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	return write_file(path, s, strlen(s), err);
}

int image_bundle_create(struct image_store *s, const char *ref, const char *dir,
			const struct image_bundle_opts *o, hutch_err *err)
{
	cleanup_free char *name = NULL, *digest = NULL, *rootfs = NULL, *cfgpath = NULL;
	cleanup_close int rfd = -1;
	cleanup_json json_object *spec = NULL;
	struct image_manifest m = { 0 };
	bool made_dir = false, made_rootfs = false;
	struct stat st;
	int ret = -1;

	if (image_store_lock(s, false, err) < 0)
		return -1;
	if (image_lookup(s, ref, &name, &digest, err) < 0 || image_manifest_load(s, digest, &m, err) < 0)
		goto out;
	rootfs = xasprintf("%s/rootfs", dir);
	cfgpath = xasprintf("%s/config.json", dir);
	if (mkdir(dir, 0755) == 0)
		made_dir = true;
	else if (errno != EEXIST) {
		hutch_fail(err, errno, "bundle create: mkdir `%s`", dir);
		goto out;
	}
	if (lstat(cfgpath, &st) == 0) {
		hutch_fail(err, EEXIST, "bundle create: `%s`", cfgpath);
		goto out;
	}
	if (mkdir(rootfs, 0755) < 0) {
		hutch_fail(err, errno, "bundle create: mkdir `%s`", rootfs);
		goto out;
	}
	made_rootfs = true;
	rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		hutch_fail(err, errno, "bundle create: open `%s`", rootfs);
		goto out;
	}
	for (size_t i = 0; i < m.nlayers; i++) {
		cleanup_free char *blob = image_blob_path(s, m.layers[i].digest);
		cleanup_free char *what = xasprintf("layer %s", m.layers[i].digest);
		cleanup_close int bfd = open(blob, O_RDONLY | O_CLOEXEC);

		if (bfd < 0) {
			hutch_fail(err, errno, "image store: %s", what);
			goto out;
		}
		if (image_unpack_fd(bfd, rfd, UNPACK_FLAT, what, err) < 0)
			goto out;
	}
	if (image_make_config(m.config, name, rfd, o, &spec, err) < 0 || write_json(cfgpath, spec, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		cleanup_err hutch_err e2 = NULL;

		if (made_dir)
			image_rm_rf(dir, &e2);
		else if (made_rootfs)
			image_rm_rf(rootfs, &e2);
	}
	image_manifest_clear(&m);
	image_store_unlock(s);
	return ret;
}

/* ---- overlay snapshots for run|create --image ---- */

static char *container_dir(const struct image_store *s, const char *id, const char *state_root)
{
	cleanup_free char *abs = realpath(state_root, NULL);
	cleanup_free char *h = image_sha256(abs ? abs : state_root, strlen(abs ? abs : state_root));

	return xasprintf("%s/containers/%s-%.12s", s->root, id, h + 7);
}

static int check_id(const char *id, hutch_err *err)
{
	if (!id || !*id || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return hutch_fail(err, 0, "container id `%s`: must be a non-empty name without `/`", id ? id : "");
	return 0;
}

/* Kernels before 6.8 have no "lowerdir+": one option string, limited to a page. */
static int mount_overlay_legacy(char **lowers, const char *upper, const char *work, const char *target,
				hutch_err *err)
{
	cleanup_free char *opts = xstrdup("lowerdir=");

	for (size_t i = 0; lowers[i]; i++) {
		char *old = opts;

		if (strpbrk(lowers[i], ":,\\"))
			return hutch_fail(err, 0, "overlay: lower dir `%s` has a character overlayfs cannot take", lowers[i]);
		opts = xasprintf("%s%s%s", old, i ? ":" : "", lowers[i]);
		free(old);
	}
	{
		char *old = opts;

		opts = xasprintf("%s,upperdir=%s,workdir=%s", old, upper, work);
		free(old);
	}
	if (strlen(opts) >= (size_t)sysconf(_SC_PAGESIZE))
		return hutch_fail(err, 0, "overlay: too many layers for this kernel (it lacks lowerdir+)");
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return hutch_fail(err, errno, "overlay: mount on `%s`", target);
	return 0;
}

static int mount_overlay(char **lowers, const char *upper, const char *work, const char *target, hutch_err *err)
{
	cleanup_close int fs = -1, mfd = -1;

	if (getenv("HUTCH_OVERLAY_LEGACY"))   /* tests: the pre-6.8 path on any kernel */
		return mount_overlay_legacy(lowers, upper, work, target, err);
	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return hutch_fail(err, errno, "overlay: fsopen");
	/* lowerdir+ takes the layers one at a time, top first: no page-size limit */
	for (size_t i = 0; lowers[i]; i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0) {
			if (i == 0 && errno == EINVAL)
				return mount_overlay_legacy(lowers, upper, work, target, err);
			return hutch_fail(err, errno, "overlay: lower dir `%s`", lowers[i]);
		}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return hutch_fail(err, errno, "overlay: create (upper `%s`)", upper);
	mfd = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return hutch_fail(err, errno, "overlay: fsmount");
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return hutch_fail(err, errno, "overlay: mount on `%s`", target);
	return 0;
}

int hutch_image_prepare_bundle(const char *ref, const char *id, const char *state_root,
			       char *const *args, char **bundle_dir, hutch_err *err)
{
	struct image_store s;
	struct image_manifest m = { 0 };
	struct image_bundle_opts o = { .args = args };
	cleanup_free char *name = NULL, *digest = NULL, *cdir = NULL, *p = NULL, *list = NULL;
	cleanup_free char *upper = NULL, *work = NULL, *rootfs = NULL;
	cleanup_strv char **lowers = NULL;
	cleanup_json json_object *spec = NULL;
	cleanup_close int rfd = -1;
	bool made = false, mounted = false;
	int ret = -1;

	if (check_id(id, err) < 0 || image_store_open(NULL, &s, err) < 0)
		return -1;
	if (image_store_lock(&s, false, err) < 0)
		goto out;
	if (image_lookup(&s, ref, &name, &digest, err) < 0 || image_manifest_load(&s, digest, &m, err) < 0)
		goto out;
	cdir = container_dir(&s, id, state_root);
	if (mkdir(cdir, 0700) < 0) {
		if (errno == EEXIST)
			hutch_fail(err, 0, "container `%s` already exists (its image bundle is `%s`)", id, cdir);
		else
			hutch_fail(err, errno, "container `%s`: image bundle `%s`", id, cdir);
		goto out;
	}
	made = true;
	list = xstrdup("");
	/* overlay wants the top layer first */
	for (size_t i = m.nlayers; i-- > 0;) {
		char *d = NULL, *old = list;

		if (image_layer_dir(&s, m.layers[i].digest, &d, err) < 0)
			goto out;
		strv_push(&lowers, d);
		list = xasprintf("%s%s\n", old, m.layers[i].digest);
		free(old);
	}
	p = xasprintf("%s/layers", cdir);
	if (write_file(p, list, strlen(list), err) < 0)
		goto out;
	upper = xasprintf("%s/upper", cdir);
	work = xasprintf("%s/work", cdir);
	rootfs = xasprintf("%s/rootfs", cdir);
	if (!lowers) {   /* an image without layers: one empty lower dir */
		char *e = xasprintf("%s/empty", cdir);

		strv_push(&lowers, e);
		if (mkdir(e, 0755) < 0) {
			hutch_fail(err, errno, "mkdir `%s`", e);
			goto out;
		}
	}
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0) {
		hutch_fail(err, errno, "container `%s`: make the overlay dirs in `%s`", id, cdir);
		goto out;
	}
	if (mount_overlay(lowers, upper, work, rootfs, err) < 0)
		goto out;
	mounted = true;
	rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (image_make_config(m.config, name, rfd, &o, &spec, err) < 0)
		goto out;
	free(p);
	p = xasprintf("%s/config.json", cdir);
	if (write_json(p, spec, err) < 0)
		goto out;
	free(p);
	p = xasprintf("%s/ref", cdir);
	if (write_file(p, name, strlen(name), err) < 0)
		goto out;
	*bundle_dir = steal_ptr(&cdir);
	ret = 0;
out:
	if (ret < 0 && made) {
		cleanup_err hutch_err e2 = NULL;

		if (mounted)
			umount2(rootfs, MNT_DETACH);
		image_rm_rf(cdir, &e2);
	}
	image_manifest_clear(&m);
	image_store_close(&s);
	return ret;
}

int hutch_image_release(const char *id, const char *state_root, hutch_err *err)
{
	struct image_store s;
	cleanup_free char *cdir = NULL, *rootfs = NULL;
	struct stat st;
	int ret = 0;

	if (check_id(id, err) < 0)
		return -1;
	{
		const char *root = getenv("HUTCH_IMAGE_STORE");

		if (stat(root && *root ? root : IMAGE_DEFAULT_STORE, &st) < 0)
			return 0;   /* no store: no image bundles */
	}
	if (image_store_open(NULL, &s, err) < 0)
		return -1;
	cdir = container_dir(&s, id, state_root);
	if (lstat(cdir, &st) < 0)
		goto out;
	rootfs = xasprintf("%s/rootfs", cdir);
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		ret = hutch_fail(err, errno, "container `%s`: unmount `%s`", id, rootfs);
		goto out;
	}
	ret = image_rm_rf(cdir, err);
out:
	image_store_close(&s);
	return ret;
}
