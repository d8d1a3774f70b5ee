/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint and restore with CRIU, through the `criu swrk` RPC mode: hutch forks
 * `criu swrk FD` with one end of a SOCK_SEQPACKET socketpair and speaks criu's RPC
 * protobuf (criu's images/rpc.proto: criu_req, criu_opts, criu_resp) over it with a small
 * encoder of its own (no libcriu, no libprotobuf-c). The flags are runc's.
 */
#ifndef HUTCH_CRIU_H
#define HUTCH_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "hutch.h"

/* criu_cg_mode of rpc.proto; CRIU_CG_DEFAULT: leave it to criu */
enum hutch_criu_cg_mode {
	CRIU_CG_IGNORE = 0, CRIU_CG_SOFT = 3, CRIU_CG_FULL = 4, CRIU_CG_STRICT = 5,
	CRIU_CG_DEFAULT = 6,
};

struct hutch_criu_opts {
	const char *image_path;     /* --image-path, default ./checkpoint */
	const char *work_path;      /* --work-path (criu's logs), default the image path */
	const char *parent_path;    /* --parent-path: a pre-dump, relative to image_path */
	const char *bundle;         /* restore -b: default the checkpoint's bundle */
	const char *pid_file;       /* restore --pid-file */
	bool leave_running, tcp_established, file_locks, pre_dump;
	bool detach;                /* restore -d: else wait for the init, then delete */
	enum hutch_criu_cg_mode cg_mode;
	/* restore --console-socket: a container with a terminal gets its new pty's master
	 * there (CRIU makes the pty again: orphan_pts_master, as runc and crun do) */
	const char *console_socket;
	/* checkpoint --page-server ADDRESS:PORT: the pages go to a `criu page-server` there,
	 * or with --lazy-pages are served from there to a `criu lazy-pages` daemon; restore
	 * --lazy-pages: the pages come from that daemon as the restored processes touch them */
	const char *page_server;
	bool lazy_pages;
	int status_fd;              /* checkpoint --status-fd: '\0' once the page server listens; -1 */
};

/*
 * Dump container id into o->image_path. Unless leave_running or pre_dump, its processes
 * are gone afterwards and the container is deleted (as runc does); the image directory
 * holds hutch's record (bundle, stdio) for the restore.
 */
int container_checkpoint(struct hutch_global *g, const char *id, const struct hutch_criu_opts *o,
			 hutch_err *err);
/*
 * Restore container id from o->image_path: a new state directory, cgroup and hutch.ko
 * registration, the restored init as its pid (*pid). Fails, leaving nothing, when the id
 * exists or the images are missing.
 */
int container_restore(struct hutch_global *g, const char *id, const struct hutch_criu_opts *o,
		      pid_t *pid, hutch_err *err);

#endif
