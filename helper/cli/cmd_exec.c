// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch exec: run another process inside a container's namespaces and cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cgroup.h"
#include "container.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "log.h"
#include "security.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_opts {
	const char *process_file, *console_socket, *cwd, *user, *pid_file;
	const char *apparmor, *process_label; /* override process.apparmorProfile / selinuxLabel */
	char **env, **caps;
	gid_t *gids;
	size_t ngids;
	int preserve_fds;
	bool tty, detach, no_new_privs;
};

/* Namespaces of pid that differ from ours: what setns must join. */
static int differing_namespaces(pid_t pid)
{
	static const struct {
		const char *name;
		int flag;
	} ns[] = {
		{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "uts", CLONE_NEWUTS },
		{ "ipc", CLONE_NEWIPC }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID },
		{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
	};
	int flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		cleanup_free char *a = xasprintf("/proc/%d/ns/%s", pid, ns[i].name);
		cleanup_free char *b = xasprintf("/proc/self/ns/%s", ns[i].name);
		struct stat sa, sb;

		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino != sb.st_ino)
			flags |= ns[i].flag;
	}
	return flags;
}

/* --apparmor and --process-label, as runc: they win over the process object's own. */
static void set_labels(const struct exec_opts *o, json_object *p)
{
	if (o->apparmor)
		json_object_object_add(p, "apparmorProfile", json_object_new_string(o->apparmor));
	if (o->process_label)
		json_object_object_add(p, "selinuxLabel", json_object_new_string(o->process_label));
}

/* The process object to run: --process FILE, or config.process with overrides. */
static int build_process(const struct exec_opts *o, json_object *cfg, char **args,
			 json_object **out, hutch_err *err)
{
	json_object *base = NULL, *p, *env, *user;

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
		    (colon && (parse_u64(colon, &gid) < 0 || gid > UINT32_MAX - 1))) {
			json_object_put(p);
			return hutch_fail(err, 0, "--user: `%s` is not UID[:GID]", o->user);
		}
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
	*out = p;
	return 0;
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

static int do_exec(struct hutch_global *g, const char *id, const struct exec_opts *o, char **args,
		   hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_json json_object *cfg = NULL;
	cleanup_json json_object *pj = NULL;
	cleanup_free char *cfgpath = NULL;
	struct hutch_process proc = { 0 };
	struct hutch_security *sec = NULL;
	struct hutch_ctx c = { .g = g, .id = id, .sync_fd = -1, .listen_fd = -1, .console_fd = -1,
			       .state_fd = -1 };
	cleanup_close int pidfd = -1, rootfd = -1;
	int sv[2] = { -1, -1 }, tty_sv[2] = { -1, -1 };
	cleanup_close int master = -1;
	struct hutch_tty_proxy *proxy = NULL;
	enum hutch_status status;
	pid_t e1 = -1, e2 = -1;
	bool in_v2 = false;
	int r = -1, value;

	if (state_open(g, id, false, &st, err) < 0)
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
			goto out;
	} else if (proc.terminal && o->detach) {
		hutch_fail(err, 0, "exec: --tty with --detach needs --console-socket");
		goto out;
	} else if (proc.terminal) {
		/* foreground: the child sends the pty master to us, we proxy it (terminal.h) */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_sv) < 0) {
			hutch_fail(err, errno, "socketpair for the terminal");
			goto out;
		}
		c.console_fd = tty_sv[1];
		hutch_terminal_default_size(&proc.console_height, &proc.console_width);
	}
	if (hutch_security_prepare(cfg, pj, o->caps, proc.no_new_privs, &sec, err) < 0)
		goto out;
	{
		cleanup_free char *rp = xasprintf("/proc/%d/root", st->pid);

		rootfd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			hutch_fail(err, errno, "open `%s`", rp);
			goto out;
		}
	}
	c.proc = &proc;
	c.sec = sec;
	c.preserve_fds = o->preserve_fds;
	c.exec_pidfd = pidfd;
	c.exec_rootfd = rootfd;
	c.exec_nsflags = differing_namespaces(st->pid);
	c.state_fd = st->dirfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		hutch_fail(err, errno, "socketpair");
		goto out;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	c.sync_fd = sv[1];
	if (st->cg) {
		c.cg = st->cg;
		hutch_cgroup_enter_open(st->cg);
	}
	e1 = fork_into_cgroup(st->cg ? hutch_cgroup_v2_fd(st->cg) : -1, &in_v2);
	if (e1 < 0) {
		hutch_fail(err, errno, "fork");
		goto out;
	}
	c.await_go = hutch_cgroup_enter_pending(st->cg, in_v2);
	if (e1 == 0) {
		close(sv[0]);
		exec_stage1(&c);
	}
	close(sv[1]);
	sv[1] = -1;
	if (st->cg && hutch_cgroup_enter(st->cg, e1, in_v2, err) < 0)
		goto fail;
	if ((c.await_go && sync_send(sv[0], SYNC_GO, 0, NULL) < 0) ||
	    sync_recv(sv[0], SYNC_PID, &value, NULL, err) < 0)
		goto fail;
	e2 = value;
	/* hutch.ko: account the new process to the container before it runs */
	if (hutch_kmod_ct_exec(id, e2, err) < 0)
		goto fail;
	while (waitpid(e1, NULL, 0) < 0 && errno == EINTR)
		;
	e1 = -1;
	/* the child learns its pid as the host sees it (for a seccomp notify listener) */
	if (sync_send(sv[0], SYNC_GO, e2, NULL) < 0 || wait_exec(sv[0], err) < 0)
		goto fail;
	if (o->pid_file && write_pid_file(o->pid_file, e2, err) < 0)
		goto fail;
	if (o->detach) {
		r = 0;
		goto out;
	}
	close(sv[0]);
	sv[0] = -1;
	if (tty_sv[0] >= 0) {
		master = hutch_terminal_recv(tty_sv[0], err);
		if (master < 0 || hutch_terminal_proxy_start(master, &proxy, err) < 0)
			goto fail;
	}
	r = wait_forward(e2);
	hutch_terminal_proxy_end(proxy);
	goto out;
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
	r = -1;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (tty_sv[0] >= 0)
		close(tty_sv[0]);
	if (c.console_fd >= 0)
		close(c.console_fd);
	if (sec)
		hutch_security_free(sec);
	spec_process_clear(&proc);
	return r;
}

