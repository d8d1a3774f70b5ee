// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-container accounting from the fork, exec and exit tracepoints, and the
 * cgroup attach tracepoint that adds processes moved into a container's
 * cgroup. The probes run with preemption disabled: they take spinlocks only
 * (see hutch.h), allocate with GFP_ATOMIC and never sleep.
 *
 * A container's counters are ct->dead (every task that has exited, summed at
 * its exit) plus the live tasks' own counters read at snapshot time; a task
 * that is exiting (PF_EXITING) is left out of the live sum, so no task is
 * ever counted twice.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/cgroup.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "hutch.h"

static void hutch_add_task_counters(struct task_struct *t, u64 *s)
{
	u64 ut, st;

	task_cputime_adjusted(t, &ut, &st);
	s[HUTCH_STAT_A_UTIME_NS] += ut;
	s[HUTCH_STAT_A_STIME_NS] += st;
	s[HUTCH_STAT_A_NVCSW] += t->nvcsw;
	s[HUTCH_STAT_A_NIVCSW] += t->nivcsw;
	s[HUTCH_STAT_A_MINFLT] += t->min_flt;
	s[HUTCH_STAT_A_MAJFLT] += t->maj_flt;
#ifdef CONFIG_TASK_IO_ACCOUNTING
	s[HUTCH_STAT_A_READ_BYTES] += t->ioac.read_bytes;
	s[HUTCH_STAT_A_WRITE_BYTES] += t->ioac.write_bytes;
#endif
#ifdef CONFIG_TASK_XACCT
	s[HUTCH_STAT_A_RCHAR] += t->ioac.rchar;
	s[HUTCH_STAT_A_WCHAR] += t->ioac.wchar;
	s[HUTCH_STAT_A_SYSCR] += t->ioac.syscr;
	s[HUTCH_STAT_A_SYSCW] += t->ioac.syscw;
#endif
}

/* Peak RSS of t's process in bytes, as getrusage(2) computes it. */
static u64 hutch_task_maxrss(struct task_struct *t)
{
	unsigned long rss = READ_ONCE(t->signal->maxrss);

	task_lock(t);
	if (t->mm)
		rss = max(rss, get_mm_hiwater_rss(t->mm));
	task_unlock(t);
	return (u64)rss << PAGE_SHIFT;
}

void hutch_ct_snapshot(const struct hutch_ct *ct, u64 *s)
{
	struct task_struct *leader, *t;
	struct hutch_proc *p;

	lockdep_assert_held(&ct->lock);
	memcpy(s, ct->dead, sizeof(ct->dead));
	s[HUTCH_STAT_A_TASKS] = ct->ntasks;
	s[HUTCH_STAT_A_PROCS] = ct->nprocs;
	rcu_read_lock();
	list_for_each_entry(p, &ct->procs, ct_node) {
		leader = pid_task(p->pid, PIDTYPE_TGID);
		if (!leader)
			continue;
		s[HUTCH_STAT_A_MAXRSS] = max(s[HUTCH_STAT_A_MAXRSS],
					     hutch_task_maxrss(leader));
		for_each_thread(leader, t)
			if (!(READ_ONCE(t->flags) & PF_EXITING))
				hutch_add_task_counters(t, s);
	}
	rcu_read_unlock();
}

/* CPU time of a live process: its live threads' and its exited threads'. */
void hutch_proc_times(struct task_struct *leader, u64 *utime, u64 *stime)
{
	struct task_struct *t;
	u64 ut, st;

	lockdep_assert(rcu_read_lock_held());
	*utime = READ_ONCE(leader->signal->utime);
	*stime = READ_ONCE(leader->signal->stime);
	for_each_thread(leader, t) {
		task_cputime_adjusted(t, &ut, &st);
		*utime += ut;
		*stime += st;
	}
}

