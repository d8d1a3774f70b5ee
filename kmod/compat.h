/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the kernel APIs hutch.ko uses differ between the kernels it is built
 * for (Debian's 6.1 and 6.12), and the one private layout it relies on.
 * Everything version-dependent lives here; Kbuild detects the features
 * (HUTCH_HAVE_*) from the kernel headers, so no version numbers are compared.
 */
#ifndef HUTCH_COMPAT_H
#define HUTCH_COMPAT_H

#include <linux/nsproxy.h>
#include <linux/ns_common.h>
#include <net/genetlink.h>

/* 6.1's struct nla_policy points to a writable netlink_range_validation. */
#ifdef HUTCH_HAVE_CONST_NLA_RANGE
#define HUTCH_RANGE_CONST const
#else
#define HUTCH_RANGE_CONST
#endif

/* The attributes parsed for a dump request. */
static inline struct nlattr **hutch_dump_attrs(struct netlink_callback *cb)
{
#ifdef HUTCH_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * struct mnt_namespace is private to fs/; in every supported kernel its first
 * member is its struct ns_common, which is all we read.
 */
static inline unsigned int hutch_mnt_ns_inum(const struct nsproxy *nsp)
{
	return ((const struct ns_common *)nsp->mnt_ns)->inum;
}

#endif /* HUTCH_COMPAT_H */
