// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper: a seccomp notify listener (linux.seccomp.listenerPath).
 *   seccomp-listener SOCKET STATEFILE ERRNO
 * Listens on SOCKET (prints "ready"), receives the notify fd and the OCI
 * containerProcessState JSON (saved to STATEFILE), then answers every notified
 * syscall with -ERRNO until the container is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char data[65536];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int lfd, c, nfd = -1, out, err;
	ssize_t n;

	alarm(60);   /* never outlive a stuck test */
	if (argc < 4) {
		fprintf(stderr, "usage: seccomp-listener SOCKET STATEFILE ERRNO\n");
		return 2;
	}
	err = atoi(argv[3]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("seccomp-listener: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	c = accept(lfd, NULL, NULL);
	if (c < 0 || (n = recvmsg(c, &mh, 0)) < 0) {
		perror("seccomp-listener: receive");
		return 1;
	}
	data[n] = '\0';
	/* one container process per listener: let the next one bind the same path */
	close(lfd);
	unlink(argv[1]);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&nfd, CMSG_DATA(cm), sizeof(int));
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || write(out, data, n) != n)
		return 1;
	close(out);
	if (nfd < 0) {
		fprintf(stderr, "seccomp-listener: no fd\n");
		return 1;
	}
	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		struct pollfd pf = { .fd = nfd, .events = POLLIN };

		if (poll(&pf, 1, -1) < 0 && errno == EINTR)
			continue;
		if (pf.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;   /* every process of the filter is gone */
		memset(&req, 0, sizeof(req));
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			break;   /* ENOENT/EBADF...: the filter's processes are gone */
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.error = -err;
		ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	return 0;
}
