// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "hutch" generic netlink family: strict per-command policies (ranges
 * and masks checked by the core), the permission check, and the command
 * handlers. The protocol is documented in uapi/linux/hutch.h.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "hutch.h"

static HUTCH_RANGE_CONST struct netlink_range_validation hutch_pid_range = {
	.min = 1,
	.max = PID_MAX_LIMIT,
};

#define HUTCH_POLICY_ID \
	[HUTCH_A_ID] = { .type = NLA_NUL_STRING, .len = HUTCH_ID_MAX - 1 }
#define HUTCH_POLICY_PID \
	[HUTCH_A_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &hutch_pid_range)

/* Attributes a command does not list are rejected ("Unsupported attribute"). */
static const struct nla_policy hutch_none_policy[HUTCH_A_MAX + 1] = {
};

static const struct nla_policy hutch_id_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
};

static const struct nla_policy hutch_register_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
	HUTCH_POLICY_PID,
	[HUTCH_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, HUTCH_CT_F_ALL),
	[HUTCH_A_EXE_FD] = { .type = NLA_U32 },
};

static const struct nla_policy hutch_attach_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
	HUTCH_POLICY_PID,
};

static const struct nla_policy hutch_kill_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
	[HUTCH_A_SIGNAL] = NLA_POLICY_RANGE(NLA_U32, 1, _NSIG),
	[HUTCH_A_ALL] = { .type = NLA_FLAG },
};

/*
 * The genetlink core has checked CAP_NET_ADMIN (GENL_ADMIN_PERM) and that the
 * request comes from the initial network namespace (netnsok is false). The
 * commands also signal and account arbitrary processes: that takes
 * CAP_SYS_ADMIN as well, like joining the events group.
 */
static int hutch_capable(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "CAP_SYS_ADMIN in the initial user namespace required");
	return -EPERM;
}

/* The container id of a request, checked; NULL with extack set otherwise. */
static const char *hutch_req_id(struct nlattr **attrs,
				struct netlink_ext_ack *extack)
{
	const char *id;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, HUTCH_A_ID))
		return NULL;
	id = nla_data(attrs[HUTCH_A_ID]);
	if (!hutch_valid_id(id)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[HUTCH_A_ID],
				    "container id must be 1 or more of [A-Za-z0-9_.+-]");
		return NULL;
	}
	return id;
}

static int hutch_get_info(struct sk_buff *skb, struct genl_info *info)
{
	u32 nr_containers, nr_tasks;
	const struct hutch_ct *ct;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hutch_family, 0, HUTCH_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	nr_tasks = 0;
	spin_lock(&hutch_lock);
	nr_containers = hutch_nr_containers;
	list_for_each_entry(ct, &hutch_containers, node)
		nr_tasks += READ_ONCE(ct->ntasks);
	spin_unlock(&hutch_lock);
	if (nla_put_string(msg, HUTCH_A_VERSION, HUTCH_MODULE_VERSION) ||
	    nla_put_u32(msg, HUTCH_A_PROTOCOL, HUTCH_GENL_VERSION) ||
	    nla_put_u64_64bit(msg, HUTCH_A_FEATURES,
			      HUTCH_FEAT_ACCOUNTING | HUTCH_FEAT_EVENTS |
			      HUTCH_FEAT_KILL | HUTCH_FEAT_CGROUP_ATTACH |
			      HUTCH_FEAT_PROC_INFO | HUTCH_FEAT_EXE_GUARD |
			      (IS_ENABLED(CONFIG_TASK_XACCT) ? HUTCH_FEAT_IO : 0),
			      HUTCH_A_PAD) ||
	    nla_put_u32(msg, HUTCH_A_NR_CONTAINERS, nr_containers) ||
	    nla_put_u32(msg, HUTCH_A_NR_TASKS, nr_tasks) ||
	    nla_put_u32(msg, HUTCH_A_MAX_CONTAINERS, READ_ONCE(hutch_max_containers)) ||
	    nla_put_u64_64bit(msg, HUTCH_A_EVENTS_LOST,
			      atomic64_read(&hutch_events_lost), HUTCH_A_PAD))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * The caller's file HUTCH_A_EXE_FD, write access to it denied (as for a
 * running executable) in *exe. Runs in the caller's context: the fd is looked
 * up in its table.
 */
static int hutch_exe_guard(const struct nlattr *attr, struct file **exe,
			   struct netlink_ext_ack *extack)
{
	struct file *file = fget(nla_get_u32(attr));
	int ret;

