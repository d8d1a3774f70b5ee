// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "state.h"
#include "utils.h"

#define ID_MAX 1024

int state_validate_id(const char *id, hutch_err *err)
{
	size_t n = strlen(id);

	if (n == 0)
		return hutch_fail(err, 0, "container id must not be empty");
	if (n > ID_MAX)
		return hutch_fail(err, 0, "container id is too long (%zu bytes, at most %d)", n, ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return hutch_fail(err, 0, "invalid container id `%s`", id);
	for (const char *p = id; *p; p++) {
		unsigned char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return hutch_fail(err, 0,
					  "invalid container id `%s`: only letters, digits and _ - . + are allowed",
					  id);
	}
	return 0;
}

static struct hutch_state *state_new(const struct hutch_global *g, const char *id)
{
	struct hutch_state *st = xcalloc(1, sizeof(*st));

	st->id = xstrdup(id);
	st->dir = xasprintf("%s/%s", g->root, id);
	st->dirfd = -1;
	return st;
}

int state_create(const struct hutch_global *g, const char *id, struct hutch_state **out, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;

	if (state_validate_id(id, err) < 0)
		return -1;
	if (mkdir_p(g->root, 0700, err) < 0)
		return hutch_error_prefix(err, "state root");
	st = state_new(g, id);
	if (mkdir(st->dir, 0700) < 0) {
		if (errno == EEXIST)
			return hutch_fail(err, 0, "container `%s` already exists", id);
		return hutch_fail(err, errno, "mkdir `%s`", st->dir);
	}
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0 || flock(st->dirfd, LOCK_EX) < 0) {
		int e = errno;

		rmdir(st->dir);
		return hutch_fail(err, e, "open `%s`", st->dir);
	}
	*out = steal_ptr(&st);
	return 0;
}

static int state_load(struct hutch_state *st, hutch_err *err)
{
	cleanup_free char *path = xasprintf("%s/" STATE_FILE, st->dir);
	json_object *cg = NULL;
	int64_t pid = 0, start = 0;

	if (faccessat(st->dirfd, STATE_FILE, F_OK, 0) < 0 && errno == ENOENT) {
		/* still being created, or its create died: the cgroups it may have made */
		cleanup_free char *cgpath = xasprintf("%s/" STATE_CGROUP, st->dir);
		cleanup_json json_object *rec = NULL;

		if (faccessat(st->dirfd, STATE_CGROUP, F_OK, 0) < 0 && errno == ENOENT)
			return 0;
		if (json_parse_file(cgpath, STATE_CGROUP, &rec, err) < 0)
			return -1;
		return hutch_cgroup_from_json(rec, &st->cg, err);
	}
	if (json_parse_file(path, STATE_FILE, &st->json, err) < 0)
		return -1;
	if (jget_i64(st->json, STATE_FILE, "", "pid", false, &pid, err) < 0 ||
	    jget_i64(st->json, STATE_FILE, "", "start_time", false, &start, err) < 0 ||
	    jget_str(st->json, STATE_FILE, "", "bundle", false, &st->bundle, err) < 0 ||
	    jget_str(st->json, STATE_FILE, "", "rootfs", false, &st->rootfs, err) < 0 ||
	    jget_str(st->json, STATE_FILE, "", "created", false, &st->created, err) < 0 ||
	    jget_str(st->json, STATE_FILE, "", "owner", false, &st->owner, err) < 0 ||
	    jget_obj(st->json, STATE_FILE, "", "annotations", false, &st->annotations, err) < 0 ||
	    jget_obj(st->json, STATE_FILE, "", "cgroup", false, &cg, err) < 0)
		return -1;
	st->pid = pid;
	st->start_time = start;
	if (cg && hutch_cgroup_from_json(cg, &st->cg, err) < 0)
		return -1;
	return 0;
}

