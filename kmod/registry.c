// SPDX-License-Identifier: GPL-2.0-only
/*
 * The container registry: containers by id, and the processes each one
 * tracks, hashed by their signal_struct so the tracepoint probes can find a
 * task's container in constant time.
 */
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/ipc_namespace.h>
#include <linux/limits.h>
#include <linux/pid_namespace.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/utsname.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "compat.h"
#include "hutch.h"

DEFINE_SPINLOCK(hutch_lock);
LIST_HEAD(hutch_containers);
unsigned int hutch_nr_containers;
static u64 hutch_serial;

/* The process hash; insertions and removals under one of the bucket locks. */
#define HUTCH_HASH_BITS 10
#define HUTCH_LOCK_BITS 6
static struct hlist_head hutch_procs[1 << HUTCH_HASH_BITS];
static spinlock_t hutch_bucket_locks[1 << HUTCH_LOCK_BITS];

static u32 hutch_hash(const struct signal_struct *sig)
{
	return hash_ptr(sig, HUTCH_HASH_BITS);
}

static spinlock_t *hutch_bucket_lock(u32 h)
{
	return &hutch_bucket_locks[h & ((1 << HUTCH_LOCK_BITS) - 1)];
}

void hutch_registry_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hutch_bucket_locks); i++)
		spin_lock_init(&hutch_bucket_locks[i]);
}

bool hutch_valid_id(const char *id)
{
	const char *c;

	if (!*id)
		return false;
	for (c = id; *c; c++)
		if (!isalnum(*c) && !strchr("_.+-", *c))
			return false;
	return true;
}

struct hutch_ct *hutch_ct_find(const char *id)
{
	struct hutch_ct *ct;

	lockdep_assert_held(&hutch_lock);
	list_for_each_entry(ct, &hutch_containers, node)
		if (!strcmp(ct->id, id))
			return ct;
	return NULL;
}

/*
 * The live entry of a process, or NULL: the probes' one lookup, lockless.
 * The entry stays valid until rcu_read_unlock(); its container's lock tells
 * whether it is still linked.
 */
struct hutch_proc *hutch_proc_lookup_rcu(const struct signal_struct *sig)
{
	struct hutch_proc *p;

	hlist_for_each_entry_rcu(p, &hutch_procs[hutch_hash(sig)], hnode)
		if (p->sig == sig && !READ_ONCE(p->unlinked))
			return p;
	return NULL;
}

struct hutch_proc *hutch_proc_alloc(struct task_struct *task, gfp_t gfp)
{
	struct hutch_proc *p = kzalloc(sizeof(*p), gfp);

	if (!p)
		return NULL;
	p->sig = task->signal;
	p->pid = get_task_pid(task, PIDTYPE_TGID);
	p->threads = 1;
	return p;
}

/* An entry that was never added. */
void hutch_proc_free_new(struct hutch_proc *p)
{
	put_pid(p->pid);
	kfree(p);
}

/*
 * Adds p to ct and to the hash, unless the process already has a live entry:
 * then -EEXIST if that entry is ct's, -EBUSY if another container's. The
 * check and the insertion are atomic under the bucket lock, so a process is
 * never tracked twice.
 */
int hutch_proc_add(struct hutch_ct *ct, struct hutch_proc *p)
{
	u32 h = hutch_hash(p->sig);
	struct hutch_proc *old;
	int ret = 0;

	lockdep_assert_held(&ct->lock);
	spin_lock(hutch_bucket_lock(h));
	hlist_for_each_entry(old, &hutch_procs[h], hnode)
		if (old->sig == p->sig && !old->unlinked) {
			ret = old->ct == ct ? -EEXIST : -EBUSY;
			break;
		}
	if (!ret) {
		p->ct = ct;
		hlist_add_head_rcu(&p->hnode, &hutch_procs[h]);
	}
	spin_unlock(hutch_bucket_lock(h));
	if (ret)
		return ret;
	p->serial = ++ct->proc_serial;
	list_add_tail(&p->ct_node, &ct->procs);
	ct->nprocs++;
	ct->ntasks += p->threads;
	return 0;
}

void hutch_proc_remove(struct hutch_proc *p)
{
	spinlock_t *lock = hutch_bucket_lock(hutch_hash(p->sig));
	struct hutch_ct *ct = p->ct;

	lockdep_assert_held(&ct->lock);
	spin_lock(lock);
	WRITE_ONCE(p->unlinked, true);
	hlist_del_rcu(&p->hnode);
	spin_unlock(lock);
	list_del(&p->ct_node);
	ct->nprocs--;
	ct->ntasks -= p->threads;
	put_pid(p->pid);
	kfree_rcu(p, rcu);
}

/* Ends the write guard of the runtime's binary; process context. */
static void hutch_ct_release_exe(struct hutch_ct *ct)
{
	if (!ct->exe)
		return;
	allow_write_access(ct->exe);
	fput(ct->exe);
	ct->exe = NULL;
}

