// SPDX-License-Identifier: GPL-2.0-or-later
/* The lease table: <lease_dir>/leases.json under a flock on <lease_dir>/lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "jsonutil.h"
#include "net.h"
#include "utils.h"

#define LEASE_FILE "leases.json"

int net_lease_lock(const char *lease_dir, hutch_err *err)
{
	cleanup_free char *path = xasprintf("%s/lock", lease_dir);
	cleanup_close int fd = -1;

	/* 0711: containers in a user namespace bind-mount their /etc files from etc/ below */
	if (mkdir_p(lease_dir, 0711, err) < 0)
		return hutch_error_prefix(err, "lease directory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return hutch_fail(err, errno, "open `%s`", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return hutch_fail(err, errno, "lock `%s`", path);
	return steal_fd(&fd);
}

int net_lease_read(const char *lease_dir, json_object **out, hutch_err *err)
{
	cleanup_free char *path = xasprintf("%s/" LEASE_FILE, lease_dir);
	json_object *o = NULL;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*out = json_object_new_object();
		return 0;
	}
	if (json_parse_file(path, path, &o, err) < 0)
		return -1;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return hutch_fail(err, 0, "%s: expected an object", path);
	}
	*out = o;
	return 0;
}

int net_lease_write(const char *lease_dir, json_object *leases, hutch_err *err)
{
	cleanup_close int dirfd = open(lease_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *s;

	if (dirfd < 0)
		return hutch_fail(err, errno, "open `%s`", lease_dir);
	s = json_object_to_json_string_ext(leases, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	return write_file_atomic_at(dirfd, LEASE_FILE, s, strlen(s), err);
}
