// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Client of hutch.ko's generic netlink family. Messages are built and parsed
 * with libnl-genl-3; the socket is read directly so that extended ACK
 * messages reach the error text and ENOBUFS on the event socket is seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/capability.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <json-c/json.h>

#include "kmodule.h"
#include "log.h"
#include "utils.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* every datagram the family sends fits (kmod_recv) */
#define KMOD_BUF (1 << 16)

struct hutch_kmod {
	struct nl_sock *sk;
	int family;
	char *buf;          /* last datagram read */
	size_t cap;
	size_t len, off;    /* unparsed event messages in buf */
};

static const char *const cmd_names[] = {
	[HUTCH_CMD_GET_INFO] = "GET_INFO", [HUTCH_CMD_CT_REGISTER] = "CT_REGISTER",
	[HUTCH_CMD_CT_UNREGISTER] = "CT_UNREGISTER", [HUTCH_CMD_CT_ATTACH] = "CT_ATTACH",
	[HUTCH_CMD_CT_GET] = "CT_GET", [HUTCH_CMD_CT_PIDS] = "CT_PIDS",
	[HUTCH_CMD_CT_KILL] = "CT_KILL",
};

const char *hutch_kmod_event_name(uint32_t type)
{
	static const char *const names[] = {
		[HUTCH_EV_REGISTERED] = "registered", [HUTCH_EV_UNREGISTERED] = "unregistered",
		[HUTCH_EV_INIT_EXIT] = "init-exit", [HUTCH_EV_EMPTY] = "empty",
		[HUTCH_EV_FORK] = "fork", [HUTCH_EV_EXEC] = "exec", [HUTCH_EV_EXIT] = "exit",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

const char *hutch_kmod_state_name(uint32_t state)
{
	switch (state) {
	case HUTCH_CT_RUNNING: return "running";
	case HUTCH_CT_INIT_EXITED: return "init-exited";
	case HUTCH_CT_EMPTY: return "empty";
	}
	return "unknown";
}

int hutch_kmod_fd(struct hutch_kmod *k)
{
	return nl_socket_get_fd(k->sk);
}

int hutch_kmod_family(struct hutch_kmod *k)
{
	return k->family;
}

void hutch_kmod_close(struct hutch_kmod *k)
{
	if (!k)
		return;
	nl_socket_free(k->sk);
	free(k->buf);
	free(k);
}

void hutch_kmod_closep(struct hutch_kmod **k)
{
	hutch_kmod_close(*k);
	*k = NULL;
}

static int kmod_resolve(struct hutch_kmod *k, hutch_err *err);

int hutch_kmod_open(struct hutch_kmod **out, hutch_err *err)
{
	struct hutch_kmod *k = xcalloc(1, sizeof(*k));
	int one = 1, r;

	k->sk = nl_socket_alloc();
	if (!k->sk)
		oom();
	if ((r = genl_connect(k->sk)) < 0) {
		hutch_kmod_close(k);
		return hutch_fail(err, EIO, "hutch.ko: cannot open a generic netlink socket: %s",
				  nl_geterror(r));
	}
	setsockopt(nl_socket_get_fd(k->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(k->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* an ACK only where the request asks for one (kmod_transact_type) */
	nl_socket_disable_auto_ack(k->sk);
	k->cap = KMOD_BUF;
	k->buf = xmalloc(k->cap);
	k->family = -1;
	if (kmod_resolve(k, NULL) < 0 || k->family < 0) {
		hutch_kmod_close(k);
		return hutch_fail(err, ENOENT,
				  "hutch.ko is not loaded (generic netlink family `%s` not found; "
				  "try `hutch module load`)", HUTCH_GENL_NAME);
	}
	*out = k;
	return 0;
}

/*
 * CAP_NET_ADMIN and CAP_SYS_ADMIN in the effective set: what every command of the family
 * requires (in the initial user namespace; the genetlink core checks the first, the module
 * the second).
 */
static bool have_module_caps(void)
{
	cap_flag_value_t net = CAP_CLEAR, sys = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (caps) {
		cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &net);
		cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &sys);
		cap_free(caps);
	}
	return net == CAP_SET && sys == CAP_SET;
}

int hutch_kmod_for_mode(enum hutch_module_mode mode, struct hutch_kmod **out, hutch_err *err)
{
	cleanup_err hutch_err e = NULL;

	*out = NULL;
	if (mode == MODULE_OFF)
		return 0;
	/*
	 * auto: a module that is not loaded is not used. Asking genetlink for a family it
	 * does not know makes the kernel request_module() it, i.e. run modprobe, at every
	 * command (about a third of `hutch state` in the VM harness); --module on may
	 * autoload it that way, auto does not.
	 */
	if (mode == MODULE_AUTO && access("/sys/module/" HUTCH_GENL_NAME, F_OK) < 0) {
		log_debug("hutch.ko is not loaded; falling back to procfs and cgroupfs");
		return 0;
	}
	/* auto: an unprivileged (rootless) caller, whom the module would refuse, does without */
	if (mode == MODULE_AUTO && !have_module_caps()) {
		log_debug("hutch.ko needs CAP_NET_ADMIN and CAP_SYS_ADMIN; "
			  "falling back to procfs and cgroupfs");
		return 0;
	}
	if (hutch_kmod_open(out, &e) == 0)
		return 0;
	if (mode == MODULE_AUTO && e->status == ENOENT) {
		log_debug("%s; falling back to procfs and cgroupfs", e->msg);
		return 0;
	}
	return hutch_fail(err, 0, "--module %s: %s", mode == MODULE_ON ? "on" : "auto", e->msg);
}

/*
 * Reads one datagram into k->buf; returns its length. One recv, no MSG_PEEK first: the
 * kernel never sends a datagram larger than KMOD_BUF (a dump's are at most 32 KiB, a
 * reply or an event one message), and MSG_TRUNC says if it ever did.
 */
static ssize_t kmod_recv(struct hutch_kmod *k)
{
	ssize_t n;

	do
		n = recv(nl_socket_get_fd(k->sk), k->buf, k->cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n > (ssize_t)k->cap) {
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

/* The extended ACK message of an NLMSG_ERROR or NLMSG_DONE, or NULL. */
static const char *extack_msg(struct nlmsghdr *h, size_t hdrlen)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlattr *attrs;
	int len;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || h->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return NULL;
	attrs = (struct nlattr *)((char *)nlmsg_data(h) + NLMSG_ALIGN(hdrlen));
	len = (int)h->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(hdrlen);
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return NULL;
	return nla_get_string(tb[NLMSGERR_ATTR_MSG]);
}

typedef int (*kmod_parse_fn)(struct nlattr **tb, void *arg, hutch_err *err);

static struct nl_msg *kmod_msg(struct hutch_kmod *k, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0, flags, cmd,
				 HUTCH_GENL_VERSION))
		oom();
	return msg;
}

/*
 * Sends msg (consumed) and reads the replies: parse() for each data message,
 * until the ACK, the end of a dump, or an error. A request that is neither a dump nor
 * asks for an ACK ends with its one reply (an error still comes as NLMSG_ERROR): a
 * datagram and a recv fewer than with the ACK after it. what names the request.
 */
static int kmod_transact_type(struct hutch_kmod *k, struct nl_msg *msg, int type,
			      int maxattr, kmod_parse_fn parse, void *arg, const char *what,
			      hutch_err *err)
{
	struct nlmsghdr *req = nlmsg_hdr(msg);
	bool one_reply = !(req->nlmsg_flags & (NLM_F_DUMP | NLM_F_ACK));
	uint32_t seq;
	int r;

	r = nl_send_auto(k->sk, msg);
	seq = req->nlmsg_seq;
	nlmsg_free(msg);
	if (r < 0)
		return hutch_fail(err, EIO, "hutch.ko: %s: send: %s", what, nl_geterror(r));
	for (;;) {
		ssize_t n = kmod_recv(k);
		struct nlmsghdr *h;
		int left;

		if (n < 0)
			return hutch_fail(err, errno, "hutch.ko: %s: receive", what);
		left = (int)n;
		for (h = (struct nlmsghdr *)k->buf; nlmsg_ok(h, left); h = nlmsg_next(h, &left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(h);
				const char *m;

				if (e->error == 0)
					return 0;
				m = extack_msg(h, sizeof(*e) + ((h->nlmsg_flags & NLM_F_CAPPED) ? 0 :
						   e->msg.nlmsg_len - NLMSG_HDRLEN));
				return hutch_fail(err, -e->error, "hutch.ko: %s%s%s", what,
						  m ? ": " : "", m ? m : "");
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
					memcpy(&e, nlmsg_data(h), sizeof(e));
				if (e < 0) {
					const char *m = extack_msg(h, sizeof(int));

					return hutch_fail(err, -e, "hutch.ko: %s%s%s", what,
							  m ? ": " : "", m ? m : "");
				}
				return 0;
			}
			if (h->nlmsg_type == type && parse) {
				struct nlattr *tb[64];

				if (genlmsg_parse(h, 0, tb, maxattr, NULL) < 0)
					return hutch_fail(err, EPROTO, "hutch.ko: %s: malformed reply", what);
				if (parse(tb, arg, err) < 0)
					return -1;
			}
			if (one_reply)
				return 0;
		}
	}
}

static int kmod_transact(struct hutch_kmod *k, struct nl_msg *msg, kmod_parse_fn parse,
			 void *arg, const char *what, hutch_err *err)
{
	return kmod_transact_type(k, msg, k->family, HUTCH_A_MAX, parse, arg, what, err);
}

static int parse_family(struct nlattr **tb, void *arg, hutch_err *err)
{
	if (tb[CTRL_ATTR_FAMILY_ID])
		*(int *)arg = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return 0;
}

/* The family's id, in one request and one reply (libnl's lookup adds an ACK and peeks
 * before each read). */
static int kmod_resolve(struct hutch_kmod *k, hutch_err *err)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0,
				 CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, HUTCH_GENL_NAME) < 0)
		oom();
	return kmod_transact_type(k, msg, GENL_ID_CTRL, CTRL_ATTR_MAX, parse_family, &k->family,
				  "resolve the family", err);
}