static void hutch_ct_free(struct hutch_ct *ct)
{
	if (!ct)
		return;
	if (ct->cgrp)
		cgroup_put(ct->cgrp);
	put_pid(ct->init_pid);
	kfree(ct->cgrp_path);
	kfree(ct);
}

static void hutch_ct_free_rcu(struct rcu_head *rcu)
{
	hutch_ct_free(container_of(rcu, struct hutch_ct, rcu));
}

/* The live process with PID nr in the caller's PID namespace. */
static struct task_struct *hutch_get_task(pid_t nr, struct netlink_ext_ack *extack)
{
	struct task_struct *task = NULL, *t;
	struct pid *pid;

	pid = find_get_pid(nr);
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (t) {
		rcu_read_lock();
		task = t->group_leader;
		get_task_struct(task);
		rcu_read_unlock();
		put_task_struct(t);
	}
	if (!task || (task->flags & PF_EXITING) || task->exit_state) {
		if (task)
			put_task_struct(task);
		NL_SET_ERR_MSG(extack, "no such process");
		return NULL;
	}
	return task;
}

static void hutch_record_ns(struct hutch_ct *ct, struct task_struct *task)
{
	struct nsproxy *nsp;

	ct->ns[HUTCH_NS_A_PID] = task_active_pid_ns(task)->ns.inum;
	rcu_read_lock();
	ct->ns[HUTCH_NS_A_USER] = __task_cred(task)->user_ns->ns.inum;
	rcu_read_unlock();
	task_lock(task);
	nsp = task->nsproxy;
	if (nsp) {
		ct->ns[HUTCH_NS_A_MNT] = hutch_mnt_ns_inum(nsp);
		ct->ns[HUTCH_NS_A_NET] = nsp->net_ns->ns.inum;
		ct->ns[HUTCH_NS_A_IPC] = nsp->ipc_ns->ns.inum;
		ct->ns[HUTCH_NS_A_UTS] = nsp->uts_ns->ns.inum;
		ct->ns[HUTCH_NS_A_CGROUP] = nsp->cgroup_ns->ns.inum;
	}
	task_unlock(task);
}

/* Takes a reference to the task's cgroup v2 and records its id and path. */
static void hutch_record_cgroup(struct hutch_ct *ct, struct task_struct *task)
{
	struct cgroup *cgrp;
	char *buf;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(task);
	if (!css_tryget(&cgrp->self))
		cgrp = NULL;
	rcu_read_unlock();
	if (!cgrp)
		return;
	ct->cgrp = cgrp;
	ct->cgrp_id = cgroup_id(cgrp);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (buf && cgroup_path_ns(cgrp, buf, PATH_MAX, current->nsproxy->cgroup_ns) >= 0)
		ct->cgrp_path = kstrdup(buf, GFP_KERNEL);
	kfree(buf);
}

/*
 * Registers a container. exe, if not NULL, is a reference the container takes
 * over, write access to it already denied; it is released on every error.
 */
int hutch_ct_register(const char *id, pid_t nr, u32 flags, struct file *exe,
		      struct netlink_ext_ack *extack)
{
	struct hutch_evq q = {};
	struct task_struct *task;
	struct hutch_proc *p;
	struct hutch_ct *ct;
	int ret;

	ct = kzalloc(sizeof(*ct), GFP_KERNEL);
	if (!ct) {
		if (exe) {
			allow_write_access(exe);
			fput(exe);
		}
		return -ENOMEM;
	}
	ct->exe = exe;
	spin_lock_init(&ct->lock);
	INIT_LIST_HEAD(&ct->procs);
	strscpy(ct->id, id, sizeof(ct->id));
	ct->flags = flags;
	task = hutch_get_task(nr, extack);
	if (!task) {
		hutch_ct_release_exe(ct);
		kfree(ct);
		return -ESRCH;
	}
	ct->init_pid = get_task_pid(task, PIDTYPE_TGID);
	hutch_record_ns(ct, task);
	hutch_record_cgroup(ct, task);
	p = hutch_proc_alloc(task, GFP_KERNEL);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}

	spin_lock(&hutch_lock);
	if (hutch_nr_containers >= READ_ONCE(hutch_max_containers)) {
		NL_SET_ERR_MSG(extack, "too many containers (module parameter max_containers)");
		ret = -ENOSPC;
	} else if (hutch_ct_find(id)) {
		NL_SET_ERR_MSG(extack, "container id already registered");
		ret = -EEXIST;
	} else if ((task->flags & PF_EXITING) || task->exit_state) {
		NL_SET_ERR_MSG(extack, "process is exiting");
		ret = -ESRCH;
	} else {
		spin_lock(&ct->lock);
		p->threads = get_nr_threads(task);
		ret = hutch_proc_add(ct, p);
		if (ret) {
			NL_SET_ERR_MSG(extack, "process already tracked by a container");
			ret = -EBUSY;
		} else {
			ct->serial = ++hutch_serial;
			list_add_tail(&ct->node, &hutch_containers);
			hutch_nr_containers++;
			hutch_event(&q, ct, HUTCH_EV_REGISTERED,
				    pid_nr(ct->init_pid), 0, NULL, NULL);
			p = NULL;
		}
		spin_unlock(&ct->lock);
		if (!ret)
			ct = NULL;
	}
	spin_unlock(&hutch_lock);
	hutch_evq_send(&q);
	if (p)
		hutch_proc_free_new(p);
