// SPDX-License-Identifier: GPL-2.0-or-later
/* container_exec: another process inside a container's namespaces and cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "fault.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "log.h"
#include "mempolicy.h"
#include "security.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Namespaces of pid that differ from ours: what setns must join. */
static int differing_namespaces(pid_t pid)
{
	static const int types[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC,
				     CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWTIME };
	int flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		/* /proc/PID/ns names: the OCI ones but for "net" and "mnt" */
		const char *oci = ns_name(types[i]);
		const char *name = !strcmp(oci, "network") ? "net" : !strcmp(oci, "mount") ? "mnt" : oci;
		cleanup_free char *a = xasprintf("/proc/%d/ns/%s", pid, name);
		cleanup_free char *b = xasprintf("/proc/self/ns/%s", name);
		struct stat sa, sb;

		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino != sb.st_ino)
			flags |= types[i];
	}
	return flags;
}

/* --apparmor and --process-label, as runc: they win over the process object's own. */
static void set_labels(const struct hutch_exec_opts *o, json_object *p)
{
	if (o->apparmor)
		json_object_object_add(p, "apparmorProfile", json_object_new_string(o->apparmor));
	if (o->process_label)
		json_object_object_add(p, "selinuxLabel", json_object_new_string(o->process_label));
}

/* The process object to run: --process FILE, or config.process with overrides. */
static int build_process(const struct hutch_exec_opts *o, json_object *cfg, char **args,
			 json_object **out, hutch_err *err)
{
	cleanup_json json_object *p = NULL;
	json_object *base = NULL, *env, *user;

	if (o->process_file) {
		if (json_parse_file(o->process_file, "--process", out, err) < 0)
			return -1;
		if (json_object_get_type(*out) != json_type_object)
			return hutch_fail(err, 0, "--process: the document must be a JSON object");
		set_labels(o, *out);
		return 0;
	}
	if (!args || !args[0])
		return hutch_fail(err, 0, "exec: missing the command to run (or --process FILE)");
	json_object_object_get_ex(cfg, "process", &base);
	p = base ? NULL : json_object_new_object();
	if (base && json_object_deep_copy(base, &p, NULL) < 0)
		oom();
	{
		json_object *a = json_object_new_array();

		for (size_t i = 0; args[i]; i++)
			json_object_array_add(a, json_object_new_string(args[i]));
		json_object_object_add(p, "args", a);
	}
	if (!json_object_object_get_ex(p, "env", &env) || !env) {
		env = json_object_new_array();
		json_object_object_add(p, "env", env);
	}
	for (size_t i = 0; o->env && o->env[i]; i++) {
		size_t klen = strcspn(o->env[i], "=");
		bool replaced = false;

		for (size_t k = 0; k < json_object_array_length(env); k++) {
			const char *e = json_object_get_string(json_object_array_get_idx(env, k));

			if (e && strncmp(e, o->env[i], klen) == 0 && e[klen] == '=') {
				json_object_array_put_idx(env, k, json_object_new_string(o->env[i]));
				replaced = true;
			}
		}
		if (!replaced)
			json_object_array_add(env, json_object_new_string(o->env[i]));
	}
	if (o->cwd)
		json_object_object_add(p, "cwd", json_object_new_string(o->cwd));
	if (!json_object_object_get_ex(p, "cwd", NULL))
		json_object_object_add(p, "cwd", json_object_new_string("/"));
	json_object_object_add(p, "terminal", json_object_new_boolean(o->tty));
	if (!json_object_object_get_ex(p, "user", &user) || !user) {
		user = json_object_new_object();
		json_object_object_add(p, "user", user);
	}
	if (o->user) {
		uint64_t uid, gid = 0;
		cleanup_free char *u = xstrdup(o->user);
		char *colon = strchr(u, ':');

		if (colon)
			*colon++ = '\0';
		if (parse_u64(u, &uid) < 0 || uid > UINT32_MAX - 1 ||
		    (colon && (parse_u64(colon, &gid) < 0 || gid > UINT32_MAX - 1)))
			return hutch_fail(err, 0, "--user: `%s` is not UID[:GID]", o->user);
		json_object_object_add(user, "uid", json_object_new_int64(uid));
		json_object_object_add(user, "gid", json_object_new_int64(gid));
	}
	if (o->ngids) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < o->ngids; i++)
			json_object_array_add(a, json_object_new_int64(o->gids[i]));
		json_object_object_add(user, "additionalGids", a);
	}
	if (o->no_new_privs)
		json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(true));
	set_labels(o, p);
	*out = steal_ptr(&p);
	return 0;
}

