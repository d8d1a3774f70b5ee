// SPDX-License-Identifier: GPL-2.0-or-later
/* /etc/hutch/net.conf, addresses, CIDRs and published ports. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "utils.h"

int net_parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	return 0;
}

char *net_ipv4_str(uint32_t addr)
{
	return xasprintf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
}

static uint32_t prefix_mask(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int net_parse_cidr(const char *s, bool strict, uint32_t *addr, int *prefix, hutch_err *err)
{
	cleanup_free char *copy = xstrdup(s);
	char *slash = strchr(copy, '/');
	uint64_t n;

	if (!slash)
		return hutch_fail(err, 0, "\"%s\" is not a CIDR (expected ADDRESS/PREFIX, e.g. 10.88.0.0/16)", s);
	*slash = '\0';
	if (net_parse_ipv4(copy, addr) < 0)
		return hutch_fail(err, 0, "\"%s\" is not a CIDR: \"%s\" is not an IPv4 address", s, copy);
	if (parse_u64(slash + 1, &n) < 0 || n > 32)
		return hutch_fail(err, 0, "\"%s\" is not a CIDR: prefix length \"%s\" is not a number from 0 to 32",
				  s, slash + 1);
	*prefix = n;
	if (strict && (*addr & ~prefix_mask(n))) {
		cleanup_free char *net = net_ipv4_str(*addr & prefix_mask(n));

		return hutch_fail(err, 0, "\"%s\" is not a network address (host bits set; did you mean %s/%d?)",
				  s, net, *prefix);
	}
	return 0;
}

static int parse_port_num(const char *s, const char *spec, const char *which, uint16_t *out,
			  hutch_err *err)
{
	uint64_t n;

	if (parse_u64(s, &n) < 0)
		return hutch_fail(err, 0, "port \"%s\": %s port \"%s\" is not a number", spec, which, s);
	if (n < 1 || n > 65535)
		return hutch_fail(err, 0, "port \"%s\": %s port %s is out of range (1-65535)", spec, which, s);
	*out = n;
	return 0;
}

int net_parse_port(const char *s, struct hutch_net_port *p, hutch_err *err)
{
	cleanup_free char *copy = xstrdup(s);
	char *colon, *slash;

	memset(p, 0, sizeof(*p));
	slash = strchr(copy, '/');
	if (slash) {
		*slash++ = '\0';
		if (strcmp(slash, "udp") == 0)
			p->udp = true;
		else if (strcmp(slash, "tcp") != 0)
			return hutch_fail(err, 0, "port \"%s\": protocol \"%s\" is not tcp or udp", s, slash);
	}
	colon = strchr(copy, ':');
	if (!colon)
		return hutch_fail(err, 0, "port \"%s\": expected HOST:CONTAINER[/tcp|udp]", s);
	*colon++ = '\0';
	if (parse_port_num(copy, s, "host", &p->host, err) < 0 ||
	    parse_port_num(colon, s, "container", &p->ctr, err) < 0)
		return -1;
	return 0;
}

char *net_port_str(const struct hutch_net_port *p)
{
	return xasprintf("%u:%u/%s", p->host, p->ctr, p->udp ? "udp" : "tcp");
}

void net_conf_free(struct hutch_net_conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->bridge);
	strv_free(c->dns);
	free(c->lease_dir);
	free(c);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

int net_conf_load(const char *path, struct hutch_net_conf **out, hutch_err *err)
{
	struct hutch_net_conf *c = xcalloc(1, sizeof(*c));
	cleanup_free char *data = NULL;
	cleanup_free char *gw = NULL;
	char *line, *next;
	int lineno = 0;

	if (!path)
		path = getenv("HUTCH_NET_CONF");
	if (!path || !*path)
		path = HUTCH_NET_CONF_DEFAULT;
	c->path = xstrdup(path);
	c->bridge = xstrdup("hutch0");
	c->mtu = 1500;
	c->lease_dir = xstrdup(HUTCH_NET_LEASE_DIR_DEFAULT);
	net_parse_cidr("10.88.0.0/16", true, &c->subnet, &c->prefix, NULL);

	{
		cleanup_err hutch_err e = NULL;

		if (read_file(path, &data, NULL, &e) < 0) {
			if (e->status != ENOENT) {
				hutch_fail(err, 0, "%s", e->msg);
				goto fail;
			}
			data = xstrdup("");
		}
	}
	for (line = data; line; line = next) {
		char *eq, *key, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		line = trim(line);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			hutch_fail(err, 0, "%s:%d: expected KEY = VALUE, got \"%s\"", path, lineno, line);
			goto fail;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if (strcmp(key, "bridge") == 0) {
			if (!valid_ifname(val)) {
				hutch_fail(err, 0, "%s:%d: bridge: \"%s\" is not an interface name (1-15 of A-Z a-z 0-9 - _ .)",
					   path, lineno, val);
				goto fail;
			}
			free(c->bridge);
			c->bridge = xstrdup(val);
		} else if (strcmp(key, "subnet") == 0) {
			if (net_parse_cidr(val, true, &c->subnet, &c->prefix, err) < 0) {
				hutch_error_prefix(err, "%s:%d: subnet", path, lineno);
				goto fail;
			}
			if (c->prefix < 8 || c->prefix > 30) {
				hutch_fail(err, 0, "%s:%d: subnet: \"%s\": prefix length must be from 8 to 30",
					   path, lineno, val);
				goto fail;
			}
		} else if (strcmp(key, "gateway") == 0) {
			uint32_t a;

			if (net_parse_ipv4(val, &a) < 0) {
				hutch_fail(err, 0, "%s:%d: gateway: \"%s\" is not an IPv4 address", path, lineno, val);
				goto fail;
			}
			free(gw);
			gw = xstrdup(val);
		} else if (strcmp(key, "mtu") == 0) {
			uint64_t n;

			if (parse_u64(val, &n) < 0 || n < 576 || n > 65535) {
				hutch_fail(err, 0, "%s:%d: mtu: \"%s\" is not a number from 576 to 65535",
					   path, lineno, val);
				goto fail;
			}
			c->mtu = n;
		} else if (strcmp(key, "dns") == 0) {
			cleanup_free char *copy = xstrdup(val);
			char *tok, *save = NULL;

			strv_free(c->dns);
			c->dns = NULL;
			for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
				uint32_t a;

				if (net_parse_ipv4(tok, &a) < 0) {
					hutch_fail(err, 0, "%s:%d: dns: \"%s\" is not an IPv4 address",
						   path, lineno, tok);
					goto fail;
				}
				strv_push(&c->dns, xstrdup(tok));
			}
		} else if (strcmp(key, "lease_dir") == 0) {
			if (val[0] != '/') {
				hutch_fail(err, 0, "%s:%d: lease_dir: \"%s\" is not an absolute path",
					   path, lineno, val);
				goto fail;
			}
			free(c->lease_dir);
			c->lease_dir = xstrdup(val);
		} else {
			hutch_fail(err, 0, "%s:%d: unknown key \"%s\" (known: bridge, subnet, gateway, mtu, dns, lease_dir)",
				   path, lineno, key);
			goto fail;
		}
	}
	if (gw) {
		uint32_t mask = prefix_mask(c->prefix);

		net_parse_ipv4(gw, &c->gateway);
		if ((c->gateway & mask) != c->subnet || c->gateway == c->subnet ||
		    c->gateway == (c->subnet | ~mask)) {
			cleanup_free char *sn = net_ipv4_str(c->subnet);

			hutch_fail(err, 0, "%s: gateway: %s is not a host address in the subnet %s/%d",
				   path, gw, sn, c->prefix);
			goto fail;
		}
	} else {
		c->gateway = c->subnet + 1;
	}
	*out = c;
	return 0;
fail:
	net_conf_free(c);
	return -1;
}
