// SPDX-License-Identifier: GPL-2.0-or-later
/* The runtime side of the lifecycle: create, start, kill, delete. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "fault.h"
#include "image.h"
#include "jsonutil.h"
#include "kmodule.h"
#include "log.h"
#include "mount.h"
#include "net.h"
#include "net_devices.h"
#include "security.h"
#include "terminal.h"
#include "state.h"
#include "sync.h"
#include "utils.h"

int write_pid_file(const char *path, pid_t pid, hutch_err *err)
{
	cleanup_free char *abs = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_free char *data = xasprintf("%d", pid);

	abs = path[0] == '/' ? xstrdup(path) : ({
		char *cwd = getcwd(NULL, 0);
		char *r = xasprintf("%s/%s", cwd ? cwd : ".", path);
		free(cwd);
		r;
	});
	tmp = xasprintf("%s.%d.tmp", abs, getpid());
	if (write_file(tmp, data, strlen(data), err) < 0)
		return hutch_error_prefix(err, "--pid-file");
	if (rename(tmp, abs) < 0) {
		unlink(tmp);
		return hutch_fail(err, errno, "--pid-file: rename to `%s`", abs);
	}
	return 0;
}

/* A unix socket address for a path that may be longer than sun_path. */
static int unix_addr(int dirfd, const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (dirfd >= 0)
		snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	else if (strlen(name) < sizeof(sa->sun_path))
		strcpy(sa->sun_path, name);
	else
		return -1;
	*len = offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1;
	return 0;
}

int check_preserved_fds(int n, hutch_err *err)
{
	/*
	 * One that the caller did not pass could be taken by a file of hutch's, and leak:
	 * hutch opens every fd of its own close-on-exec (the held clone of the re-execution,
	 * security.h, the socket to hutch.ko, the log), and an fd the caller passed through
	 * execve is never close-on-exec. So one that is, is not the caller's.
	 */
	for (int fd = 3; fd < 3 + n; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl < 0 || (fl & FD_CLOEXEC))
			return hutch_fail(err, 0, "--preserve-fds %d: fd %d is not open", n, fd);
	}
	return 0;
}

static int write_id_maps(pid_t pid, const struct hutch_spec *s, hutch_err *err)
{
	/* without CAP_SETGID in our own namespace the kernel wants setgroups denied first */
	if (geteuid() != 0) {
		cleanup_free char *sg = xasprintf("%d/setgroups", pid);

		if (proc_write(sg, "deny", err) < 0)
			return hutch_error_prefix(err, "linux.gidMappings");
	}
	for (int which = 0; which < 2; which++) {
		const struct hutch_idmap *m = which ? s->gid_maps : s->uid_maps;
		size_t n = which ? s->ngid_maps : s->nuid_maps;
		cleanup_free char *buf = xstrdup("");
		cleanup_free char *path = xasprintf("%d/%s", pid, which ? "gid_map" : "uid_map");

		for (size_t i = 0; i < n; i++) {
			char *nb = xasprintf("%s%u %u %u\n", buf, m[i].container, m[i].host, m[i].size);

			free(buf);
			buf = nb;
		}
		if (proc_write(path, buf, err) < 0)
			return hutch_error_prefix(err, "linux.%s", which ? "gidMappings" : "uidMappings");
	}
	return 0;
}

static json_object *make_state_json(struct hutch_state *st, const struct hutch_spec *s,
				    struct hutch_cgroup *cg)
{
	json_object *o = json_object_new_object();
	cleanup_free char *now = rfc3339_now();

	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int(st->pid));
	json_object_object_add(o, "start_time", json_object_new_int64(st->start_time));
	json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(s->root));
	json_object_object_add(o, "created", json_object_new_string(now));
	json_object_object_add(o, "owner", json_object_new_string(""));
	if (s->annotations)
		json_object_object_add(o, "annotations", json_object_get(s->annotations));
	if (cg)
		json_object_object_add(o, "cgroup", hutch_cgroup_to_json(cg));
	return o;
}

