/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The messages the runtime and the container's setup processes exchange over a
 * SOCK_SEQPACKET pair while a container (or an exec'd process) is being set up:
 *
 *   parent                 stage 1 (joins/creates namespaces)   stage 2 (init)
 *   ------                 ----------------------------------   --------------
 *   cgroup enter, GO  ->   setns joined, unshare(user)
 *               <-  USERNS
 *   write id maps, USERNS_DONE ->  unshare(rest), fork
 *               <-  PID (stage 2's pid)       exits
 *   GO              ------------------------------------------>  mounts, devices
 *               <-------------------------------------------  HOOKS
 *   createRuntime hooks, HOOKS_DONE (state JSON) ------------->  createContainer hooks,
 *                                                               pivot_root, process setup
 *               <-------------------------------------------  READY
 * Any side may send ERROR (value = errno, payload = message) instead.
 */
#ifndef HUTCH_SYNC_H
#define HUTCH_SYNC_H

#include "error.h"

enum sync_type {
	SYNC_GO = 1,
	SYNC_USERNS,
	SYNC_USERNS_DONE,
	SYNC_PID,
	SYNC_HOOKS,
	SYNC_HOOKS_DONE,
	SYNC_READY,
	SYNC_ERROR,
};

int sync_send(int fd, int type, int value, const char *payload);
/*
 * Receive one message. Returns 0 on success, -1 with *err set on failure, on EOF
 * (peer gone), or when an ERROR message arrives (its text becomes the error).
 */
int sync_recv(int fd, int want, int *value, char **payload, hutch_err *err);
/* From a setup child: report err to the parent and exit. */
__attribute__((noreturn)) void sync_die(int fd, hutch_err *err);

#endif