enum hutch_ct_state hutch_ct_state(const struct hutch_ct *ct)
{
	if (!ct->nprocs)
		return HUTCH_CT_EMPTY;
	return ct->init_exited ? HUTCH_CT_INIT_EXITED : HUTCH_CT_RUNNING;
}

static bool hutch_sig_pending(struct task_struct *t, int sig)
{
	return sigismember(&t->pending.signal, sig) ||
	       sigismember(&t->signal->shared_pending.signal, sig);
}

/*
 * The probes below find their task's entry with one RCU lookup (none for an
 * untracked task), then take only that container's lock.
 */
static void hutch_probe_fork(void *data, struct task_struct *parent,
			     struct task_struct *child)
{
	struct hutch_proc *pp, *cp = NULL;
	struct hutch_evq q = {};
	struct hutch_ct *ct;
	bool thread = child->signal == parent->signal;

	rcu_read_lock();
	pp = hutch_proc_lookup_rcu(parent->signal);
	if (!pp)
		goto unlock_rcu;
	ct = pp->ct;
	/* allocated before the lock, so the lock is held for less */
	if (!thread)
		cp = hutch_proc_alloc(child, GFP_ATOMIC);
	spin_lock(&ct->lock);
	if (pp->unlinked)
		goto out;
	if (thread) {
		pp->threads++;
		ct->ntasks++;
		ct->dead[HUTCH_STAT_A_THREADS]++;
		goto out;
	}
	ct->dead[HUTCH_STAT_A_FORKS]++;
	if (!cp || hutch_proc_add(ct, cp)) {
		ct->dead[HUTCH_STAT_A_LOST]++;
		goto out;
	}
	if (ct->flags & HUTCH_CT_F_TRACE)
		hutch_event(&q, ct, HUTCH_EV_FORK, pid_nr(cp->pid),
			    task_tgid_nr(parent), NULL, NULL);
	/* CT_KILL --all signalled the parent before the child was tracked. */
	if (ct->kill_sig && hutch_sig_pending(parent, ct->kill_sig))
		kill_pid(cp->pid, ct->kill_sig, 1);
	cp = NULL;
out:
	spin_unlock(&ct->lock);
unlock_rcu:
	rcu_read_unlock();
	if (cp)
		hutch_proc_free_new(cp);
	hutch_evq_send(&q);
}

static void hutch_probe_exec(void *data, struct task_struct *t, pid_t old_pid,
			     struct linux_binprm *bprm)
{
	struct hutch_evq q = {};
	struct hutch_proc *p;
	struct hutch_ct *ct;

	rcu_read_lock();
	p = hutch_proc_lookup_rcu(t->signal);
	if (p) {
		ct = p->ct;
		spin_lock(&ct->lock);
		if (!p->unlinked) {
			ct->dead[HUTCH_STAT_A_EXECS]++;
			if (ct->flags & HUTCH_CT_F_TRACE)
				hutch_event(&q, ct, HUTCH_EV_EXEC, task_tgid_nr(t),
					    0, NULL, bprm->filename);
		}
		spin_unlock(&ct->lock);
	}
	rcu_read_unlock();
	hutch_evq_send(&q);
}

/*
 * Runs in do_exit() after exit_mm() and after the exit code is set, for every
 * thread. The process entry goes when its last tracked thread exits.
 */