static char *what_of(uint8_t cmd, const char *id)
{
	if (id)
		return xasprintf("%s `%s`", cmd_names[cmd], id);
	return xstrdup(cmd_names[cmd]);
}

static int parse_info(struct nlattr **tb, void *arg, hutch_err *err)
{
	struct hutch_kmod_info *info = arg;

	if (tb[HUTCH_A_VERSION])
		snprintf(info->version, sizeof(info->version), "%s",
			 nla_get_string(tb[HUTCH_A_VERSION]));
	if (tb[HUTCH_A_PROTOCOL])
		info->protocol = nla_get_u32(tb[HUTCH_A_PROTOCOL]);
	if (tb[HUTCH_A_FEATURES])
		info->features = nla_get_u64(tb[HUTCH_A_FEATURES]);
	if (tb[HUTCH_A_NR_CONTAINERS])
		info->nr_containers = nla_get_u32(tb[HUTCH_A_NR_CONTAINERS]);
	if (tb[HUTCH_A_NR_TASKS])
		info->nr_tasks = nla_get_u32(tb[HUTCH_A_NR_TASKS]);
	if (tb[HUTCH_A_MAX_CONTAINERS])
		info->max_containers = nla_get_u32(tb[HUTCH_A_MAX_CONTAINERS]);
	if (tb[HUTCH_A_EVENTS_LOST])
		info->events_lost = nla_get_u64(tb[HUTCH_A_EVENTS_LOST]);
	return 0;
}

