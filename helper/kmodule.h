/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The helper's client of hutch.ko: the generic netlink family "hutch"
 * (protocol in uapi/linux/hutch.h), through libnl-genl-3.
 */
#ifndef HUTCH_KMODULE_H
#define HUTCH_KMODULE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/hutch.h>

#include "error.h"
#include "hutch.h"

struct hutch_kmod;

/*
 * Connects and resolves the family. When hutch.ko is not loaded (or this is
 * not the initial network namespace) it fails with status ENOENT and the
 * message "hutch.ko is not loaded ...".
 */
int hutch_kmod_open(struct hutch_kmod **out, hutch_err *err);
void hutch_kmod_close(struct hutch_kmod *k);
void hutch_kmod_closep(struct hutch_kmod **k);
#define cleanup_kmod __attribute__((cleanup(hutch_kmod_closep)))

/*
 * The --module mode: auto opens the module when it is there and leaves *out
 * NULL (returning 0) when it is not; on fails when it is not; off leaves *out
 * NULL. Other errors (e.g. EPERM) fail in auto mode too.
 */
int hutch_kmod_for_mode(enum hutch_module_mode mode, struct hutch_kmod **out,
			hutch_err *err);

struct hutch_kmod_info {
	char version[64];
	uint32_t protocol;
	uint64_t features;
	uint32_t nr_containers, nr_tasks, max_containers;
	uint64_t events_lost;
};

struct hutch_kmod_ct {
	char *id;
	uint32_t flags, state;
	pid_t pid;                      /* init, 0 when not visible */
	bool exited;
	uint32_t exit_status;           /* wait status, when exited */
	uint32_t ns[HUTCH_NS_A_MAX + 1];
	uint64_t cgroup_id;
	char *cgroup_path;
	bool exe_guarded;               /* registered with HUTCH_A_EXE_FD: */
	uint64_t exe_ino, exe_dev;      /* the guarded file, as st_ino and st_dev */
	bool has_stats;
	bool has_stat[HUTCH_STAT_A_MAX + 1];
	uint64_t stats[HUTCH_STAT_A_MAX + 1];
};

struct hutch_kmod_event {
	uint32_t type;
	uint64_t seq, time_ns;
	char id[HUTCH_ID_MAX];
	pid_t pid, ppid;
	bool has_status;
	uint32_t status;
	char filename[HUTCH_FILENAME_MAX];
};

int hutch_kmod_get_info(struct hutch_kmod *k, struct hutch_kmod_info *info, hutch_err *err);
int hutch_kmod_register(struct hutch_kmod *k, const char *id, pid_t pid, uint32_t flags,
			hutch_err *err);
/* CT_REGISTER with HUTCH_A_EXE_FD: writes to exe_fd's file are denied while registered. */
int hutch_kmod_register_guarded(struct hutch_kmod *k, const char *id, pid_t pid,
				uint32_t flags, int exe_fd, hutch_err *err);
int hutch_kmod_unregister(struct hutch_kmod *k, const char *id, hutch_err *err);
int hutch_kmod_attach(struct hutch_kmod *k, const char *id, pid_t pid, hutch_err *err);
int hutch_kmod_get(struct hutch_kmod *k, const char *id, struct hutch_kmod_ct *ct,
		   hutch_err *err);
/* Every container; *cts is an array of *n entries, free with hutch_kmod_cts_free. */
int hutch_kmod_dump(struct hutch_kmod *k, struct hutch_kmod_ct **cts, size_t *n,
		    hutch_err *err);
void hutch_kmod_ct_clear(struct hutch_kmod_ct *ct);
void hutch_kmod_cts_free(struct hutch_kmod_ct *cts, size_t n);
/* The container's processes (caller's PID namespace); *pids is malloc'ed. */
int hutch_kmod_pids(struct hutch_kmod *k, const char *id, pid_t **pids, size_t *n,
		    hutch_err *err);
int hutch_kmod_kill(struct hutch_kmod *k, const char *id, int sig, bool all,
		    uint32_t *count, hutch_err *err);

/* One process of a CT_PIDS dump: what ps shows (has_info: HUTCH_FEAT_PROC_INFO). */
struct hutch_kmod_proc {
	pid_t pid, ppid;
	uint32_t threads, uid;
	bool has_info;
	char state;
	char comm[16];
	uint64_t start_ns, utime_ns, stime_ns;
	char *cmdline;          /* NUL-separated arguments, cmdline_len bytes; or NULL */
	size_t cmdline_len;
};

