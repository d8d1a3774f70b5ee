// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch net ls: the bridge, its subnet and every container's address and ports. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonutil.h"
#include "net.h"
#include "utils.h"

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static char *ports_str(json_object *lease)
{
	json_object *arr;
	char *s = xstrdup("");

	if (!json_object_object_get_ex(lease, "ports", &arr) || !json_object_is_type(arr, json_type_array))
		return s;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		char *n = xasprintf("%s%s%s", s, i ? "," : "",
				    json_object_get_string(json_object_array_get_idx(arr, i)));

		free(s);
		s = n;
	}
	return s;
}

static int net_ls(int argc, char **argv, hutch_err *err)
{
	const struct hutch_command *cmd = hutch_find_command("net");
	cleanup_net_conf struct hutch_net_conf *c = NULL;
	cleanup_json json_object *leases = NULL;
	cleanup_free char *sn = NULL;
	cleanup_free char *gw = NULL;
	bool json = false;
	int ind = cli_parse_format(cmd, argc, argv, true, &json, err);

	if (ind < 0)
		return -1;
	if (ind != argc)
		return hutch_usage_error(cmd, err, "unexpected argument `%s`", argv[ind]);
	if (net_conf_load(NULL, &c, err) < 0)
		return -1;
	/* the file is replaced atomically: no lock needed to read it */
	if (net_lease_read(c->lease_dir, &leases, err) < 0)
		return -1;
	sn = net_ipv4_str(c->subnet);
	gw = net_ipv4_str(c->gateway);
	if (json) {
		cleanup_json json_object *out = json_object_new_object();
		json_object *arr = json_object_new_array();
		cleanup_free char *cidr = xasprintf("%s/%d", sn, c->prefix);

		json_object_object_add(out, "bridge", json_object_new_string(c->bridge));
		json_object_object_add(out, "subnet", json_object_new_string(cidr));
		json_object_object_add(out, "gateway", json_object_new_string(gw));
		json_object_object_add(out, "mtu", json_object_new_int(c->mtu));
		json_object_object_add(out, "bridge_exists", json_object_new_boolean(net_link_exists(c->bridge)));
		json_object_object_foreach(leases, addr, lease) {
			json_object *e = json_object_new_object();
			json_object *p;

			json_object_object_add(e, "id", json_object_new_string(jstr(lease, "id")));
			json_object_object_add(e, "address", json_object_new_string(addr));
			json_object_object_add(e, "veth", json_object_new_string(jstr(lease, "veth")));
			json_object_object_add(e, "state", json_object_new_string(jstr(lease, "state")));
			if (json_object_object_get_ex(lease, "ports", &p))
				json_object_object_add(e, "ports", json_object_get(p));
			json_object_array_add(arr, e);
		}
		json_object_object_add(out, "containers", arr);
		printf("%s\n", json_str(out, true));
		return 0;
	}
	printf("bridge %s%s  subnet %s/%d  gateway %s  mtu %u\n", c->bridge,
	       net_link_exists(c->bridge) ? "" : " (not created yet)", sn, c->prefix, gw, c->mtu);
	printf("%-24s %-16s %-14s %s\n", "ID", "ADDRESS", "VETH", "PORTS");
	json_object_object_foreach(leases, addr, lease) {
		cleanup_free char *ports = ports_str(lease);

		printf("%-24s %-16s %-14s %s\n", jstr(lease, "id"), addr, jstr(lease, "veth"), ports);
	}
	return 0;
}

HUTCH_COMMAND(net)
{
	const struct hutch_command *cmd = hutch_find_command("net");

	if (argc < 2)
		return hutch_usage_error(cmd, err, "missing subcommand");
	if (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0)
		return net_ls(argc - 1, argv + 1, err);
	return hutch_usage_error(cmd, err, "unknown subcommand `%s`", argv[1]);
}
