/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hutch.ko internals shared by its files: the container registry, the
 * per-process tracking entries, accounting and events.
 *
 * Locking, outermost first:
 *  - hutch_lock (spinlock) protects the container list and its counters. It
 *    is taken by netlink commands and by the cgroup attach probe, never by
 *    the fork, exec and exit probes.
 *  - ct->lock (spinlock, one per container) protects the container's
 *    mutable fields, its process list and its processes' entries. The fork,
 *    exec and exit probes take only the lock of their task's container, so
 *    containers never contend with each other.
 *  - the process hash's buckets share HUTCH_LOCK_BITS spinlocks for inserting
 *    and removing entries; lookups are lockless, under RCU.
 * A probe for a task that no container tracks does one RCU lookup and takes
 * no lock. Containers and process entries are freed after an RCU grace
 * period, so a probe that found an entry can lock its container and then
 * check the entry's "unlinked" flag. Nothing sleeps or allocates with
 * GFP_KERNEL under these locks; none is taken from interrupts.
 */
#ifndef HUTCH_KMOD_H
#define HUTCH_KMOD_H

#include <linux/list.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/hutch.h>

#define HUTCH_MODULE_VERSION "0.1.0"

struct cgroup;
struct sk_buff;
struct netlink_ext_ack;

struct hutch_ct {
	struct list_head node;		/* in hutch_containers (hutch_lock) */
	struct rcu_head rcu;
	/* set at registration, then constant */
	char id[HUTCH_ID_MAX];
	u64 serial;			/* registration order, dump cursor */
	u32 flags;			/* HUTCH_CT_F_* */
	struct pid *init_pid;		/* TGID pid of init, reference held */
	u32 ns[HUTCH_NS_A_MAX + 1];	/* namespace inode numbers */
	struct cgroup *cgrp;		/* cgroup v2 of init, reference held */
	u64 cgrp_id;
	char *cgrp_path;
	struct file *exe;		/* write-denied while registered, or NULL */
	/* under lock */
	spinlock_t lock;
	bool unlinked;			/* unregistered */
	bool init_exited;
	u32 init_status;		/* wait status, once init_exited */
	struct list_head procs;		/* struct hutch_proc.ct_node */
	u64 proc_serial;		/* last hutch_proc.serial given */
	u64 nprocs;			/* processes alive */
	u64 ntasks;			/* threads alive */
	int kill_sig;			/* last signal sent to all, 0 if none */
	u64 dead[HUTCH_STAT_A_MAX + 1];	/* exited tasks' counters, events */
};

/* One tracked process, keyed by its signal_struct (shared by its threads). */
struct hutch_proc {
	struct hlist_node hnode;	/* in the process hash */
	struct rcu_head rcu;
	const struct signal_struct *sig; /* hash key, never dereferenced */
	struct hutch_ct *ct;		/* constant */
	/* under ct->lock */
	struct list_head ct_node;
	bool unlinked;			/* removed: the probes ignore it */
	struct pid *pid;		/* TGID pid, reference held */
	u64 serial;			/* dump cursor */
	u32 threads;
};

/* Events prepared under a container's lock and sent after it is released. */
#define HUTCH_EVQ_MAX 4
struct hutch_evq {
	struct sk_buff *skb[HUTCH_EVQ_MAX];
	int n;
};

/* registry.c */
extern spinlock_t hutch_lock;
extern struct list_head hutch_containers;
extern unsigned int hutch_nr_containers;
extern unsigned int hutch_max_containers;
void hutch_registry_init(void);
bool hutch_valid_id(const char *id);
struct hutch_ct *hutch_ct_find(const char *id);
struct hutch_proc *hutch_proc_lookup_rcu(const struct signal_struct *sig);
struct hutch_proc *hutch_proc_alloc(struct task_struct *task, gfp_t gfp);
void hutch_proc_free_new(struct hutch_proc *p);
int hutch_proc_add(struct hutch_ct *ct, struct hutch_proc *p);
void hutch_proc_remove(struct hutch_proc *p);
int hutch_ct_register(const char *id, pid_t nr, u32 flags, struct file *exe,
		      struct netlink_ext_ack *extack);
int hutch_ct_unregister(const char *id, struct netlink_ext_ack *extack);
int hutch_ct_attach(const char *id, pid_t nr, struct netlink_ext_ack *extack);
int hutch_ct_kill(const char *id, int sig, bool all, u32 *count,
		  struct netlink_ext_ack *extack);
void hutch_registry_clear(void);

/* accounting.c */
int hutch_probes_register(void);
void hutch_probes_unregister(void);
void hutch_ct_snapshot(const struct hutch_ct *ct, u64 *stats);
void hutch_proc_times(struct task_struct *leader, u64 *utime, u64 *stime);
enum hutch_ct_state hutch_ct_state(const struct hutch_ct *ct);

/* events.c */
void hutch_event(struct hutch_evq *q, const struct hutch_ct *ct, u32 type,
		 pid_t pid, pid_t ppid, const u32 *status, const char *filename);
void hutch_evq_send(struct hutch_evq *q);
extern atomic64_t hutch_events_lost;

/* netlink.c */
extern struct genl_family hutch_family;
int hutch_netlink_init(void);
void hutch_netlink_exit(void);

#endif /* HUTCH_KMOD_H */
