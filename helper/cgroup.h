/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups for a container on cgroup v1, v2 (unified) and hybrid hosts, the layout
 * chosen at run time. The lifecycle calls them in this order:
 *
 *   parent (create):  hutch_cgroup_prepare  validate linux.cgroupsPath and
 *                                          linux.resources; nothing touched yet
 *                     hutch_cgroup_create   make the directories, apply resources
 *                     hutch_cgroup_enter_open, then fork, then hutch_cgroup_enter_self
 *                                          in the child and hutch_cgroup_enter in the
 *                                          parent: the child is in before it executes
 *                                          anything
 *                     hutch_cgroup_to_json  saved in state.json
 *   later commands:   hutch_cgroup_from_json, then pids / freeze / destroy ...
 */
#ifndef HUTCH_CGROUP_H
#define HUTCH_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "error.h"
#include "hutch.h"

struct hutch_cgroup;

/*
 * linux_obj is config.json's "linux" object (may be NULL). id is the container id,
 * used for the default path /hutch/<id>. With --cgroup-manager disabled, *out is a
 * cgroup that does nothing. Errors name the JSON path.
 */
int hutch_cgroup_prepare(const struct hutch_global *g, const char *id, json_object *linux_obj,
			 struct hutch_cgroup **out, hutch_err *err);
int hutch_cgroup_create(struct hutch_cgroup *cg, hutch_err *err);
/*
 * After hutch_cgroup_create failed with e: true (and cg now does nothing) when the caller
 * is not root (or root of a user namespace), was refused by the cgroup file system and asked for no linux.resources —
 * the rootless case, which runs without cgroups as with runc; otherwise e stands.
 */
bool hutch_cgroup_rootless_fallback(struct hutch_cgroup *cg, const struct hutch_error *e);
/*
 * Entering a new process. A pid written to a v1 cgroup.procs takes the kernel's global
 * threadgroup lock for writing, which waits for an RCU grace period (milliseconds, once
 * per command; it was most of `run`'s time in cgroups), while a thread that writes "0"
 * (itself) into a v1 `tasks` file takes no global lock, and for a single-threaded process
 * moving its thread moves the process. So: before the fork the parent opens the `tasks`
 * files (hutch_cgroup_enter_open); the child, single-threaded, writes itself in first
 * thing (hutch_cgroup_enter_self) and reports a failure like any other setup step; the
 * parent moves pid in where the child cannot (hutch_cgroup_enter: v2 unless clone3 put
 * the child there (v2_entered), a v1 `tasks` file it could not open). Each side closes
 * the fds.
 */
int hutch_cgroup_enter_open(struct hutch_cgroup *cg);
int hutch_cgroup_enter_self(struct hutch_cgroup *cg, hutch_err *err);
int hutch_cgroup_enter(struct hutch_cgroup *cg, pid_t pid, bool v2_entered, hutch_err *err);
/*
 * Whether hutch_cgroup_enter has anything to write for a child made with v2_entered
 * (before it is called: it closes the fds). Parent and child ask it after the fork (both
 * know v2_entered) and agree: only then must the child wait for the parent's go.
 */
bool hutch_cgroup_enter_pending(const struct hutch_cgroup *cg, bool v2_entered);
/* An fd of the v2 cgroup directory for clone3(CLONE_INTO_CGROUP), or -1. */
int hutch_cgroup_v2_fd(struct hutch_cgroup *cg);
/* Remove the directories hutch created, leaf first; kills nothing. */
int hutch_cgroup_destroy(struct hutch_cgroup *cg, hutch_err *err);
void hutch_cgroup_free(struct hutch_cgroup *cg);

json_object *hutch_cgroup_to_json(struct hutch_cgroup *cg);
/* What hutch_cgroup_create is about to make, in hutch_cgroup_to_json's form: saved before
 * it runs, so that a delete after a crash in between removes what was made. */
json_object *hutch_cgroup_plan_json(struct hutch_cgroup *cg);
int hutch_cgroup_from_json(json_object *o, struct hutch_cgroup **out, hutch_err *err);

/* Every pid in the container's cgroup (recursively), sorted. */
int hutch_cgroup_pids(struct hutch_cgroup *cg, pid_t **pids, size_t *n, hutch_err *err);
int hutch_cgroup_freeze(struct hutch_cgroup *cg, bool freeze, hutch_err *err);
/*
 * Wait until no process is left in the container's cgroup, up to timeout_ms: woken by the
 * kernel's cgroup.events notification where there is a v2 directory (hybrid hosts too),
 * looking every millisecond on v1 only. 0 when empty, -1 on timeout.
 */
int hutch_cgroup_wait_empty(struct hutch_cgroup *cg, int timeout_ms);
bool hutch_cgroup_frozen(struct hutch_cgroup *cg);
/* The path (relative to the hierarchy root) shown in state and stats. */
const char *hutch_cgroup_path(struct hutch_cgroup *cg);

/*
 * Beyond the lifecycle: resources changed on a running container (`hutch update`),
 * accounting (`hutch stats`, `hutch events`) and OOM notification (`hutch events`).
 */

/* resources is a linux.resources object; file/base name it in errors, e.g.
 * ("resources.json", "") or ("update", ""). Knobs not given are left alone. */
int hutch_cgroup_update(struct hutch_cgroup *cg, json_object *resources, const char *file,
			const char *base, hutch_err *err);

/*
 * The accounting snapshot of `hutch stats`. The field names (and the JSON keys
 * `hutch stats --format json` prints for them) are stable: the kernel module adds
 * another source for the same fields. A value the host cannot provide is 0.
 */
struct hutch_cgroup_stats {
	uint64_t cpu_total_ns, cpu_user_ns, cpu_system_ns;
	uint64_t memory_current_bytes, memory_peak_bytes;
	uint64_t page_faults, major_page_faults;
	uint64_t pids_current;
	uint64_t io_read_bytes, io_write_bytes;
};
int hutch_cgroup_stats(struct hutch_cgroup *cg, struct hutch_cgroup_stats *st, hutch_err *err);
/* {"cpu_total_ns": ..., ...} with the fields above, plus "source": source. */
json_object *hutch_cgroup_stats_json(const struct hutch_cgroup_stats *st, const char *source);

/* runc's `events` stats data (types.Stats: cpu, memory, pids, blkio, hugetlb ...). */
json_object *hutch_cgroup_runc_stats(struct hutch_cgroup *cg);

/*
 * OOM notification: a pollable fd (v1: an eventfd registered on memory.oom_control;
 * v2: inotify on memory.events). After it polls readable, hutch_cgroup_oom_read
 * returns how many OOM events happened (0: none, spurious), or <0 when the cgroup is
 * gone. The fd belongs to cg.
 */
int hutch_cgroup_oom_fd(struct hutch_cgroup *cg, hutch_err *err);
int hutch_cgroup_oom_read(struct hutch_cgroup *cg);

static inline void cleanup_cgroupp(struct hutch_cgroup **cg)
{
	hutch_cgroup_free(*cg);
}
#define cleanup_cgroup __attribute__((cleanup(cleanup_cgroupp)))

#endif