/* Reload the fields that point into st->json after it was replaced. */
static int state_adopt(struct hutch_state *st, json_object *o)
{
	if (st->json)
		json_object_put(st->json);
	st->json = o;
	json_object_object_get_ex(o, "bundle", &o);
	st->bundle = json_object_get_string(o);
	json_object_object_get_ex(st->json, "rootfs", &o);
	st->rootfs = json_object_get_string(o);
	json_object_object_get_ex(st->json, "created", &o);
	st->created = json_object_get_string(o);
	st->annotations = NULL;
	json_object_object_get_ex(st->json, "annotations", &st->annotations);
	return 0;
}

int container_record(struct hutch_state *st, const struct hutch_spec *s, struct hutch_cgroup *cg,
		     hutch_err *err)
{
	state_adopt(st, make_state_json(st, s, cg));
	return state_save(st, err);
}

void container_cgroup_discard(struct hutch_cgroup *cg)
{
	cleanup_err hutch_err e = NULL;
	pid_t *pids = NULL;
	size_t n = 0;

	if (hutch_cgroup_pids(cg, &pids, &n, &e) == 0)
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
	free(pids);
	if (hutch_cgroup_destroy(cg, &e) < 0)
		log_warn("%s", e->msg);
}

void hutch_ctx_release(struct hutch_ctx *c)
{
	cleanup_closep(&c->console_fd);
	for (size_t i = 0; i < c->njoin; i++)
		cleanup_closep(&c->join_fds[i]);
	c->njoin = 0;
	for (size_t i = 0; i < c->ndev_fds; i++)
		cleanup_closep(&c->dev_fds[i]);
	free(c->dev_fds);
	c->dev_fds = NULL;
	c->ndev_fds = 0;
	if (c->sec)
		hutch_security_free(c->sec);
	c->sec = NULL;
}

static void kill_and_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * A container without a mount namespace made its mounts in the host's, under a bind of
 * its rootfs (init.c setup_rootfs): detaching that bind takes them all away.
 */