int hutch_kmod_get_info(struct hutch_kmod *k, struct hutch_kmod_info *info, hutch_err *err)
{
	memset(info, 0, sizeof(*info));
	return kmod_transact(k, kmod_msg(k, HUTCH_CMD_GET_INFO, 0), parse_info, info,
			     "GET_INFO", err);
}

/* A request with an id and, when given (pid 0, flags -1, exe_fd -1: not), the others. */
static int simple_id_cmd(struct hutch_kmod *k, uint8_t cmd, const char *id, pid_t pid,
			 int64_t flags, int exe_fd, hutch_err *err)
{
	struct nl_msg *msg = kmod_msg(k, cmd, NLM_F_ACK);
	cleanup_free char *what = what_of(cmd, id);

	if (nla_put_string(msg, HUTCH_A_ID, id) < 0 ||
	    (pid && nla_put_u32(msg, HUTCH_A_PID, (uint32_t)pid) < 0) ||
	    (flags >= 0 && nla_put_u32(msg, HUTCH_A_FLAGS, (uint32_t)flags) < 0) ||
	    (exe_fd >= 0 && nla_put_u32(msg, HUTCH_A_EXE_FD, (uint32_t)exe_fd) < 0))
		oom();
	return kmod_transact(k, msg, NULL, NULL, what, err);
}

int hutch_kmod_register(struct hutch_kmod *k, const char *id, pid_t pid, uint32_t flags,
			hutch_err *err)
{
	return simple_id_cmd(k, HUTCH_CMD_CT_REGISTER, id, pid, flags, -1, err);
}

int hutch_kmod_register_guarded(struct hutch_kmod *k, const char *id, pid_t pid,
				uint32_t flags, int exe_fd, hutch_err *err)
{
	return simple_id_cmd(k, HUTCH_CMD_CT_REGISTER, id, pid, flags, exe_fd, err);
}

int hutch_kmod_unregister(struct hutch_kmod *k, const char *id, hutch_err *err)
{
	return simple_id_cmd(k, HUTCH_CMD_CT_UNREGISTER, id, 0, -1, -1, err);
}

int hutch_kmod_attach(struct hutch_kmod *k, const char *id, pid_t pid, hutch_err *err)
{
	return simple_id_cmd(k, HUTCH_CMD_CT_ATTACH, id, pid, -1, -1, err);
}

void hutch_kmod_ct_clear(struct hutch_kmod_ct *ct)
{
	free(ct->id);
	free(ct->cgroup_path);
	memset(ct, 0, sizeof(*ct));
}

void hutch_kmod_cts_free(struct hutch_kmod_ct *cts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hutch_kmod_ct_clear(&cts[i]);
	free(cts);
}

