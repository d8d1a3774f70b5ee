// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper: the receiving end of --console-socket, as podman's conmon is.
 *   console-recv SOCKET OUTFILE [INPUT]
 * Listens on SOCKET (prints "ready" on stdout once it does), accepts one
 * connection, takes the pty master passed with SCM_RIGHTS, writes INPUT to it,
 * and copies everything the container prints to OUTFILE until the pty hangs up.
 * Exits 0 when a master arrived and was a terminal, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cbuf[CMSG_SPACE(sizeof(int))], name[256], buf[4096];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int lfd, c, master = -1, out;
	ssize_t n;

	alarm(60);   /* never outlive a stuck test */
	if (argc < 3) {
		fprintf(stderr, "usage: console-recv SOCKET OUTFILE [INPUT]\n");
		return 2;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("console-recv: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	c = accept(lfd, NULL, NULL);
	if (c < 0 || (n = recvmsg(c, &mh, 0)) < 0) {
		perror("console-recv: receive");
		return 1;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&master, CMSG_DATA(cm), sizeof(int));
	close(c);
	close(lfd);
	unlink(argv[1]);
	if (master < 0 || !isatty(master)) {
		fprintf(stderr, "console-recv: no terminal received\n");
		return 1;
	}
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 1;
	if (argc > 3)
		(void)!write(master, argv[3], strlen(argv[3]));
	/* EIO once the last slave fd in the container is closed */
	while ((n = read(master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			(void)!write(out, buf, n);
	close(out);
	return 0;
}
