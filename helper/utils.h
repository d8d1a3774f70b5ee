/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every part of the helper: memory, files, cleanup. */
#ifndef HUTCH_UTILS_H
#define HUTCH_UTILS_H

#include <stdarg.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((noreturn)) void oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* A byte count for people: "1.23 GB", "4.5 MB", or kB with kb_decimals decimals. */
void format_size(char *buf, size_t n, double bytes, int kb_decimals);

static inline void cleanup_freep(void *p)
{
	extern void free(void *);

	free(*(void **)p);
}

void cleanup_closep(int *fd);
void cleanup_close_pairp(int (*fds)[2]);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
/* int sv[2] cleanup_close_pair = { -1, -1 }: both ends of a socketpair or pipe */
#define cleanup_close_pair __attribute__((cleanup(cleanup_close_pairp)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

/* Hand ownership of an fd or pointer out of a cleanup-tagged variable. */
static inline int steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

#define steal_ptr(p) ({ __typeof__(*(p)) _r = *(p); *(p) = NULL; _r; })

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_free(char **v);
void strv_push(char ***v, char *s);   /* takes ownership of s */
bool strv_contains(char *const *v, const char *s);

/* Whole-file I/O; buffers are NUL-terminated and grow as needed. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len, hutch_err *err);
int read_file(const char *path, char **out, size_t *len, hutch_err *err);
int write_file_at(int dirfd, const char *path, const void *data, size_t len, hutch_err *err);
int write_file(const char *path, const void *data, size_t len, hutch_err *err);
/* Write to a temporary name in dirfd, fsync-free, then rename over name. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, hutch_err *err);
int write_all(int fd, const void *data, size_t len);
/*
 * A SOCK_STREAM AF_UNIX socket connected to PATH (one longer than sun_path goes through
 * its directory's fd): the fd, or <0 with *err set, naming WHAT ("--console-socket").
 */
int unix_connect(const char *path, const char *what, hutch_err *err);

/*
 * Open (O_WRONLY / O_RDONLY ...) or write a file of procfs by its path below /proc
 * ("sys/net/ipv4/ip_forward", "self/attr/exec", "1234/uid_map") so that nothing
 * mounted or linked in the way can redirect it (CVE-2025-52881, CVE-2019-16884):
 * /proc must be the root of a procfs, the lookup crosses no mount point and follows
 * no magic link, and the file opened must be on procfs.
 */
int proc_open(const char *rel, int flags, hutch_err *err);
int proc_write(const char *rel, const char *data, hutch_err *err);
ssize_t read_all(int fd, void *buf, size_t len);

int mkdir_p(const char *path, mode_t mode, hutch_err *err);

/* Strict number parsing: the whole string must be a number in range. */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);

/* Signals by name ("TERM", "SIGKILL", "RTMIN+3") or number. */
int parse_signal(const char *s, int *sig, hutch_err *err);
const char *signal_name(int sig);

/* Field 22 of /proc/PID/stat: clock ticks after boot the process started at. */
int pid_start_time(pid_t pid, uint64_t *out, char *state);

int pidfd_open_pid(pid_t pid, unsigned int flags);
int pidfd_send(int pidfd, int sig);

/* RFC 3339 time with nanoseconds in UTC, as runc writes it. */
char *rfc3339_now(void);

bool str_has_prefix(const char *s, const char *pre);
/* Whether this process is in the initial user namespace (its uid_map maps every id). */
bool in_initial_userns(void);

/* Go durations ("5s", "250ms", "1m30s") or plain seconds, in milliseconds. */
int parse_duration_ms(const char *s, int64_t *ms, hutch_err *err);

/*
 * fork(), straight into the cgroup v2 directory cgroup_fd when >= 0 (clone3 with
 * CLONE_INTO_CGROUP): the child never runs outside it. *entered says whether that
 * happened; if not, the caller moves the child in itself.
 */
pid_t fork_into_cgroup(int cgroup_fd, bool *entered);
/*
 * clone3 with the CLONE_NEW* flags nsflags, into the cgroup directory cgroup_fd when it
 * is >= 0 (*entered as above). -1 with errno when clone3 cannot do it (old kernel, a
 * namespace refused, the cgroup busy): the caller then goes the long way (fork, unshare).
 */
pid_t clone_ns_into_cgroup(int nsflags, int cgroup_fd, bool *entered);

#endif
