// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "utils.h"

void oom(void)
{
	static const char msg[] = "hutch: out of memory\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		oom();
	return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *r;

	if (vasprintf(&r, fmt, ap) < 0)
		oom();
	return r;
}

void format_size(char *buf, size_t n, double bytes, int kb_decimals)
{
	if (bytes >= 1e9)
		snprintf(buf, n, "%.2f GB", bytes / 1e9);
	else if (bytes >= 1e6)
		snprintf(buf, n, "%.1f MB", bytes / 1e6);
	else
		snprintf(buf, n, "%.*f kB", kb_decimals, bytes / 1e3);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = xvasprintf(fmt, ap);
	va_end(ap);
	return r;
}

void cleanup_close_pairp(int (*fds)[2])
{
	cleanup_closep(&(*fds)[0]);
	cleanup_closep(&(*fds)[1]);
}

void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}

void cleanup_strvp(char ***v)
{
	strv_free(*v);
	*v = NULL;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void strv_push(char ***v, char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, hutch_err *err)
{
	cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	if (fd < 0)
		return hutch_fail(err, errno, "open `%s`", path);
	buf = xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return hutch_fail(err, e, "read `%s`", path);
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int read_file(const char *path, char **out, size_t *len, hutch_err *err)
{
	return read_file_at(AT_FDCWD, path, out, len, err);
}

int write_file_at(int dirfd, const char *path, const void *data, size_t len, hutch_err *err)
{
	cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return hutch_fail(err, errno, "open `%s`", path);
	if (write_all(fd, data, len) < 0)
		return hutch_fail(err, errno, "write `%s`", path);
	return 0;
}

int write_file(const char *path, const void *data, size_t len, hutch_err *err)
{
	return write_file_at(AT_FDCWD, path, data, len, err);
}

int proc_open(const char *rel, int flags, hutch_err *err)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	cleanup_close int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;
	struct stat st;
	int fd;

	if (proc < 0)
		return hutch_fail(err, errno, "open /proc");
	/* the root of a procfs, not a directory or another file mounted there */
	if (fstatfs(proc, &sf) < 0 || fstat(proc, &st) < 0)
		return hutch_fail(err, errno, "stat /proc");
	if (sf.f_type != PROC_SUPER_MAGIC || st.st_ino != 1)
		return hutch_fail(err, 0, "/proc is not the root of a procfs: refusing to write `/proc/%s`",
				  rel);
	fd = syscall(SYS_openat2, proc, rel, &how, sizeof(how));
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			return hutch_fail(err, errno, "`/proc/%s` is redirected (a mount or link in the way)",
					  rel);
		return hutch_fail(err, errno, "open `/proc/%s`", rel);
	}
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return hutch_fail(err, 0, "`/proc/%s` is not on procfs", rel);
	}
	return fd;
}

