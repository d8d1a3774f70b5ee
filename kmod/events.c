// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events on the "events" multicast group. They are built under hutch_lock
 * (which orders their sequence numbers) with GFP_ATOMIC, queued, and sent
 * once the lock is dropped.
 */
#include <linux/ktime.h>
#include <net/genetlink.h>

#include "hutch.h"

atomic64_t hutch_events_lost = ATOMIC64_INIT(0);
static u64 hutch_event_seq;

void hutch_event(struct hutch_evq *q, const struct hutch_ct *ct, u32 type,
		 pid_t pid, pid_t ppid, const u32 *status, const char *filename)
{
	struct sk_buff *skb;
	void *hdr;
	u64 seq;

	lockdep_assert_held(&hutch_lock);
	if (!genl_has_listeners(&hutch_family, &init_net, 0))
		return;
	/* Sequence numbers count every event a listener could have seen. */
	seq = ++hutch_event_seq;
	if (q->n >= HUTCH_EVQ_MAX)
		goto lost;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		goto lost;
	hdr = genlmsg_put(skb, 0, 0, &hutch_family, 0, HUTCH_CMD_EVENT);
	if (!hdr)
		goto free;
	if (nla_put_u32(skb, HUTCH_A_EVENT, type) ||
	    nla_put_u64_64bit(skb, HUTCH_A_SEQ, seq, HUTCH_A_PAD) ||
	    nla_put_u64_64bit(skb, HUTCH_A_TIME_NS, ktime_get_real_ns(), HUTCH_A_PAD) ||
	    nla_put_string(skb, HUTCH_A_ID, ct->id) ||
	    (pid && nla_put_u32(skb, HUTCH_A_PID, pid)) ||
	    (ppid && nla_put_u32(skb, HUTCH_A_PPID, ppid)) ||
	    (status && nla_put_u32(skb, HUTCH_A_EXIT_STATUS, *status)))
		goto free;
	if (filename) {
		size_t len = strnlen(filename, HUTCH_FILENAME_MAX - 1);
		struct nlattr *a = nla_reserve(skb, HUTCH_A_FILENAME, len + 1);
		char *name;

		if (!a)
			goto free;
		name = nla_data(a);
		memcpy(name, filename, len);
		name[len] = '\0';
	}
	genlmsg_end(skb, hdr);
	q->skb[q->n++] = skb;
	return;
free:
	nlmsg_free(skb);
lost:
	atomic64_inc(&hutch_events_lost);
}

void hutch_evq_send(struct hutch_evq *q)
{
	int i;

	for (i = 0; i < q->n; i++)
		genlmsg_multicast(&hutch_family, q->skb[i], 0, 0, GFP_ATOMIC);
	q->n = 0;
}
