/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Copyright (C) 2026 The hutch authors.
 *
 * The generic netlink protocol of hutch.ko, shared by the module and the
 * hutch helper. Nothing here is defined anywhere else.
 *
 * Family and groups
 * -----------------
 * The generic netlink family is HUTCH_GENL_NAME ("hutch"), protocol version
 * HUTCH_GENL_VERSION. It exists only in the initial network namespace: from
 * any other network namespace the family cannot be resolved. Every command
 * is GENL_ADMIN_PERM: the genetlink core requires CAP_NET_ADMIN in the user
 * namespace owning the caller's network namespace, which is the initial one,
 * and the module also requires CAP_SYS_ADMIN there (the commands signal and
 * account arbitrary processes). Joining the multicast group
 * HUTCH_GENL_MCGRP_EVENTS ("events") needs CAP_SYS_ADMIN in the initial user
 * namespace. Without them: -EPERM.
 *
 * All requests are validated strictly: an attribute the command does not
 * take, an attribute of the wrong type or size, an unknown attribute, or a
 * reply-only attribute in a request fails with -EINVAL and an extended ACK
 * message naming the problem, a value out of range (HUTCH_A_PID,
 * HUTCH_A_SIGNAL) likewise with -ERANGE; a missing
 * attribute fails with -EINVAL and NLMSGERR_ATTR_MISS_TYPE naming it. The
 * genetlink header's reserved field must be 0, and the request's nlmsg_flags
 * may hold only NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO and NLM_F_DUMP.
 *
 * Containers are named by HUTCH_A_ID, a NUL-terminated string of 1 to
 * HUTCH_ID_MAX - 1 bytes from [A-Za-z0-9_.+-]. PIDs in requests and replies
 * are in the PID namespace of the requesting task; PIDs in events are in the
 * initial PID namespace (events have no single reader).
 *
 * Commands
 * --------
 * HUTCH_CMD_GET_INFO: takes nothing. Replies with
 *	HUTCH_A_VERSION (string), HUTCH_A_PROTOCOL (u32), HUTCH_A_FEATURES
 *	(u64, HUTCH_FEAT_*), HUTCH_A_NR_CONTAINERS (u32), HUTCH_A_NR_TASKS
 *	(u32, tracked tasks alive), HUTCH_A_MAX_CONTAINERS (u32, the module
 *	parameter max_containers), HUTCH_A_EVENTS_LOST (u64, events the module
 *	could not allocate).
 *
 * HUTCH_CMD_CT_REGISTER: takes HUTCH_A_ID, HUTCH_A_PID (the container's init
 *	process) and optionally HUTCH_A_FLAGS (u32, HUTCH_CT_F_*). The module
 *	holds a reference to the init process's struct pid, records its
 *	namespaces and cgroup, and from then on accounts the init process and
 *	every descendant. Errors: -EEXIST (id taken), -ESRCH (no such pid),
 *	-EBUSY (the process is already tracked by another container), -ENOSPC
 *	(max_containers reached), -ENOMEM.
 *	Optionally HUTCH_A_EXE_FD (u32, a file descriptor of the caller, open on
 *	a regular file: the runtime's own binary): for as long as the container
 *	is registered the module denies writes to that file, as the kernel does
 *	for a running executable (opening it for writing fails with -ETXTBSY),
 *	so no process of the container can overwrite the runtime through
 *	/proc/PID/exe (CVE-2019-5736) (HUTCH_FEAT_EXE_GUARD). Errors: -EBADF,
 *	-EINVAL (not a regular file), -ETXTBSY (the file is open for writing).
 *
 * HUTCH_CMD_CT_UNREGISTER: takes HUTCH_A_ID; forgets the container and its
 *	tasks (they keep running). -ENOENT for an unknown id.
 *
 * HUTCH_CMD_CT_ATTACH: takes HUTCH_A_ID and HUTCH_A_PID; the process (e.g.
 *	one started by `hutch exec`) and its future descendants are accounted to
 *	the container. Attaching a process twice to the same container is not an
 *	error. -ENOENT, -ESRCH, -EBUSY as above. A process that is moved into the
 *	container's cgroup (cgroup v2) is attached by the module itself, unless
 *	the container was registered with HUTCH_CT_F_NO_CGROUP_ATTACH or its
 *	cgroup is the root cgroup.
 *
 * HUTCH_CMD_CT_GET: with HUTCH_A_ID, one container; with NLM_F_DUMP, every
 *	container (continued over as many messages as needed). Each reply has
 *	HUTCH_A_ID, HUTCH_A_FLAGS, HUTCH_A_STATE (u32, enum hutch_ct_state),
 *	HUTCH_A_PID (init pid in the caller's PID namespace, 0 when not
 *	visible there), HUTCH_A_EXIT_STATUS (u32 wait(2) status, only once
 *	the init process has exited), HUTCH_A_NS (nested, HUTCH_NS_A_*: u32
 *	inode numbers of the init process's namespaces at registration),
 *	HUTCH_A_CGROUP_ID (u64, the cgroup v2 id), HUTCH_A_CGROUP_PATH (string,
 *	cgroup v2 path), HUTCH_A_STATS (nested, HUTCH_STAT_A_*) and, for a
 *	container registered with HUTCH_A_EXE_FD, HUTCH_A_EXE_INO and
 *	HUTCH_A_EXE_DEV (u64, the guarded file's inode number and device, as
 *	stat(2)'s st_ino and st_dev).
 *
 * HUTCH_CMD_CT_PIDS: dump only; takes HUTCH_A_ID. One message per process
 *	of the container, with HUTCH_A_PID (the process id, caller's PID
 *	namespace; processes invisible there are left out), HUTCH_A_COUNT
 *	(u32, number of threads) and, what ps(1) shows, so that no /proc
 *	file needs reading (HUTCH_FEAT_PROC_INFO): HUTCH_A_PPID (u32, parent,
 *	caller's PID namespace, 0 when invisible there), HUTCH_A_UID (u32, real
 *	uid in the caller's user namespace), HUTCH_A_COMM (string, at most
 *	TASK_COMM_LEN - 1 bytes), HUTCH_A_TASK_STATE (u32, the letter of
 *	/proc/PID/stat's state field: 'R', 'S', 'D', 'T', 't', 'X', 'Z', 'P',
 *	'I'), HUTCH_A_START_NS (u64, start time, CLOCK_BOOTTIME), HUTCH_A_STATS
 *	(nested: HUTCH_STAT_A_UTIME_NS and HUTCH_STAT_A_STIME_NS, the
 *	process's CPU time) and HUTCH_A_CMDLINE (binary, the process's
 *	arguments as in /proc/PID/cmdline, at most HUTCH_CMDLINE_MAX bytes;
 *	absent for a process without memory, e.g. a zombie).
 *
 * HUTCH_CMD_CT_KILL: takes HUTCH_A_ID, HUTCH_A_SIGNAL (u32, 1..64) and
 *	optionally HUTCH_A_ALL (flag). Without HUTCH_A_ALL the init process is
 *	signalled; with it, every process of the container, in the kernel,
 *	atomically with respect to forks (a process forked by a task that is
 *	being signalled receives the signal too). Replies with HUTCH_A_COUNT,
 *	the number of processes signalled. -ESRCH if there was none.
 *
 * Events
 * ------
 * Messages of command HUTCH_CMD_EVENT on group "events", each with
 * HUTCH_A_EVENT (u32, enum hutch_event), HUTCH_A_SEQ (u64, increasing by one
 * per event generated; a gap means events were lost), HUTCH_A_TIME_NS (u64,
 * CLOCK_REALTIME), HUTCH_A_ID and, by type:
 *	HUTCH_EV_REGISTERED	HUTCH_A_PID
 *	HUTCH_EV_UNREGISTERED	-
 *	HUTCH_EV_INIT_EXIT	HUTCH_A_PID, HUTCH_A_EXIT_STATUS
 *	HUTCH_EV_EMPTY		- (the last process of the container exited)
 *	HUTCH_EV_FORK		HUTCH_A_PID (child), HUTCH_A_PPID
 *	HUTCH_EV_EXEC		HUTCH_A_PID, HUTCH_A_FILENAME
 *	HUTCH_EV_EXIT		HUTCH_A_PID, HUTCH_A_EXIT_STATUS
 * FORK, EXEC and EXIT are sent only for containers registered with
 * HUTCH_CT_F_TRACE. A listener whose socket buffer overflows gets ENOBUFS
 * from recvmsg(2); the events in between are lost.
 *
 * Accounting
 * ----------
 * HUTCH_A_STATS holds u64 counters summed over every task that ever ran in
 * the container since it was registered or attached, exited or alive:
 *	HUTCH_STAT_A_TASKS	tasks (threads) alive now
 *	HUTCH_STAT_A_PROCS	processes alive now
 *	HUTCH_STAT_A_FORKS	processes created (not threads)
 *	HUTCH_STAT_A_THREADS	threads created
 *	HUTCH_STAT_A_EXECS	successful execve(2)s
 *	HUTCH_STAT_A_EXITS	processes exited
 *	HUTCH_STAT_A_UTIME_NS, HUTCH_STAT_A_STIME_NS	CPU time
 *	HUTCH_STAT_A_NVCSW, HUTCH_STAT_A_NIVCSW		context switches
 *	HUTCH_STAT_A_MINFLT, HUTCH_STAT_A_MAJFLT	page faults
 *	HUTCH_STAT_A_MAXRSS	peak RSS of any process, bytes
 *	HUTCH_STAT_A_READ_BYTES, HUTCH_STAT_A_WRITE_BYTES  storage IO
 *	HUTCH_STAT_A_RCHAR, HUTCH_STAT_A_WCHAR, HUTCH_STAT_A_SYSCR,
 *	HUTCH_STAT_A_SYSCW	as in /proc/PID/io
 *	HUTCH_STAT_A_LOST	processes that could not be tracked (allocation
 *				failure in fork context); nonzero means the
 *				other counters are lower bounds
 */
#ifndef _UAPI_LINUX_HUTCH_H
#define _UAPI_LINUX_HUTCH_H

#include <linux/const.h>

#define HUTCH_GENL_NAME		"hutch"
#define HUTCH_GENL_VERSION	1
#define HUTCH_GENL_MCGRP_EVENTS	"events"

/* Container ids: at most HUTCH_ID_MAX - 1 bytes plus the NUL. */
#define HUTCH_ID_MAX		256
/* Longest HUTCH_A_FILENAME in an exec event, NUL included. */
#define HUTCH_FILENAME_MAX	256
/*
 * Longest HUTCH_A_CMDLINE in a CT_PIDS reply (longer ones are cut): a process's
 * message always fits the smallest dump buffer (NLMSG_GOODSIZE).
 */
#define HUTCH_CMDLINE_MAX	2048

enum hutch_cmd {
	HUTCH_CMD_UNSPEC,
	HUTCH_CMD_GET_INFO,
	HUTCH_CMD_CT_REGISTER,
	HUTCH_CMD_CT_UNREGISTER,
	HUTCH_CMD_CT_ATTACH,
	HUTCH_CMD_CT_GET,
	HUTCH_CMD_CT_PIDS,
	HUTCH_CMD_CT_KILL,
	HUTCH_CMD_EVENT,	/* multicast only */
	__HUTCH_CMD_MAX
};

#define HUTCH_CMD_MAX (__HUTCH_CMD_MAX - 1)

enum hutch_attr {
	HUTCH_A_UNSPEC,
	HUTCH_A_PAD,		/* padding for 64-bit attributes */
	HUTCH_A_ID,		/* NUL-terminated string, container id */
	HUTCH_A_PID,		/* u32 */
	HUTCH_A_FLAGS,		/* u32, HUTCH_CT_F_* */
	HUTCH_A_SIGNAL,		/* u32, 1..64 */
	HUTCH_A_ALL,		/* flag */
	HUTCH_A_COUNT,		/* u32, reply only */
	HUTCH_A_STATE,		/* u32, enum hutch_ct_state, reply only */
	HUTCH_A_EXIT_STATUS,	/* u32, wait(2) status, reply only */
	HUTCH_A_NS,		/* nested HUTCH_NS_A_*, reply only */
	HUTCH_A_CGROUP_ID,	/* u64, reply only */
	HUTCH_A_CGROUP_PATH,	/* string, reply only */
	HUTCH_A_STATS,		/* nested HUTCH_STAT_A_*, reply only */
	HUTCH_A_VERSION,	/* string, module version, reply only */
	HUTCH_A_PROTOCOL,	/* u32, HUTCH_GENL_VERSION, reply only */
	HUTCH_A_FEATURES,	/* u64, HUTCH_FEAT_*, reply only */
	HUTCH_A_NR_CONTAINERS,	/* u32, reply only */
	HUTCH_A_NR_TASKS,	/* u32, reply only */
	HUTCH_A_MAX_CONTAINERS,	/* u32, reply only */
	HUTCH_A_EVENTS_LOST,	/* u64, reply only */
	HUTCH_A_EVENT,		/* u32, enum hutch_event, events only */
	HUTCH_A_SEQ,		/* u64, events only */
	HUTCH_A_TIME_NS,	/* u64, events only */
	HUTCH_A_PPID,		/* u32, events only */
	HUTCH_A_FILENAME,	/* string, events only */
	HUTCH_A_UID,		/* u32, CT_PIDS reply only */
	HUTCH_A_COMM,		/* string, CT_PIDS reply only */
	HUTCH_A_TASK_STATE,	/* u32, CT_PIDS reply only */
	HUTCH_A_START_NS,	/* u64, CT_PIDS reply only */
	HUTCH_A_CMDLINE,	/* binary, CT_PIDS reply only */
	HUTCH_A_EXE_FD,		/* u32, CT_REGISTER only */
	HUTCH_A_EXE_INO,	/* u64, reply only */
	HUTCH_A_EXE_DEV,	/* u64, reply only */
	__HUTCH_A_MAX
};

#define HUTCH_A_MAX (__HUTCH_A_MAX - 1)

/* HUTCH_A_FLAGS */
#define HUTCH_CT_F_TRACE		_BITUL(0) /* per-task fork/exec/exit events */
#define HUTCH_CT_F_NO_CGROUP_ATTACH	_BITUL(1) /* don't follow cgroup moves */
#define HUTCH_CT_F_ALL			(HUTCH_CT_F_TRACE | HUTCH_CT_F_NO_CGROUP_ATTACH)

/* HUTCH_A_FEATURES */
#define HUTCH_FEAT_ACCOUNTING	_BITULL(0)
#define HUTCH_FEAT_EVENTS	_BITULL(1)
#define HUTCH_FEAT_KILL		_BITULL(2)
#define HUTCH_FEAT_CGROUP_ATTACH _BITULL(3)
#define HUTCH_FEAT_IO		_BITULL(4) /* READ/WRITE_BYTES, RCHAR.. */
#define HUTCH_FEAT_PROC_INFO	_BITULL(5) /* CT_PIDS: PPID, UID, COMM.. */
#define HUTCH_FEAT_EXE_GUARD	_BITULL(6) /* CT_REGISTER's HUTCH_A_EXE_FD */

enum hutch_ct_state {
	HUTCH_CT_RUNNING,	/* the init process is alive */
	HUTCH_CT_INIT_EXITED,	/* init exited, other processes remain */
	HUTCH_CT_EMPTY,		/* no process of the container is alive */
};

enum hutch_ns_attr {
	HUTCH_NS_A_UNSPEC,
	HUTCH_NS_A_PID,		/* u32 inode numbers, as in /proc/PID/ns */
	HUTCH_NS_A_MNT,
	HUTCH_NS_A_NET,
	HUTCH_NS_A_IPC,
	HUTCH_NS_A_UTS,
	HUTCH_NS_A_USER,
	HUTCH_NS_A_CGROUP,
	__HUTCH_NS_A_MAX
};

#define HUTCH_NS_A_MAX (__HUTCH_NS_A_MAX - 1)

enum hutch_stat_attr {
	HUTCH_STAT_A_UNSPEC,
	HUTCH_STAT_A_PAD,
	HUTCH_STAT_A_TASKS,	/* all u64 */
	HUTCH_STAT_A_PROCS,
	HUTCH_STAT_A_FORKS,
	HUTCH_STAT_A_THREADS,
	HUTCH_STAT_A_EXECS,
	HUTCH_STAT_A_EXITS,
	HUTCH_STAT_A_UTIME_NS,
	HUTCH_STAT_A_STIME_NS,
	HUTCH_STAT_A_NVCSW,
	HUTCH_STAT_A_NIVCSW,
	HUTCH_STAT_A_MINFLT,
	HUTCH_STAT_A_MAJFLT,
	HUTCH_STAT_A_MAXRSS,
	HUTCH_STAT_A_READ_BYTES,
	HUTCH_STAT_A_WRITE_BYTES,
	HUTCH_STAT_A_RCHAR,
	HUTCH_STAT_A_WCHAR,
	HUTCH_STAT_A_SYSCR,
	HUTCH_STAT_A_SYSCW,
	HUTCH_STAT_A_LOST,
	__HUTCH_STAT_A_MAX
};

#define HUTCH_STAT_A_MAX (__HUTCH_STAT_A_MAX - 1)

enum hutch_event {
	HUTCH_EV_UNSPEC,
	HUTCH_EV_REGISTERED,
	HUTCH_EV_UNREGISTERED,
	HUTCH_EV_INIT_EXIT,
	HUTCH_EV_EMPTY,
	HUTCH_EV_FORK,
	HUTCH_EV_EXEC,
	HUTCH_EV_EXIT,
	__HUTCH_EV_MAX
};

#define HUTCH_EV_MAX (__HUTCH_EV_MAX - 1)

#endif /* _UAPI_LINUX_HUTCH_H */
