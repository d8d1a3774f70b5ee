// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * checkpoint/restore through `criu swrk` (criu.h). The RPC messages are protobuf: this
 * file encodes the few fields of criu_req/criu_opts it sets and decodes criu_resp; the
 * field numbers are those of criu's images/rpc.proto.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "criu.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "log.h"
#include "mount.h"
#include "seccomp_filter.h"
#include "spec.h"
#include "state.h"
#include "terminal.h"
#include "utils.h"

/* rpc.proto: criu_req_type */
enum { REQ_DUMP = 1, REQ_RESTORE = 2, REQ_PRE_DUMP = 4, REQ_NOTIFY = 6 };
/* rpc.proto: criu_opts fields */
enum {
	O_IMAGES_DIR_FD = 1, O_PID = 2, O_LEAVE_RUNNING = 3, O_TCP_ESTABLISHED = 5,
	O_FILE_LOCKS = 8, O_LOG_LEVEL = 9, O_LOG_FILE = 10, O_PS = 11, O_NOTIFY_SCRIPTS = 12, O_ROOT = 13,
	O_PARENT_IMG = 14, O_TRACK_MEM = 15, O_WORK_DIR_FD = 17, O_EXT_MNT = 23,
	O_MANAGE_CGROUPS = 24, O_CG_ROOT = 25, O_RST_SIBLING = 26, O_INHERIT_FD = 27,
	O_CG_MODE = 34, O_EXTERNAL = 37, O_FREEZE_CGROUP = 44, O_LAZY_PAGES = 48,
	O_ORPHAN_PTS_MASTER = 50,
};
/* rpc.proto: criu_page_server_info fields */
enum { PS_ADDRESS = 1, PS_PORT = 2 };
/* the image directory's record of hutch (bundle, the init's stdio) */
#define CRIU_RECORD "hutch-checkpoint.json"
#define CRIU_ROOT "criu-root"

/* ---- protobuf, the few wire types used ------------------------------------ */

struct pb {
	uint8_t *p;
	size_t len, cap;
};

static void pb_release(struct pb *b)
{
	free(b->p);
}
#define cleanup_pb __attribute__((cleanup(pb_release)))

static void pb_put(struct pb *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t c;

	do {
		c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		pb_put(b, &c, 1);
	} while (v);
}

static void pb_uint(struct pb *b, unsigned int field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned int field, const void *d, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	pb_put(b, d, n);
}

static void pb_str(struct pb *b, unsigned int field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/* a message field holding two strings (ext_mount_map, cgroup_root, inherit_fd's key) */
static void pb_pair(struct pb *b, unsigned int field, unsigned int f1, const char *s1,
		    unsigned int f2, const char *s2)
{
	cleanup_pb struct pb m = { 0 };

	if (s1)
		pb_str(&m, f1, s1);
	pb_str(&m, f2, s2);
	pb_bytes(b, field, m.p, m.len);
}

/* an inherit_fd (rpc.proto: key, fd): CRIU gives the file restored under key the fd */
static void pb_inherit_fd(struct pb *b, const char *key, int fd)
{
	cleanup_pb struct pb m = { 0 };

	pb_str(&m, 1, key);
	pb_uint(&m, 2, fd);
	pb_bytes(b, O_INHERIT_FD, m.p, m.len);
}

static int pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		*v |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80))
			return 0;
	}
	return -1;
}

/* The next field: *field, and *v (varint) or *d, *n (length-delimited); 0, 1 at the end, -1 bad. */
static int pb_next(const uint8_t **p, const uint8_t *end, unsigned int *field, uint64_t *v,
		   const uint8_t **d, size_t *n)
{
	uint64_t key;

	if (*p >= end)
		return 1;
	if (pb_read_varint(p, end, &key) < 0)
		return -1;
	*field = key >> 3;
	switch (key & 7) {
	case 0:
		return pb_read_varint(p, end, v);
	case 2:
		if (pb_read_varint(p, end, v) < 0 || *v > (uint64_t)(end - *p))
			return -1;
		*d = *p;
		*n = *v;
		*p += *v;
		return 0;
	case 1:
		if (end - *p < 8)
			return -1;
		*p += 8;
		return 0;
	case 5:
		if (end - *p < 4)
			return -1;
		*p += 4;
		return 0;
	default:
		return -1;
	}
}

struct criu_resp {
	int type;
	bool success;
	int cr_errno;
	char *errmsg;
	pid_t restore_pid;
	char *notify_script;
	pid_t notify_pid;
};

