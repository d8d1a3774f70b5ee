// SPDX-License-Identifier: GPL-2.0-or-later
/* Terminals: a pty from the container's devpts, the console socket, the foreground proxy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "seccomp_filter.h"
#include "terminal.h"
#include "utils.h"

int hutch_console_connect(const char *path, hutch_err *err)
{
	return unix_connect(path, "--console-socket", err);
}

int hutch_terminal_setup(int sock, unsigned int rows, unsigned int cols, hutch_err *err)
{
	cleanup_close int master = -1, slave = -1;
	int unlock = 0;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return hutch_fail(err, errno, "process.terminal: open /dev/ptmx in the container (is devpts mounted on /dev/pts?)");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return hutch_fail(err, errno, "process.terminal: unlock the pty");
	/* the peer by fd: no path lookup a container could race */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return hutch_fail(err, errno, "process.terminal: open the pty's slave");
	if (rows || cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };

		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return hutch_fail(err, errno, "process.consoleSize: set the window size");
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return hutch_fail(err, errno, "process.terminal: make the pty the controlling terminal");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		return hutch_fail(err, errno, "process.terminal: make the pty stdio");
	if (sock >= 0) {
		int r = hutch_send_fd(sock, master, "/dev/ptmx", strlen("/dev/ptmx"));

		if (r < 0)
			return hutch_fail(err, -r, "--console-socket: send the pty master");
	}
	return 0;
}

int hutch_terminal_recv(int sock, hutch_err *err)
{
	char name[256];
	int fd = hutch_recv_fd(sock, name, sizeof(name));

	if (fd < 0)
		return hutch_fail(err, -fd, "receive the container's pty master");
	return fd;
}

void hutch_terminal_default_size(unsigned int *rows, unsigned int *cols)
{
	struct winsize ws;

	if (*rows || *cols || !isatty(0) || ioctl(0, TIOCGWINSZ, &ws) < 0)
		return;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
}

struct hutch_tty_proxy {
	pid_t pid;
	bool restore;
	struct termios saved;
};

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static int write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static __attribute__((noreturn)) void proxy_loop(int master)
{
	sigset_t ss;
	int sfd;
	bool in_open = true;
	char buf[16384];

	sigemptyset(&ss);
	sigaddset(&ss, SIGWINCH);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	/* the runtime's own signals are forwarded by the parent; ignore them here */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	if (isatty(0))
		copy_winsize(0, master);
	for (;;) {
		struct pollfd pf[3] = { { .fd = master, .events = POLLIN },
					{ .fd = in_open ? 0 : -1, .events = POLLIN },
					{ .fd = sfd, .events = POLLIN } };

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pf[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			(void)!read(sfd, &si, sizeof(si));
			copy_winsize(0, master);
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));

			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
				_exit(0);   /* EIO: every slave closed, the process is gone */
			if (n > 0 && write_full(1, buf, n) < 0)
				_exit(0);
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n > 0) {
				if (write_full(master, buf, n) < 0)
					_exit(0);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* input ended: pass an end-of-file to the program */
				struct termios t;
				char eof = 4;

				if (tcgetattr(master, &t) == 0)
					eof = t.c_cc[VEOF];
				(void)!write(master, &eof, 1);
				in_open = false;
			}
		}
	}
}

int hutch_terminal_proxy_start(int master, struct hutch_tty_proxy **out, hutch_err *err)
{
	struct hutch_tty_proxy *p = xcalloc(1, sizeof(*p));

	if (isatty(0) && tcgetattr(0, &p->saved) == 0) {
		struct termios raw = p->saved;

		cfmakeraw(&raw);
		raw.c_oflag |= OPOST;   /* keep output processing of our own messages sane */
		if (tcsetattr(0, TCSANOW, &raw) == 0)
			p->restore = true;
	}
	p->pid = fork();
	if (p->pid < 0) {
		int e = errno;

		if (p->restore)
			tcsetattr(0, TCSANOW, &p->saved);
		free(p);
		return hutch_fail(err, e, "fork the terminal proxy");
	}
	if (p->pid == 0)
		proxy_loop(master);
	*out = p;
	return 0;
}

void hutch_terminal_proxy_end(struct hutch_tty_proxy *p)
{
	int status;

	if (!p)
		return;
	/* the proxy ends by itself once the pty hangs up; give it a moment to drain */
	for (int i = 0; i < 50; i++) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		if (r == p->pid || (r < 0 && errno != EINTR))
			goto done;
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
done:
	if (p->restore)
		tcsetattr(0, TCSANOW, &p->saved);
	free(p);
}
