// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nlfuzz: random and mutated messages to the `hutch` generic netlink family for a while
 * (tests/kmod/70-fuzz.sh runs it in the VM with hutch.ko loaded, then looks for a splat).
 *
 *   nlfuzz [SECONDS [SEED]]      (root; default 60 s, seed from the clock)
 *
 * Half the messages are built from the protocol (every command, attribute types in and
 * out of range, lengths right and wrong, ids valid and not, pids of its own children),
 * half are the previous message mutated (bit flips, bytes overwritten, lengths of the
 * netlink, generic netlink and attribute headers changed, truncated or extended). Replies
 * are read and dropped. The work runs in a PID namespace of its own: every pid a message
 * names is one of its processes or none, so CT_KILL cannot reach anything else; when a
 * signal it sent itself ends it, it starts again. Every message it sends stays addressed to
 * the hutch family (aim()): no other family is reached. At the end every container still
 * registered is unregistered, and GET_INFO must answer with 0 containers: exit 0, else 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "linux/hutch.h"

#define BUF 8192
#define NCHILD 4

static uint64_t rng;
static int family;
static pid_t kids[NCHILD];

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("nlfuzz: netlink socket");
		exit(2);
	}
	return fd;
}

/* one attribute at buf+off, padded; returns the new offset */
static size_t put_attr(char *buf, size_t off, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(buf + off);

	if (off + NLA_HDRLEN + NLA_ALIGN(len) > BUF)
		return off;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(buf + off + NLA_HDRLEN, data, len);
	memset(buf + off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return off + NLA_HDRLEN + NLA_ALIGN(len);
}

static size_t put_hdr(char *buf, uint16_t type, uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);

	memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	n->nlmsg_type = type;
	n->nlmsg_flags = flags;
	n->nlmsg_seq = rnd();
	g->cmd = cmd;
	g->version = version;
	return NLMSG_HDRLEN + GENL_HDRLEN;
}

/* the payload of the first attribute TYPE of the message in buf (r bytes), or NULL */
static void *find_attr(char *buf, ssize_t r, uint16_t type)
{
	for (size_t o = NLMSG_HDRLEN + GENL_HDRLEN; o + NLA_HDRLEN <= (size_t)r;) {
		struct nlattr *a = (struct nlattr *)(buf + o);

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return buf + o + NLA_HDRLEN;
		o += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

/* the family id of "hutch" (CTRL_CMD_GETFAMILY) */
static int resolve(int fd)
{
	char buf[BUF];
	size_t off = put_hdr(buf, GENL_ID_CTRL, NLM_F_REQUEST, CTRL_CMD_GETFAMILY, 1);
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	uint16_t *id;
	ssize_t r;

	off = put_attr(buf, off, CTRL_ATTR_FAMILY_NAME, HUTCH_GENL_NAME, sizeof(HUTCH_GENL_NAME));
	n->nlmsg_len = off;
	if (send(fd, buf, off, 0) < 0)
		return -1;
	r = recv(fd, buf, sizeof(buf), 0);
	if (r < (ssize_t)(NLMSG_HDRLEN + GENL_HDRLEN) || n->nlmsg_type == NLMSG_ERROR)
		return -1;
	id = find_attr(buf, r, CTRL_ATTR_FAMILY_ID);
	return id ? *id : -1;
}

/* read the replies; count those that are not errors (acks of 0, data) */
static void drain(int fd, uint64_t *accepted)
{
	char buf[BUF];
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)r); m = NLMSG_NEXT(m, r)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(m);

				if (m->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error == 0)
					(*accepted)++;
			} else if (m->nlmsg_type != NLMSG_DONE) {
				(*accepted)++;
			}
		}
	}
}

/* an id: valid ones from a small pool (so that commands meet registered containers), and not */
static uint16_t make_id(char *out)
{
	size_t n;

	switch (below(8)) {
	case 0:
		return 0;                                   /* empty, no NUL */
	case 1:
		out[0] = '\0';
		return 1;                                   /* "" */
	case 2:
		n = HUTCH_ID_MAX - 1 + below(3);            /* at and past the limit */
		memset(out, 'a', n);
		out[n] = '\0';
		return n + 1;
	case 3:
		n = 1 + below(16);                          /* random bytes, maybe no NUL */
		for (size_t i = 0; i < n; i++)
			out[i] = rnd();
		return n;
	case 4:
		return sprintf(out, "nlf/../%u", below(4)) + 1;   /* bad characters */
	default:
		return sprintf(out, "nlf%u", below(8)) + 1;
	}
}

static uint32_t make_pid(void)
{
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return 1;                  /* this namespace's init: the fuzzer itself */
	case 2:
		return rnd();
	case 3:
		return getpid();
	default:
		return kids[below(NCHILD)];
	}
}

