/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between cgroup.c (layout, directories, membership), cgroup_resources.c
 * (linux.resources parsing and applying), cgroup_devices.c (v1 rules, v2 BPF) and
 * cgroup_stats.c. Nothing outside the cgroup_*.c files includes this.
 */
#ifndef HUTCH_CGROUP_INTERNAL_H
#define HUTCH_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "cgroup.h"
#include "error.h"

enum cg_layout { CG_DISABLED, CG_V1, CG_V2, CG_HYBRID };

/* One hierarchy the container has a directory in. */
struct cg_hier {
	bool v2;          /* the unified hierarchy */
	char *mount;      /* mount point, e.g. /sys/fs/cgroup/memory */
	char *dir;        /* the container's directory, e.g. /sys/fs/cgroup/memory/hutch/ID */
	char **ctrls;     /* controllers served here (v1: bound to the mount; v2: available) */
	char **created;   /* directories hutch created, parents first */
};

/* A device cgroup rule, wildcards as -1. */
struct cg_dev_rule {
	bool allow;
	char type;        /* 'a', 'b', 'c' */
	int64_t major, minor;
	unsigned access;  /* CG_ACC_* */
};
#define CG_ACC_MKNOD 1u
#define CG_ACC_READ 2u
#define CG_ACC_WRITE 4u

struct cg_devweight {
	int64_t major, minor;
	bool has_weight, has_leaf;
	uint64_t weight, leaf;
};

struct cg_devrate {
	int64_t major, minor;
	uint64_t rate;
};

struct cg_kv {
	char *key;
	char *value;
};

struct cg_huge {
	char *size;       /* "2MB" */
	uint64_t limit;
};

struct cg_prio {
	char *name;
	uint64_t prio;
};

struct cg_rdma {
	char *dev;
	bool has_handles, has_objects;
	uint64_t handles, objects;
};

/* linux.resources, parsed and validated; has_* say what was given. */
struct cg_res {
	/* memory */
	bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
	int64_t limit, reservation, swap, kernel, kernel_tcp;
	uint64_t swappiness;
	bool has_disable_oom, disable_oom, check_before_update;
	/* cpu */
	bool has_shares, has_quota, has_period, has_burst, has_idle, has_rt_runtime, has_rt_period;
	uint64_t shares, period, burst, rt_period;
	int64_t quota, idle, rt_runtime;
	char *cpus, *mems;
	/* pids */
	bool has_pids;
	int64_t pids;
	/* blockIO */
	bool has_blkio_weight, has_blkio_leaf;
	uint64_t blkio_weight, blkio_leaf;
	struct cg_devweight *wdev;
	size_t n_wdev;
	struct cg_devrate *thr[4];   /* read bps, write bps, read iops, write iops */
	size_t n_thr[4];
	/* hugepageLimits */
	struct cg_huge *huge;
	size_t n_huge;
	/* network */
	bool has_classid;
	uint64_t classid;
	struct cg_prio *prio;
	size_t n_prio;
	/* rdma */
	struct cg_rdma *rdma;
	size_t n_rdma;
	/* unified */
	struct cg_kv *unified;
	size_t n_unified;
	/* devices */
	bool has_devices;
	struct cg_dev_rule *dev;
	size_t n_dev;
};

/* --systemd-cgroup: the container's transient scope unit (cgroup_systemd.c). */
struct cg_systemd {
	char *unit;               /* e.g. hutch-ID.scope */
	char *slice;              /* e.g. system.slice */
	bool started;             /* the unit exists (always after from_json) */
};

struct hutch_cgroup {
	enum cg_layout layout;
	struct cg_systemd *sd;    /* NULL with cgroupfs */
	char *path;               /* shown in state: relative to the hierarchy root */
	struct cg_hier *h;
	size_t nh;
	struct cg_res *res;       /* from prepare; NULL after from_json */
	int v2fd;                 /* cached fd of the v2 directory, or -1 */
	int *self_fds;            /* per hierarchy: its v1 `tasks` file opened for a child to
				     enter by itself (hutch_cgroup_enter_open), or -1; or NULL */
	int oomfd;                /* hutch_cgroup_oom_fd, or -1 */
	uint64_t oom_seen;        /* v2: oom_kill count already reported */
};

const char *cg_layout_name(enum cg_layout l);
/* The hierarchy serving controller ctrl, or NULL. */
struct cg_hier *cg_find(struct hutch_cgroup *cg, const char *ctrl);
struct cg_hier *cg_unified(struct hutch_cgroup *cg);

/* Files in a container directory. cg_write: O_WRONLY, no O_CREAT. */
int cg_write(const char *dir, const char *file, const char *value, hutch_err *err);
int cg_read(const char *dir, const char *file, char **out, hutch_err *err);
bool cg_exists(const char *dir, const char *file);
/* A "key value" line out of a flat-keyed file (memory.stat, cpu.stat, cgroup.events). */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out);
int cg_read_u64(const char *dir, const char *file, uint64_t *out);

/* Resources. file/base name the JSON source: ("config.json", "linux.resources"). */
int cg_res_parse(json_object *o, const char *file, const char *base, struct cg_res **out,
		 hutch_err *err);
void cg_res_free(struct cg_res *r);
/* dry: only check that this layout has every knob (nothing is written). */
int cg_res_apply(struct hutch_cgroup *cg, const struct cg_res *r, const char *file,
		 const char *base, bool dry, bool update, hutch_err *err);

/*
 * systemd (cgroup_systemd.c). cg_sd_parse: linux.cgroupsPath "slice:prefix:name" (NULL:
 * the default for id) to the unit and its cgroup path "/a.slice/a-b.slice/prefix-name.scope".
 * cg_sd_start: StartTransientUnit with pid and cg->res, waiting for the job.
 * cg_sd_set: SetUnitProperties (update). cg_sd_stop: StopUnit, ResetFailedUnit.
 */
int cg_sd_parse(const char *cpath, const char *id, struct cg_systemd **out, char **path,
		hutch_err *err);
void cg_sd_free(struct cg_systemd *sd);
int cg_sd_start(struct hutch_cgroup *cg, pid_t pid, hutch_err *err);
int cg_sd_set(struct hutch_cgroup *cg, const struct cg_res *r, hutch_err *err);
int cg_sd_stop(struct hutch_cgroup *cg, hutch_err *err);
json_object *cg_sd_to_json(const struct cg_systemd *sd);
int cg_sd_from_json(json_object *o, struct cg_systemd **out, hutch_err *err);

/* Devices: v1 rule strings or a v2 BPF program on dir. */
void cg_devices_allow_listed(struct cg_res *r, json_object *devices);
int cg_devices_apply_v1(const char *dir, const struct cg_dev_rule *rules, size_t n,
			hutch_err *err);
int cg_devices_apply_bpf(const char *dir, const struct cg_dev_rule *rules, size_t n,
			 hutch_err *err);
/* The rules runc always adds after the configured ones (null, zero, tty, ...). */
void cg_devices_defaults(struct cg_dev_rule **rules, size_t *n);

#endif