static uint64_t mount_id_of(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* STATE_HOST_MOUNTS: "MOUNT-ID ROOT", the id of the mount at ROOT before the bind */
static int host_mounts_record(int dirfd, const char *root, hutch_err *err)
{
	cleanup_free char *rec = xasprintf("%" PRIu64 " %s", mount_id_of(root), root);

	return write_file_at(dirfd, STATE_HOST_MOUNTS, rec, strlen(rec), err);
}

static void host_mounts_release(int dirfd)
{
	cleanup_free char *rec = NULL;
	uint64_t before;
	char *root;
	size_t len;

	if (read_file_at(dirfd, STATE_HOST_MOUNTS, &rec, &len, NULL) < 0)
		return;
	before = strtoull(rec, &root, 10);
	if (*root == ' ')
		root++;
	/* only a bind the container stacked on its rootfs, never the rootfs's own mount */
	if (before && mount_id_of(root) != before && umount2(root, MNT_DETACH) < 0)
		log_warn("detach the mounts of `%s`: %s", root, strerror(errno));
	unlinkat(dirfd, STATE_HOST_MOUNTS, 0);
}

int container_create(struct hutch_global *g, const char *id, const struct hutch_create_opts *o,
		     pid_t *init_pid, hutch_err *err)
{
	cleanup_spec struct hutch_spec *s = NULL;
	cleanup_cgroup struct hutch_cgroup *cg = NULL;
	cleanup_state struct hutch_state *st = NULL;
	cleanup_net struct hutch_net *net = NULL;
	cleanup_ctx struct hutch_ctx c = { .g = g, .id = id, .sync_fd = -1, .listen_fd = -1,
					   .console_fd = -1, .state_fd = -1 };
	cleanup_close int listen_fd = -1;
	cleanup_close_pair int sv[2] = { -1, -1 };
	cleanup_close_pair int tty_sv[2] = { -1, -1 };
	struct sockaddr_un sa;
	socklen_t salen;
	pid_t stage1 = -1, init = -1;
	bool cg_created = false, in_cgroup;
	int value;

	if (state_validate_id(id, err) < 0 || check_preserved_fds(o->preserve_fds, err) < 0)
		return -1;
	if (spec_load(o->bundle, o->config_path, &s, err) < 0)
		return -1;
	if (s->process.terminal && !o->console_socket && !o->foreground)
		return hutch_fail(err, 0,
				  "config.json: process.terminal is true: pass --console-socket, or set it to false");
	if (s->process.terminal && !o->console_socket && !o->tty_master)
		return hutch_fail(err, 0,
				  "config.json: process.terminal: a foreground terminal needs --console-socket here");
	if (o->preserve_fds < 0)
		return hutch_fail(err, 0, "--preserve-fds: must not be negative");
	{
		json_object *lin = NULL;

		json_object_object_get_ex(s->json, "linux", &lin);
		if (hutch_cgroup_prepare(g, id, lin, &cg, err) < 0)
			return -1;
	}
	if (hutch_security_prepare(s->json, s->process.json, NULL, s->process.no_new_privs, &c.sec,
				   err) < 0)
		return -1;
	c.spec = s;
	c.proc = &s->process;
	c.preserve_fds = o->preserve_fds;
	c.no_pivot = o->no_pivot;
	c.no_new_keyring = o->no_new_keyring;

	/* Namespaces joined by path are opened now, while their paths resolve. */
	for (size_t i = 0; i < s->nnamespaces; i++) {
		if (!s->namespaces[i].path)
			continue;
		c.join_fds[c.njoin] = open(s->namespaces[i].path, O_RDONLY | O_CLOEXEC);
		if (c.join_fds[c.njoin] < 0) {
			return hutch_fail(err, errno, "config.json: linux.namespaces[%zu].path: `%s`", i,
					  s->namespaces[i].path);
		}
		c.join_types[c.njoin++] = s->namespaces[i].type;
	}
	if (o->console_socket) {
		c.console_fd = hutch_console_connect(o->console_socket, err);
		if (c.console_fd < 0)
			return -1;
	} else if (s->process.terminal) {
		/* foreground run: the init sends the pty master to us (terminal.h) */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_sv) < 0)
			return hutch_fail(err, errno, "socketpair for the terminal");
		c.console_fd = steal_fd(&tty_sv[1]);
		hutch_terminal_default_size(&s->process.console_height, &s->process.console_width);
	}

	if (state_create(g, id, &st, err) < 0)
		return -1;
	/* From here on, failure must leave nothing behind. */
	{
		const char *cfg = json_str(s->json, false);

		if (write_file_at(st->dirfd, STATE_CONFIG, cfg, strlen(cfg), err) < 0)
			goto fail;
	}
	if (!spec_has_ns(s, CLONE_NEWNS) && s->nmounts &&
	    host_mounts_record(st->dirfd, s->root, err) < 0)
		goto fail;
	HUTCH_FAULT("create.state");
	if ((s->ns_new & CLONE_NEWUSER) && s->ndevices &&
	    make_host_device_nodes(s, st->dirfd, &c.dev_fds, err) < 0)
		goto fail;
	c.ndev_fds = c.dev_fds ? s->ndevices : 0;
	/* networking (net.h): lease, /etc files and their mounts, before the fork */
	if (hutch_net_prepare(g, id, s, &o->net, st->dirfd, st->dir, &net, err) < 0)
		goto fail;
	HUTCH_FAULT("create.net");
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unix_addr(st->dirfd, STATE_EXEC_SOCK, &sa, &salen);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, salen) < 0 ||
	    listen(listen_fd, 4) < 0) {
		hutch_fail(err, errno, "exec socket in `%s`", st->dir);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		hutch_fail(err, errno, "socketpair");
		goto fail;
	}
	/* what the cgroups will be, before they are: a delete after a crash finds them */
	{
		json_object *plan = hutch_cgroup_plan_json(cg);
		const char *pj = json_str(plan, false);
		int wr = write_file_atomic_at(st->dirfd, STATE_CGROUP, pj, strlen(pj), err);

		json_object_put(plan);
		if (wr < 0)
			goto fail;
	}
	if (hutch_cgroup_create(cg, err) < 0) {
		if (!hutch_cgroup_rootless_fallback(cg, *err))
			goto fail;
		log_debug("%s: rootless, no linux.resources: running without cgroups", (*err)->msg);
		hutch_error_free(err);
	}
	cg_created = true;
	HUTCH_FAULT("create.cgroup");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	c.listen_fd = listen_fd;
	c.state_fd = st->dirfd;
	c.sync_fd = sv[1];
	c.cg = cg;
	hutch_cgroup_enter_open(cg);
	/* the short way: the init cloned straight into its namespaces (init.c: init_direct) */
	if (init_direct_possible(&c)) {
		init = clone_ns_into_cgroup(s->ns_new & ~CLONE_NEWCGROUP, hutch_cgroup_v2_fd(cg),
					    &in_cgroup);
		if (init == 0) {
			close(sv[0]);
			c.await_go = hutch_cgroup_enter_pending(cg, in_cgroup);
			init_direct(&c);
		}
		if (init < 0)
			log_debug("clone3 into the namespaces: %s; forking a stage 1", strerror(errno));
	}
	if (init < 0) {
		stage1 = fork_into_cgroup(hutch_cgroup_v2_fd(cg), &in_cgroup);
		if (stage1 < 0) {
			hutch_fail(err, errno, "fork");
			goto fail;
		}
		if (stage1 == 0) {
			close(sv[0]);
			c.await_go = hutch_cgroup_enter_pending(cg, in_cgroup);
			init_stage1(&c);
		}
	}
	cleanup_closep(&sv[1]);
	HUTCH_FAULT("create.fork");
	/* what the child cannot enter by itself is entered before it may go on */
	c.await_go = hutch_cgroup_enter_pending(cg, in_cgroup);
	if (hutch_cgroup_enter(cg, init > 0 ? init : stage1, in_cgroup, err) < 0 ||
	    (c.await_go && sync_send(sv[0], SYNC_GO, 0, NULL) < 0))
		goto fail;
	if (stage1 > 0 && (s->ns_new & CLONE_NEWUSER)) {
		if (sync_recv(sv[0], SYNC_USERNS, NULL, NULL, err) < 0 ||
		    write_id_maps(stage1, s, err) < 0 || sync_send(sv[0], SYNC_USERNS_DONE, 0, NULL) < 0)
			goto fail;
	}
	if (stage1 > 0) {
		int status;

		if (sync_recv(sv[0], SYNC_PID, &value, NULL, err) < 0)
			goto fail;
		init = value;
		while (waitpid(stage1, &status, 0) < 0 && errno == EINTR)
			;
		stage1 = -1;
	}
	st->pid = init;
	HUTCH_FAULT("create.pid");
	if (pid_start_time(init, &st->start_time, NULL) < 0) {
		hutch_fail(err, 0, "the container init exited during setup");
		goto fail;
	}
	/* networking: veth into the init's network namespace, addresses, routes, ports */
	if (hutch_net_setup(net, init, err) < 0 ||
	    net_devices_move_in(s, init, st->dirfd, st->dir, err) < 0)
		goto fail;
	HUTCH_FAULT("create.netsetup");
	/* hutch.ko: track the init and its descendants from now on */
	if (hutch_kmod_ct_create(id, init, err) < 0)
		goto fail;
	if (s->process.has_oom_score_adj) {
		cleanup_free char *p = xasprintf("%d/oom_score_adj", init);
		cleanup_free char *v = xasprintf("%d", s->process.oom_score_adj);

		if (proc_write(p, v, err) < 0) {
			hutch_error_prefix(err, "process.oomScoreAdj");
			goto fail;
		}
	}
	if (sync_send(sv[0], SYNC_GO, 0, NULL) < 0 || sync_recv(sv[0], SYNC_HOOKS, NULL, NULL, err) < 0)
		goto fail;
	state_adopt(st, make_state_json(st, s, cg));
	if (state_save(st, err) < 0)
		goto fail;
	HUTCH_FAULT("create.saved");
	{
		json_object *oci = state_oci_json(st, STATUS_CREATING);
		cleanup_free char *sj = xstrdup(json_str(oci, false));

		json_object_put(oci);
		if (hutch_hooks_run(s->json, "prestart", sj, err) < 0 ||
		    hutch_hooks_run(s->json, "createRuntime", sj, err) < 0 ||
		    sync_send(sv[0], SYNC_HOOKS_DONE, 0, sj) < 0)
			goto fail;
	}
	HUTCH_FAULT("create.hooks");
	if (sync_recv(sv[0], SYNC_READY, NULL, NULL, err) < 0)
		goto fail;
	HUTCH_FAULT("create.ready");
	if (tty_sv[0] >= 0) {
		*o->tty_master = hutch_terminal_recv(tty_sv[0], err);
		if (*o->tty_master < 0)
			goto fail;
	}
	if (o->pid_file && write_pid_file(o->pid_file, init, err) < 0)
		goto fail;
	if (init_pid)
		*init_pid = init;
	return 0;

