// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftables through libnftables: table `ip hutch` with masquerade for traffic
 * leaving the subnet and DNAT of published ports through two maps,
 *   tcp_ports / udp_ports:  host port -> container address . container port
 * so a container's ports are added and removed as map elements, without rule
 * handles. The chains are rewritten in one transaction on every setup, which
 * keeps them in step with net.conf and is idempotent.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "dl.h"

#include "log.h"
#include "net.h"
#include "utils.h"

static void nft_ctx_freep(struct nft_ctx **c)
{
	if (*c)
		nft_ctx_free(*c);
}
#define cleanup_nft __attribute__((cleanup(nft_ctx_freep)))

static int nft_run(const char *cmd, hutch_err *err)
{
	cleanup_nft struct nft_ctx *ctx = NULL;
	cleanup_free char *msg = NULL;
	const char *e;
	size_t n;

	if (hutch_dl_load(HUTCH_DL_NFTABLES, err) < 0)
		return -1;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return hutch_fail(err, 0, "nftables: cannot create a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	log_debug("nft: %s", cmd);
	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		return 0;
	e = nft_ctx_get_error_buffer(ctx);
	msg = xstrdup(e && *e ? e : "failed");
	/* first line is the message; the rest repeats the command */
	n = strcspn(msg, "\n");
	msg[n] = '\0';
	return hutch_fail(err, 0, "nftables: %s", msg);
}

int net_nft_ensure_table(const struct hutch_net_conf *c, hutch_err *err)
{
	cleanup_free char *sn = net_ipv4_str(c->subnet);
	cleanup_free char *cmd = NULL;
	static const char dnat[] =
		"fib daddr type local dnat ip addr . port to tcp dport map @tcp_ports\n"
		"fib daddr type local dnat ip addr . port to udp dport map @udp_ports\n";

	cmd = xasprintf(
		"add table ip " HUTCH_NET_TABLE "\n"
		"add map ip " HUTCH_NET_TABLE " tcp_ports { type inet_service : ipv4_addr . inet_service; }\n"
		"add map ip " HUTCH_NET_TABLE " udp_ports { type inet_service : ipv4_addr . inet_service; }\n"
		"add chain ip " HUTCH_NET_TABLE " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
		"add chain ip " HUTCH_NET_TABLE " output { type nat hook output priority -100; policy accept; }\n"
		"add chain ip " HUTCH_NET_TABLE " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
		"flush chain ip " HUTCH_NET_TABLE " prerouting\n"
		"flush chain ip " HUTCH_NET_TABLE " output\n"
		"flush chain ip " HUTCH_NET_TABLE " postrouting\n"
		"table ip " HUTCH_NET_TABLE " {\n"
		"chain prerouting {\n%s}\n"
		"chain output {\n%s}\n"
		"chain postrouting {\n"
		"ip saddr %s/%d ip daddr != %s/%d masquerade\n"
		"ip saddr 127.0.0.0/8 oifname \"%s\" masquerade\n"
		"}\n}\n",
		dnat, dnat, sn, c->prefix, sn, c->prefix, c->bridge);
	if (nft_run(cmd, err) < 0)
		return hutch_error_prefix(err, "set up table `%s`", HUTCH_NET_TABLE);
	return 0;
}

int net_nft_add_ports(const struct hutch_net_port *p, size_t n, uint32_t addr, hutch_err *err)
{
	cleanup_free char *a = net_ipv4_str(addr);
	cleanup_free char *cmd = xstrdup("");

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *nc = xasprintf("%sadd element ip " HUTCH_NET_TABLE " %s_ports { %u : %s . %u }\n", cmd,
				     p[i].udp ? "udp" : "tcp", p[i].host, a, p[i].ctr);

		free(cmd);
		cmd = nc;
	}
	if (nft_run(cmd, err) < 0)
		return hutch_error_prefix(err, "publish ports");
	return 0;
}

void net_nft_del_ports(const struct hutch_net_port *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *cmd = xasprintf("delete element ip " HUTCH_NET_TABLE " %s_ports { %u }\n",
						   p[i].udp ? "udp" : "tcp", p[i].host);
		cleanup_err hutch_err e = NULL;

		/* one at a time: a missing element must not keep the others */
		if (nft_run(cmd, &e) < 0)
			log_debug("net: %s", e->msg);
	}
}
