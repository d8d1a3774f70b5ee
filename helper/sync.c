// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"
#include "utils.h"

struct sync_hdr {
	int32_t type;
	int32_t value;
};

int sync_send(int fd, int type, int value, const char *payload)
{
	struct sync_hdr h = { type, value };
	size_t plen = payload ? strlen(payload) : 0;
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, plen } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };
	ssize_t r;

	do
		r = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

static const char *type_name(int t)
{
	static const char *const names[] = { "?", "GO", "USERNS", "USERNS_DONE", "PID", "HOOKS",
					     "HOOKS_DONE", "READY", "ERROR" };

	return t > 0 && t <= SYNC_ERROR ? names[t] : "?";
}

int sync_recv(int fd, int want, int *value, char **payload, hutch_err *err)
{
	struct sync_hdr *h;
	cleanup_free char *buf = NULL;
	ssize_t n;
	int size, reset = 0;

	/*
	 * Peek for the size of the next packet, then read it whole. A peer that exits with
	 * a message of ours unread (its error sent, our GO not yet read) leaves ECONNRESET,
	 * which the kernel reports (once) before the packets still queued: read on past it.
	 */
	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !reset++)));
	if (n < 0)
		return hutch_fail(err, errno, "sync: receive");
	if (n == 0)
		return hutch_fail(err, 0, "the container process exited during setup");
	size = n;
	buf = xmalloc(size + 1);
	do
		n = recv(fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)sizeof(*h))
		return hutch_fail(err, n < 0 ? errno : EPROTO, "sync: short message");
	buf[n] = '\0';
	h = (struct sync_hdr *)buf;
	if (h->type == SYNC_ERROR)
		return hutch_fail(err, 0, "%s", buf + sizeof(*h));
	if (h->type != want)
		return hutch_fail(err, EPROTO, "sync: expected %s, got %s", type_name(want),
				  type_name(h->type));
	if (value)
		*value = h->value;
	if (payload)
		*payload = xstrdup(buf + sizeof(*h));
	return 0;
}

void sync_die(int fd, hutch_err *err)
{
	sync_send(fd, SYNC_ERROR, err && *err ? (*err)->status : 0,
		  err && *err ? (*err)->msg : "container setup failed");
	_exit(1);
}
