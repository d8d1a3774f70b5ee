// SPDX-License-Identifier: GPL-2.0-or-later
/* linux.seccomp: compiled with libseccomp in the parent, installed with seccomp(2). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "hutch.h"
#include "log.h"
#include "seccomp_filter.h"
#include "jsonutil.h"
#include "utils.h"

#define CFG "config.json"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

static int parse_action(const char *name, bool has_errno, uint64_t errno_ret, uint32_t *out)
{
	unsigned int e = has_errno ? (unsigned int)errno_ret : EPERM;

	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(e);
	else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(e);
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		*out = SCMP_ACT_NOTIFY;
	else
		return -1;
	return 0;
}

static bool action_takes_errno(const char *name)
{
	return !strcmp(name, "SCMP_ACT_ERRNO") || !strcmp(name, "SCMP_ACT_TRACE");
}

static int parse_op(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *n;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!strcmp(name, ops[i].n)) {
			*out = ops[i].op;
			return 0;
		}
	}
	return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token; 0 when unknown. */
static uint32_t parse_arch(const char *name)
{
	cleanup_free char *low = NULL;

	if (!str_has_prefix(name, "SCMP_ARCH_") || !name[10])
		return 0;
	low = xstrdup(name + 10);
	for (char *p = low; *p; p++)
		*p = tolower((unsigned char)*p);
	return seccomp_arch_resolve_name(low);
}