int proc_write(const char *rel, const char *data, hutch_err *err)
{
	cleanup_close int fd = proc_open(rel, O_WRONLY, err);

	if (fd < 0)
		return -1;
	if (write_all(fd, data, strlen(data)) < 0)
		return hutch_fail(err, errno, "write `/proc/%s`", rel);
	return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, hutch_err *err)
{
	cleanup_free char *tmp = xasprintf(".%s.%d.tmp", name, getpid());
	int r = write_file_at(dirfd, tmp, data, len, err);

	if (r < 0)
		return r;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return hutch_fail(err, e, "rename `%s`", name);
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode, hutch_err *err)
{
	cleanup_free char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return hutch_fail(err, errno, "mkdir `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return hutch_fail(err, errno, "mkdir `%s`", p);
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

int parse_signal(const char *s, int *sig, hutch_err *err)
{
	uint64_t n;
	const char *name = s;

	if (parse_u64(s, &n) == 0) {
		if (n < 1 || n > (uint64_t)SIGRTMAX)
			return hutch_fail(err, 0, "invalid signal `%s`: out of range", s);
		*sig = n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		if (strcasecmp(name, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
		bool min = strncasecmp(name, "RTMIN", 5) == 0;
		int64_t off = 0;
		const char *rest = name + 5;

		if (*rest && (parse_i64(rest, &off) < 0 || (*rest != '+' && *rest != '-')))
			goto bad;
		off = min ? SIGRTMIN + off : SIGRTMAX + off;
		if (off < SIGRTMIN || off > SIGRTMAX)
			goto bad;
		*sig = off;
		return 0;
	}
bad:
	return hutch_fail(err, 0, "invalid signal `%s`", s);
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

int pid_start_time(pid_t pid, uint64_t *out, char *state)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields resume after the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	if (state)
		*state = *p;
	/* p is at field 3; start time is field 22 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return sscanf(p, "%" SCNu64, out) == 1 ? 0 : -1;
}

int pidfd_open_pid(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

int pidfd_send(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

char *rfc3339_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

bool str_has_prefix(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct hutch_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

pid_t fork_into_cgroup(int cgroup_fd, bool *entered)
{
	*entered = false;
	if (cgroup_fd >= 0) {
		struct hutch_clone_args a = {
			.flags = CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (uint64_t)cgroup_fd,
		};
		pid_t pid = syscall(SYS_clone3, &a, sizeof(a));

		if (pid >= 0) {
			*entered = true;
			return pid;
		}
		/* ENOSYS/E2BIG on old kernels, EBUSY etc.: plain fork, then enter */
	}
	return fork();
}

pid_t clone_ns_into_cgroup(int nsflags, int cgroup_fd, bool *entered)
{
	struct hutch_clone_args a = {
		.flags = (uint64_t)(unsigned int)nsflags | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.exit_signal = SIGCHLD,
		.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
	};
	pid_t pid = syscall(SYS_clone3, &a, sizeof(a));

	*entered = pid >= 0 && cgroup_fd >= 0;
	return pid;
}

/* Go durations ("5s", "250ms", "1m30s") or plain seconds; milliseconds out. */
int parse_duration_ms(const char *s, int64_t *ms, hutch_err *err)
{
	static const struct { const char *u; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 },
	};
	const char *p = s;
	double total = 0;

	if (!*s)
		goto bad;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		size_t best = 0, bl = 0;

		if (end == p || v < 0)
			goto bad;
		p = end;
		if (!*p && p != s && total == 0) {
			total = v * 1000;   /* a bare number: seconds */
			break;
		}
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(p, units[i].u, l) == 0 && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			goto bad;
		total += v * units[best].ms;
		p += bl;
	}
	if (total < 1 || total > 86400000.0)
		goto bad;
	*ms = (int64_t)total;
	return 0;
bad:
	return hutch_fail(err, 0, "\"%s\" is not a duration like 5s or 250ms "
			  "(between 1ms and 24h)", s);
}

bool in_initial_userns(void)
{
	cleanup_free char *map = NULL;
	unsigned long inside, outside, count;

	/* the check runc makes: the initial namespace's map is "0 0 4294967295" */
	if (read_file("/proc/self/uid_map", &map, NULL, NULL) < 0)
		return true;
	return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
	       outside == 0 && count == 4294967295UL;
}

int unix_connect(const char *path, const char *what, hutch_err *err)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cleanup_close int dirfd = -1;
	cleanup_free char *dir = xstrdup(path);
	cleanup_free char *via = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *slash = strrchr(dir, '/');
	const char *target = path;

	if (fd < 0)
		return hutch_fail(err, errno, "%s: socket", what);
	if (strlen(path) >= sizeof(sa.sun_path) && slash) {
		*slash = '\0';
		dirfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return hutch_fail(err, errno, "%s `%s`", what, path);
		via = xasprintf("/proc/self/fd/%d/%s", dirfd, slash + 1);
		target = via;
	}
	if (strlen(target) >= sizeof(sa.sun_path))
		return hutch_fail(err, ENAMETOOLONG, "%s `%s`", what, path);
	strcpy(sa.sun_path, target);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return hutch_fail(err, errno, "%s: connect to `%s`", what, path);
	return steal_fd(&fd);
}
