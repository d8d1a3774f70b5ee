// SPDX-License-Identifier: GPL-2.0-or-later
/* Links, addresses and routes through libnl-route-3: the bridge and the veth pairs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "log.h"
#include "net.h"
#include "utils.h"

static void nl_sock_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
static void addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
static void rtaddr_putp(struct rtnl_addr **a)
{
	if (*a)
		rtnl_addr_put(*a);
}
static void route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}
#define cleanup_nlsock __attribute__((cleanup(nl_sock_freep)))
#define cleanup_link __attribute__((cleanup(link_putp)))
#define cleanup_nladdr __attribute__((cleanup(addr_putp)))
#define cleanup_rtaddr __attribute__((cleanup(rtaddr_putp)))
#define cleanup_route __attribute__((cleanup(route_putp)))

static int nlfail(hutch_err *err, int code, const char *what, const char *name)
{
	return hutch_fail(err, 0, "%s `%s`: %s", what, name, nl_geterror(code));
}

static struct nl_sock *nl_open(hutch_err *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		oom();
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		hutch_fail(err, 0, "netlink: connect: %s", nl_geterror(r));
		return NULL;
	}
	return sk;
}

static struct nl_addr *v4addr(uint32_t a, int prefix)
{
	uint32_t be = htonl(a);
	struct nl_addr *n = nl_addr_build(AF_INET, &be, 4);

	if (!n)
		oom();
	nl_addr_set_prefixlen(n, prefix);
	return n;
}

static int link_up(struct nl_sock *sk, const char *name, hutch_err *err)
{
	cleanup_link struct rtnl_link *cur = NULL;
	cleanup_link struct rtnl_link *chg = NULL;
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r < 0)
		return nlfail(err, r, "look up link", name);
	chg = rtnl_link_alloc();
	rtnl_link_set_flags(chg, IFF_UP);
	r = rtnl_link_change(sk, cur, chg, 0);
	if (r < 0)
		return nlfail(err, r, "set link up", name);
	return 0;
}

static int add_addr(struct nl_sock *sk, int ifindex, const char *name, uint32_t a, int prefix,
		    hutch_err *err)
{
	cleanup_rtaddr struct rtnl_addr *ra = rtnl_addr_alloc();
	cleanup_nladdr struct nl_addr *local = v4addr(a, prefix);
	int r;

	rtnl_addr_set_family(ra, AF_INET);
	rtnl_addr_set_ifindex(ra, ifindex);
	r = rtnl_addr_set_local(ra, local);
	if (r >= 0)
		r = rtnl_addr_add(sk, ra, 0);
	if (r < 0 && r != -NLE_EXIST) {
		cleanup_free char *s = net_ipv4_str(a);
		cleanup_free char *what = xasprintf("add address %s/%d to", s, prefix);

		return nlfail(err, r, what, name);
	}
	return 0;
}

/* Writes into /proc/sys/net apply to the network namespace of the writer. */
static int sysctl_set(const char *path, const char *value, hutch_err *err)
{
	if (write_file(path, value, strlen(value), err) < 0)
		return hutch_error_prefix(err, "sysctl");
	return 0;
}

bool net_link_exists(const char *name)
{
	return if_nametoindex(name) > 0;
}

int net_link_delete(const char *name, hutch_err *err)
{
	cleanup_nlsock struct nl_sock *sk = nl_open(err);
	cleanup_link struct rtnl_link *l = NULL;
	int r;

	if (!sk)
		return -1;
	r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
		return 0;
	if (r < 0)
		return nlfail(err, r, "look up link", name);
	r = rtnl_link_delete(sk, l);
	if (r < 0 && r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND)
		return nlfail(err, r, "delete link", name);
	return 0;
}