static void resp_clear(struct criu_resp *r)
{
	free(r->errmsg);
	free(r->notify_script);
	memset(r, 0, sizeof(*r));
}

/* the int32 field 1 (criu_restore_resp.pid) or the script/pid of a criu_notify */
static int resp_sub(const uint8_t *p, size_t len, char **script, pid_t *pid)
{
	const uint8_t *end = p + len, *d;
	unsigned int f;
	uint64_t v;
	size_t n;
	int r;

	while ((r = pb_next(&p, end, &f, &v, &d, &n)) == 0) {
		if (f == 1 && script) {
			free(*script);
			*script = strndup((const char *)d, n);
		} else if ((f == 1 && !script) || f == 2) {
			*pid = (pid_t)v;
		}
	}
	return r < 0 ? -1 : 0;
}

static int resp_parse(const uint8_t *p, size_t len, struct criu_resp *r)
{
	const uint8_t *end = p + len, *d = NULL;
	unsigned int f;
	uint64_t v;
	size_t n = 0;
	int rc;

	while ((rc = pb_next(&p, end, &f, &v, &d, &n)) == 0) {
		switch (f) {
		case 1: r->type = (int)v; break;
		case 2: r->success = v != 0; break;
		case 4:
			if (resp_sub(d, n, NULL, &r->restore_pid) < 0)
				return -1;
			break;
		case 5:
			if (resp_sub(d, n, &r->notify_script, &r->notify_pid) < 0)
				return -1;
			break;
		case 7: r->cr_errno = (int)v; break;
		case 9:
			free(r->errmsg);
			r->errmsg = strndup((const char *)d, n);
			break;
		}
	}
	return rc < 0 ? -1 : 0;
}

/* ---- criu itself ------------------------------------------------------------ */

static char *criu_find(hutch_err *err)
{
	extern char **environ;
	char *exe = find_executable("criu", environ);

	if (!exe || access(exe, X_OK) < 0) {
		free(exe);
		hutch_fail(err, 0, "criu is not installed: no `criu` in PATH (checkpoint and restore "
			   "need CRIU; Debian: apt-get install criu)");
		return NULL;
	}
	return exe;
}

/* `criu check`: CRIU's own verdict on this kernel, its last line in the error */
static int criu_check_run(const char *criu, hutch_err *err)
{
	cleanup_close_pair int p[2] = { -1, -1 };
	cleanup_free char *out = NULL;
	size_t len = 0, cap = 0;
	int status;
	pid_t pid;
	ssize_t r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return hutch_fail(err, errno, "pipe");
	pid = fork();
	if (pid < 0)
		return hutch_fail(err, errno, "fork");
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(criu, "criu", "check", (char *)NULL);
		_exit(127);
	}
	cleanup_closep(&p[1]);
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap * 2 + 4096;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		r = read(p[0], out + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	{
		char *last = strrchr(out, '\n');

		return hutch_fail(err, 0, "CRIU cannot checkpoint or restore on this kernel: `criu check` "
				  "failed: %s", last ? last + 1 : *out ? out : "(no output)");
	}
}

/*
 * `criu check` probes every kernel feature CRIU uses (forks, ptrace, userfaultfd...): it
 * costs more than many a checkpoint. Its verdict changes only with the kernel or the criu
 * binary, so a success is remembered in CRIU_CHECK_CACHE, keyed by the boot (boot_id: the
 * kernel cannot change without a reboot; /run is a tmpfs anyway) and criu's binary (device,
 * inode, size, mtime: an upgrade is a new file). A failure is never remembered: where CRIU
 * cannot run, every command gives the clear error, and a fixed host is seen at once.
 */
#define CRIU_CHECK_CACHE HUTCH_DEFAULT_ROOT "/.criu-check"