static void parse_ct_into(struct nlattr **tb, struct hutch_kmod_ct *ct)
{
	struct nlattr *a;
	int rem;

	memset(ct, 0, sizeof(*ct));
	if (tb[HUTCH_A_ID])
		ct->id = xstrdup(nla_get_string(tb[HUTCH_A_ID]));
	if (tb[HUTCH_A_FLAGS])
		ct->flags = nla_get_u32(tb[HUTCH_A_FLAGS]);
	if (tb[HUTCH_A_STATE])
		ct->state = nla_get_u32(tb[HUTCH_A_STATE]);
	if (tb[HUTCH_A_PID])
		ct->pid = (pid_t)nla_get_u32(tb[HUTCH_A_PID]);
	if (tb[HUTCH_A_EXIT_STATUS]) {
		ct->exited = true;
		ct->exit_status = nla_get_u32(tb[HUTCH_A_EXIT_STATUS]);
	}
	if (tb[HUTCH_A_NS])
		nla_for_each_nested(a, tb[HUTCH_A_NS], rem)
			if (nla_type(a) <= HUTCH_NS_A_MAX && nla_len(a) >= 4)
				ct->ns[nla_type(a)] = nla_get_u32(a);
	if (tb[HUTCH_A_CGROUP_ID])
		ct->cgroup_id = nla_get_u64(tb[HUTCH_A_CGROUP_ID]);
	if (tb[HUTCH_A_CGROUP_PATH])
		ct->cgroup_path = xstrdup(nla_get_string(tb[HUTCH_A_CGROUP_PATH]));
	if (tb[HUTCH_A_EXE_INO] && tb[HUTCH_A_EXE_DEV]) {
		ct->exe_guarded = true;
		ct->exe_ino = nla_get_u64(tb[HUTCH_A_EXE_INO]);
		ct->exe_dev = nla_get_u64(tb[HUTCH_A_EXE_DEV]);
	}
	if (tb[HUTCH_A_STATS]) {
		ct->has_stats = true;
		nla_for_each_nested(a, tb[HUTCH_A_STATS], rem)
			if (nla_type(a) <= HUTCH_STAT_A_MAX && nla_len(a) >= 8) {
				ct->stats[nla_type(a)] = nla_get_u64(a);
				ct->has_stat[nla_type(a)] = true;
			}
	}
}

static int parse_ct(struct nlattr **tb, void *arg, hutch_err *err)
{
	parse_ct_into(tb, arg);
	return 0;
}

int hutch_kmod_get(struct hutch_kmod *k, const char *id, struct hutch_kmod_ct *ct,
		   hutch_err *err)
{
	struct nl_msg *msg = kmod_msg(k, HUTCH_CMD_CT_GET, 0);
	cleanup_free char *what = what_of(HUTCH_CMD_CT_GET, id);

	memset(ct, 0, sizeof(*ct));
	if (nla_put_string(msg, HUTCH_A_ID, id) < 0)
		oom();
	return kmod_transact(k, msg, parse_ct, ct, what, err);
}

struct ct_list {
	struct hutch_kmod_ct *v;
	size_t n;
};

static int parse_ct_list(struct nlattr **tb, void *arg, hutch_err *err)
{
	struct ct_list *l = arg;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	parse_ct_into(tb, &l->v[l->n++]);
	return 0;
}

int hutch_kmod_dump(struct hutch_kmod *k, struct hutch_kmod_ct **cts, size_t *n,
		    hutch_err *err)
{
	struct ct_list l = { 0 };
	int r;

	r = kmod_transact(k, kmod_msg(k, HUTCH_CMD_CT_GET, NLM_F_DUMP), parse_ct_list, &l,
			  "CT_GET dump", err);
	if (r < 0) {
		hutch_kmod_cts_free(l.v, l.n);
		return r;
	}
	*cts = l.v;
	*n = l.n;
	return 0;
}

struct pid_list {
	pid_t *v;
	size_t n;
};

static int parse_pid(struct nlattr **tb, void *arg, hutch_err *err)
{
	struct pid_list *l = arg;

	if (!tb[HUTCH_A_PID])
		return 0;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (pid_t)nla_get_u32(tb[HUTCH_A_PID]);
	return 0;
}

int hutch_kmod_pids(struct hutch_kmod *k, const char *id, pid_t **pids, size_t *n,
		    hutch_err *err)
{
	struct nl_msg *msg = kmod_msg(k, HUTCH_CMD_CT_PIDS, NLM_F_DUMP);
	cleanup_free char *what = what_of(HUTCH_CMD_CT_PIDS, id);
	struct pid_list l = { 0 };
	int r;

	if (nla_put_string(msg, HUTCH_A_ID, id) < 0)
		oom();
	r = kmod_transact(k, msg, parse_pid, &l, what, err);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*pids = l.v;
	*n = l.n;
	return 0;
}

struct proc_list {
	struct hutch_kmod_proc *v;
	size_t n;
};