fail:
	hutch_error_prefix(err, "create `%s`", id);
	/* the undoing needs fds of its own (create may have failed with EMFILE): ours go first */
	hutch_selfexe_release();
	cleanup_closep(&listen_fd);
	cleanup_closep(&sv[0]);
	cleanup_closep(&sv[1]);
	cleanup_closep(&tty_sv[0]);
	cleanup_closep(&c.console_fd);
	hutch_kmod_ct_delete(id, NULL);
	hutch_kmod_release();
	kill_and_reap(stage1);
	if (st)
		net_devices_release(st->dirfd, st->dir);
	if (init > 0)
		kill_and_reap(init);
	if (cg_created)
		container_cgroup_discard(cg);
	if (st) {
		cleanup_err hutch_err e3 = NULL;

		if (hutch_net_teardown(g, id, st->dirfd, &e3) < 0)
			log_warn("%s", e3->msg);
		host_mounts_release(st->dirfd);
		state_remove(st, NULL);
	}
	return -1;
}

/* Wait for the init to exit, up to timeout_ms. */
static bool wait_gone(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) > 0;
}

int container_start(struct hutch_global *g, const char *id, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_close int fd = -1;
	cleanup_free char *cfgpath = NULL;
	cleanup_json json_object *cfg = NULL;
	struct sockaddr_un sa;
	socklen_t salen;
	enum hutch_status status;
	char reply[4096];
	ssize_t n;

	if (state_open(g, id, true, &st, err) < 0)
		return -1;
	status = state_status(st);
	if (status != STATUS_CREATED)
		return hutch_fail(err, 0, "cannot start container `%s`: it is %s, not created", id,
				  status_name(status));
	cfgpath = xasprintf("%s/" STATE_CONFIG, st->dir);
	json_parse_file(cfgpath, STATE_CONFIG, &cfg, NULL);   /* unreadable: as before, no poststart */
	if (cfg && !json_object_object_get_ex(cfg, "process", NULL)) {
		/* As crun: the start fails and the container is stopped (its init, which has
		 * nothing to run, is killed), so that `delete` without --force cleans it up. */
		cleanup_close int pidfd = state_init_pidfd(st);

		if (pidfd >= 0 && pidfd_send(pidfd, SIGKILL) == 0)
			wait_gone(pidfd, 5000);
		return hutch_fail(err, 0, "start `%s`: config.json: process: missing (a container without "
				  "a process can be created, not started: it is stopped now)", id);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unix_addr(st->dirfd, STATE_EXEC_SOCK, &sa, &salen);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0)
		return hutch_fail(err, errno, "start `%s`: connect to the container", id);
	unlinkat(st->dirfd, STATE_EXEC_SOCK, 0);
	HUTCH_FAULT("start.connected");
	if (write_all(fd, "start", 5) < 0)
		return hutch_fail(err, errno, "start `%s`", id);
	HUTCH_FAULT("start.sent");
	n = read_all(fd, reply, sizeof(reply) - 1);
	if (n < 0)
		return hutch_fail(err, errno, "start `%s`", id);
	reply[n] = '\0';
	if (n == 0)
		return hutch_fail(err, 0, "start `%s`: the container process exited before it started", id);
	if (strcmp(reply, "ok") != 0)   /* an error after an early "ok" still counts */
		return hutch_fail(err, 0, "start `%s`: %s", id, str_has_prefix(reply, "ok") ? reply + 2 : reply);
	if (cfg) {
		json_object *oci = state_oci_json(st, STATUS_RUNNING);

		hutch_hooks_run(cfg, "poststart", json_str(oci, false), NULL);
		json_object_put(oci);
	}
	return 0;
}