/* a message from the protocol, with some attributes of wrong type or length */
static size_t build(char *buf)
{
	static const uint16_t flag_set[] = { NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_ACK,
					     NLM_F_REQUEST | NLM_F_DUMP, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 0 };
	size_t off = put_hdr(buf, below(20) ? (uint32_t)family : below(0x20), flag_set[below(5)],
			     below(10) ? below(HUTCH_CMD_MAX + 2) : rnd(), below(4) ? HUTCH_GENL_VERSION : rnd());
	int nattr = below(7);

	for (int i = 0; i < nattr; i++) {
		uint16_t type = below(10) ? below(HUTCH_A_MAX + 3) : rnd();
		char data[HUTCH_ID_MAX + 64];
		uint16_t len;
		uint32_t u32;
		uint64_t u64;

		if (below(8) == 0)
			type |= NLA_F_NESTED;
		switch (type & NLA_TYPE_MASK) {
		case HUTCH_A_ID:
			len = make_id(data);
			break;
		case HUTCH_A_PID:
		case HUTCH_A_PPID:
			u32 = make_pid();
			memcpy(data, &u32, 4);
			len = below(6) ? 4 : below(9);
			break;
		case HUTCH_A_SIGNAL:
			u32 = below(4) ? below(66) : rnd();
			memcpy(data, &u32, 4);
			len = below(6) ? 4 : below(9);
			break;
		case HUTCH_A_FLAGS:
			u32 = below(3) ? below(8) : rnd();
			memcpy(data, &u32, 4);
			len = below(6) ? 4 : below(9);
			break;
		case HUTCH_A_ALL:
			len = below(4) ? 0 : below(8);
			memset(data, 0xff, len);
			break;
		default:
			u64 = ((uint64_t)rnd() << 32) | rnd();
			len = below(3) ? 8 : below(64);
			for (uint16_t k = 0; k < len; k++)
				data[k] = k < 8 ? ((char *)&u64)[k] : (char)rnd();
			break;
		}
		off = put_attr(buf, off, type, data, len);
	}
	((struct nlmsghdr *)buf)->nlmsg_len = off;
	return off;
}

/* the previous message, changed */
static size_t mutate(char *buf, size_t len)
{
	int n = 1 + below(4);

	for (int i = 0; i < n; i++) {
		switch (below(7)) {
		case 0:   /* flip a bit */
			buf[below(len)] ^= 1 << below(8);
			break;
		case 1:   /* overwrite a byte */
			buf[below(len)] = rnd();
			break;
		case 2:   /* netlink length */
			((struct nlmsghdr *)buf)->nlmsg_len = below(3) ? len + below(16) - 8 : rnd();
			break;
		case 3:   /* an attribute length, somewhere */
			if (len > NLMSG_HDRLEN + GENL_HDRLEN + 2) {
				size_t o = NLMSG_HDRLEN + GENL_HDRLEN + below(len - NLMSG_HDRLEN - GENL_HDRLEN - 1);
				uint16_t v = below(2) ? below(16) : rnd();

				memcpy(buf + o, &v, 2);
			}
			break;
		case 4:   /* truncate */
			if (len > 1)
				len = below(len);
			break;
		case 5:   /* extend with garbage */
			for (int k = below(64); k > 0 && len < BUF; k--)
				buf[len++] = rnd();
			break;
		case 6:   /* the command */
			((struct genlmsghdr *)(buf + NLMSG_HDRLEN))->cmd = below(HUTCH_CMD_MAX + 2);
			break;
		}
	}
	return len;
}

/*
 * Every message of the datagram, as netlink_rcv_skb() splits it, addressed to the hutch
 * family (or a control type, which the kernel only acks): a byte flipped in a header's
 * type would send the message to another generic netlink family, and root may reconfigure
 * those. (NetLabel's was: without its default domain mapping, SELinux fails every AF_INET
 * socket, so every new network namespace failed with ENOMEM after the fuzzing.)
 */
static void aim(char *buf, size_t len)
{
	while (len >= NLMSG_HDRLEN) {
		struct nlmsghdr *n = (struct nlmsghdr *)buf;
		size_t msglen;

		if (n->nlmsg_len < NLMSG_HDRLEN || n->nlmsg_len > len)
			return;
		if (n->nlmsg_type >= NLMSG_MIN_TYPE)
			n->nlmsg_type = family;
		msglen = NLMSG_ALIGN(n->nlmsg_len);
		if (msglen > len)
			msglen = len;
		buf += msglen;
		len -= msglen;
	}
}