int state_open(const struct hutch_global *g, const char *id, bool exclusive,
	       struct hutch_state **out, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	struct stat s1, s2;

	if (state_validate_id(id, err) < 0)
		return -1;
	st = state_new(g, id);
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		if (errno == ENOENT)
			return hutch_fail(err, 0, "container `%s` does not exist", id);
		return hutch_fail(err, errno, "open `%s`", st->dir);
	}
	if (flock(st->dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		return hutch_fail(err, errno, "lock `%s`", st->dir);
	/* It may have been deleted while we waited for the lock. */
	if (fstat(st->dirfd, &s1) < 0 || stat(st->dir, &s2) < 0 || s1.st_ino != s2.st_ino ||
	    s1.st_nlink == 0)
		return hutch_fail(err, 0, "container `%s` does not exist", id);
	if (state_load(st, err) < 0)
		return hutch_error_prefix(err, "container `%s`", id);
	*out = steal_ptr(&st);
	return 0;
}

int state_save(struct hutch_state *st, hutch_err *err)
{
	const char *s = json_str(st->json, true);

	return write_file_atomic_at(st->dirfd, STATE_FILE, s, strlen(s), err);
}

static int remove_tree_at(int parent, const char *name)
{
	cleanup_close int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return unlinkat(parent, name, 0);
	d = fdopendir(steal_fd(&fd));
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_DIR)
			remove_tree_at(dirfd(d), e->d_name);
		else
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int state_remove(struct hutch_state *st, hutch_err *err)
{
	if (remove_tree_at(AT_FDCWD, st->dir) < 0 && errno != ENOENT)
		return hutch_fail(err, errno, "remove `%s`", st->dir);
	return 0;
}

void state_free(struct hutch_state *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	if (st->cg)
		hutch_cgroup_free(st->cg);
	if (st->json)
		json_object_put(st->json);
	free(st->id);
	free(st->dir);
	free(st);
}

int state_init_pidfd(struct hutch_state *st)
{
	uint64_t start;
	char pstate;
	int fd;

	if (st->pid <= 0)
		return -1;
	fd = pidfd_open_pid(st->pid, 0);
	if (fd < 0)
		return -1;
	/* The pidfd pins the pid: if the start time matches now, it is our process. */
	if (pid_start_time(st->pid, &start, &pstate) < 0 || start != st->start_time ||
	    pstate == 'Z' || pstate == 'X') {
		close(fd);
		return -1;
	}
	return fd;
}

enum hutch_status state_status(struct hutch_state *st)
{
	int fd;

	if (!st->json)
		return STATUS_CREATING;
	/* hutch.ko's init-exit record: immune to PID reuse */
	if (hutch_kmod_ct_init_exited(st->id, NULL) == 1)
		return STATUS_STOPPED;
	fd = state_init_pidfd(st);
	if (fd < 0)
		return STATUS_STOPPED;
	close(fd);
	if (faccessat(st->dirfd, STATE_EXEC_SOCK, F_OK, 0) == 0)
		return STATUS_CREATED;
	if (st->cg && hutch_cgroup_frozen(st->cg))
		return STATUS_PAUSED;
	return STATUS_RUNNING;
}

const char *status_name(enum hutch_status s)
{
	static const char *const names[] = { "creating", "created", "running", "paused", "stopped" };

	return names[s];
}

json_object *state_oci_json(struct hutch_state *st, enum hutch_status status)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ociVersion", json_object_new_string(HUTCH_OCI_VERSION));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "status", json_object_new_string(status_name(status)));
	json_object_object_add(o, "pid", json_object_new_int(status == STATUS_STOPPED ? 0 : st->pid));
	if (st->bundle)
		json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	if (st->rootfs)
		json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	if (st->created)
		json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "owner", json_object_new_string(st->owner ? st->owner : ""));
	if (st->annotations)
		json_object_object_add(o, "annotations", json_object_get(st->annotations));
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const struct hutch_global *g, char ***ids, hutch_err *err)
{
	cleanup_strv char **v = NULL;
	DIR *d = opendir(g->root);
	struct dirent *e;

	if (!d) {
		if (errno == ENOENT) {
			*ids = xcalloc(1, sizeof(char *));
			return 0;
		}
		return hutch_fail(err, errno, "open `%s`", g->root);
	}
	v = xcalloc(1, sizeof(char *));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		strv_push(&v, xstrdup(e->d_name));
	}
	closedir(d);
	qsort(v, strv_len(v), sizeof(char *), cmp_str);
	*ids = steal_ptr(&v);
	return 0;
}
