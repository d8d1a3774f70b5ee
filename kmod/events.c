// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events on the "events" multicast group. They are built under their
 * container's lock (which orders one container's events) with GFP_ATOMIC in
 * a buffer of their exact size, queued, and sent once the lock is dropped.
 */
#include <linux/ktime.h>
#include <net/genetlink.h>

#include "hutch.h"

atomic64_t hutch_events_lost = ATOMIC64_INIT(0);
static atomic64_t hutch_event_seq = ATOMIC64_INIT(0);

/* The payload of an event: exactly what hutch_event() puts. */
static size_t hutch_event_size(const struct hutch_ct *ct, pid_t pid, pid_t ppid,
			       const u32 *status, size_t filename_len)
{
	return nla_total_size(sizeof(u32)) +			/* EVENT */
	       2 * nla_total_size_64bit(sizeof(u64)) +		/* SEQ, TIME_NS */
	       nla_total_size(strlen(ct->id) + 1) +		/* ID */
	       (pid ? nla_total_size(sizeof(u32)) : 0) +
	       (ppid ? nla_total_size(sizeof(u32)) : 0) +
	       (status ? nla_total_size(sizeof(u32)) : 0) +
	       (filename_len ? nla_total_size(filename_len + 1) : 0);
}

void hutch_event(struct hutch_evq *q, const struct hutch_ct *ct, u32 type,
		 pid_t pid, pid_t ppid, const u32 *status, const char *filename)
{
	size_t len = filename ? strnlen(filename, HUTCH_FILENAME_MAX - 1) : 0;
	struct sk_buff *skb;
	void *hdr;
	u64 seq;

	lockdep_assert_held(&ct->lock);
	if (!genl_has_listeners(&hutch_family, &init_net, 0))
		return;
	/* Sequence numbers count every event a listener could have seen. */
	seq = atomic64_inc_return(&hutch_event_seq);
	if (q->n >= HUTCH_EVQ_MAX)
		goto lost;
	skb = genlmsg_new(hutch_event_size(ct, pid, ppid, status, len), GFP_ATOMIC);
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
	/* the size is computed above: a bug, not a lack of memory */
	WARN_ON_ONCE(1);
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