static int parse_proc(struct nlattr **tb, void *arg, hutch_err *err)
{
	struct proc_list *l = arg;
	struct hutch_kmod_proc *p;
	struct nlattr *a;
	int rem;

	if (!tb[HUTCH_A_PID])
		return 0;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->pid = (pid_t)nla_get_u32(tb[HUTCH_A_PID]);
	if (tb[HUTCH_A_COUNT])
		p->threads = nla_get_u32(tb[HUTCH_A_COUNT]);
	if (tb[HUTCH_A_PPID])
		p->ppid = (pid_t)nla_get_u32(tb[HUTCH_A_PPID]);
	if (tb[HUTCH_A_UID])
		p->uid = nla_get_u32(tb[HUTCH_A_UID]);
	if (tb[HUTCH_A_TASK_STATE])
		p->state = (char)nla_get_u32(tb[HUTCH_A_TASK_STATE]);
	if (tb[HUTCH_A_START_NS])
		p->start_ns = nla_get_u64(tb[HUTCH_A_START_NS]);
	if (tb[HUTCH_A_COMM]) {
		p->has_info = true;
		snprintf(p->comm, sizeof(p->comm), "%s", nla_get_string(tb[HUTCH_A_COMM]));
	}
	if (tb[HUTCH_A_CMDLINE] && nla_len(tb[HUTCH_A_CMDLINE]) > 0) {
		p->cmdline_len = (size_t)nla_len(tb[HUTCH_A_CMDLINE]);
		p->cmdline = xmalloc(p->cmdline_len + 1);
		memcpy(p->cmdline, nla_data(tb[HUTCH_A_CMDLINE]), p->cmdline_len);
		p->cmdline[p->cmdline_len] = '\0';
	}
	if (tb[HUTCH_A_STATS])
		nla_for_each_nested(a, tb[HUTCH_A_STATS], rem) {
			if (nla_len(a) < 8)
				continue;
			if (nla_type(a) == HUTCH_STAT_A_UTIME_NS)
				p->utime_ns = nla_get_u64(a);
			else if (nla_type(a) == HUTCH_STAT_A_STIME_NS)
				p->stime_ns = nla_get_u64(a);
		}
	return 0;
}

void hutch_kmod_procs_free(struct hutch_kmod_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(procs[i].cmdline);
	free(procs);
}

int hutch_kmod_procs(struct hutch_kmod *k, const char *id, struct hutch_kmod_proc **procs,
		     size_t *n, hutch_err *err)
{
	struct nl_msg *msg = kmod_msg(k, HUTCH_CMD_CT_PIDS, NLM_F_DUMP);
	cleanup_free char *what = what_of(HUTCH_CMD_CT_PIDS, id);
	struct proc_list l = { 0 };

	if (nla_put_string(msg, HUTCH_A_ID, id) < 0)
		oom();
	if (kmod_transact(k, msg, parse_proc, &l, what, err) < 0) {
		hutch_kmod_procs_free(l.v, l.n);
		return -1;
	}
	*procs = l.v;
	*n = l.n;
	return 0;
}

static int parse_count(struct nlattr **tb, void *arg, hutch_err *err)
{
	if (tb[HUTCH_A_COUNT])
		*(uint32_t *)arg = nla_get_u32(tb[HUTCH_A_COUNT]);
	return 0;
}

int hutch_kmod_kill(struct hutch_kmod *k, const char *id, int sig, bool all,
		    uint32_t *count, hutch_err *err)
{
	struct nl_msg *msg = kmod_msg(k, HUTCH_CMD_CT_KILL, 0);
	cleanup_free char *what = what_of(HUTCH_CMD_CT_KILL, id);

	*count = 0;
	if (nla_put_string(msg, HUTCH_A_ID, id) < 0 ||
	    nla_put_u32(msg, HUTCH_A_SIGNAL, (uint32_t)sig) < 0 ||
	    (all && nla_put_flag(msg, HUTCH_A_ALL) < 0))
		oom();
	return kmod_transact(k, msg, parse_count, count, what, err);
}

static int parse_grp(struct nlattr **tb, void *arg, hutch_err *err)
{
	struct nlattr *g, *a;
	int rem, rem2;

	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	nla_for_each_nested(g, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
		const char *name = NULL;
		int id = -1;

		nla_for_each_nested(a, g, rem2) {
			if (nla_type(a) == CTRL_ATTR_MCAST_GRP_NAME)
				name = nla_get_string(a);
			else if (nla_type(a) == CTRL_ATTR_MCAST_GRP_ID)
				id = (int)nla_get_u32(a);
		}
		if (name && id >= 0 && strcmp(name, HUTCH_GENL_MCGRP_EVENTS) == 0)
			*(int *)arg = id;
	}
	return 0;
}

int hutch_kmod_subscribe(struct hutch_kmod *k, hutch_err *err)
{
	int grp = -1, size = 1 << 20;
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, NLM_F_ACK,
				 CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, HUTCH_GENL_NAME) < 0)
		oom();
	if (kmod_transact_type(k, msg, GENL_ID_CTRL, CTRL_ATTR_MAX, parse_grp, &grp,
			       "resolve the events group", err) < 0)
		return -1;
	if (grp < 0)
		return hutch_fail(err, ENOENT, "hutch.ko: no multicast group `%s`",
				  HUTCH_GENL_MCGRP_EVENTS);
	nl_socket_disable_seq_check(k->sk);
	setsockopt(nl_socket_get_fd(k->sk), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(nl_socket_get_fd(k->sk), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &grp, sizeof(grp)) < 0)
		return hutch_fail(err, errno, "hutch.ko: join the `%s` group",
				  HUTCH_GENL_MCGRP_EVENTS);
	return 0;
}