/* Does the running kernel know this filter flag? (EFAULT: yes, with a NULL program.) */
static bool kernel_has_flag(unsigned long flag)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static int parse_flags(json_object *sc, unsigned int *flags, hutch_err *err)
{
	static const struct {
		const char *n;
		unsigned long f;
	} known[] = {
		{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
		{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
		{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
		{ "SECCOMP_FILTER_FLAG_TSYNC", 0 },   /* one thread: nothing to sync */
	};
	cleanup_strv char **v = NULL;

	if (jget_strv(sc, CFG, "linux.seccomp", "flags", false, &v, err) < 0)
		return -1;
	for (size_t i = 0; v && v[i]; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(known); k++)
			if (!strcmp(v[i], known[k].n))
				break;
		if (k == ARRAY_SIZE(known))
			return hutch_fail(err, 0, "config.json: linux.seccomp.flags[%zu]: unknown flag \"%s\"",
					  i, v[i]);
		if (!known[k].f)
			continue;
		if (!kernel_has_flag(known[k].f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ?
				     known[k].f | SECCOMP_FILTER_FLAG_NEW_LISTENER : known[k].f)) {
			log_warn("linux.seccomp.flags[%zu]: %s is not supported by this kernel; ignored",
				 i, v[i]);
			continue;
		}
		*flags |= known[k].f;
	}
	return 0;
}

static int parse_args(json_object *args, const char *path, struct scmp_arg_cmp *cmp, size_t *n,
		      hutch_err *err)
{
	size_t len = args ? json_object_array_length(args) : 0;

	*n = 0;
	for (size_t j = 0; j < len; j++) {
		json_object *a = json_object_array_get_idx(args, j);
		cleanup_free char *ap = jpath_idx(path, j);
		const char *op = NULL;
		uint64_t idx = 0, value = 0, value2 = 0;
		bool has_idx = false;

		if (!a || !json_object_is_type(a, json_type_object))
			return jfail(err, CFG, ap, "expected an object");
		if (json_object_object_get_ex(a, "index", NULL))
			has_idx = true;
		if (jget_u64(a, CFG, ap, "index", false, UINT64_MAX, &idx, err) < 0 ||
		    jget_u64(a, CFG, ap, "value", false, UINT64_MAX, &value, err) < 0 ||
		    jget_u64(a, CFG, ap, "valueTwo", false, UINT64_MAX, &value2, err) < 0 ||
		    jget_str(a, CFG, ap, "op", false, &op, err) < 0)
			return -1;
		if (!has_idx) {
			cleanup_free char *p = jpath_key(ap, "index");

			return jfail(err, CFG, p, "missing required field");
		}
		if (idx > 5) {
			cleanup_free char *p = jpath_key(ap, "index");

			return jfail(err, CFG, p, "%llu is out of range (0-5)", (unsigned long long)idx);
		}
		if (!op) {
			cleanup_free char *p = jpath_key(ap, "op");

			return jfail(err, CFG, p, "missing required field");
		}
		if (j >= 6) {
			return jfail(err, CFG, ap, "at most 6 argument conditions");
		}
		cmp[j] = (struct scmp_arg_cmp){ .arg = idx, .datum_a = value, .datum_b = value2 };
		if (parse_op(op, &cmp[j].op) < 0) {
			cleanup_free char *p = jpath_key(ap, "op");

			return jfail(err, CFG, p, "unknown operator \"%s\"", op);
		}
		(*n)++;
	}
	return 0;
}

static bool same_index_twice(const struct scmp_arg_cmp *cmp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (cmp[i].arg == cmp[j].arg)
				return true;
	return false;
}

static int add_syscalls(scmp_filter_ctx ctx, json_object *sc, uint32_t def, bool *notify,
			hutch_err *err)
{
	json_object *calls = NULL;
	size_t n;

	if (jget_array(sc, CFG, "linux.seccomp", "syscalls", false, &calls, err) < 0)
		return -1;
	n = calls ? json_object_array_length(calls) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(calls, i), *args = NULL;
		cleanup_free char *cp = xasprintf("linux.seccomp.syscalls[%zu]", i);
		cleanup_free char *argp = jpath_key(cp, "args");
		cleanup_strv char **names = NULL;
		const char *action = NULL;
		uint64_t eret = 0;
		bool has_eret;
		uint32_t act;
		struct scmp_arg_cmp cmp[6];
		size_t ncmp = 0;

		if (!c || !json_object_is_type(c, json_type_object))
			return jfail(err, CFG, cp, "expected an object");
		has_eret = json_object_object_get_ex(c, "errnoRet", NULL);
		if (jget_strv(c, CFG, cp, "names", false, &names, err) < 0 ||
		    jget_str(c, CFG, cp, "action", false, &action, err) < 0 ||
		    jget_u64(c, CFG, cp, "errnoRet", false, UINT64_MAX, &eret, err) < 0 ||
		    jget_array(c, CFG, cp, "args", false, &args, err) < 0)
			return -1;
		if (!names || !names[0]) {
			cleanup_free char *p = jpath_key(cp, "names");

			return jfail(err, CFG, p, "missing required field (at least one name)");
		}
		if (!action) {
			cleanup_free char *p = jpath_key(cp, "action");

			return jfail(err, CFG, p, "missing required field");
		}
		if (parse_action(action, has_eret, eret, &act) < 0) {
			cleanup_free char *p = jpath_key(cp, "action");

			return jfail(err, CFG, p, "unknown action \"%s\"", action);
		}
		if (has_eret && (!action_takes_errno(action) || eret > 0xffff)) {
			cleanup_free char *p = jpath_key(cp, "errnoRet");

			return jfail(err, CFG, p, eret > 0xffff ? "out of range" :
				       "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
		}
		if (args && json_object_array_length(args) > 6)
			return jfail(err, CFG, argp, "at most 6 argument conditions");
		if (parse_args(args, argp, cmp, &ncmp, err) < 0)
			return -1;
		if (act == SCMP_ACT_NOTIFY) {
			*notify = true;
			for (size_t k = 0; names[k]; k++)
				if (!strcmp(names[k], "write") || !strcmp(names[k], "sendmsg"))
					return jfail(err, CFG, cp,
						       "SCMP_ACT_NOTIFY cannot be used for \"%s\" (the runtime needs it to hand over the listener)",
						       names[k]);
		}
		if (act == def)
			continue;   /* the default already does it; libseccomp refuses such rules */
		for (size_t k = 0; names[k]; k++) {
			int nr = seccomp_syscall_resolve_name(names[k]);
			int r = 0;

			if (nr == __NR_SCMP_ERROR) {
				log_debug("%s.names[%zu]: unknown syscall \"%s\" skipped", cp, k, names[k]);
				continue;
			}
			if (ncmp > 1 && same_index_twice(cmp, ncmp)) {
				/* libseccomp takes one condition per argument: OR them, as runc does */
				for (size_t a = 0; a < ncmp && r == 0; a++)
					r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[a]);
			} else {
				r = seccomp_rule_add_array(ctx, act, nr, ncmp, ncmp ? cmp : NULL);
			}
			if (r < 0)
				return jfail(err, CFG, cp, "add rule for \"%s\": %s", names[k], strerror(-r));
		}
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct hutch_seccomp *s, hutch_err *err)
{
	cleanup_close int fd = memfd_create("hutch-seccomp", MFD_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0)
		return hutch_fail(err, errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return hutch_fail(err, -r, "seccomp: export the filter");
	if (fstat(fd, &st) < 0)
		return hutch_fail(err, errno, "seccomp: fstat");
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) || st.st_size > (1 << 24))
		return hutch_fail(err, 0, "seccomp: the compiled filter has an odd size (%lld)",
				  (long long)st.st_size);
	s->prog = xmalloc(st.st_size);
	if (pread(fd, s->prog, st.st_size, 0) != st.st_size)
		return hutch_fail(err, errno ? errno : EIO, "seccomp: read the filter back");
	s->nprog = st.st_size / sizeof(struct sock_filter);
	if (s->nprog > BPF_MAXINSNS)
		return hutch_fail(err, 0, "linux.seccomp: the filter has %zu instructions, the kernel takes at most %d",
				  s->nprog, BPF_MAXINSNS);
	return 0;
}

int hutch_seccomp_compile(json_object *sc, struct hutch_seccomp **out, hutch_err *err)
{
	struct hutch_seccomp *s = NULL;
	scmp_filter_ctx ctx = NULL;
	json_object *archs = NULL;
	const char *defname = NULL, *lp = NULL, *meta = NULL;
	uint64_t deferrno = 0;
	bool has_deferrno;
	uint32_t def;
	int r;

	*out = NULL;
	if (!sc)
		return 0;
	if (!json_object_is_type(sc, json_type_object))
		return hutch_fail(err, 0, "config.json: linux.seccomp: expected an object");
	has_deferrno = json_object_object_get_ex(sc, "defaultErrnoRet", NULL);
	if (jget_str(sc, CFG, "linux.seccomp", "defaultAction", false, &defname, err) < 0 ||
	    jget_u64(sc, CFG, "linux.seccomp", "defaultErrnoRet", false, UINT64_MAX, &deferrno,
		     err) < 0 ||
	    jget_array(sc, CFG, "linux.seccomp", "architectures", false, &archs, err) < 0 ||
	    jget_str(sc, CFG, "linux.seccomp", "listenerPath", false, &lp, err) < 0 ||
	    jget_str(sc, CFG, "linux.seccomp", "listenerMetadata", false, &meta, err) < 0)
		return -1;
	if (!defname)
		return hutch_fail(err, 0, "config.json: linux.seccomp.defaultAction: missing required field");
	if (parse_action(defname, has_deferrno, deferrno, &def) < 0)
		return hutch_fail(err, 0, "config.json: linux.seccomp.defaultAction: unknown action \"%s\"",
				  defname);
	if (def == SCMP_ACT_NOTIFY)
		return hutch_fail(err, 0,
				  "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	if (has_deferrno && (!action_takes_errno(defname) || deferrno > 0xffff))
		return hutch_fail(err, 0, "config.json: linux.seccomp.defaultErrnoRet: %s",
				  deferrno > 0xffff ? "out of range" :
				  "only valid with a default action of SCMP_ACT_ERRNO or SCMP_ACT_TRACE");

	s = xcalloc(1, sizeof(*s));
	s->listener_fd = -1;
	ctx = seccomp_init(def);
	if (!ctx) {
		hutch_fail(err, 0, "seccomp: libseccomp could not create a filter");
		goto fail;
	}
	/* never set no_new_privs behind the config's back */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	for (size_t i = 0; archs && i < json_object_array_length(archs); i++) {
		json_object *a = json_object_array_get_idx(archs, i);
		const char *name = a && json_object_is_type(a, json_type_string) ? json_object_get_string(a) : NULL;
		uint32_t arch = name ? parse_arch(name) : 0;

		if (!arch) {
			hutch_fail(err, 0, "config.json: linux.seccomp.architectures[%zu]: %s%s%s", i,
				   name ? "unknown architecture \"" : "expected a string", name ? name : "",
				   name ? "\"" : "");
			goto fail;
		}
		r = seccomp_arch_add(ctx, arch);
		if (r == -EDOM) {
			/* other endianness than this machine: no process here can use it */
			log_debug("linux.seccomp.architectures[%zu]: \"%s\" cannot run here; skipped", i, name);
			continue;
		}
		if (r < 0 && r != -EEXIST) {
			hutch_fail(err, -r, "config.json: linux.seccomp.architectures[%zu]: add \"%s\"", i, name);
			goto fail;
		}
	}
	if (parse_flags(sc, &s->flags, err) < 0 || add_syscalls(ctx, sc, def, &s->notify, err) < 0)
		goto fail;
	if (!s->notify && (s->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
		/* only meaningful with a listener; the kernel refuses it otherwise */
		log_debug("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV without SCMP_ACT_NOTIFY: ignored");
		s->flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	if (s->notify && !lp) {
		hutch_fail(err, 0, "config.json: linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY");
		goto fail;
	}
	if (lp && !*lp) {
		hutch_fail(err, 0, "config.json: linux.seccomp.listenerPath: empty path");
		goto fail;
	}
	if (export_bpf(ctx, s, err) < 0)
		goto fail;
	seccomp_release(ctx);
	ctx = NULL;
	if (s->notify) {
		s->listener_path = xstrdup(lp);
		s->listener_metadata = meta ? xstrdup(meta) : NULL;
		s->listener_fd = unix_connect(lp, "config.json: linux.seccomp.listenerPath", err);
		if (s->listener_fd < 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	if (ctx)
		seccomp_release(ctx);
	hutch_seccomp_free(s);
	return -1;
}

int hutch_send_fd(int sock, int fd, const char *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)(data && len ? data : "\0"), .iov_len = len ? len : 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int hutch_recv_fd(int sock, char *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char dummy;
	struct iovec iov = { .iov_base = data ? data : &dummy, .iov_len = data && len > 1 ? len - 1 : 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (data && len)
		data[n < (ssize_t)len ? n : (ssize_t)len - 1] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd >= 0 ? fd : -EBADMSG;
}

int hutch_seccomp_load(struct hutch_seccomp *s, const char *state_json, pid_t pid, hutch_err *err)
{
	struct sock_fprog prog = { .len = s->nprog, .filter = s->prog };
	unsigned long flags = s->flags | (s->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
	cleanup_free char *msg = NULL;
	cleanup_close int nfd = -1;
	long r;
	int e;

	if (s->notify) {
		/* built before the filter is in place: it may forbid what json-c needs */
		json_object *o = json_object_new_object(), *fds = json_object_new_array();
		json_object *st = state_json ? json_tokener_parse(state_json) : NULL;

		json_object_object_add(o, "ociVersion", json_object_new_string(HUTCH_OCI_VERSION));
		json_object_array_add(fds, json_object_new_string("seccompFd"));
		json_object_object_add(o, "fds", fds);
		json_object_object_add(o, "pid", json_object_new_int(pid));
		json_object_object_add(o, "metadata",
				       json_object_new_string(s->listener_metadata ? s->listener_metadata : ""));
		json_object_object_add(o, "state", st ? st : json_object_new_object());
		msg = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return hutch_fail(err, errno, "linux.seccomp: load the filter%s",
				  errno == EACCES ? " (needs noNewPrivileges or CAP_SYS_ADMIN)" : "");
	if (!s->notify)
		return 0;
	nfd = r;
	e = hutch_send_fd(s->listener_fd, nfd, msg, strlen(msg));
	if (e < 0)
		return hutch_fail(err, -e, "linux.seccomp.listenerPath: send the notify fd to `%s`",
				  s->listener_path);
	close(s->listener_fd);
	s->listener_fd = -1;
	return 0;
}

void hutch_seccomp_free(struct hutch_seccomp *s)
{
	if (!s)
		return;
	free(s->prog);
	free(s->listener_path);
	free(s->listener_metadata);
	if (s->listener_fd >= 0)
		close(s->listener_fd);
	free(s);
}