	if (!file) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no such file descriptor");
		return -EBADF;
	}
	if (!S_ISREG(file_inode(file)->i_mode)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a regular file");
		fput(file);
		return -EINVAL;
	}
	ret = deny_write_access(file);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "the file is open for writing");
		fput(file);
		return ret;
	}
	*exe = file;
	return 0;
}

static int hutch_register(struct sk_buff *skb, struct genl_info *info)
{
	struct file *exe = NULL;
	const char *id;
	u32 flags = 0;
	pid_t nr;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id || GENL_REQ_ATTR_CHECK(info, HUTCH_A_PID))
		return -EINVAL;
	nr = nla_get_u32(info->attrs[HUTCH_A_PID]);
	if (info->attrs[HUTCH_A_FLAGS])
		flags = nla_get_u32(info->attrs[HUTCH_A_FLAGS]);
	if (info->attrs[HUTCH_A_EXE_FD]) {
		ret = hutch_exe_guard(info->attrs[HUTCH_A_EXE_FD], &exe,
				      info->extack);
		if (ret)
			return ret;
	}
	return hutch_ct_register(id, nr, flags, exe, info->extack);
}

static int hutch_unregister(struct sk_buff *skb, struct genl_info *info)
{
	const char *id;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id)
		return -EINVAL;
	return hutch_ct_unregister(id, info->extack);
}

static int hutch_attach(struct sk_buff *skb, struct genl_info *info)
{
	const char *id;
	pid_t nr;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id || GENL_REQ_ATTR_CHECK(info, HUTCH_A_PID))
		return -EINVAL;
	nr = nla_get_u32(info->attrs[HUTCH_A_PID]);
	return hutch_ct_attach(id, nr, info->extack);
}