/* the fuzzer's own processes, for messages to name: sleepers and fork-loopers */
static void spawn_kids(void)
{
	for (int i = 0; i < NCHILD; i++) {
		if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == 0)
			continue;
		kids[i] = fork();
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;) {
				if (i % 2) {
					pid_t p = fork();

					if (p == 0)
						_exit(0);
					if (p > 0)
						waitpid(p, NULL, 0);
					usleep(1000);
				} else {
					pause();
				}
			}
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the work, as init of its PID namespace, until the deadline */
static int work(double deadline, uint64_t *sent, uint64_t *mutated, uint64_t *accepted)
{
	char buf[BUF];
	size_t len = 0;
	int fd = nl_open();

	signal(SIGPIPE, SIG_IGN);
	while (now() < deadline) {
		for (int k = 0; k < 200; k++) {
			if (len && below(2)) {
				len = mutate(buf, len);
				(*mutated)++;
			} else {
				len = build(buf);
			}
			if (len == 0)
				len = build(buf);
			/* sometimes two messages in one datagram */
			if (below(16) == 0 && len < BUF / 2)
				len += build(buf + NLMSG_ALIGN(len)) + NLMSG_ALIGN(len) - len;
			aim(buf, len);
			send(fd, buf, len, MSG_DONTWAIT);
			(*sent)++;
			drain(fd, accepted);
		}
		spawn_kids();
	}
	return 0;
}

/* CT_GET dump: unregister everything still registered; returns what GET_INFO counts after */
static long cleanup(int fd)
{
	char buf[BUF], ids[64][HUTCH_ID_MAX];
	uint32_t *nr;
	int nids = 0;
	struct nlmsghdr *n = (struct nlmsghdr *)buf;
	bool done = false;
	ssize_t r;
	size_t off;

	off = put_hdr(buf, family, NLM_F_REQUEST | NLM_F_DUMP, HUTCH_CMD_CT_GET, HUTCH_GENL_VERSION);
	n->nlmsg_len = off;
	send(fd, buf, off, 0);
	while (!done && (r = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)r); m = NLMSG_NEXT(m, r)) {
			if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			for (size_t o = NLMSG_HDRLEN + GENL_HDRLEN; o + NLA_HDRLEN <= m->nlmsg_len;) {
				struct nlattr *a = (struct nlattr *)((char *)m + o);

				if (a->nla_len < NLA_HDRLEN)
					break;
				if ((a->nla_type & NLA_TYPE_MASK) == HUTCH_A_ID && nids < 64)
					snprintf(ids[nids++], HUTCH_ID_MAX, "%s", (char *)a + NLA_HDRLEN);
				o += NLA_ALIGN(a->nla_len);
			}
		}
	}
	for (int i = 0; i < nids; i++) {
		off = put_hdr(buf, family, NLM_F_REQUEST | NLM_F_ACK, HUTCH_CMD_CT_UNREGISTER, HUTCH_GENL_VERSION);
		off = put_attr(buf, off, HUTCH_A_ID, ids[i], strlen(ids[i]) + 1);
		n->nlmsg_len = off;
		send(fd, buf, off, 0);
		recv(fd, buf, sizeof(buf), 0);
	}
	/* GET_INFO: the module still answers, and holds no container */
	off = put_hdr(buf, family, NLM_F_REQUEST, HUTCH_CMD_GET_INFO, HUTCH_GENL_VERSION);
	n->nlmsg_len = off;
	if (send(fd, buf, off, 0) < 0 || (r = recv(fd, buf, sizeof(buf), 0)) <= 0 ||
	    n->nlmsg_type == NLMSG_ERROR)
		return -1;
	nr = find_attr(buf, r, HUTCH_A_NR_CONTAINERS);
	return nr ? (long)*nr : -1;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 60, deadline = now() + secs;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL) ^ getpid();
	int fd = nl_open(), restarts = 0;
	uint64_t *counts;
	long left;

	family = resolve(fd);
	if (family < 0) {
		fprintf(stderr, "nlfuzz: no generic netlink family \"%s\" (is hutch.ko loaded?)\n",
			HUTCH_GENL_NAME);
		return 2;
	}
	printf("nlfuzz: family %d, seed %#llx, %.0f s\n", family, (unsigned long long)seed, secs);
	fflush(stdout);
	counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("nlfuzz: mmap");
		return 2;
	}
	while (now() < deadline) {
		int status;
		pid_t p = fork();

		if (p < 0) {
			perror("nlfuzz: fork");
			return 2;
		}
		if (p == 0) {
			/* a fresh PID namespace each time: its init is the worker */
			pid_t w;

			if (unshare(CLONE_NEWPID) < 0) {
				perror("nlfuzz: unshare(CLONE_NEWPID)");
				_exit(2);
			}
			w = fork();
			if (w == 0) {
				rng = seed + 0x9e3779b97f4a7c15ULL * (restarts + 1);
				_exit(work(deadline, &counts[0], &counts[1], &counts[2]));
			}
			while (w > 0 && waitpid(w, &status, 0) < 0 && errno == EINTR)
				;
			_exit(w > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 3);
		}
		while (waitpid(p, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
			return 2;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		restarts++;   /* (a CT_KILL it sent reached itself) */
	}
	left = cleanup(fd);
	printf("nlfuzz: %llu messages (%llu mutated), %llu replies not errors, %d restarts, "
	       "%ld containers left after cleanup\n", (unsigned long long)counts[0],
	       (unsigned long long)counts[1], (unsigned long long)counts[2], restarts, left);
	return left == 0 ? 0 : 1;
}