int net_link_ensure_bridge(const struct hutch_net_conf *c, hutch_err *err)
{
	cleanup_nlsock struct nl_sock *sk = nl_open(err);
	cleanup_link struct rtnl_link *br = NULL;
	cleanup_free char *rl = NULL;
	int r;

	if (!sk)
		return -1;
	r = rtnl_link_get_kernel(sk, 0, c->bridge, &br);
	if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND) {
		cleanup_link struct rtnl_link *nb = rtnl_link_bridge_alloc();

		if (!nb)
			oom();
		rtnl_link_set_name(nb, c->bridge);
		rtnl_link_set_mtu(nb, c->mtu);
		r = rtnl_link_add(sk, nb, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && r != -NLE_EXIST)
			return nlfail(err, r, "create bridge", c->bridge);
		log_debug("net: created bridge %s", c->bridge);
		r = rtnl_link_get_kernel(sk, 0, c->bridge, &br);
	}
	if (r < 0)
		return nlfail(err, r, "look up bridge", c->bridge);
	if (!rtnl_link_get_type(br) || strcmp(rtnl_link_get_type(br), "bridge") != 0)
		return hutch_fail(err, 0, "%s: bridge: `%s` exists and is not a bridge", c->path, c->bridge);
	if (add_addr(sk, rtnl_link_get_ifindex(br), c->bridge, c->gateway, c->prefix, err) < 0 ||
	    link_up(sk, c->bridge, err) < 0)
		return -1;
	/* published ports reached through 127.0.0.1 are routed to the bridge */
	rl = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", c->bridge);
	if (sysctl_set(rl, "1", err) < 0 || sysctl_set("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return -1;
	return 0;
}

/* A netlink socket that lives in the network namespace nsfd. */
static struct nl_sock *nl_open_in(int nsfd, hutch_err *err)
{
	cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_sock *sk;

	if (self < 0) {
		hutch_fail(err, errno, "open /proc/self/ns/net");
		return NULL;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		hutch_fail(err, errno, "enter the container's network namespace");
		return NULL;
	}
	sk = nl_open(err);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* cannot happen short of a kernel bug; continuing would configure the wrong host */
		log_error("net: cannot return to the host network namespace: %s", strerror(errno));
		abort();
	}
	return sk;
}

int net_link_setup_container(const struct hutch_net_conf *c, const char *veth, pid_t pid,
			     uint32_t addr, hutch_err *err)
{
	cleanup_free char *nspath = xasprintf("/proc/%d/ns/net", pid);
	cleanup_close int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	cleanup_nlsock struct nl_sock *sk = NULL;
	cleanup_nlsock struct nl_sock *csk = NULL;
	cleanup_link struct rtnl_link *br = NULL;
	cleanup_link struct rtnl_link *v = NULL;
	cleanup_link struct rtnl_link *eth0 = NULL;
	cleanup_route struct rtnl_route *rt = NULL;
	cleanup_nladdr struct nl_addr *dst = NULL;
	struct rtnl_nexthop *nh;
	struct rtnl_link *peer;
	int r;

	if (nsfd < 0)
		return hutch_fail(err, errno, "open `%s`", nspath);
	sk = nl_open(err);
	if (!sk)
		return -1;
	r = rtnl_link_get_kernel(sk, 0, c->bridge, &br);
	if (r < 0)
		return nlfail(err, r, "look up bridge", c->bridge);
	if (net_link_delete(veth, err) < 0)   /* a stale one from a crash */
		return -1;

	v = rtnl_link_veth_alloc();
	if (!v)
		oom();
	rtnl_link_set_name(v, veth);
	rtnl_link_set_mtu(v, c->mtu);
	rtnl_link_set_master(v, rtnl_link_get_ifindex(br));
	peer = rtnl_link_veth_get_peer(v);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_mtu(peer, c->mtu);
	rtnl_link_set_ns_fd(peer, nsfd);
	rtnl_link_put(peer);
	r = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0)
		return nlfail(err, r, "create veth pair", veth);
	if (link_up(sk, veth, err) < 0)
		goto fail;

	csk = nl_open_in(nsfd, err);
	if (!csk)
		goto fail;
	if (link_up(csk, "lo", err) < 0)
		goto fail;
	r = rtnl_link_get_kernel(csk, 0, "eth0", &eth0);
	if (r < 0) {
		nlfail(err, r, "look up container link", "eth0");
		goto fail;
	}
	if (add_addr(csk, rtnl_link_get_ifindex(eth0), "eth0", addr, c->prefix, err) < 0 ||
	    link_up(csk, "eth0", err) < 0)
		goto fail;

	rt = rtnl_route_alloc();
	dst = v4addr(0, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_type(rt, RTN_UNICAST);
	if (rtnl_route_set_dst(rt, dst) < 0)
		oom();
	nh = rtnl_route_nh_alloc();
	if (!nh)
		oom();
	{
		cleanup_nladdr struct nl_addr *gw = v4addr(c->gateway, 32);

		rtnl_route_nh_set_gateway(nh, gw);
	}
	rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(eth0));
	rtnl_route_add_nexthop(rt, nh);
	r = rtnl_route_add(csk, rt, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		nlfail(err, r, "add the default route in", "eth0");
		goto fail;
	}
	return 0;