static int hutch_kill(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	const char *id;
	u32 count, sig;
	void *hdr;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id || GENL_REQ_ATTR_CHECK(info, HUTCH_A_SIGNAL))
		return -EINVAL;
	sig = nla_get_u32(info->attrs[HUTCH_A_SIGNAL]);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = hutch_ct_kill(id, sig, nla_get_flag(info->attrs[HUTCH_A_ALL]), &count,
			    info->extack);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	hdr = genlmsg_put_reply(msg, info, &hutch_family, 0, HUTCH_CMD_CT_KILL);
	if (!hdr || nla_put_u32(msg, HUTCH_A_COUNT, count)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int hutch_fill_ns(struct sk_buff *skb, const struct hutch_ct *ct)
{
	struct nlattr *nest = nla_nest_start(skb, HUTCH_A_NS);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 1; i <= HUTCH_NS_A_MAX; i++)
		if (ct->ns[i] && nla_put_u32(skb, i, ct->ns[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int hutch_fill_stats(struct sk_buff *skb, const struct hutch_ct *ct)
{
	u64 s[HUTCH_STAT_A_MAX + 1];
	struct nlattr *nest;
	int i;

	hutch_ct_snapshot(ct, s);
	nest = nla_nest_start(skb, HUTCH_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = HUTCH_STAT_A_TASKS; i <= HUTCH_STAT_A_MAX; i++)
		if (nla_put_u64_64bit(skb, i, s[i], HUTCH_STAT_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* One container as a CT_GET message; called under hutch_lock. */
static int hutch_fill_ct(struct sk_buff *skb, struct hutch_ct *ct,
			 u32 portid, u32 seq, int flags)
{
	void *hdr;
	int ret = 0;

	hdr = genlmsg_put(skb, portid, seq, &hutch_family, flags, HUTCH_CMD_CT_GET);
	if (!hdr)
		return -EMSGSIZE;
	spin_lock(&ct->lock);
	if (nla_put_string(skb, HUTCH_A_ID, ct->id) ||
	    nla_put_u32(skb, HUTCH_A_FLAGS, ct->flags) ||
	    nla_put_u32(skb, HUTCH_A_STATE, hutch_ct_state(ct)) ||
	    nla_put_u32(skb, HUTCH_A_PID, pid_vnr(ct->init_pid)) ||
	    (ct->init_exited &&
	     nla_put_u32(skb, HUTCH_A_EXIT_STATUS, ct->init_status)) ||
	    hutch_fill_ns(skb, ct) ||
	    (ct->cgrp && nla_put_u64_64bit(skb, HUTCH_A_CGROUP_ID, ct->cgrp_id,
					   HUTCH_A_PAD)) ||
	    (ct->cgrp_path &&
	     nla_put_string(skb, HUTCH_A_CGROUP_PATH, ct->cgrp_path)) ||
	    (ct->exe &&
	     (nla_put_u64_64bit(skb, HUTCH_A_EXE_INO, file_inode(ct->exe)->i_ino,
				HUTCH_A_PAD) ||
	      nla_put_u64_64bit(skb, HUTCH_A_EXE_DEV,
				new_encode_dev(file_inode(ct->exe)->i_sb->s_dev),
				HUTCH_A_PAD))) ||
	    hutch_fill_stats(skb, ct))
		ret = -EMSGSIZE;
	spin_unlock(&ct->lock);
	if (ret)
		genlmsg_cancel(skb, hdr);
	else
		genlmsg_end(skb, hdr);
	return ret;
}

static int hutch_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hutch_ct *ct;
	struct sk_buff *msg;
	const char *id;
	int ret;

	ret = hutch_capable(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id)
		return -EINVAL;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE + PATH_MAX, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (!ct)
		ret = -ENOENT;
	else
		ret = hutch_fill_ct(msg, ct, info->snd_portid, info->snd_seq, 0);
	spin_unlock(&hutch_lock);
	if (ret) {
		if (ret == -ENOENT)
			NL_SET_ERR_MSG(info->extack, "no such container");
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int hutch_dump_start(struct netlink_callback *cb)
{
	return hutch_capable(cb->skb, cb->extack);
}

/* cb->args[0]: serial of the last container sent. */
static int hutch_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hutch_ct *ct;
	int ret = 0;

	spin_lock(&hutch_lock);
	list_for_each_entry(ct, &hutch_containers, node) {
		if (ct->serial <= cb->args[0])
			continue;
		ret = hutch_fill_ct(skb, ct, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret)
			break;
		cb->args[0] = ct->serial;
	}
	spin_unlock(&hutch_lock);
	/* A container that fits no message at all is an error, not the end. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

static int hutch_pids_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = hutch_dump_attrs(cb);
	const struct hutch_ct *ct;
	const char *id;
	int ret;

	ret = hutch_capable(cb->skb, cb->extack);
	if (ret)
		return ret;
	id = hutch_req_id(attrs, cb->extack);
	if (!id)
		return -EINVAL;
	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (ct)
		cb->args[1] = ct->serial;
	spin_unlock(&hutch_lock);
	if (!ct) {
		NL_SET_ERR_MSG(cb->extack, "no such container");
		return -ENOENT;
	}
	return 0;
}

/* The processes of a CT_PIDS dump are filled in batches, outside the locks. */
#define HUTCH_PIDS_BATCH 16

struct hutch_pids_item {
	struct pid *pid;
	u64 serial;
	u32 threads;
};

/* The arguments of a process, as /proc/PID/cmdline has them; may sleep. */
static int hutch_cmdline(struct task_struct *task, char *buf)
{
	unsigned long start, end;
	struct mm_struct *mm;
	int len;

	mm = get_task_mm(task);
	if (!mm)
		return 0;
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	mmput(mm);
	if (end <= start)
		return 0;
	len = access_process_vm(task, start, buf,
				min_t(unsigned long, end - start, HUTCH_CMDLINE_MAX),
				FOLL_FORCE);
	return max(len, 0);
}

/*
 * One CT_PIDS message: the process's id and what ps(1) shows of it. -ENOENT
 * for a process that is gone or invisible in the caller's PID namespace.
 */
static int hutch_fill_proc(struct sk_buff *skb, struct netlink_callback *cb,
			   const struct hutch_pids_item *it, char *cmdline)
{
	struct task_struct *task;
	char comm[TASK_COMM_LEN];
	u64 utime, stime, start;
	struct nlattr *nest;
	pid_t nr, ppid;
	int len, ret;
	char state;
	uid_t uid;
	void *hdr;

	nr = pid_vnr(it->pid);
	task = nr ? get_pid_task(it->pid, PIDTYPE_TGID) : NULL;
	if (!task)
		return -ENOENT;
	rcu_read_lock();
	ppid = task_tgid_vnr(rcu_dereference(task->real_parent));
	uid = from_kuid_munged(current_user_ns(), task_uid(task));
	state = task_state_to_char(task);
	start = task->start_boottime;
	hutch_proc_times(task, &utime, &stime);
	rcu_read_unlock();
	get_task_comm(comm, task);
	len = hutch_cmdline(task, cmdline);
	put_task_struct(task);

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &hutch_family, NLM_F_MULTI, HUTCH_CMD_CT_PIDS);
	if (!hdr)
		return -EMSGSIZE;
	ret = -EMSGSIZE;
	if (nla_put_u32(skb, HUTCH_A_PID, nr) ||
	    nla_put_u32(skb, HUTCH_A_COUNT, it->threads) ||
	    nla_put_u32(skb, HUTCH_A_PPID, ppid) ||
	    nla_put_u32(skb, HUTCH_A_UID, uid) ||
	    nla_put_string(skb, HUTCH_A_COMM, comm) ||
	    nla_put_u32(skb, HUTCH_A_TASK_STATE, state) ||
	    nla_put_u64_64bit(skb, HUTCH_A_START_NS, start, HUTCH_A_PAD) ||
	    (len && nla_put(skb, HUTCH_A_CMDLINE, len, cmdline)))
		goto cancel;
	nest = nla_nest_start(skb, HUTCH_A_STATS);
	if (!nest ||
	    nla_put_u64_64bit(skb, HUTCH_STAT_A_UTIME_NS, utime, HUTCH_STAT_A_PAD) ||
	    nla_put_u64_64bit(skb, HUTCH_STAT_A_STIME_NS, stime, HUTCH_STAT_A_PAD))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return ret;
}

/*
 * The next processes after serial *after, at most HUTCH_PIDS_BATCH, with
 * references to their pids; 0 when the container is gone or has no more.
 */
static int hutch_pids_batch(const char *id, u64 ct_serial, u64 after,
			    struct hutch_pids_item *items)
{
	const struct hutch_proc *p;
	struct hutch_ct *ct;
	int n = 0;

	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (ct && ct->serial == ct_serial) {
		spin_lock(&ct->lock);
		list_for_each_entry(p, &ct->procs, ct_node) {
			if (p->serial <= after)
				continue;
			items[n].pid = get_pid(p->pid);
			items[n].serial = p->serial;
			items[n].threads = p->threads;
			if (++n == HUTCH_PIDS_BATCH)
				break;
		}
		spin_unlock(&ct->lock);
	}
	spin_unlock(&hutch_lock);
	return n;
}

/* cb->args[0]: serial of the last process sent; [1]: the container's. */
static int hutch_pids_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const char *id = nla_data(hutch_dump_attrs(cb)[HUTCH_A_ID]);
	struct hutch_pids_item items[HUTCH_PIDS_BATCH];
	bool full = false;
	char *cmdline;
	int i, n, ret;

	cmdline = kmalloc(HUTCH_CMDLINE_MAX, GFP_KERNEL);
	if (!cmdline)
		return -ENOMEM;
	do {
		n = hutch_pids_batch(id, cb->args[1], cb->args[0], items);
		for (i = 0; i < n; i++) {
			if (!full) {
				ret = hutch_fill_proc(skb, cb, &items[i], cmdline);
				full = ret == -EMSGSIZE;
				if (!full)
					cb->args[0] = items[i].serial;
			}
			put_pid(items[i].pid);
		}
	} while (n == HUTCH_PIDS_BATCH && !full);
	kfree(cmdline);
	/* A process that fits no message at all is an error, not the end. */
	if (full && !skb->len)
		return -EMSGSIZE;
	return skb->len;
}

static const struct genl_ops hutch_ops[] = {
	{
		.cmd = HUTCH_CMD_GET_INFO,
		.doit = hutch_get_info,
		.policy = hutch_none_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_REGISTER,
		.doit = hutch_register,
		.policy = hutch_register_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_UNREGISTER,
		.doit = hutch_unregister,
		.policy = hutch_id_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_ATTACH,
		.doit = hutch_attach,
		.policy = hutch_attach_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_GET,
		.doit = hutch_get,
		.start = hutch_dump_start,
		.dumpit = hutch_get_dump,
		.policy = hutch_id_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_PIDS,
		.start = hutch_pids_start,
		.dumpit = hutch_pids_dump,
		.policy = hutch_id_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = HUTCH_CMD_CT_KILL,
		.doit = hutch_kill,
		.policy = hutch_kill_policy,
		.maxattr = HUTCH_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group hutch_mcgrps[] = {
	{ .name = HUTCH_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_SYS_ADMIN },
};

struct genl_family hutch_family __ro_after_init = {
	.name = HUTCH_GENL_NAME,
	.version = HUTCH_GENL_VERSION,
	.maxattr = HUTCH_A_MAX,
	.netnsok = false,
	.module = THIS_MODULE,
	.ops = hutch_ops,
	.n_ops = ARRAY_SIZE(hutch_ops),
	.mcgrps = hutch_mcgrps,
	.n_mcgrps = ARRAY_SIZE(hutch_mcgrps),
};

int hutch_netlink_init(void)
{
	return genl_register_family(&hutch_family);
}

void hutch_netlink_exit(void)
{
	genl_unregister_family(&hutch_family);
}