static int criu_check(const char *criu, hutch_err *err)
{
	cleanup_free char *boot = NULL, *key = NULL, *cached = NULL;
	size_t len;
	struct stat sb;

	if (stat(criu, &sb) < 0)
		return hutch_fail(err, errno, "stat `%s`", criu);
	if (read_file("/proc/sys/kernel/random/boot_id", &boot, &len, NULL) < 0)
		return criu_check_run(criu, err);
	key = xasprintf("boot %.*s criu %s %lu:%lu %lld %lld.%09ld\n", (int)strcspn(boot, "\n"), boot,
			criu, (unsigned long)sb.st_dev, (unsigned long)sb.st_ino, (long long)sb.st_size,
			(long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	if (read_file(CRIU_CHECK_CACHE, &cached, &len, NULL) == 0 && strcmp(cached, key) == 0)
		return 0;
	if (criu_check_run(criu, err) < 0)
		return -1;
	{
		cleanup_close int dir = -1;

		/* best effort: without it the next command checks again */
		if (mkdir_p(HUTCH_DEFAULT_ROOT, 0700, NULL) == 0 &&
		    (dir = open(HUTCH_DEFAULT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
			write_file_atomic_at(dir, ".criu-check", key, strlen(key), NULL);
	}
	return 0;
}

struct swrk {
	pid_t pid;
	int fd;
};

/*
 * fork `criu swrk FD`: it inherits our fds without O_CLOEXEC (inherit_fd). quiet: its
 * stdio on /dev/null (criu logs into its log file; after a pre-dump it complains on stderr
 * that we hung up instead of sending the next iteration).
 */
static int swrk_start(const char *criu, bool quiet, struct swrk *s, hutch_err *err)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return hutch_fail(err, errno, "socketpair for criu");
	s->pid = fork();
	if (s->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return hutch_fail(err, errno, "fork");
	}
	if (s->pid == 0) {
		char num[16];

		fcntl(sv[1], F_SETFD, 0);
		if (quiet) {
			int null = open("/dev/null", O_RDWR);

			for (int fd = 0; null >= 0 && fd < 3; fd++)
				dup2(null, fd);
		}
		snprintf(num, sizeof(num), "%d", sv[1]);
		execl(criu, "criu", "swrk", num, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	s->fd = sv[0];
	return 0;
}

static void swrk_end(struct swrk *s)
{
	int status;

	cleanup_closep(&s->fd);
	if (s->pid > 0)
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
	s->pid = -1;
}

/* The next message; *fd: the descriptor it carries (orphan-pts-master's), or -1. */
static int swrk_recv(struct swrk *s, struct criu_resp *r, int *fd, hutch_err *err)
{
	cleanup_free uint8_t *buf = NULL;
	ssize_t n;
	int got;

	resp_clear(r);
	*fd = -1;
	do
		n = recv(s->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return hutch_fail(err, n < 0 ? errno : 0, "criu swrk closed the connection");
	buf = malloc(n + 1);
	if (!buf)
		abort();
	/* (the message is n bytes: hutch_recv_fd reads them, and the fd if one came) */
	got = hutch_recv_fd(s->fd, (char *)buf, n + 1);
	if (got < 0 && got != -EBADMSG)
		return hutch_fail(err, -got, "read criu's response");
	*fd = got >= 0 ? got : -1;
	if (resp_parse(buf, n, r) < 0)
		return hutch_fail(err, 0, "criu's response is not a criu_resp");
	return 0;
}

/* a notification of criu: script, pid, and the fd it came with (-1: none; the callee
 * does not keep it) */
typedef int (*notify_fn)(void *data, const char *script, pid_t pid, int fd, hutch_err *err);

/* One request; notifications go to fn and are answered until the response comes. */
static int swrk_call(struct swrk *s, int type, const struct pb *opts, notify_fn fn, void *data,
		     struct criu_resp *r, hutch_err *err)
{
	cleanup_pb struct pb req = { 0 };
	ssize_t n;

	pb_uint(&req, 1, type);
	pb_bytes(&req, 2, opts->p, opts->len);
	n = send(s->fd, req.p, req.len, MSG_NOSIGNAL);
	if (n < 0)
		return hutch_fail(err, errno, "send the request to criu");
	for (;;) {
		cleanup_close int fd = -1;

		if (swrk_recv(s, r, &fd, err) < 0)
			return -1;
		if (r->type != REQ_NOTIFY)
			return 0;
		if (fn && r->notify_script && fn(data, r->notify_script, r->notify_pid, fd, err) < 0)
			return -1;
		req.len = 0;   /* (the buffer is reused) */
		pb_uint(&req, 1, REQ_NOTIFY);
		pb_uint(&req, 3, 1);
		n = send(s->fd, req.p, req.len, MSG_NOSIGNAL);
		if (n < 0)
			return hutch_fail(err, errno, "answer criu's notification");
	}
}

/* The failure of a request: criu's message and the error lines of its log. */
static int criu_failed(const char *what, const struct criu_resp *r, int workfd, const char *log,
		       const char *workdir, hutch_err *err)
{
	cleanup_free char *text = NULL, *errs = xstrdup("");
	size_t len;

	if (read_file_at(workfd, log, &text, &len, NULL) == 0) {
		int lines = 0;

		for (char *l = strtok(text, "\n"); l && lines < 3; l = strtok(NULL, "\n")) {
			if (!strstr(l, "Error") && !strstr(l, "error"))
				continue;
			char *n = xasprintf("%s; %s", errs, l);

			free(errs);
			errs = n;
			lines++;
		}
	}
	return hutch_fail(err, r->cr_errno > 0 ? r->cr_errno : 0, "criu %s failed%s%s%s (log: %s/%s)",
			  what, r->errmsg ? ": " : "", r->errmsg ? r->errmsg : "", errs, workdir, log);
}

/* ---- what checkpoint and restore share ---------------------------------------- */

struct dirs {
	int image, work;
	char *image_path, *work_path;
};

static void dirs_release(struct dirs *d)
{
	cleanup_closep(&d->image);
	cleanup_closep(&d->work);
	free(d->image_path);
	free(d->work_path);
}

static int open_dir(const char *path, const char *opt, bool make, char **abs, int *fd, hutch_err *err)
{
	if (make && mkdir_p(path, 0700, err) < 0)
		return hutch_error_prefix(err, "%s", opt);
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return hutch_fail(err, errno, "%s: `%s`", opt, path);
	*abs = realpath(path, NULL);
	if (!*abs)
		return hutch_fail(err, errno, "%s: `%s`", opt, path);
	return 0;
}

static int open_dirs(const struct hutch_criu_opts *o, bool make, struct dirs *d, hutch_err *err)
{
	const char *image = o->image_path ? o->image_path : "checkpoint";

	if (open_dir(image, "--image-path", make, &d->image_path, &d->image, err) < 0)
		return -1;
	if (o->work_path)
		return open_dir(o->work_path, "--work-path", true, &d->work_path, &d->work, err);
	d->work = dup(d->image);
	d->work_path = xstrdup(d->image_path);
	return d->work < 0 ? hutch_fail(err, errno, "dup") : 0;
}

static void common_opts(struct pb *opts, const struct hutch_criu_opts *o, const struct dirs *d,
			const char *log)
{
	pb_uint(opts, O_IMAGES_DIR_FD, d->image);
	pb_uint(opts, O_WORK_DIR_FD, d->work);
	pb_uint(opts, O_LOG_LEVEL, 4);
	pb_str(opts, O_LOG_FILE, log);
	if (o->tcp_established)
		pb_uint(opts, O_TCP_ESTABLISHED, 1);
	if (o->file_locks)
		pb_uint(opts, O_FILE_LOCKS, 1);
	pb_uint(opts, O_MANAGE_CGROUPS, 1);
	if (o->cg_mode != CRIU_CG_DEFAULT)
		pb_uint(opts, O_CG_MODE, o->cg_mode);
}

/* Bind mounts from the host are external to the container's mount namespace: on dump
 * their destination names them, on restore their source is bound there again (runc). */
static void ext_mounts(struct pb *opts, const struct hutch_spec *s, bool restore)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct hutch_mount *m = &s->mounts[i];

		if (m->bind)
			pb_pair(opts, O_EXT_MNT, 1, m->destination, 2,
				restore ? m->source : m->destination);
	}
}

/*
 * --page-server ADDRESS:PORT (runc's form; an IPv6 address in brackets, [::1]:PORT) into
 * a criu_page_server_info
 */
static int page_server_opt(struct pb *opts, const char *arg, hutch_err *err)
{
	cleanup_free char *addr = xstrdup(arg);
	cleanup_pb struct pb m = { 0 };
	char *colon = strrchr(addr, ':'), *a = addr;
	unsigned char bin[sizeof(struct in6_addr)];
	uint64_t port;

	if (!colon || parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		goto bad;
	*colon = '\0';
	if (*a == '[' && colon > a + 1 && colon[-1] == ']') {
		a++;
		colon[-1] = '\0';
		if (inet_pton(AF_INET6, a, bin) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, a, bin) != 1) {
		goto bad;
	}
	pb_str(&m, PS_ADDRESS, a);
	pb_uint(&m, PS_PORT, port);
	pb_bytes(opts, O_PS, m.p, m.len);
	return 0;
bad:
	return hutch_fail(err, 0, "--page-server: `%s` is not ADDRESS:PORT (an IPv4 address, or an IPv6 "
			  "one in brackets, and a port from 1 to 65535)", arg);
}

/* What checkpoint's options need of each other, before anything is touched. */
static int check_dump_opts(const struct hutch_criu_opts *o, hutch_err *err)
{
	int fl;

	if (o->lazy_pages && !o->page_server)
		return hutch_fail(err, 0, "--lazy-pages: needs --page-server ADDRESS:PORT, where the pages "
				  "are served to the `criu lazy-pages` daemon of the restore");
	if (o->lazy_pages && o->pre_dump)
		return hutch_fail(err, 0, "--lazy-pages: not with --pre-dump (a pre-dump writes the pages "
				  "it finds, a lazy dump serves them)");
	if (o->status_fd >= 0 && !o->lazy_pages)
		return hutch_fail(err, 0, "--status-fd: only with --lazy-pages (it tells when the page "
				  "server is ready)");
	if (o->status_fd >= 0) {
		fl = fcntl(o->status_fd, F_GETFL);
		if (fl < 0)
			return hutch_fail(err, errno, "--status-fd: %d", o->status_fd);
		if ((fl & O_ACCMODE) == O_RDONLY)
			return hutch_fail(err, 0, "--status-fd: %d is not open for writing", o->status_fd);
	}
	if (o->page_server) {
		cleanup_pb struct pb probe = { 0 };

		return page_server_opt(&probe, o->page_server, err);
	}
	return 0;
}

/* dump's notifications: "status-ready" once the lazy page server listens (runc: '\0' on
 * --status-fd, then closes it) */
static int on_dump_notify(void *data, const char *script, pid_t pid, int fd, hutch_err *err)
{
	int *status_fd = data;

	(void)pid;
	(void)fd;
	(void)err;
	if (strcmp(script, "status-ready") == 0 && *status_fd >= 0) {
		if (write(*status_fd, "", 1) != 1)
			log_warn("--status-fd: write: %s", strerror(errno));
		close(*status_fd);
		*status_fd = -1;
	}
	return 0;
}

/* The mount points of bind mounts, which CRIU wants there (runc's
 * prepareCriuRestoreMounts): a rootfs made anew, as `podman container restore --import`
 * makes it, lacks the ones hutch created at `create` (/etc/hosts...). Those inside a
 * tmpfs mount are left to CRIU, which restores the tmpfs' content. */
static int restore_mountpoints(const struct hutch_spec *s, hutch_err *err)
{
	cleanup_close int rootfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return hutch_fail(err, errno, "config.json: root.path: `%s`", s->root);
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct hutch_mount *m = &s->mounts[i];
		bool in_tmpfs = false;
		struct stat sb;
		int fd;

		for (size_t j = 0; j < s->nmounts && !in_tmpfs; j++) {
			size_t n = strlen(s->mounts[j].destination);

			in_tmpfs = j != i && s->mounts[j].type && strcmp(s->mounts[j].type, "tmpfs") == 0 &&
				   strncmp(m->destination, s->mounts[j].destination, n) == 0 &&
				   m->destination[n] == '/';
		}
		if (!m->bind || in_tmpfs)
			continue;
		if (stat(m->source, &sb) < 0)
			return hutch_fail(err, errno, "config.json: mounts[%zu].source: `%s`", i, m->source);
		fd = open_in_root(rootfd, m->destination, S_ISDIR(sb.st_mode) ? MKPATH_DIR : MKPATH_FILE, err);
		if (fd < 0)
			return hutch_error_prefix(err, "config.json: mounts[%zu].destination", i);
		close(fd);
	}
	return 0;
}

/* ---- checkpoint ------------------------------------------------------------ */

static json_object *stdio_record(pid_t pid)
{
	json_object *a = json_object_new_array();

	for (int fd = 0; fd < 3; fd++) {
		cleanup_free char *p = xasprintf("/proc/%d/fd/%d", (int)pid, fd);
		char buf[PATH_MAX];
		ssize_t n = readlink(p, buf, sizeof(buf) - 1);

		buf[n < 0 ? 0 : n] = '\0';
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

int container_checkpoint(struct hutch_global *g, const char *id, const struct hutch_criu_opts *o,
			 hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_spec struct hutch_spec *s = NULL;
	cleanup_free char *criu = NULL, *cfg = NULL;
	struct dirs d __attribute__((cleanup(dirs_release))) = { -1, -1, NULL, NULL };
	struct swrk w = { -1, -1 };
	struct criu_resp r = { 0 };
	cleanup_pb struct pb opts = { 0 };
	enum hutch_status status;
	const char *log = o->pre_dump ? "pre-dump.log" : "dump.log";
	int rc, status_fd = o->status_fd;

	if (check_dump_opts(o, err) < 0)
		return -1;
	if (state_open(g, id, true, &st, err) < 0)
		return -1;
	status = state_status(st);
	if (status != STATUS_RUNNING && status != STATUS_PAUSED)
		return hutch_fail(err, 0, "container `%s` is %s, not running: cannot checkpoint", id,
				  status_name(status));
	criu = criu_find(err);
	if (!criu || criu_check(criu, err) < 0)
		return -1;
	cfg = xasprintf("%s/" STATE_CONFIG, st->dir);
	if (spec_load(st->bundle, cfg, &s, err) < 0 || open_dirs(o, true, &d, err) < 0)
		return -1;
	{
		json_object *rec = json_object_new_object();
		const char *js;

		json_object_object_add(rec, "id", json_object_new_string(id));
		json_object_object_add(rec, "bundle", json_object_new_string(st->bundle));
		json_object_object_add(rec, "stdio", stdio_record(st->pid));
		/* restore wants --console-socket for it */
		json_object_object_add(rec, "terminal", json_object_new_boolean(s->process.terminal));
		js = json_str(rec, true);
		rc = write_file_at(d.image, CRIU_RECORD, js, strlen(js), err);
		json_object_put(rec);
		if (rc < 0)
			return -1;
	}
	common_opts(&opts, o, &d, log);
	pb_uint(&opts, O_PID, st->pid);
	pb_str(&opts, O_ROOT, st->rootfs);
	if (o->leave_running)
		pb_uint(&opts, O_LEAVE_RUNNING, 1);
	if (o->pre_dump || o->parent_path)
		pb_uint(&opts, O_TRACK_MEM, 1);
	if (o->parent_path)
		pb_str(&opts, O_PARENT_IMG, o->parent_path);
	/* the pty's master is outside (the console socket's receiver has it): the slave is
	 * dumped alone, restore makes the pair again (runc, crun) */
	if (s->process.terminal)
		pb_uint(&opts, O_ORPHAN_PTS_MASTER, 1);
	if (o->page_server && page_server_opt(&opts, o->page_server, err) < 0)
		return -1;
	if (o->lazy_pages) {
		pb_uint(&opts, O_LAZY_PAGES, 1);
		pb_uint(&opts, O_NOTIFY_SCRIPTS, 1);   /* for "status-ready" */
	}
	ext_mounts(&opts, s, false);
	/* namespaces joined by path are not the container's: external (restore gets them back
	 * by inherit_fd under the same key) */
	for (size_t i = 0; i < s->nnamespaces; i++) {
		struct stat sb;

		if (s->namespaces[i].type != CLONE_NEWNET || !s->namespaces[i].path)
			continue;
		if (stat(s->namespaces[i].path, &sb) < 0)
			return hutch_fail(err, errno, "linux.namespaces[%zu].path: `%s`", i,
					  s->namespaces[i].path);
		{
			cleanup_free char *ext = xasprintf("net[%lu]:extRootNetNS", (unsigned long)sb.st_ino);

			pb_str(&opts, O_EXTERNAL, ext);
		}
	}
	/* frozen through its cgroup (v2: cgroup.freeze) rather than by ptrace one by one */
	if (st->cg && hutch_cgroup_v2_fd(st->cg) >= 0) {
		cleanup_free char *fdp = fd_path(hutch_cgroup_v2_fd(st->cg));
		cleanup_free char *cgdir = realpath(fdp, NULL);

		if (cgdir)
			pb_str(&opts, O_FREEZE_CGROUP, cgdir);
	}
	if (swrk_start(criu, true, &w, err) < 0)
		return -1;
	rc = swrk_call(&w, o->pre_dump ? REQ_PRE_DUMP : REQ_DUMP, &opts, on_dump_notify, &status_fd,
		       &r, err);
	swrk_end(&w);
	if (rc == 0 && !r.success)
		rc = criu_failed(o->pre_dump ? "pre-dump" : "dump", &r, d.work, log, d.work_path, err);
	resp_clear(&r);
	if (rc < 0)
		return hutch_error_prefix(err, "checkpoint `%s`", id);
	if (o->leave_running || o->pre_dump)
		return 0;
	/* the processes are gone: the container goes too, as with runc */
	state_free(steal_ptr(&st));
	return container_delete(g, id, true, err);
}

/* ---- restore ------------------------------------------------------------------ */

struct restore_ctx {
	const char *id;
	const char *console_socket;
	bool registered;
};

/* the new pty's master, made by criu, to the console socket (as `create` sends it) */
static int send_pts_master(const char *path, int master, hutch_err *err)
{
	cleanup_close int sock = -1;
	int r;

	if (!path || master < 0)
		return hutch_fail(err, 0, "criu's orphan-pts-master notification: %s",
				  path ? "it came without the pty" : "no --console-socket to send the pty to");
	sock = hutch_console_connect(path, err);
	if (sock < 0)
		return -1;
	r = hutch_send_fd(sock, master, "/dev/ptmx", strlen("/dev/ptmx"));
	return r < 0 ? hutch_fail(err, -r, "--console-socket: send the pty master") : 0;
}

/*
 * orphan-pts-master: the restored terminal's master, to the console socket;
 * post-restore: the tasks are there, not yet resumed: hutch.ko tracks them from now
 */
static int on_notify(void *data, const char *script, pid_t pid, int fd, hutch_err *err)
{
	struct restore_ctx *c = data;

	log_debug("criu notification %s (pid %d)", script, (int)pid);
	if (strcmp(script, "orphan-pts-master") == 0)
		return send_pts_master(c->console_socket, fd, err);
	if (strcmp(script, "post-restore") != 0 || c->registered || pid <= 0)
		return 0;
	if (hutch_kmod_ct_create(c->id, pid, err) < 0)
		return -1;
	c->registered = true;
	return 0;
}

int container_restore(struct hutch_global *g, const char *id, const struct hutch_criu_opts *o,
		      pid_t *pid_out, hutch_err *err)
{
	cleanup_spec struct hutch_spec *s = NULL;
	cleanup_cgroup struct hutch_cgroup *cg = NULL;
	cleanup_state struct hutch_state *st = NULL;
	cleanup_json json_object *rec = NULL;
	cleanup_free char *criu = NULL, *root = NULL, *bundle = NULL;
	struct dirs d __attribute__((cleanup(dirs_release))) = { -1, -1, NULL, NULL };
	struct restore_ctx rc_ctx = { .id = id, .console_socket = o->console_socket };
	struct swrk w = { -1, -1 };
	struct criu_resp r = { 0 };
	cleanup_pb struct pb opts = { 0 };
	int netns_fd = -1, rc;
	bool cg_created = false, mounted = false, terminal = false;
	pid_t pid = -1;

	if (state_validate_id(id, err) < 0)
		return -1;
	if (open_dirs(o, false, &d, err) < 0)
		return -1;
	{
		cleanup_free char *rp = xasprintf("%s/" CRIU_RECORD, d.image_path);
		const char *b = NULL;

		if (faccessat(d.image, CRIU_RECORD, F_OK, 0) < 0)
			return hutch_fail(err, 0, "--image-path: `%s` holds no checkpoint of hutch (no %s)",
					  d.image_path, CRIU_RECORD);
		if (json_parse_file(rp, CRIU_RECORD, &rec, err) < 0 ||
		    jget_str(rec, CRIU_RECORD, "", "bundle", false, &b, err) < 0 ||
		    jget_bool(rec, CRIU_RECORD, "", "terminal", NULL, &terminal, err) < 0)
			return -1;
		bundle = xstrdup(o->bundle ? o->bundle : b ? b : ".");
	}
	if (terminal && !o->console_socket)
		return hutch_fail(err, 0, "--console-socket: the checkpointed container has a terminal "
				  "(process.terminal): its new pty's master goes to a console socket");
	criu = criu_find(err);
	if (!criu || criu_check(criu, err) < 0)
		return -1;
	if (spec_load(bundle, NULL, &s, err) < 0)
		return -1;
	{
		json_object *lin = NULL;

		json_object_object_get_ex(s->json, "linux", &lin);
		if (hutch_cgroup_prepare(g, id, lin, &cg, err) < 0)
			return -1;
	}
	if (state_create(g, id, &st, err) < 0)
		return -1;
	/* from here on, failure leaves nothing behind */
	{
		const char *cfg = json_str(s->json, false);
		json_object *plan = hutch_cgroup_plan_json(cg);
		const char *pj = json_str(plan, false);

		rc = write_file_at(st->dirfd, STATE_CONFIG, cfg, strlen(cfg), err);
		if (rc == 0)
			rc = write_file_atomic_at(st->dirfd, STATE_CGROUP, pj, strlen(pj), err);
		json_object_put(plan);
		if (rc < 0)
			goto fail;
	}
	if (hutch_cgroup_create(cg, err) < 0)
		goto fail;
	cg_created = true;
	/* criu wants the root as a mount point of its own (runc binds it the same way) */
	root = xasprintf("%s/" CRIU_ROOT, st->dir);
	if (mkdir(root, 0700) < 0 || mount(s->root, root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		hutch_fail(err, errno, "bind the rootfs `%s` for criu", s->root);
		goto fail;
	}
	mounted = true;
	if (restore_mountpoints(s, err) < 0)
		goto fail;
	common_opts(&opts, o, &d, "restore.log");
	pb_str(&opts, O_ROOT, root);
	pb_uint(&opts, O_RST_SIBLING, 1);
	pb_uint(&opts, O_NOTIFY_SCRIPTS, 1);
	if (terminal)
		pb_uint(&opts, O_ORPHAN_PTS_MASTER, 1);
	/* the pages come from a `criu lazy-pages` daemon, as the processes touch them */
	if (o->lazy_pages)
		pb_uint(&opts, O_LAZY_PAGES, 1);
	ext_mounts(&opts, s, true);
	if (*hutch_cgroup_path(cg))
		pb_pair(&opts, O_CG_ROOT, 1, NULL, 2, hutch_cgroup_path(cg));
	/* the init's stdio pipes are ours now (runc's inherit_fd of descriptors.json) */
	{
		json_object *a = NULL;

		if (json_object_object_get_ex(rec, "stdio", &a) && json_object_is_type(a, json_type_array))
			for (size_t i = 0; i < json_object_array_length(a) && i < 3; i++) {
				const char *k = json_object_get_string(json_object_array_get_idx(a, i));

				if (k && strstr(k, "pipe:"))
					pb_inherit_fd(&opts, k, (int)i);
			}
	}
	for (size_t i = 0; i < s->nnamespaces; i++) {
		if (s->namespaces[i].type != CLONE_NEWNET || !s->namespaces[i].path)
			continue;
		/* not O_CLOEXEC: criu inherits it */
		netns_fd = open(s->namespaces[i].path, O_RDONLY);
		if (netns_fd < 0) {
			hutch_fail(err, errno, "config.json: linux.namespaces[%zu].path: `%s`", i,
				   s->namespaces[i].path);
			goto fail;
		}
		pb_inherit_fd(&opts, "extRootNetNS", netns_fd);
	}
	if (swrk_start(criu, false, &w, err) < 0)
		goto fail;
	cleanup_closep(&netns_fd);
	/* criu, and so what it restores, in the container's cgroup from the start */
	if (hutch_cgroup_enter(cg, w.pid, false, err) < 0)
		goto fail;
	rc = swrk_call(&w, REQ_RESTORE, &opts, on_notify, &rc_ctx, &r, err);
	if (rc == 0 && !r.success)
		rc = criu_failed("restore", &r, d.work, "restore.log", d.work_path, err);
	pid = r.restore_pid;
	resp_clear(&r);
	swrk_end(&w);
	if (rc < 0)
		goto fail;
	if (pid <= 0) {
		hutch_fail(err, 0, "criu restored no process");
		goto fail;
	}
	st->pid = pid;
	if (pid_start_time(pid, &st->start_time, NULL) < 0) {
		hutch_fail(err, 0, "the restored init (pid %d) exited", (int)pid);
		goto fail;
	}
	if (!rc_ctx.registered && hutch_kmod_ct_create(id, pid, err) < 0)
		goto fail;
	if (container_record(st, s, cg, err) < 0)
		goto fail;
	umount2(root, MNT_DETACH);
	rmdir(root);
	if (o->pid_file && write_pid_file(o->pid_file, pid, err) < 0)
		goto fail;
	if (pid_out)
		*pid_out = pid;
	return 0;

fail:
	hutch_error_prefix(err, "restore `%s`", id);
	cleanup_closep(&netns_fd);
	if (w.pid > 0) {
		kill(w.pid, SIGKILL);
		swrk_end(&w);
	}
	hutch_kmod_ct_delete(id, NULL);
	if (pid > 0)
		kill(pid, SIGKILL);
	if (cg_created)
		container_cgroup_discard(cg);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (mounted)
		umount2(root, MNT_DETACH);
	if (st)
		state_remove(st, NULL);
	return -1;
}
