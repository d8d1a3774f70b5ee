// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: net.conf, CIDRs, addresses and published-port parsing (net_conf.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "utils.h"

#define CHECK_SUITE "net_conf"
#include "check.h"


/* Does parsing s fail with an error containing msg? */
static bool cidr_fails(const char *s, bool strict, const char *msg)
{
	cleanup_err hutch_err err = NULL;
	uint32_t a;
	int p;

	if (net_parse_cidr(s, strict, &a, &p, &err) == 0)
		return false;
	if (!strstr(err->msg, msg))
		printf("# %s: got \"%s\"\n", s, err->msg);
	return strstr(err->msg, msg) != NULL;
}

static bool port_fails(const char *s, const char *msg)
{
	cleanup_err hutch_err err = NULL;
	struct hutch_net_port p;

	if (net_parse_port(s, &p, &err) == 0)
		return false;
	if (!strstr(err->msg, msg))
		printf("# %s: got \"%s\"\n", s, err->msg);
	return strstr(err->msg, msg) != NULL;
}

static bool conf_fails(const char *text, const char *msg)
{
	char path[] = "/tmp/hutch-netconf-XXXXXX";
	int fd = mkstemp(path);
	cleanup_err hutch_err err = NULL;
	struct hutch_net_conf *c = NULL;
	int r;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return false;
	close(fd);
	r = net_conf_load(path, &c, &err);
	unlink(path);
	net_conf_free(c);
	if (r == 0)
		return false;
	if (!strstr(err->msg, msg))
		printf("# got \"%s\"\n", err->msg);
	return strstr(err->msg, msg) != NULL;
}

static struct hutch_net_conf *conf_load_text(const char *text)
{
	char path[] = "/tmp/hutch-netconf-XXXXXX";
	int fd = mkstemp(path);
	cleanup_err hutch_err err = NULL;
	struct hutch_net_conf *c = NULL;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	if (net_conf_load(path, &c, &err) < 0)
		printf("# %s\n", err->msg);
	unlink(path);
	return c;
}

int main(void)
{
	uint32_t a;
	int p;
	struct hutch_net_port port;
	struct hutch_net_conf *c;

	CHECK("cidr 10.88.0.0/16", net_parse_cidr("10.88.0.0/16", true, &a, &p, NULL) == 0 &&
	      a == 0x0a580000 && p == 16);
	CHECK("cidr /0 and /32", net_parse_cidr("0.0.0.0/0", true, &a, &p, NULL) == 0 && p == 0 &&
	      net_parse_cidr("1.2.3.4/32", true, &a, &p, NULL) == 0 && p == 32);
	CHECK("cidr prefix 33 rejected", cidr_fails("10.0.0.0/33", true, "prefix length \"33\" is not a number from 0 to 32"));
	CHECK("cidr without prefix rejected", cidr_fails("10.0.0.0", true, "is not a CIDR (expected ADDRESS/PREFIX"));
	CHECK("cidr bad address rejected", cidr_fails("10.0.0.256/8", true, "\"10.0.0.256\" is not an IPv4 address"));
	CHECK("cidr empty prefix rejected", cidr_fails("10.0.0.0/", true, "prefix length"));
	CHECK("cidr host bits rejected when strict",
	      cidr_fails("10.88.0.1/16", true, "did you mean 10.88.0.0/16?"));
	CHECK("cidr host bits allowed when not strict", net_parse_cidr("10.88.0.1/16", false, &a, &p, NULL) == 0);

	CHECK("ipv4 round trip", net_parse_ipv4("192.168.7.9", &a) == 0 && ({
		char *s = net_ipv4_str(a); bool ok = strcmp(s, "192.168.7.9") == 0; free(s); ok; }));

	CHECK("port 8080:80", net_parse_port("8080:80", &port, NULL) == 0 && port.host == 8080 &&
	      port.ctr == 80 && !port.udp);
	CHECK("port 53:53/udp", net_parse_port("53:53/udp", &port, NULL) == 0 && port.udp);
	CHECK("port 1:65535/tcp", net_parse_port("1:65535/tcp", &port, NULL) == 0 && port.ctr == 65535);
	CHECK("port string round trip", ({ char *s = net_port_str(&port); bool ok = strcmp(s, "1:65535/tcp") == 0; free(s); ok; }));
	CHECK("host port out of range", port_fails("70000:80", "host port 70000 is out of range (1-65535)"));
	CHECK("container port 0", port_fails("80:0", "container port 0 is out of range"));
	CHECK("port not a number", port_fails("http:80", "host port \"http\" is not a number"));
	CHECK("port without colon", port_fails("8080", "expected HOST:CONTAINER"));
	CHECK("port bad protocol", port_fails("1:2/sctp", "protocol \"sctp\" is not tcp or udp"));
	CHECK("port negative", port_fails("-1:2", "is not a number"));

	c = conf_load_text("");
	CHECK("conf defaults", c && strcmp(c->bridge, "hutch0") == 0 && c->subnet == 0x0a580000 &&
	      c->prefix == 16 && c->gateway == 0x0a580001 && c->mtu == 1500 && !c->dns &&
	      strcmp(c->lease_dir, HUTCH_NET_LEASE_DIR_DEFAULT) == 0);
	net_conf_free(c);
	c = conf_load_text("# comment\n bridge = br9 \nsubnet=172.20.0.0/24 # trailing\ngateway = 172.20.0.254\n"
			   "mtu = 9000\ndns = 1.1.1.1, 9.9.9.9\nlease_dir = /tmp/x\n");
	CHECK("conf every key", c && strcmp(c->bridge, "br9") == 0 && c->subnet == 0xac140000 &&
	      c->prefix == 24 && c->gateway == 0xac1400fe && c->mtu == 9000 && strv_len(c->dns) == 2 &&
	      strcmp(c->dns[1], "9.9.9.9") == 0 && strcmp(c->lease_dir, "/tmp/x") == 0);
	net_conf_free(c);
	CHECK("conf missing file gives defaults", ({
		struct hutch_net_conf *d = NULL;
		bool ok = net_conf_load("/nonexistent/hutch/net.conf", &d, NULL) == 0 && d && d->mtu == 1500;
		net_conf_free(d); ok; }));
	CHECK("conf bad cidr names file, line and key",
	      conf_fails("\n\nsubnet = 10.88.0.0/33\n", ":3: subnet: \"10.88.0.0/33\" is not a CIDR"));
	CHECK("conf subnet too small", conf_fails("subnet = 10.0.0.0/31\n", "prefix length must be from 8 to 30"));
	CHECK("conf unknown key", conf_fails("brigde = x\n", ":1: unknown key \"brigde\""));
	CHECK("conf line without =", conf_fails("bridge\n", ":1: expected KEY = VALUE"));
	CHECK("conf bad bridge name", conf_fails("bridge = a-very-long-bridge-name\n", "is not an interface name"));
	CHECK("conf gateway outside subnet",
	      conf_fails("gateway = 10.99.0.1\n", "gateway: 10.99.0.1 is not a host address in the subnet 10.88.0.0/16"));
	CHECK("conf gateway is the network address", conf_fails("gateway = 10.88.0.0\n", "is not a host address"));
	CHECK("conf bad mtu", conf_fails("mtu = 100\n", "mtu: \"100\" is not a number from 576 to 65535"));
	CHECK("conf bad dns", conf_fails("dns = 1.1.1.1 localhost\n", "dns: \"localhost\" is not an IPv4 address"));
	CHECK("conf relative lease_dir", conf_fails("lease_dir = leases\n", "is not an absolute path"));
	return check_status();
}