HUTCH_COMMAND(exec)
{
	enum { O_PROCESS = 256, O_CONSOLE, O_CWD, O_PIDFILE, O_PRESERVE, O_NNP, O_LABEL, O_APPARMOR,
	       O_IGNORED };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, O_PROCESS },
		{ "tty", no_argument, NULL, 't' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "process-label", required_argument, NULL, O_LABEL },
		{ "apparmor", required_argument, NULL, O_APPARMOR },
		{ "ignore-paused", no_argument, NULL, O_IGNORED },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("exec");
	struct exec_opts o = { 0 };
	cleanup_free gid_t *gids = NULL;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:te:u:g:dc:", opts, NULL)) != -1) {
		uint64_t n;

		switch (c) {
		case O_PROCESS: o.process_file = optarg; break;
		case 't': o.tty = true; break;
		case O_CONSOLE: o.console_socket = optarg; break;
		case O_CWD: o.cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				r = hutch_usage_error(cmd, err, "--env: `%s` is not NAME=VALUE", optarg);
				goto out;
			}
			strv_push(&o.env, xstrdup(optarg));
			break;
		case 'u': o.user = optarg; break;
		case 'g':
			if (parse_u64(optarg, &n) < 0 || n > UINT32_MAX - 1) {
				r = hutch_usage_error(cmd, err, "--additional-gids: `%s` is not a group id", optarg);
				goto out;
			}
			gids = xrealloc(gids, (o.ngids + 1) * sizeof(gid_t));
			gids[o.ngids++] = n;
			break;
		case 'd': o.detach = true; break;
		case O_PIDFILE: o.pid_file = optarg; break;
		case O_PRESERVE:
			if (parse_u64(optarg, &n) < 0 || n > 1024) {
				r = hutch_usage_error(cmd, err, "--preserve-fds: `%s` is not a number from 0 to 1024", optarg);
				goto out;
			}
			o.preserve_fds = n;
			break;
		case 'c': strv_push(&o.caps, xstrdup(optarg)); break;
		case O_NNP: o.no_new_privs = true; break;
		case O_LABEL: o.process_label = optarg; break;
		case O_APPARMOR: o.apparmor = optarg; break;
		case O_IGNORED:
			break;
		case ':':
			r = hutch_usage_error(cmd, err, "option `%s` needs a value", argv[optind - 1]);
			goto out;
		default:
			r = hutch_usage_error(cmd, err, "unknown option `%s`", argv[optind - 1]);
			goto out;
		}
	}
	o.gids = gids;
	if (optind >= argc) {
		r = hutch_usage_error(cmd, err, "missing container id");
		goto out;
	}
	if (o.process_file && optind + 1 < argc) {
		r = hutch_usage_error(cmd, err, "give either --process or a command, not both");
		goto out;
	}
	r = do_exec(g, argv[optind], &o, argv + optind + 1, err);
out:
	strv_free(o.env);
	strv_free(o.caps);
	return r;
}