static void hutch_probe_exit(void *data, struct task_struct *t)
{
	struct hutch_evq q = {};
	struct hutch_proc *p;
	struct hutch_ct *ct;
	u32 status;
	pid_t nr;

	rcu_read_lock();
	p = hutch_proc_lookup_rcu(t->signal);
	if (!p)
		goto unlock_rcu;
	ct = p->ct;
	spin_lock(&ct->lock);
	if (p->unlinked)
		goto out;
	hutch_add_task_counters(t, ct->dead);
	if (p->threads > 1) {
		p->threads--;
		ct->ntasks--;
		goto out;
	}
	status = t->exit_code;
	nr = pid_nr(p->pid);
	ct->dead[HUTCH_STAT_A_EXITS]++;
	ct->dead[HUTCH_STAT_A_MAXRSS] = max(ct->dead[HUTCH_STAT_A_MAXRSS],
					    hutch_task_maxrss(t));
	if (ct->flags & HUTCH_CT_F_TRACE)
		hutch_event(&q, ct, HUTCH_EV_EXIT, nr, 0, &status, NULL);
	if (p->pid == ct->init_pid) {
		ct->init_exited = true;
		ct->init_status = status;
		hutch_event(&q, ct, HUTCH_EV_INIT_EXIT, nr, 0, &status, NULL);
	}
	hutch_proc_remove(p);
	if (!ct->nprocs)
		hutch_event(&q, ct, HUTCH_EV_EMPTY, 0, 0, NULL, NULL);
out:
	spin_unlock(&ct->lock);
unlock_rcu:
	rcu_read_unlock();
	hutch_evq_send(&q);
}

/* A process moved into a container's cgroup (v2) joins the container. */
static void hutch_probe_cgroup_attach(void *data, struct cgroup *dst,
				      const char *path, struct task_struct *task,
				      bool threadgroup)
{
	struct hutch_proc *p;
	struct hutch_ct *ct;

	if (!READ_ONCE(hutch_nr_containers) || !cgroup_parent(dst) ||
	    (task->flags & PF_EXITING))
		return;
	spin_lock(&hutch_lock);
	list_for_each_entry(ct, &hutch_containers, node) {
		if (ct->cgrp != dst || (ct->flags & HUTCH_CT_F_NO_CGROUP_ATTACH))
			continue;
		p = hutch_proc_alloc(task, GFP_ATOMIC);
		spin_lock(&ct->lock);
		if (!p) {
			ct->dead[HUTCH_STAT_A_LOST]++;
		} else {
			p->threads = get_nr_threads(task);
			/* a process tracked already stays where it is */
			if (!hutch_proc_add(ct, p))
				p = NULL;
		}
		spin_unlock(&ct->lock);
		if (p)
			hutch_proc_free_new(p);
		break;
	}
	spin_unlock(&hutch_lock);
}

struct hutch_probe {
	const char *name;
	void *func;
	struct tracepoint *tp;
	bool registered;
};

static struct hutch_probe hutch_probes[] = {
	{ .name = "sched_process_fork", .func = hutch_probe_fork },
	{ .name = "sched_process_exec", .func = hutch_probe_exec },
	{ .name = "sched_process_exit", .func = hutch_probe_exit },
	{ .name = "cgroup_attach_task", .func = hutch_probe_cgroup_attach },
};

static void hutch_find_tracepoint(struct tracepoint *tp, void *priv)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hutch_probes); i++)
		if (!strcmp(tp->name, hutch_probes[i].name))
			hutch_probes[i].tp = tp;
}

int hutch_probes_register(void)
{
	size_t i;
	int ret;

	for_each_kernel_tracepoint(hutch_find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(hutch_probes); i++) {
		if (!hutch_probes[i].tp) {
			pr_err("tracepoint %s not found\n", hutch_probes[i].name);
			ret = -ENOENT;
			goto fail;
		}
		ret = tracepoint_probe_register(hutch_probes[i].tp,
						hutch_probes[i].func, NULL);
		if (ret) {
			pr_err("cannot attach to tracepoint %s: %d\n",
			       hutch_probes[i].name, ret);
			goto fail;
		}
		hutch_probes[i].registered = true;
	}
	return 0;
fail:
	hutch_probes_unregister();
	return ret;
}

void hutch_probes_unregister(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hutch_probes); i++) {
		if (!hutch_probes[i].registered)
			continue;
		tracepoint_probe_unregister(hutch_probes[i].tp,
					    hutch_probes[i].func, NULL);
		hutch_probes[i].registered = false;
	}
	/* No probe is running or will run once this returns. */
	tracepoint_synchronize_unregister();
}