fail:
	net_link_delete(veth, NULL);
	return -1;
}

struct addr_list {
	struct rtnl_addr **v;
	size_t n;
};

static void collect_addr(struct nl_object *o, void *arg)
{
	struct addr_list *l = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;

	if (!(rtnl_addr_get_flags(a) & IFA_F_PERMANENT))
		return;
	nl_object_get(o);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = a;
}

/*
 * Move the link FROM (in the namespace of from_nsfd, -1: this one) into the namespace
 * to_nsfd as TO, in one RTM_NEWLINK (move and rename together), then give it back its
 * permanent addresses and its up state, which a move drops (runtime-spec 1.3 netDevices).
 */
int net_link_move(int from_nsfd, const char *from, int to_nsfd, const char *to, hutch_err *err)
{
	cleanup_nlsock struct nl_sock *src = from_nsfd < 0 ? nl_open(err) : nl_open_in(from_nsfd, err);
	cleanup_nlsock struct nl_sock *dst = NULL;
	cleanup_link struct rtnl_link *cur = NULL;
	cleanup_link struct rtnl_link *chg = NULL;
	cleanup_link struct rtnl_link *moved = NULL;
	struct nl_cache *cache = NULL;
	struct addr_list addrs = { 0 };
	bool up;
	int r, ret = -1;

	if (!src)
		return -1;
	r = rtnl_link_get_kernel(src, 0, from, &cur);
	if (r < 0)
		return nlfail(err, r, "look up link", from);
	up = rtnl_link_get_flags(cur) & IFF_UP;
	r = rtnl_addr_alloc_cache(src, &cache);
	if (r < 0)
		return nlfail(err, r, "list the addresses of", from);
	{
		cleanup_rtaddr struct rtnl_addr *filter = rtnl_addr_alloc();

		rtnl_addr_set_ifindex(filter, rtnl_link_get_ifindex(cur));
		nl_cache_foreach_filter(cache, (struct nl_object *)filter, collect_addr, &addrs);
	}
	nl_cache_free(cache);
	chg = rtnl_link_alloc();
	if (!chg)
		oom();
	rtnl_link_set_ns_fd(chg, to_nsfd);
	rtnl_link_set_name(chg, to);
	r = rtnl_link_change(src, cur, chg, 0);
	if (r < 0) {
		cleanup_free char *what = xasprintf("move (as `%s`) the link", to);

		nlfail(err, r, what, from);
		goto out;
	}
	dst = nl_open_in(to_nsfd, err);
	if (!dst)
		goto out;
	r = rtnl_link_get_kernel(dst, 0, to, &moved);
	if (r < 0) {
		nlfail(err, r, "look up the moved link", to);
		goto out;
	}
	for (size_t i = 0; i < addrs.n; i++) {
		rtnl_addr_set_ifindex(addrs.v[i], rtnl_link_get_ifindex(moved));
		r = rtnl_addr_add(dst, addrs.v[i], 0);
		if (r < 0 && r != -NLE_EXIST) {
			char buf[128];

			nl_addr2str(rtnl_addr_get_local(addrs.v[i]), buf, sizeof(buf));
			cleanup_free char *what = xasprintf("give back address %s to", buf);

			nlfail(err, r, what, to);
			goto out;
		}
	}
	if (up && link_up(dst, to, err) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < addrs.n; i++)
		rtnl_addr_put(addrs.v[i]);
	free(addrs.v);
	return ret;
}
