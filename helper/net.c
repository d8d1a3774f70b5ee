// SPDX-License-Identifier: GPL-2.0-or-later
/* Container networking: what the lifecycle calls (see net.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonutil.h"
#include "log.h"
#include "net.h"
#include "utils.h"

#define NET_STATE "net.json"

struct hutch_net {
	struct hutch_net_conf *conf;
	char *id;
	char *state_dir;
	uint32_t addr;
	char *veth;
	struct hutch_net_port *ports;
	size_t nports;
};

void hutch_net_free(struct hutch_net *n)
{
	if (!n)
		return;
	net_conf_free(n->conf);
	free(n->id);
	free(n->state_dir);
	free(n->veth);
	free(n->ports);
	free(n);
}

static const char *annotation(const struct hutch_spec *s, const char *key)
{
	json_object *v;

	if (!s->annotations || !json_object_object_get_ex(s->annotations, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Ports from -p (each one) or the annotation (comma or space separated). */
static int collect_ports(struct hutch_net *n, char **cli, const char *ann, hutch_err *err)
{
	cleanup_strv char **list = NULL;
	const char *where = "-p";

	if (cli && cli[0]) {
		for (char **p = cli; *p; p++)
			strv_push(&list, xstrdup(*p));
	} else if (ann) {
		cleanup_free char *copy = xstrdup(ann);
		char *save = NULL;

		for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
			strv_push(&list, xstrdup(t));
		where = "config.json: annotations[\"hutch.net.ports\"]";
	}
	n->nports = strv_len(list);
	n->ports = xcalloc(n->nports + 1, sizeof(*n->ports));
	for (size_t i = 0; i < n->nports; i++) {
		if (net_parse_port(list[i], &n->ports[i], err) < 0)
			return hutch_error_prefix(err, "%s", where);
		for (size_t j = 0; j < i; j++)
			if (n->ports[j].host == n->ports[i].host && n->ports[j].udp == n->ports[i].udp)
				return hutch_fail(err, 0, "%s: host port %u/%s is published twice", where,
						  n->ports[i].host, n->ports[i].udp ? "udp" : "tcp");
	}
	return 0;
}

static bool addr_usable(const struct hutch_net_conf *c, uint32_t a)
{
	uint32_t mask = c->prefix ? 0xffffffffu << (32 - c->prefix) : 0;

	return (a & mask) == c->subnet && a != c->subnet && a != (c->subnet | ~mask) && a != c->gateway;
}

/* Is host port p free on this host (its network namespace)? */
static int port_bindable(const struct hutch_net_port *p, hutch_err *err)
{
	cleanup_close int fd = socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1;

	if (fd < 0)
		return hutch_fail(err, errno, "socket");
	if (!p->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EADDRINUSE)
			return hutch_fail(err, 0, "port %u/%s is in use on the host", p->host,
					  p->udp ? "udp" : "tcp");
		return hutch_fail(err, errno, "port %u/%s: bind", p->host, p->udp ? "udp" : "tcp");
	}
	return 0;
}

static int lease_ports(json_object *lease, struct hutch_net_port **out, size_t *n)
{
	json_object *arr;
	size_t len;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(lease, "ports", &arr) || !json_object_is_type(arr, json_type_array))
		return 0;
	len = json_object_array_length(arr);
	*out = xcalloc(len + 1, sizeof(**out));
	for (size_t i = 0; i < len; i++)
		if (net_parse_port(json_object_get_string(json_object_array_get_idx(arr, i)), &(*out)[*n], NULL) == 0)
			(*n)++;
	return 0;
}