out:
	put_task_struct(task);
	if (ct)
		hutch_ct_release_exe(ct);
	hutch_ct_free(ct);
	return ret;
}

/*
 * Unlinks ct and its processes (hutch_lock and ct->lock held); the caller
 * frees it with call_rcu() once the locks are dropped.
 */
static void hutch_ct_unlink(struct hutch_ct *ct)
{
	struct hutch_proc *p, *tmp;

	lockdep_assert_held(&hutch_lock);
	lockdep_assert_held(&ct->lock);
	list_for_each_entry_safe(p, tmp, &ct->procs, ct_node)
		hutch_proc_remove(p);
	ct->unlinked = true;
	list_del(&ct->node);
	hutch_nr_containers--;
}

int hutch_ct_unregister(const char *id, struct netlink_ext_ack *extack)
{
	struct hutch_evq q = {};
	struct hutch_ct *ct;

	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (ct) {
		spin_lock(&ct->lock);
		hutch_event(&q, ct, HUTCH_EV_UNREGISTERED, 0, 0, NULL, NULL);
		hutch_ct_unlink(ct);
		spin_unlock(&ct->lock);
	}
	spin_unlock(&hutch_lock);
	if (!ct) {
		NL_SET_ERR_MSG(extack, "no such container");
		return -ENOENT;
	}
	hutch_evq_send(&q);
	hutch_ct_release_exe(ct);
	call_rcu(&ct->rcu, hutch_ct_free_rcu);
	return 0;
}

int hutch_ct_attach(const char *id, pid_t nr, struct netlink_ext_ack *extack)
{
	struct task_struct *task;
	struct hutch_proc *p;
	struct hutch_ct *ct;
	int ret;

	task = hutch_get_task(nr, extack);
	if (!task)
		return -ESRCH;
	p = hutch_proc_alloc(task, GFP_KERNEL);
	if (!p) {
		put_task_struct(task);
		return -ENOMEM;
	}
	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (!ct) {
		NL_SET_ERR_MSG(extack, "no such container");
		ret = -ENOENT;
	} else if ((task->flags & PF_EXITING) || task->exit_state) {
		NL_SET_ERR_MSG(extack, "process is exiting");
		ret = -ESRCH;
	} else {
		spin_lock(&ct->lock);
		p->threads = get_nr_threads(task);
		ret = hutch_proc_add(ct, p);
		spin_unlock(&ct->lock);
		if (!ret) {
			p = NULL;
		} else if (ret == -EEXIST) {
			ret = 0;	/* attached already */
		} else {
			NL_SET_ERR_MSG(extack, "process already tracked by another container");
			ret = -EBUSY;
		}
	}
	spin_unlock(&hutch_lock);
	if (p)
		hutch_proc_free_new(p);
	put_task_struct(task);
	return ret;
}

int hutch_ct_kill(const char *id, int sig, bool all, u32 *count,
		  struct netlink_ext_ack *extack)
{
	struct hutch_proc *p;
	struct hutch_ct *ct;
	int ret = 0;

	*count = 0;
	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (!ct) {
		NL_SET_ERR_MSG(extack, "no such container");
		ret = -ENOENT;
		goto out;
	}
	spin_lock(&ct->lock);
	if (!all) {
		if (!ct->init_exited && !kill_pid(ct->init_pid, sig, 1))
			*count = 1;
	} else {
		/*
		 * The fork probe takes ct->lock too: a child it adds after
		 * this loop has a parent that was signalled here, and the
		 * probe forwards the pending signal to it.
		 */
		ct->kill_sig = sig;
		list_for_each_entry(p, &ct->procs, ct_node)
			if (!kill_pid(p->pid, sig, 1))
				(*count)++;
	}
	spin_unlock(&ct->lock);
out:
	spin_unlock(&hutch_lock);
	if (!ret && !*count) {
		NL_SET_ERR_MSG(extack, "no process to signal");
		ret = -ESRCH;
	}
	return ret;
}

/* Module unload, once no probe or request runs: forget every container. */
void hutch_registry_clear(void)
{
	struct hutch_ct *ct;

	for (;;) {
		spin_lock(&hutch_lock);
		ct = list_first_entry_or_null(&hutch_containers, struct hutch_ct, node);
		if (ct) {
			spin_lock(&ct->lock);
			hutch_ct_unlink(ct);
			spin_unlock(&ct->lock);
		}
		spin_unlock(&hutch_lock);
		if (!ct)
			break;
		hutch_ct_release_exe(ct);
		call_rcu(&ct->rcu, hutch_ct_free_rcu);
	}
	/* the callbacks above and the entries' kfree_rcu() */
	rcu_barrier();
}