/* Processes in the same pid namespace as the init (when cgroups are off). */
static int pids_by_pidns(struct hutch_state *st, pid_t **out, size_t *n, hutch_err *err)
{
	cleanup_free char *initns = xasprintf("/proc/%d/ns/pid", st->pid);
	struct stat ref;
	DIR *d;
	struct dirent *e;
	pid_t *v = NULL;
	size_t cnt = 0;

	if (stat(initns, &ref) < 0)
		return hutch_fail(err, errno, "stat `%s`", initns);
	d = opendir("/proc");
	if (!d)
		return hutch_fail(err, errno, "open /proc");
	while ((e = readdir(d))) {
		uint64_t pid;
		cleanup_free char *p = NULL;
		struct stat st2;

		if (parse_u64(e->d_name, &pid) < 0)
			continue;
		p = xasprintf("/proc/%s/ns/pid", e->d_name);
		if (stat(p, &st2) == 0 && st2.st_ino == ref.st_ino && st2.st_dev == ref.st_dev) {
			v = xrealloc(v, (cnt + 1) * sizeof(*v));
			v[cnt++] = pid;
		}
	}
	closedir(d);
	*out = v;
	*n = cnt;
	return 0;
}

int container_pids(struct hutch_state *st, pid_t **pids, size_t *n, hutch_err *err)
{
	int r;

	/* hutch.ko keeps the list in the kernel (CT_PIDS) */
	r = hutch_kmod_ct_pids(st->id, pids, n, err);
	if (r != 0)
		return r < 0 ? -1 : 0;

	if (st->cg)
		return hutch_cgroup_pids(st->cg, pids, n, err);
	/* without a cgroup: the pid namespace, if the container has its own */
	{
		cleanup_free char *a = xasprintf("/proc/%d/ns/pid", st->pid);
		struct stat s1, s2;

		if (stat(a, &s1) == 0 && stat("/proc/self/ns/pid", &s2) == 0 && s1.st_ino != s2.st_ino)
			return pids_by_pidns(st, pids, n, err);
	}
	*pids = xmalloc(sizeof(pid_t));
	(*pids)[0] = st->pid;
	*n = 1;
	return 0;
}