static const char *lease_str(json_object *lease, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(lease, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *const etc_files[] = { "hosts", "hostname", "resolv.conf" };

/* <lease_dir>/etc/<addr>: the generated /etc files of one lease. */
static char *etc_dir(const char *lease_dir, const char *addr)
{
	return xasprintf("%s/etc/%s", lease_dir, addr);
}

static void etc_remove(const char *lease_dir, const char *addr)
{
	cleanup_free char *dir = etc_dir(lease_dir, addr);

	for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
		cleanup_free char *f = xasprintf("%s/%s", dir, etc_files[i]);

		unlink(f);
	}
	rmdir(dir);
}

/* Undo what a lease stands for: port elements, the host end of the veth, /etc files. */
static void lease_release(const char *lease_dir, const char *addr, json_object *lease)
{
	cleanup_free struct hutch_net_port *ports = NULL;
	cleanup_err hutch_err e = NULL;
	const char *veth = lease_str(lease, "veth");
	size_t n;

	etc_remove(lease_dir, addr);
	lease_ports(lease, &ports, &n);
	net_nft_del_ports(ports, n);
	if (veth && net_link_delete(veth, &e) < 0)
		log_warn("net: %s", e->msg);
	log_debug("net: released %s (%s)", addr, lease_str(lease, "id"));
}

/* Drop leases whose container state directory is gone (a crash, a lost root). */
static void lease_gc(const char *lease_dir, json_object *leases)
{
	cleanup_strv char **stale = NULL;

	json_object_object_foreach(leases, addr, lease) {
		const char *dir = lease_str(lease, "state");

		if (dir && access(dir, F_OK) < 0 && errno == ENOENT)
			strv_push(&stale, xstrdup(addr));
	}
	for (char **a = stale; a && *a; a++) {
		json_object *l;

		json_object_object_get_ex(leases, *a, &l);
		lease_release(lease_dir, *a, l);
		json_object_object_del(leases, *a);
	}
}

static char *dirfd_path(int dirfd)
{
	cleanup_free char *link = xasprintf("/proc/self/fd/%d", dirfd);
	char *p = realpath(link, NULL);

	return p ? p : xstrdup("");
}

static int allocate(struct hutch_net *n, const char *want_ip, const char *ip_where, hutch_err *err)
{
	struct hutch_net_conf *c = n->conf;
	cleanup_close int lock = -1;
	cleanup_json json_object *leases = NULL;
	json_object *lease, *ports;
	cleanup_free char *key = NULL;

	lock = net_lease_lock(c->lease_dir, err);
	if (lock < 0 || net_lease_read(c->lease_dir, &leases, err) < 0)
		return -1;
	lease_gc(c->lease_dir, leases);
	/* published ports must be free among the other containers and on the host */
	json_object_object_foreach(leases, addr, other) {
		cleanup_free struct hutch_net_port *op = NULL;
		size_t on;

		lease_ports(other, &op, &on);
		for (size_t i = 0; i < n->nports; i++)
			for (size_t j = 0; j < on; j++)
				if (op[j].host == n->ports[i].host && op[j].udp == n->ports[i].udp)
					return hutch_fail(err, 0, "port %u/%s is already published by container `%s` (%s)",
							  n->ports[i].host, n->ports[i].udp ? "udp" : "tcp",
							  lease_str(other, "id"), addr);
	}
	for (size_t i = 0; i < n->nports; i++)
		if (port_bindable(&n->ports[i], err) < 0)
			return -1;

	if (want_ip) {
		cleanup_free char *sn = net_ipv4_str(c->subnet);

		if (net_parse_ipv4(want_ip, &n->addr) < 0)
			return hutch_fail(err, 0, "%s: \"%s\" is not an IPv4 address", ip_where, want_ip);
		if (!addr_usable(c, n->addr))
			return hutch_fail(err, 0, "%s: %s is not a usable address in the subnet %s/%d of %s (%s)",
					  ip_where, want_ip, sn, c->prefix, c->bridge, c->path);
		key = net_ipv4_str(n->addr);
		if (json_object_object_get_ex(leases, key, &lease))
			return hutch_fail(err, 0, "%s: %s is already leased to container `%s`", ip_where, key,
					  lease_str(lease, "id"));
	} else {
		uint32_t mask = 0xffffffffu << (32 - c->prefix);
		uint32_t last = c->subnet | ~mask;

		for (uint32_t a = c->subnet + 1; a < last; a++) {
			if (!addr_usable(c, a))
				continue;
			key = net_ipv4_str(a);
			if (!json_object_object_get_ex(leases, key, NULL)) {
				n->addr = a;
				break;
			}
			free(key);
			key = NULL;
		}
		if (!key) {
			cleanup_free char *sn = net_ipv4_str(c->subnet);

			return hutch_fail(err, 0, "no free address left in %s/%d", sn, c->prefix);
		}
	}
	n->veth = xasprintf("veth%08x", n->addr);
	lease = json_object_new_object();
	ports = json_object_new_array();
	for (size_t i = 0; i < n->nports; i++) {
		cleanup_free char *ps = net_port_str(&n->ports[i]);

		json_object_array_add(ports, json_object_new_string(ps));
	}
	json_object_object_add(lease, "id", json_object_new_string(n->id));
	json_object_object_add(lease, "state", json_object_new_string(n->state_dir));
	json_object_object_add(lease, "veth", json_object_new_string(n->veth));
	json_object_object_add(lease, "ports", ports);
	json_object_object_add(leases, key, lease);
	return net_lease_write(c->lease_dir, leases, err);
}

/* Release every lease held by the container whose state directory is state_dir. */
static int release_by_state(const char *lease_dir, const char *state_dir, hutch_err *err)
{
	cleanup_close int lock = -1;
	cleanup_json json_object *leases = NULL;
	cleanup_strv char **mine = NULL;

	lock = net_lease_lock(lease_dir, err);
	if (lock < 0 || net_lease_read(lease_dir, &leases, err) < 0)
		return -1;
	json_object_object_foreach(leases, addr, lease) {
		const char *dir = lease_str(lease, "state");

		if (dir && strcmp(dir, state_dir) == 0)
			strv_push(&mine, xstrdup(addr));
	}
	if (!mine)
		return 0;
	for (char **a = mine; *a; a++) {
		json_object *l;

		json_object_object_get_ex(leases, *a, &l);
		lease_release(lease_dir, *a, l);
		json_object_object_del(leases, *a);
	}
	return net_lease_write(lease_dir, leases, err);
}

/* /etc/resolv.conf: the host's, without loopback servers (unreachable from the
 * container), or with net.conf's dns servers instead. */
static char *make_resolv(const struct hutch_net_conf *c)
{
	cleanup_free char *host = NULL;
	char *out = xstrdup("# generated by hutch\n"), *line, *next;

	if (read_file("/etc/resolv.conf", &host, NULL, NULL) < 0)
		host = xstrdup("");
	for (line = host; line && *line; line = next) {
		char *nl;
		bool keep = true;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		nl = line + strspn(line, " \t");
		if (str_has_prefix(nl, "nameserver")) {
			const char *v = nl + strlen("nameserver");

			v += strspn(v, " \t");
			keep = !c->dns && !str_has_prefix(v, "127.") && strcmp(v, "::1") != 0;
		} else if (!str_has_prefix(nl, "search") && !str_has_prefix(nl, "domain") &&
			   !str_has_prefix(nl, "options")) {
			keep = false;
		}
		if (keep) {
			char *o = xasprintf("%s%s\n", out, nl);

			free(out);
			out = o;
		}
	}
	for (char **d = c->dns; d && *d; d++) {
		char *o = xasprintf("%snameserver %s\n", out, *d);

		free(out);
		out = o;
	}
	return out;
}

static bool has_mount(const struct hutch_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (strcmp(s->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

/*
 * Write <lease_dir>/etc/<addr>/<name> and bind-mount it at /etc/<name> (unless config.json
 * mounts that path). Not the state dir: root of a container in a user namespace could not
 * reach a file there; the lease dir and etc/ are 0711, the files 0644.
 */
static int add_file_mount(struct hutch_net *n, struct hutch_spec *s, const char *dir,
			  const char *name, const char *data, hutch_err *err)
{
	static char *const opts[] = { "bind", NULL };
	cleanup_free char *dest = xasprintf("/etc/%s", name);
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct hutch_mount *m;

	if (has_mount(s, dest))
		return 0;
	if (write_file(path, data, strlen(data), err) < 0)
		return -1;
	if (chmod(path, 0644) < 0)
		return hutch_fail(err, errno, "chmod `%s`", path);
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof(*s->mounts));
	m = &s->mounts[s->nmounts++];
	memset(m, 0, sizeof(*m));
	m->destination = steal_ptr(&dest);
	m->source = steal_ptr(&path);
	return mount_parse_options(opts, m, "hutch.net", m->destination, err);
}

static int write_etc(struct hutch_net *n, struct hutch_spec *s, hutch_err *err)
{
	cleanup_free char *addr = net_ipv4_str(n->addr);
	cleanup_free char *top = xasprintf("%s/etc", n->conf->lease_dir);
	cleanup_free char *dir = etc_dir(n->conf->lease_dir, addr);
	cleanup_free char *hn = NULL;
	cleanup_free char *hosts = NULL;
	cleanup_free char *hostname = NULL;
	cleanup_free char *resolv = make_resolv(n->conf);

	if ((mkdir(top, 0711) < 0 && errno != EEXIST) || (mkdir(dir, 0711) < 0 && errno != EEXIST) ||
	    chmod(top, 0711) < 0 || chmod(dir, 0711) < 0)
		return hutch_fail(err, errno, "net: make `%s`", dir);
	hn = xstrdup(s->hostname && *s->hostname ? s->hostname : n->id);
	if (strlen(hn) > 63)
		hn[63] = '\0';
	hosts = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
			  addr, hn);
	hostname = xasprintf("%s\n", hn);
	if (add_file_mount(n, s, dir, "hosts", hosts, err) < 0 ||
	    add_file_mount(n, s, dir, "hostname", hostname, err) < 0 ||
	    add_file_mount(n, s, dir, "resolv.conf", resolv, err) < 0)
		return hutch_error_prefix(err, "net");
	return 0;
}

int hutch_net_prepare(const struct hutch_global *g, const char *id, struct hutch_spec *spec,
		      const struct hutch_net_opts *opts, int state_dirfd, const char *state_dir,
		      struct hutch_net **out, hutch_err *err)
{
	struct hutch_net *n = NULL;
	const char *mode = opts ? opts->mode : NULL;
	const char *mode_where = "--net";
	const char *ip = opts ? opts->ip : NULL;
	const char *ip_where = "--ip";
	const char *ann_ports = annotation(spec, "hutch.net.ports");
	bool cli_ports = opts && opts->ports && opts->ports[0];
	const struct hutch_ns *ns;
	json_object *st;

	*out = NULL;
	if (!mode) {
		mode = annotation(spec, "hutch.net");
		mode_where = "config.json: annotations[\"hutch.net\"]";
	}
	if (!ip) {
		ip = annotation(spec, "hutch.net.ip");
		ip_where = "config.json: annotations[\"hutch.net.ip\"]";
	}
	if (!mode || strcmp(mode, "none") == 0) {
		if (cli_ports || (opts && opts->ip))
			return hutch_fail(err, 0, "%s needs --net bridge", cli_ports ? "-p" : "--ip");
		return 0;
	}
	if (strcmp(mode, "bridge") != 0)
		return hutch_fail(err, 0, "%s: \"%s\" is not a network mode (bridge or none)", mode_where, mode);
	ns = spec_get_ns(spec, CLONE_NEWNET);
	if (!ns || ns->path)
		return hutch_fail(err, 0,
				  "%s bridge needs a new network namespace: config.json: linux.namespaces must have {\"type\": \"network\"} without a path",
				  mode_where);

	n = xcalloc(1, sizeof(*n));
	n->id = xstrdup(id);
	n->state_dir = state_dirfd >= 0 ? dirfd_path(state_dirfd) : xstrdup(state_dir);
	if (net_conf_load(NULL, &n->conf, err) < 0 ||
	    collect_ports(n, opts ? opts->ports : NULL, ann_ports, err) < 0)
		goto fail;
	/* net.json first: from here on, teardown knows where the lease would be */
	st = json_object_new_object();
	json_object_object_add(st, "lease_dir", json_object_new_string(n->conf->lease_dir));
	{
		const char *s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_NOSLASHESCAPE);
		int r = write_file_at(state_dirfd, NET_STATE, s, strlen(s), err);

		json_object_put(st);
		if (r < 0)
			goto fail;
	}
	if (allocate(n, ip, ip_where, err) < 0) {
		release_by_state(n->conf->lease_dir, n->state_dir, NULL);
		goto fail;
	}
	if (write_etc(n, spec, err) < 0) {
		release_by_state(n->conf->lease_dir, n->state_dir, NULL);
		goto fail;
	}
	log_debug("net: %s leased %s", id, n->veth);
	*out = n;
	return 0;
fail:
	unlinkat(state_dirfd, NET_STATE, 0);
	hutch_net_free(n);
	return hutch_error_prefix(err, "net");
}

int hutch_net_setup(struct hutch_net *n, pid_t init_pid, hutch_err *err)
{
	cleanup_close int lock = -1;

	if (!n)
		return 0;
	/* the bridge and the table are made on first use: one creator at a time */
	lock = net_lease_lock(n->conf->lease_dir, err);
	if (lock < 0 || net_link_ensure_bridge(n->conf, err) < 0 || net_nft_ensure_table(n->conf, err) < 0)
		goto fail;
	if (net_link_setup_container(n->conf, n->veth, init_pid, n->addr, err) < 0)
		goto fail;
	if (net_nft_add_ports(n->ports, n->nports, n->addr, err) < 0) {
		net_link_delete(n->veth, NULL);
		goto fail;
	}
	return 0;
fail:
	return hutch_error_prefix(err, "net");
}

int hutch_net_teardown(const struct hutch_global *g, const char *id, int state_dirfd, hutch_err *err)
{
	cleanup_json json_object *st = NULL;
	cleanup_free char *data = NULL;
	cleanup_free char *dir = NULL;
	const char *lease_dir = NULL;

	if (read_file_at(state_dirfd, NET_STATE, &data, NULL, err) < 0) {
		if ((*err)->status == ENOENT) {
			hutch_error_free(err);
			return 0;   /* no hutch networking */
		}
		return hutch_error_prefix(err, "net");
	}
	st = json_tokener_parse(data);
	if (!st || jget_str(st, NET_STATE, "", "lease_dir", true, &lease_dir, err) < 0)
		return hutch_fail(err, 0, "net: %s in the state of `%s` is damaged", NET_STATE, id);
	dir = dirfd_path(state_dirfd);
	if (release_by_state(lease_dir, dir, err) < 0)
		return hutch_error_prefix(err, "net: release the lease of `%s`", id);
	unlinkat(state_dirfd, NET_STATE, 0);
	return 0;
}