static void parse_event(struct nlattr **tb, struct hutch_kmod_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (tb[HUTCH_A_EVENT])
		ev->type = nla_get_u32(tb[HUTCH_A_EVENT]);
	if (tb[HUTCH_A_SEQ])
		ev->seq = nla_get_u64(tb[HUTCH_A_SEQ]);
	if (tb[HUTCH_A_TIME_NS])
		ev->time_ns = nla_get_u64(tb[HUTCH_A_TIME_NS]);
	if (tb[HUTCH_A_ID])
		snprintf(ev->id, sizeof(ev->id), "%s", nla_get_string(tb[HUTCH_A_ID]));
	if (tb[HUTCH_A_PID])
		ev->pid = (pid_t)nla_get_u32(tb[HUTCH_A_PID]);
	if (tb[HUTCH_A_PPID])
		ev->ppid = (pid_t)nla_get_u32(tb[HUTCH_A_PPID]);
	if (tb[HUTCH_A_EXIT_STATUS]) {
		ev->has_status = true;
		ev->status = nla_get_u32(tb[HUTCH_A_EXIT_STATUS]);
	}
	if (tb[HUTCH_A_FILENAME])
		snprintf(ev->filename, sizeof(ev->filename), "%s",
			 nla_get_string(tb[HUTCH_A_FILENAME]));
}

int hutch_kmod_next_event(struct hutch_kmod *k, struct hutch_kmod_event *ev, int timeout_ms,
			  hutch_err *err)
{
	for (;;) {
		while (k->off < k->len) {
			struct nlmsghdr *h = (struct nlmsghdr *)(k->buf + k->off);
			int left = (int)(k->len - k->off);
			struct nlattr *tb[HUTCH_A_MAX + 1];

			if (!nlmsg_ok(h, left)) {
				k->off = k->len;
				break;
			}
			k->off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_type != k->family ||
			    genlmsg_parse(h, 0, tb, HUTCH_A_MAX, NULL) < 0 ||
			    ((struct genlmsghdr *)nlmsg_data(h))->cmd != HUTCH_CMD_EVENT)
				continue;
			parse_event(tb, ev);
			return 1;
		}
		struct pollfd p = { .fd = nl_socket_get_fd(k->sk), .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hutch_fail(err, errno, "hutch.ko: poll the event socket");
		if (r == 0)
			return 0;
		ssize_t n = kmod_recv(k);

		if (n < 0 && errno == ENOBUFS)
			return hutch_fail(err, ENOBUFS,
					  "hutch.ko: events lost: the socket buffer overflowed");
		if (n < 0)
			return hutch_fail(err, errno, "hutch.ko: read the event socket");
		k->len = (size_t)n;
		k->off = 0;
	}
}

/* The lifecycle hooks. */
static enum hutch_module_mode kmod_mode = MODULE_AUTO;
static struct hutch_kmod *kmod_shared;
static bool kmod_tried;
static uint32_t kmod_root_hash;

void hutch_kmod_setup(const struct hutch_global *g)
{
	cleanup_free char *cwd = g->root[0] == '/' ? NULL : getcwd(NULL, 0);
	cleanup_free char *root = cwd ? xasprintf("%s/%s", cwd, g->root) : xstrdup(g->root);
	size_t len = strlen(root);
	const char *r = root;

	while (len > 1 && root[len - 1] == '/')
		root[--len] = '\0';

	kmod_mode = g->module_mode;
	/* FNV-1a of the canonical state root */
	kmod_root_hash = 2166136261u;
	for (; *r; r++)
		kmod_root_hash = (kmod_root_hash ^ (uint8_t)*r) * 16777619u;
}

char *hutch_kmod_name(const char *id)
{
	return xasprintf("%s.%08x", id, kmod_root_hash);
}

/* The shared connection: 1 with *k, 0 when the module is not used, <0 on error. */
static int kmod_get(struct hutch_kmod **k, hutch_err *err)
{
	if (!kmod_tried) {
		cleanup_err hutch_err e = NULL;

		kmod_tried = true;
		if (hutch_kmod_for_mode(kmod_mode, &kmod_shared, &e) < 0) {
			if (kmod_mode == MODULE_ON)
				return hutch_fail(err, e->status, "%s", e->msg);
			log_debug("%s; not using it", e->msg);
		}
	}
	if (!kmod_shared) {
		if (kmod_mode == MODULE_ON)
			return hutch_fail(err, ENOENT, "--module on: hutch.ko is not available");
		return 0;
	}
	*k = kmod_shared;
	return 1;
}

void hutch_kmod_release(void)
{
	hutch_kmod_closep(&kmod_shared);
	kmod_tried = false;
}

