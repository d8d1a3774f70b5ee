// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "hutch" generic netlink family: strict per-command policies, the
 * permission check, and the command handlers. The protocol is documented
 * in uapi/linux/hutch.h.
 */
#include <linux/capability.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "compat.h"
#include "hutch.h"

#define HUTCH_POLICY_ID \
	[HUTCH_A_ID] = { .type = NLA_NUL_STRING, .len = HUTCH_ID_MAX - 1 }
#define HUTCH_POLICY_PID \
	[HUTCH_A_PID] = { .type = NLA_U32 }

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
};

static const struct nla_policy hutch_attach_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
	HUTCH_POLICY_PID,
};

static const struct nla_policy hutch_kill_policy[HUTCH_A_MAX + 1] = {
	HUTCH_POLICY_ID,
	[HUTCH_A_SIGNAL] = { .type = NLA_U32 },
	[HUTCH_A_ALL] = { .type = NLA_FLAG },
};

static int hutch_check_perm(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (!net_eq(sock_net(skb->sk), &init_net)) {
		NL_SET_ERR_MSG(extack, "only available in the initial network namespace");
		return -ENOENT;
	}
	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(extack, "CAP_SYS_ADMIN in the initial user namespace required");
		return -EPERM;
	}
	return 0;
}

/* The container id of a request, checked; NULL with extack set otherwise. */
static const char *hutch_req_id(struct nlattr **attrs,
				struct netlink_ext_ack *extack)
{
	const char *id;

	if (!attrs[HUTCH_A_ID]) {
		NL_SET_ERR_MSG(extack, "missing container id (HUTCH_A_ID)");
		return NULL;
	}
	id = nla_data(attrs[HUTCH_A_ID]);
	if (!hutch_valid_id(id)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[HUTCH_A_ID],
				    "container id must be 1 or more of [A-Za-z0-9_.+-]");
		return NULL;
	}
	return id;
}

static int hutch_req_pid(struct genl_info *info, pid_t *nr)
{
	if (!info->attrs[HUTCH_A_PID]) {
		NL_SET_ERR_MSG(info->extack, "missing process id (HUTCH_A_PID)");
		return -EINVAL;
	}
	*nr = nla_get_u32(info->attrs[HUTCH_A_PID]);
	if (*nr < 1 || *nr > PID_MAX_LIMIT) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HUTCH_A_PID],
				    "process id out of range");
		return -EINVAL;
	}
	return 0;
}

static int hutch_get_info(struct sk_buff *skb, struct genl_info *info)
{
	u32 nr_containers, nr_tasks;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = hutch_check_perm(skb, info->extack);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &hutch_family, 0, HUTCH_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	spin_lock(&hutch_lock);
	nr_containers = hutch_nr_containers;
	nr_tasks = hutch_nr_tasks;
	spin_unlock(&hutch_lock);
	if (nla_put_string(msg, HUTCH_A_VERSION, HUTCH_MODULE_VERSION) ||
	    nla_put_u32(msg, HUTCH_A_PROTOCOL, HUTCH_GENL_VERSION) ||
	    nla_put_u64_64bit(msg, HUTCH_A_FEATURES,
			      HUTCH_FEAT_ACCOUNTING | HUTCH_FEAT_EVENTS |
			      HUTCH_FEAT_KILL | HUTCH_FEAT_CGROUP_ATTACH |
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

static int hutch_register(struct sk_buff *skb, struct genl_info *info)
{
	const char *id;
	u32 flags = 0;
	pid_t nr;
	int ret;

	ret = hutch_check_perm(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id || hutch_req_pid(info, &nr))
		return -EINVAL;
	if (info->attrs[HUTCH_A_FLAGS])
		flags = nla_get_u32(info->attrs[HUTCH_A_FLAGS]);
	return hutch_ct_register(id, nr, flags, info->extack);
}

static int hutch_unregister(struct sk_buff *skb, struct genl_info *info)
{
	const char *id;
	int ret;

	ret = hutch_check_perm(skb, info->extack);
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

	ret = hutch_check_perm(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id || hutch_req_pid(info, &nr))
		return -EINVAL;
	return hutch_ct_attach(id, nr, info->extack);
}

static int hutch_kill(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	const char *id;
	u32 count, sig;
	void *hdr;
	int ret;

	ret = hutch_check_perm(skb, info->extack);
	if (ret)
		return ret;
	id = hutch_req_id(info->attrs, info->extack);
	if (!id)
		return -EINVAL;
	if (!info->attrs[HUTCH_A_SIGNAL]) {
		NL_SET_ERR_MSG(info->extack, "missing signal (HUTCH_A_SIGNAL)");
		return -EINVAL;
	}
	sig = nla_get_u32(info->attrs[HUTCH_A_SIGNAL]);
	if (sig < 1 || sig > _NSIG) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HUTCH_A_SIGNAL],
				    "signal out of range (1..64)");
		return -EINVAL;
	}
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
static int hutch_fill_ct(struct sk_buff *skb, const struct hutch_ct *ct,
			 u32 portid, u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &hutch_family, flags, HUTCH_CMD_CT_GET);
	if (!hdr)
		return -EMSGSIZE;
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
	    hutch_fill_stats(skb, ct)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int hutch_get(struct sk_buff *skb, struct genl_info *info)
{
	const struct hutch_ct *ct;
	struct sk_buff *msg;
	const char *id;
	int ret;

	ret = hutch_check_perm(skb, info->extack);
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
	return hutch_check_perm(cb->skb, cb->extack);
}

/* cb->args[0]: serial of the last container sent. */
static int hutch_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct hutch_ct *ct;
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

	ret = hutch_check_perm(cb->skb, cb->extack);
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

/* cb->args[0]: serial of the last process sent; [1]: the container's. */
static int hutch_pids_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const char *id = nla_data(hutch_dump_attrs(cb)[HUTCH_A_ID]);
	const struct hutch_proc *p;
	const struct hutch_ct *ct;
	void *hdr;
	pid_t nr;

	spin_lock(&hutch_lock);
	ct = hutch_ct_find(id);
	if (!ct || ct->serial != cb->args[1])
		goto out;
	list_for_each_entry(p, &ct->procs, ct_node) {
		if (p->serial <= cb->args[0])
			continue;
		nr = pid_vnr(p->pid);
		if (nr) {
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &hutch_family,
					  NLM_F_MULTI, HUTCH_CMD_CT_PIDS);
			if (!hdr)
				break;
			if (nla_put_u32(skb, HUTCH_A_PID, nr) ||
			    nla_put_u32(skb, HUTCH_A_COUNT, p->threads)) {
				genlmsg_cancel(skb, hdr);
				break;
			}
			genlmsg_end(skb, hdr);
		}
		cb->args[0] = p->serial;
	}
out:
	spin_unlock(&hutch_lock);
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
	.resv_start_op = HUTCH_CMD_GET_INFO,
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