/* The container's processes with their details; free with hutch_kmod_procs_free. */
int hutch_kmod_procs(struct hutch_kmod *k, const char *id, struct hutch_kmod_proc **procs,
		     size_t *n, hutch_err *err);
void hutch_kmod_procs_free(struct hutch_kmod_proc *procs, size_t n);

/* Joins the "events" group; afterwards use hutch_kmod_next_event. */
int hutch_kmod_subscribe(struct hutch_kmod *k, hutch_err *err);
/*
 * Waits up to timeout_ms (-1: forever) for an event: 1 with *ev filled, 0 on
 * timeout, or <0 with *err set. Events lost to a full socket buffer are
 * reported as status ENOBUFS, after which the stream continues.
 */
int hutch_kmod_next_event(struct hutch_kmod *k, struct hutch_kmod_event *ev, int timeout_ms,
			  hutch_err *err);
const char *hutch_kmod_event_name(uint32_t type);
const char *hutch_kmod_state_name(uint32_t state);
/* The file descriptor of the socket (for poll, and for tests). */
int hutch_kmod_fd(struct hutch_kmod *k);
int hutch_kmod_family(struct hutch_kmod *k);

/*
 * The lifecycle commands' use of the module, per the global --module mode set
 * once by main (hutch_kmod_set_mode). One connection per process, opened on
 * first use. In auto mode without the module, and for containers the module
 * does not know (created while it was absent), each hook does nothing and
 * returns 0 so the caller falls back to cgroupfs/procfs; with --module on a
 * missing module is an error.
 */
void hutch_kmod_setup(const struct hutch_global *g);
/*
 * The name a container has in the module: "<id>.<8 hex digits>", the digits a hash
 * of the state root, so containers of different --root directories never collide.
 * Caller frees.
 */
char *hutch_kmod_name(const char *id);
/*
 * CVE-2019-5736 without re-executing (hutch_selfexe_protect): true when hutch.ko holds,
 * or will hold, a write guard on this very binary (/proc/self/exe) for the container the
 * command creates or enters, from before any process of the container runs its image's
 * code until the container is deleted:
 *  - id NULL (create, run): the module is used and has HUTCH_FEAT_EXE_GUARD; the
 *    registration (hutch_kmod_ct_create) then takes the guard or fails the command;
 *  - id (exec): the container is registered with a guard on this binary's inode.
 * False: protect as without the module. Costs one or two netlink requests.
 */
bool hutch_kmod_exe_guarded(const char *id);
/*
 * Close the shared connection, which hutch_kmod_exe_guarded() opens first thing in create
 * and run: create's undoing after EMFILE needs that fd. The next call reopens it.
 */
void hutch_kmod_release(void);
/* create: register the init (trace events on), with the write guard of this binary. */
int hutch_kmod_ct_create(const char *id, pid_t init, hutch_err *err);
/* exec: attach the new process before it runs the program. */
int hutch_kmod_ct_exec(const char *id, pid_t pid, hutch_err *err);
/* delete: forget the container (not an error if the module never knew it). */
int hutch_kmod_ct_delete(const char *id, hutch_err *err);
/* ps: 1 with the container's processes from CT_PIDS, 0 to fall back. */
int hutch_kmod_ct_pids(const char *id, pid_t **pids, size_t *n, hutch_err *err);
/*
 * ps: 1 with the container's processes and what ps shows of them, from one CT_PIDS dump
 * (no /proc reads), 0 to fall back (no module, a container it does not know, or a module
 * without HUTCH_FEAT_PROC_INFO).
 */
int hutch_kmod_ct_procs(const char *id, struct hutch_kmod_proc **procs, size_t *n,
			hutch_err *err);
/* kill --all: 1 when CT_KILL signalled the container's processes, 0 to fall back. */
int hutch_kmod_ct_kill_all(const char *id, int sig, hutch_err *err);
/* status: 1 when the module recorded the init's exit (*status: wait status), else 0. */
int hutch_kmod_ct_init_exited(const char *id, int *status);
/*
 * stats: 1 with *out the module's accounting in the keys of `hutch stats` (source
 * "module"; keys the module cannot provide are null), 0 to fall back.
 */
struct json_object;
int hutch_kmod_ct_stats(const char *id, struct json_object **out, hutch_err *err);
/*
 * stats --all: 1 with *out an object of every container of this --root the module
 * tracks, id -> the stats of hutch_kmod_ct_stats, from one CT_GET dump; 0 without the
 * module.
 */
int hutch_kmod_stats_all(struct json_object **out, hutch_err *err);
/* Adds null for every key only the module provides (for the cgroup source). */
void hutch_kmod_stats_mark_missing(struct json_object *o);

#endif