/* hutch_kmod_exe_guarded(NULL) said yes: the registration must take the guard. */
static bool exe_guard_promised;

bool hutch_kmod_exe_guarded(const char *id)
{
	cleanup_close int fd = -1;
	struct hutch_kmod_info info;
	struct hutch_kmod_ct ct;
	struct hutch_kmod *k;
	struct stat st;
	bool r;

	if (kmod_get(&k, NULL) <= 0)
		return false;
	if (!id) {
		if (hutch_kmod_get_info(k, &info, NULL) < 0 || !(info.features & HUTCH_FEAT_EXE_GUARD))
			return false;
		exe_guard_promised = true;
		return true;
	}
	/* (no GET_INFO: a module without the guard never puts EXE_INO in CT_GET's reply) */
	{
		cleanup_free char *name = hutch_kmod_name(id);

		if (hutch_kmod_get(k, name, &ct, NULL) < 0)
			return false;
	}
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	r = fd >= 0 && fstat(fd, &st) == 0 && ct.exe_guarded && ct.exe_ino == st.st_ino &&
	    ct.exe_dev == st.st_dev;
	hutch_kmod_ct_clear(&ct);
	return r;
}

int hutch_kmod_ct_create(const char *id, pid_t init, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod *k;
	int r = kmod_get(&k, err);

	if (r <= 0)
		return r;
	/* the write guard of this binary (CVE-2019-5736), when the module has it */
	if (exe >= 0 && hutch_kmod_register_guarded(k, name, init, HUTCH_CT_F_TRACE, exe, &e) == 0)
		return 0;
	if (exe_guard_promised)
		return hutch_fail(err, e ? e->status : errno, "hutch.ko: cannot guard the runtime's "
				  "binary against writes: %s", e ? e->msg : strerror(errno));
	if (e)
		log_debug("%s; registering without the write guard of the runtime", e->msg);
	hutch_error_free(&e);
	if (hutch_kmod_register(k, name, init, HUTCH_CT_F_TRACE, &e) == 0)
		return 0;
	/* auto: refused (root of a user namespace other than the initial one): not used, by
	 * this command's later calls either */
	if (e->status == EPERM && kmod_mode == MODULE_AUTO) {
		log_debug("%s; not using hutch.ko", e->msg);
		hutch_kmod_close(kmod_shared);
		kmod_shared = NULL;
		return 0;
	}
	return hutch_error_move(err, &e);
}

int hutch_kmod_ct_exec(const char *id, pid_t pid, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod *k;
	int r = kmod_get(&k, err);

	if (r <= 0)
		return r;
	if (hutch_kmod_attach(k, name, pid, &e) == 0)
		return 0;
	if (e->status == ENOENT && kmod_mode != MODULE_ON)
		return 0;
	return hutch_error_move(err, &e);
}

int hutch_kmod_ct_delete(const char *id, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod *k;
	int r = kmod_get(&k, err);

	if (r <= 0)
		return r;
	if (hutch_kmod_unregister(k, name, &e) == 0 || e->status == ENOENT)
		return 0;
	return hutch_error_move(err, &e);
}

/* CT_PIDS of a container: 1 with its processes, 0 when the module is not used or does
 * not know it. */
static int ct_procs(const char *id, struct hutch_kmod_proc **procs, size_t *n, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod *k;
	int r = kmod_get(&k, err);

	if (r <= 0)
		return r;
	if (hutch_kmod_procs(k, name, procs, n, &e) == 0)
		return 1;
	if (e->status == ENOENT)
		return 0;
	return hutch_error_move(err, &e);
}

int hutch_kmod_ct_pids(const char *id, pid_t **pids, size_t *n, hutch_err *err)
{
	struct hutch_kmod_proc *procs = NULL;
	int r = ct_procs(id, &procs, n, err);

	if (r <= 0)
		return r;
	*pids = xmalloc((*n ? *n : 1) * sizeof(**pids));
	for (size_t i = 0; i < *n; i++)
		(*pids)[i] = procs[i].pid;
	hutch_kmod_procs_free(procs, *n);
	return 1;
}

int hutch_kmod_ct_procs(const char *id, struct hutch_kmod_proc **procs, size_t *n,
			hutch_err *err)
{
	int r = ct_procs(id, procs, n, err);

	/* a module without HUTCH_FEAT_PROC_INFO: ps reads /proc */
	if (r > 0 && *n && !(*procs)[0].has_info) {
		hutch_kmod_procs_free(*procs, *n);
		*procs = NULL;
		*n = 0;
		return 0;
	}
	return r;
}

int hutch_kmod_ct_kill_all(const char *id, int sig, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod *k;
	uint32_t count;
	int r = kmod_get(&k, err);

	if (r <= 0)
		return r;
	if (hutch_kmod_kill(k, name, sig, true, &count, &e) == 0) {
		log_debug("kill --all `%s`: hutch.ko signalled %u processes", id, count);
		return 1;
	}
	if (e->status == ESRCH)
		return 1;       /* registered, and nothing left to signal */
	if (e->status == ENOENT)
		return 0;
	return hutch_error_move(err, &e);
}