int container_signal_all(struct hutch_state *st, int sig, hutch_err *err)
{
	cleanup_free pid_t *pids = NULL;
	bool thaw = false;
	size_t n = 0;
	int r;

	/* hutch.ko signals them all in the kernel, atomically with forks (CT_KILL) */
	r = hutch_kmod_ct_kill_all(st->id, sig, err);
	if (r != 0)
		return r < 0 ? -1 : 0;

	/* freeze so nothing forks past us, signal everyone, thaw */
	if (st->cg && !hutch_cgroup_frozen(st->cg)) {
		if (hutch_cgroup_freeze(st->cg, true, NULL) == 0)
			thaw = true;
	}
	if (container_pids(st, &pids, &n, err) < 0) {
		if (thaw)
			hutch_cgroup_freeze(st->cg, false, NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			log_warn("kill %d: %s", pids[i], strerror(errno));
	if (thaw || (sig == SIGKILL && st->cg && hutch_cgroup_frozen(st->cg)))
		hutch_cgroup_freeze(st->cg, false, NULL);
	return 0;
}

int container_kill(struct hutch_global *g, const char *id, int sig, bool all, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_close int pidfd = -1;
	enum hutch_status status;

	if (state_open(g, id, false, &st, err) < 0)
		return -1;
	status = state_status(st);   /* (one CT_GET with the module) */
	/* As runc: --all on a stopped container signals nothing and succeeds (containerd's
	 * shim kills --all when it deletes an exited task). The wording "container not
	 * running" is what the runc shim matches to treat the process as already gone. */
	if (all && status == STATUS_STOPPED)
		return 0;
	if (status == STATUS_STOPPED || status == STATUS_CREATING)
		return hutch_fail(err, 0, "cannot signal `%s`: container not running", id);
	if (all)
		return container_signal_all(st, sig, err);
	pidfd = state_init_pidfd(st);
	if (pidfd < 0)
		return hutch_fail(err, 0, "cannot signal `%s`: container not running", id);
	if (pidfd_send(pidfd, sig) < 0)
		return hutch_fail(err, errno, "kill `%s`", id);
	return 0;
}

int container_delete(struct hutch_global *g, const char *id, bool force, hutch_err *err)
{
	cleanup_state struct hutch_state *st = NULL;
	cleanup_close int pidfd = -1;
	enum hutch_status status;

	if (state_open(g, id, true, &st, err) < 0)
		return -1;
	status = state_status(st);
	if ((status == STATUS_RUNNING || status == STATUS_PAUSED) && !force)
		return hutch_fail(err, 0, "cannot delete container `%s`: it is %s (stop it first or use --force)",
				  id, status_name(status));
	pidfd = state_init_pidfd(st);
	/* linux.netDevices go home (from their namespace, kept in the state dir) */
	net_devices_release(st->dirfd, st->dir);
	if (pidfd >= 0) {
		container_signal_all(st, SIGKILL, NULL);
		pidfd_send(pidfd, SIGKILL);
		if (!wait_gone(pidfd, 10000))
			return hutch_fail(err, 0, "delete `%s`: the container init did not exit", id);
	}
	HUTCH_FAULT("delete.killed");
	if (st->cg) {
		/* stragglers outside the init's pid namespace view still die with the cgroup */
		for (int tries = 0; tries < 100; tries++) {
			cleanup_free pid_t *pids = NULL;
			size_t n = 0;

			if (hutch_cgroup_pids(st->cg, &pids, &n, NULL) < 0 || n == 0)
				break;
			container_signal_all(st, SIGKILL, NULL);
			hutch_cgroup_wait_empty(st->cg, 10);
		}
		if (hutch_cgroup_destroy(st->cg, err) < 0)
			return hutch_error_prefix(err, "delete `%s`", id);
	}
	HUTCH_FAULT("delete.cgroup");
	if (hutch_kmod_ct_delete(id, err) < 0)
		return hutch_error_prefix(err, "delete `%s`", id);
	if (st->json) {
		cleanup_free char *cfgpath = xasprintf("%s/" STATE_CONFIG, st->dir);
		cleanup_json json_object *cfg = NULL;

		if (json_parse_file(cfgpath, STATE_CONFIG, &cfg, NULL) == 0) {
			json_object *oci = state_oci_json(st, STATUS_STOPPED);

			hutch_hooks_run(cfg, "poststop", json_str(oci, false), NULL);
			json_object_put(oci);
		}
	}
	if (hutch_net_teardown(g, id, st->dirfd, err) < 0)
		return hutch_error_prefix(err, "delete `%s`", id);
	host_mounts_release(st->dirfd);
	HUTCH_FAULT("delete.net");
	if (state_remove(st, err) < 0)
		return -1;
	/* the overlay rootfs of a `run|create --image` container (image_bundle.c) */
	return hutch_image_release(id, g->root, err);
}

static volatile sig_atomic_t pending[65];

static void on_signal(int sig)
{
	pending[sig] = 1;
}

int wait_forward(pid_t pid)
{
	static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				   SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction sa = { .sa_handler = on_signal };
	int status;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	for (;;) {
		pid_t r = waitpid(-1, &status, 0);

		if (r < 0 && errno == EINTR) {
			for (int s = 1; s < 65; s++) {
				if (pending[s]) {
					pending[s] = 0;
					kill(pid, s);
				}
			}
			continue;
		}
		if (r < 0)
			return 255;
		if (r != pid)
			continue;   /* a reparented orphan */
		break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
