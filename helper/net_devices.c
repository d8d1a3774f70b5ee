// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.netDevices (runtime-spec 1.3): host network interfaces moved into the container's
 * network namespace at create, renamed to their "name" when given, with their permanent
 * addresses and up state, and moved back under their host name at delete (or when create
 * fails), before the namespace goes away (a virtual device would die with it).
 *
 *   "netDevices": { "dummy0": { "name": "ctr0" }, "eth1": {} }
 *
 * The state file STATE_NET_DEVICES records "HOST-NAME CONTAINER-NAME" lines, and the
 * namespace is bound on STATE_NET_DEVICES_NS (as `ip netns add` does) until delete, so the
 * devices can go home after the container process has exited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonutil.h"
#include "log.h"
#include "net.h"
#include "net_devices.h"
#include "spec.h"
#include "state.h"
#include "utils.h"

#define P "linux.netDevices"

static int bad_name(const char *n)
{
	return !*n || strlen(n) >= IFNAMSIZ || strchr(n, '/') || strchr(n, ':') ||
	       strpbrk(n, " \t\n") || !strcmp(n, ".") || !strcmp(n, "..");
}

/* Checks linux.netDevices of the config; *out gets "HOST CT" lines (NULL: none). */
int net_devices_parse(const struct hutch_spec *s, char **out, hutch_err *err)
{
	json_object *lin = NULL, *nd = NULL;
	cleanup_free char *lines = xstrdup("");
	const struct hutch_ns *ns;

	*out = NULL;
	if (!json_object_object_get_ex(s->json, "linux", &lin))
		return 0;
	if (jget_obj(lin, "config.json", "linux", "netDevices", false, &nd, err) < 0)
		return -1;
	if (!nd || !json_object_object_length(nd))
		return 0;
	ns = spec_get_ns(s, CLONE_NEWNET);
	if (!ns)
		return hutch_fail(err, 0, "config.json: " P ": needs a network namespace in "
				  "linux.namespaces");
	json_object_object_foreach(nd, host, dev) {
		cleanup_free char *p = xasprintf(P ".%s", host);
		const char *name = NULL;
		char *l;

		if (!json_object_is_type(dev, json_type_object))
			return hutch_fail(err, 0, "config.json: %s: expected an object", p);
		if (jget_str(dev, "config.json", p, "name", false, &name, err) < 0)
			return -1;
		if (!name || !*name)
			name = host;
		if (bad_name(host))
			return hutch_fail(err, 0, "config.json: %s: \"%s\" is not an interface name",
					  p, host);
		if (bad_name(name))
			return hutch_fail(err, 0, "config.json: %s.name: \"%s\" is not an interface "
					  "name", p, name);
		if (!if_nametoindex(host))
			return hutch_fail(err, 0, "config.json: %s: no interface \"%s\" on the host",
					  p, host);
		l = xasprintf("%s%s %s\n", lines, host, name);
		free(lines);
		lines = l;
	}
	*out = steal_ptr(&lines);
	return 0;
}

/* Move the devices into the namespace of init_pid; recorded in the state dir first. */
int net_devices_move_in(const struct hutch_spec *s, pid_t init_pid, int state_dirfd,
			const char *state_dir, hutch_err *err)
{
	cleanup_free char *lines = NULL;
	cleanup_free char *nspath = xasprintf("/proc/%d/ns/net", init_pid);
	cleanup_free char *keep = xasprintf("%s/" STATE_NET_DEVICES_NS, state_dir);
	cleanup_close int nsfd = -1;

	if (net_devices_parse(s, &lines, err) < 0)
		return -1;
	if (!lines)
		return 0;
	if (write_file_at(state_dirfd, STATE_NET_DEVICES, "", 0, err) < 0 ||
	    write_file_at(state_dirfd, STATE_NET_DEVICES_NS, "", 0, err) < 0)
		return -1;
	if (mount(nspath, keep, NULL, MS_BIND, NULL) < 0)
		return hutch_fail(err, errno, "config.json: " P ": keep the network namespace "
				  "on `%s`", keep);
	nsfd = open(keep, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return hutch_fail(err, errno, "open `%s`", keep);
	{
		cleanup_free char *done = xstrdup("");

		for (char *line = lines, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			char *sp = strchr(line, ' '), *d;

			*nl = '\0';
			*sp = '\0';
			if (net_link_move(-1, line, nsfd, sp + 1, err) < 0)
				return hutch_error_prefix(err, "config.json: " P ".%s", line);
			d = xasprintf("%s%s %s\n", done, line, sp + 1);
			free(done);
			done = d;
			if (write_file_at(state_dirfd, STATE_NET_DEVICES, done, strlen(done), err) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * Move the recorded devices back to the host under their own names, from the kept namespace
 * (without it, a physical device the kernel gave back keeps its container name: renamed).
 * Failures are warnings.
 */
void net_devices_release(int state_dirfd, const char *state_dir)
{
	cleanup_free char *lines = NULL;
	cleanup_free char *keep = xasprintf("%s/" STATE_NET_DEVICES_NS, state_dir);
	cleanup_close int nsfd = -1, self = -1;
	size_t len;

	if (read_file_at(state_dirfd, STATE_NET_DEVICES, &lines, &len, NULL) < 0)
		return;
	nsfd = open(keep, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	for (char *line = lines, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		cleanup_err hutch_err e = NULL;
		char *sp = strchr(line, ' ');
		int r;

		*nl = '\0';
		if (!sp)
			continue;
		*sp = '\0';
		if (nsfd >= 0 && self >= 0)
			r = net_link_move(nsfd, sp + 1, self, line, &e);
		else if (if_nametoindex(sp + 1) && strcmp(line, sp + 1) != 0 && self >= 0)
			r = net_link_move(-1, sp + 1, self, line, &e);
		else
			continue;
		if (r < 0)
			log_warn(P ".%s: move back to the host: %s", line, e->msg);
	}
	/* EINVAL: create failed before the bind */
	if (nsfd >= 0 && umount2(keep, MNT_DETACH) < 0 && errno != EINVAL)
		log_warn("unmount `%s`: %s", keep, strerror(errno));
	unlinkat(state_dirfd, STATE_NET_DEVICES_NS, 0);
	unlinkat(state_dirfd, STATE_NET_DEVICES, 0);
}
