/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seccomp from config.json's linux.seccomp (OCI runtime-spec 1.2).
 *
 * The profile is compiled with libseccomp in the parent (hutch_seccomp_compile),
 * so every error (unknown action, architecture, operator or flag) is reported,
 * naming the JSON path, before anything is created. The result is the raw BPF
 * program; the container process installs it with the seccomp(2) syscall itself
 * (hutch_seccomp_load), which lets hutch pass every filter flag the running kernel
 * knows (LOG, SPEC_ALLOW, NEW_LISTENER, WAIT_KILLABLE_RECV) whatever the libseccomp
 * version, and keeps libseccomp out of the container process.
 */
#ifndef HUTCH_SECCOMP_FILTER_H
#define HUTCH_SECCOMP_FILTER_H

#include <stdbool.h>
#include <json-c/json.h>

#include "error.h"

struct hutch_seccomp {
	void *prog;            /* struct sock_filter[] */
	size_t nprog;          /* instructions */
	unsigned int flags;    /* SECCOMP_FILTER_FLAG_* */
	bool notify;           /* uses SCMP_ACT_NOTIFY: a listener fd is created */
	char *listener_path;   /* linux.seccomp.listenerPath */
	char *listener_metadata;
	int listener_fd;       /* connected to listener_path in the parent, or -1 */
};

/* seccomp is linux.seccomp (may be NULL: *out = NULL). */
int hutch_seccomp_compile(json_object *seccomp, struct hutch_seccomp **out, hutch_err *err);
/*
 * Install the filter in the calling process. With a notify action, the listener
 * fd is sent to the listener socket with the OCI containerProcessState JSON
 * (state_json is the container's state, pid the process's pid as the host sees it).
 */
int hutch_seccomp_load(struct hutch_seccomp *s, const char *state_json, pid_t pid, hutch_err *err);
void hutch_seccomp_free(struct hutch_seccomp *s);

/* Send fd with data over a unix socket (SCM_RIGHTS). */
int hutch_send_fd(int sock, int fd, const char *data, size_t len);
/* Receive one fd (and up to len bytes of data, NUL-terminated) from a unix socket. */
int hutch_recv_fd(int sock, char *data, size_t len);

#endif
