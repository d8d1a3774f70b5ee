/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Built-in container networking: a bridge (hutch0), a veth pair per container,
 * an address leased from the bridge's subnet, nftables NAT (table `ip hutch`)
 * for traffic leaving the subnet and for published ports, and generated
 * /etc/hosts, /etc/hostname and /etc/resolv.conf bind-mounted into the container.
 * Links, addresses and routes go through libnl-route-3, rules through libnftables.
 *
 * The lifecycle calls, in this order:
 *
 *   parent (create), after the state dir exists, before the fork:
 *     hutch_net_prepare   decide whether the container is networked (CLI options,
 *                         else annotations hutch.net, hutch.net.ports, hutch.net.ip),
 *                         validate, lease an address under the lock, write hosts,
 *                         hostname and resolv.conf into <lease_dir>/etc/<addr>/ and
 *                         append their bind mounts to spec->mounts; records the lease
 *                         dir in <state dir>/net.json for teardown. *out is NULL when the
 *                         container has no hutch networking (nothing was done).
 *   parent (create), once the container init exists in its network namespace:
 *     hutch_net_setup     bridge (on first use), nft table (on first use), veth pair,
 *                         eth0 + lo + address + default route inside, port rules.
 *   any failure of create after hutch_net_prepare succeeded:
 *     hutch_net_teardown  (and hutch_net_free) undoes everything.
 *   delete (also delete --force of a crashed container):
 *     hutch_net_teardown  releases the lease and removes the veth and port rules;
 *                         a no-op for containers without hutch networking.
 *
 * Leases live in <lease_dir>/leases.json (default /var/lib/hutch/net), guarded by
 * a flock on <lease_dir>/lock. A lease names its container by state root and id;
 * leases whose container state directory is gone are reclaimed on the next create.
 *
 * Configuration: /etc/hutch/net.conf, or the file named by $HUTCH_NET_CONF.
 */
#ifndef HUTCH_NET_H
#define HUTCH_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "error.h"
#include "hutch.h"
#include "spec.h"

#define HUTCH_NET_CONF_DEFAULT "/etc/hutch/net.conf"
#define HUTCH_NET_LEASE_DIR_DEFAULT "/var/lib/hutch/net"
#define HUTCH_NET_TABLE "hutch"

/* create/run command-line options; unset fields fall back to the annotations. */
struct hutch_net_opts {
	const char *mode;   /* --net bridge|none */
	char **ports;       /* -p HOST:CTR[/tcp|udp], NULL-terminated, may be NULL */
	const char *ip;     /* --ip ADDR */
};

struct hutch_net;

int hutch_net_prepare(const struct hutch_global *g, const char *id, struct hutch_spec *spec,
		      const struct hutch_net_opts *opts, int state_dirfd, const char *state_dir,
		      struct hutch_net **out, hutch_err *err);
int hutch_net_setup(struct hutch_net *net, pid_t init_pid, hutch_err *err);
/* state_dirfd is the container's (locked) state directory. */
int hutch_net_teardown(const struct hutch_global *g, const char *id, int state_dirfd, hutch_err *err);
void hutch_net_free(struct hutch_net *net);

static inline void cleanup_netp(struct hutch_net **n)
{
	if (*n)
		hutch_net_free(*n);
}
#define cleanup_net __attribute__((cleanup(cleanup_netp)))

/* ---- parsing, shared with `hutch net` and the unit tests ---- */

struct hutch_net_port {
	uint16_t host, ctr;
	bool udp;
};

struct hutch_net_conf {
	char *path;         /* the file read (or the default path when it does not exist) */
	char *bridge;       /* bridge = hutch0 */
	uint32_t subnet;    /* subnet = 10.88.0.0/16, host byte order */
	int prefix;
	uint32_t gateway;   /* gateway = 10.88.0.1 (default: first host of the subnet) */
	unsigned int mtu;   /* mtu = 1500 */
	char **dns;         /* dns = 1.1.1.1 9.9.9.9 (default: the host's non-loopback servers) */
	char *lease_dir;    /* lease_dir = /var/lib/hutch/net */
};

/* "a.b.c.d/n"; the address must be the network address when strict. */
int net_parse_cidr(const char *s, bool strict, uint32_t *addr, int *prefix, hutch_err *err);
int net_parse_ipv4(const char *s, uint32_t *addr);
char *net_ipv4_str(uint32_t addr);
/* "HOST:CTR[/tcp|udp]" */
int net_parse_port(const char *s, struct hutch_net_port *p, hutch_err *err);
char *net_port_str(const struct hutch_net_port *p);
/* Load path (NULL: $HUTCH_NET_CONF, else the default); a missing file gives the defaults. */
int net_conf_load(const char *path, struct hutch_net_conf **out, hutch_err *err);
void net_conf_free(struct hutch_net_conf *c);

static inline void cleanup_net_confp(struct hutch_net_conf **c)
{
	if (*c)
		net_conf_free(*c);
}
#define cleanup_net_conf __attribute__((cleanup(cleanup_net_confp)))

/* ---- leases (net_lease.c) ---- */

/* Open (creating) lease_dir and take its lock; returns the lock fd. */
int net_lease_lock(const char *lease_dir, hutch_err *err);
/* The lease table: an object keyed by address; *out is a new reference. */
int net_lease_read(const char *lease_dir, json_object **out, hutch_err *err);
int net_lease_write(const char *lease_dir, json_object *leases, hutch_err *err);

/* ---- kernel side (net_link.c, net_nft.c) ---- */

int net_link_ensure_bridge(const struct hutch_net_conf *c, hutch_err *err);
bool net_link_exists(const char *name);
int net_link_delete(const char *name, hutch_err *err);
/* Move link FROM of namespace from_nsfd (-1: ours) to namespace to_nsfd as TO, addresses kept. */
int net_link_move(int from_nsfd, const char *from, int to_nsfd, const char *to, hutch_err *err);
/* veth pair: host end on the bridge, peer as eth0 in the netns of pid, configured. */
int net_link_setup_container(const struct hutch_net_conf *c, const char *veth, pid_t pid,
			     uint32_t addr, hutch_err *err);

int net_nft_ensure_table(const struct hutch_net_conf *c, hutch_err *err);
int net_nft_add_ports(const struct hutch_net_port *p, size_t n, uint32_t addr, hutch_err *err);
/* Remove the port elements; missing ones are ignored. */
void net_nft_del_ports(const struct hutch_net_port *p, size_t n);

#endif