int hutch_kmod_ct_init_exited(const char *id, int *status)
{
	cleanup_free char *name = hutch_kmod_name(id);
	struct hutch_kmod_ct ct;
	struct hutch_kmod *k;
	int r;

	if (kmod_get(&k, NULL) <= 0 || hutch_kmod_get(k, name, &ct, NULL) < 0)
		return 0;
	r = ct.exited ? 1 : 0;
	if (r && status)
		*status = (int)ct.exit_status;
	hutch_kmod_ct_clear(&ct);
	return r;
}

/* Keys only the module provides, in `hutch stats` output. */
static const struct {
	const char *key;
	int stat;
} module_only[] = {
	{ "processes", HUTCH_STAT_A_PROCS }, { "forks", HUTCH_STAT_A_FORKS },
	{ "threads_created", HUTCH_STAT_A_THREADS }, { "execs", HUTCH_STAT_A_EXECS },
	{ "exits", HUTCH_STAT_A_EXITS }, { "voluntary_ctxsw", HUTCH_STAT_A_NVCSW },
	{ "involuntary_ctxsw", HUTCH_STAT_A_NIVCSW }, { "max_rss_bytes", HUTCH_STAT_A_MAXRSS },
	{ "rchar", HUTCH_STAT_A_RCHAR }, { "wchar", HUTCH_STAT_A_WCHAR },
	{ "syscr", HUTCH_STAT_A_SYSCR }, { "syscw", HUTCH_STAT_A_SYSCW },
	{ "untracked_processes", HUTCH_STAT_A_LOST },
};

void hutch_kmod_stats_mark_missing(json_object *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(module_only); i++)
		if (!json_object_object_get_ex(o, module_only[i].key, NULL))
			json_object_object_add(o, module_only[i].key, NULL);
}

/* The stats of `hutch stats` from the module's counters. */
static json_object *stats_json(const uint64_t *v)
{
	json_object *o = json_object_new_object();

#define U(key, val) json_object_object_add(o, key, json_object_new_uint64(val))
	json_object_object_add(o, "source", json_object_new_string("module"));
	U("cpu_total_ns", v[HUTCH_STAT_A_UTIME_NS] + v[HUTCH_STAT_A_STIME_NS]);
	U("cpu_user_ns", v[HUTCH_STAT_A_UTIME_NS]);
	U("cpu_system_ns", v[HUTCH_STAT_A_STIME_NS]);
	/* charged memory is a cgroup notion: the module has per-process peak RSS instead */
	json_object_object_add(o, "memory_current_bytes", NULL);
	json_object_object_add(o, "memory_peak_bytes", NULL);
	U("page_faults", v[HUTCH_STAT_A_MINFLT] + v[HUTCH_STAT_A_MAJFLT]);
	U("major_page_faults", v[HUTCH_STAT_A_MAJFLT]);
	U("pids_current", v[HUTCH_STAT_A_TASKS]);
	U("io_read_bytes", v[HUTCH_STAT_A_READ_BYTES]);
	U("io_write_bytes", v[HUTCH_STAT_A_WRITE_BYTES]);
	for (size_t i = 0; i < ARRAY_SIZE(module_only); i++)
		U(module_only[i].key, v[module_only[i].stat]);
#undef U
	return o;
}

int hutch_kmod_ct_stats(const char *id, json_object **out, hutch_err *err)
{
	cleanup_free char *name = hutch_kmod_name(id);
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod_ct ct;
	struct hutch_kmod *k;
	int r = kmod_get(&k, err);

	*out = NULL;
	if (r <= 0)
		return r;
	if (hutch_kmod_get(k, name, &ct, &e) < 0) {
		if (e->status == ENOENT)
			return 0;
		return hutch_error_move(err, &e);
	}
	*out = stats_json(ct.stats);
	hutch_kmod_ct_clear(&ct);
	return 1;
}

int hutch_kmod_stats_all(json_object **out, hutch_err *err)
{
	cleanup_free char *suffix = hutch_kmod_name("");
	struct hutch_kmod_ct *cts = NULL;
	struct hutch_kmod *k;
	size_t n = 0, sl = strlen(suffix);
	int r = kmod_get(&k, err);

	*out = NULL;
	if (r <= 0)
		return r;
	if (hutch_kmod_dump(k, &cts, &n, err) < 0)
		return -1;
	*out = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		size_t len = cts[i].id ? strlen(cts[i].id) : 0;

		/* ours: "ID.HASH" with this --root's HASH */
		if (len <= sl || strcmp(cts[i].id + len - sl, suffix) != 0)
			continue;
		cts[i].id[len - sl] = '\0';
		json_object_object_add(*out, cts[i].id, stats_json(cts[i].stats));
	}
	hutch_kmod_cts_free(cts, n);
	return 1;
}
