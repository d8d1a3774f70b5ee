/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Terminals for process.terminal.
 *
 * Container side (the init, or the exec child), after /dev/pts is mounted and the
 * process is in the container's root, and after setsid():
 *   hutch_terminal_setup(sock, rows, cols)  opens a pty from the container's
 *       /dev/ptmx, sizes it (process.consoleSize, 0 = leave it), makes the slave the
 *       controlling terminal and stdin/stdout/stderr, and sends the master over sock
 *       (SCM_RIGHTS, payload "/dev/ptmx", as runc does), then closes the master.
 *
 * Runtime side:
 *   --console-socket PATH: the caller connects to PATH and passes that fd as sock;
 *       whoever listens there gets the master (podman's conmon, containerd's shim).
 *   foreground `run` / `exec --tty` without a console socket: make a socketpair,
 *       pass one end as sock, take the master with hutch_terminal_recv, then
 *       hutch_terminal_proxy_start once the process runs, wait for it, and call
 *       hutch_terminal_proxy_end: stdin is put in raw mode (when it is a terminal),
 *       input and output are copied by a small proxy process, and window-size
 *       changes of stdin (SIGWINCH) are copied to the pty.
 */
#ifndef HUTCH_TERMINAL_H
#define HUTCH_TERMINAL_H

#include <sys/types.h>

#include "error.h"

/* Connect to a --console-socket path (any length); returns the fd. */
int hutch_console_connect(const char *path, hutch_err *err);
int hutch_terminal_setup(int sock, unsigned int rows, unsigned int cols, hutch_err *err);
/* Receive the pty master sent by hutch_terminal_setup; returns the fd. */
int hutch_terminal_recv(int sock, hutch_err *err);

/*
 * Foreground terminal: when no size was configured, take our stdin's (if it is a
 * terminal), so the pty has the right size before the program runs.
 */
void hutch_terminal_default_size(unsigned int *rows, unsigned int *cols);

struct hutch_tty_proxy;
int hutch_terminal_proxy_start(int master, struct hutch_tty_proxy **out, hutch_err *err);
/* After the process exited: let the proxy drain the pty (briefly), restore stdin's mode. */
void hutch_terminal_proxy_end(struct hutch_tty_proxy *p);

#endif