/* linux.resources.pids.limit > 0 in the container's config (checked at create) */
static bool pids_limited(json_object *cfg)
{
	cleanup_err hutch_err e = NULL;
	json_object *lin = NULL, *res = NULL, *pids = NULL;
	int64_t limit = 0;

	return jget_obj(cfg, "config.json", "", "linux", false, &lin, &e) == 0 && lin &&
	       jget_obj(lin, "config.json", "linux", "resources", false, &res, &e) == 0 && res &&
	       jget_obj(res, "config.json", "linux.resources", "pids", false, &pids, &e) == 0 && pids &&
	       jget_i64(pids, "config.json", "linux.resources.pids", "limit", false, &limit, &e) == 0 &&
	       limit > 0;
}

/* After the exec child is released: EOF means execve succeeded. */
static int wait_exec(int fd, hutch_err *err)
{
	char probe;
	ssize_t n;

	do
		n = recv(fd, &probe, 1, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	return sync_recv(fd, SYNC_READY, NULL, NULL, err);
}

int container_exec(struct hutch_global *g, const char *id, const struct hutch_exec_opts *o,
		   char **args, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_json json_object *cfg = NULL;
	cleanup_json json_object *pj = NULL;
	cleanup_free char *cfgpath = NULL;
	cleanup_free char *rootpath = NULL;
	__attribute__((cleanup(spec_process_clear))) struct hutch_process proc = { 0 };
	cleanup_ctx struct hutch_ctx c = { .g = g, .id = id, .sync_fd = -1, .listen_fd = -1,
					   .console_fd = -1, .state_fd = -1 };
	cleanup_close int pidfd = -1, rootfd = -1, own_pidns = -1;
	cleanup_close_pair int sv[2] = { -1, -1 };
	cleanup_close_pair int tty_sv[2] = { -1, -1 };
	cleanup_close int master = -1;
	struct hutch_tty_proxy *proxy = NULL;
	enum hutch_status status;
	pid_t e1 = -1, e2 = -1;
	bool in_v2 = false;
	int r, value;

	/* CVE-2019-5736 (security.h): may re-execute, so before any work */
	if (hutch_selfexe_protect(id, err) < 0 || check_preserved_fds(o->preserve_fds, err) < 0 ||
	    state_open(g, id, false, &st, err) < 0)
		return -1;
	status = state_status(st);
	if (status != STATUS_RUNNING && status != STATUS_CREATED)
		return hutch_fail(err, 0, "cannot exec in container `%s`: it is %s", id, status_name(status));
	pidfd = state_init_pidfd(st);
	if (pidfd < 0)
		return hutch_fail(err, 0, "cannot exec in container `%s`: it is stopped", id);
	cfgpath = xasprintf("%s/" STATE_CONFIG, st->dir);
	if (json_parse_file(cfgpath, STATE_CONFIG, &cfg, err) < 0)
		return -1;
	if (build_process(o, cfg, args, &pj, err) < 0)
		return -1;
	if (spec_parse_process(pj, o->process_file ? "--process" : "exec", "", &proc, err) < 0)
		return -1;
	if (proc.terminal && o->console_socket) {
		c.console_fd = hutch_console_connect(o->console_socket, err);
		if (c.console_fd < 0)
			return -1;
	} else if (proc.terminal && o->detach) {
		return hutch_fail(err, 0, "exec: --tty with --detach needs --console-socket");
	} else if (proc.terminal) {
		/* foreground: the child sends the pty master to us, we proxy it (terminal.h) */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_sv) < 0)
			return hutch_fail(err, errno, "socketpair for the terminal");
		c.console_fd = steal_fd(&tty_sv[1]);
		hutch_terminal_default_size(&proc.console_height, &proc.console_width);
	}
	if (hutch_security_prepare(cfg, pj, o->caps, proc.no_new_privs, &c.sec, err) < 0)
		return -1;
	{
		/* linux.memoryPolicy: set here, before the fork, the exec'd process inherits it
		 * (as crun sets it before it clones) */
		__attribute__((cleanup(mempolicy_clear))) struct hutch_mempolicy mp = { 0 };
		json_object *lin = NULL;

		json_object_object_get_ex(cfg, "linux", &lin);
		if (mempolicy_parse(lin, &mp, err) < 0 || mempolicy_apply(&mp, err) < 0)
			return hutch_error_prefix(err, "exec in `%s`", id);
	}
	rootpath = xasprintf("/proc/%d/root", st->pid);
	rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return hutch_fail(err, errno, "open `%s`", rootpath);
	c.proc = &proc;
	c.preserve_fds = o->preserve_fds;
	c.exec_pidfd = pidfd;
	c.exec_rootfd = rootfd;
	c.exec_nsflags = differing_namespaces(st->pid);
	c.state_fd = st->dirfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return hutch_fail(err, errno, "socketpair");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	c.sync_fd = sv[1];
	if (st->cg) {
		c.cg = st->cg;
		hutch_cgroup_enter_open(st->cg);
	}
	/*
	 * One process instead of two: with the container's pid namespace as the one of our
	 * children (setns of CLONE_NEWPID alone changes nothing else of ours), the child is
	 * born in it and needs no second fork (exec_stage1). Where that setns is refused
	 * (rootless: it needs CAP_SYS_ADMIN in our own user namespace), the child joins and
	 * forks. So it does in a container with a pids limit: the kernel never refuses a
	 * process moving into a cgroup over pids.max, only a fork in it, and exec into a
	 * container at its limit must fail rather than exceed it.
	 */
	if ((c.exec_nsflags & CLONE_NEWPID) && !pids_limited(cfg)) {
		own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own_pidns >= 0 && setns(pidfd, CLONE_NEWPID) == 0)
			c.exec_nsflags &= ~CLONE_NEWPID;
		else
			cleanup_closep(&own_pidns);
	}
	e1 = fork_into_cgroup(st->cg ? hutch_cgroup_v2_fd(st->cg) : -1, &in_v2);
	if (e1 != 0 && own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
		hutch_fail(err, errno, "return to our own pid namespace");
		goto fail;
	}
	if (e1 < 0)
		return hutch_fail(err, errno, "fork");
	c.await_go = hutch_cgroup_enter_pending(st->cg, in_v2);
	if (e1 == 0) {
		close(sv[0]);
		exec_stage1(&c);
	}
	cleanup_closep(&sv[1]);
	HUTCH_FAULT("exec.fork");
	if (st->cg && hutch_cgroup_enter(st->cg, e1, in_v2, err) < 0)
		goto fail;
	if (c.await_go && sync_send(sv[0], SYNC_GO, 0, NULL) < 0)
		goto fail;
	if (c.exec_nsflags & CLONE_NEWPID) {
		/* e1 forks the process in the pid namespace and exits */
		if (sync_recv(sv[0], SYNC_PID, &value, NULL, err) < 0)
			goto fail;
		e2 = value;
	} else {
		e2 = e1;
		e1 = -1;
	}
	HUTCH_FAULT("exec.pid");
	/* hutch.ko: account the new process to the container before it runs */
	if (hutch_kmod_ct_exec(id, e2, err) < 0)
		goto fail;
	while (e1 > 0 && waitpid(e1, NULL, 0) < 0 && errno == EINTR)
		;
	e1 = -1;
	/* the child learns its pid as the host sees it (for a seccomp notify listener) */
	if (sync_send(sv[0], SYNC_GO, e2, NULL) < 0 || wait_exec(sv[0], err) < 0)
		goto fail;
	/* the program runs (and its process let go of its copy): the release of the
	 * re-execution's clone, an RCU grace period, overlaps it (security.h) */
	hutch_selfexe_release();
	HUTCH_FAULT("exec.running");
	if (o->pid_file && write_pid_file(o->pid_file, e2, err) < 0)
		goto fail;
	if (o->detach)
		return 0;
	cleanup_closep(&sv[0]);
	if (tty_sv[0] >= 0) {
		master = hutch_terminal_recv(tty_sv[0], err);
		if (master < 0 || hutch_terminal_proxy_start(master, &proxy, err) < 0)
			goto fail;
	}
	r = wait_forward(e2);
	hutch_terminal_proxy_end(proxy);
	return r;
fail:
	hutch_error_prefix(err, "exec in `%s`", id);
	if (e1 > 0) {
		kill(e1, 9);
		waitpid(e1, NULL, 0);
	}
	if (e2 > 0) {
		kill(e2, 9);
		waitpid(e2, NULL, 0);
	}
	return -1;
}
