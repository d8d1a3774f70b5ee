/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container lifecycle as a library; the commands in helper/cli/ are thin wrappers. */
#ifndef HUTCH_CONTAINER_H
#define HUTCH_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "hutch.h"
#include "net.h"
#include "spec.h"

struct hutch_security;
struct hutch_cgroup;

struct hutch_create_opts {
	const char *bundle;          /* default "." */
	const char *config_path;     /* default <bundle>/config.json */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool foreground;             /* `run` without --detach: we wait for the init */
	struct hutch_net_opts net;   /* --net, -p, --ip (net.h) */
	int *tty_master;             /* foreground terminal without --console-socket: the
					pty master comes back here (terminal.h), else -1 */
};

/* hutch exec: the process to run, as runc's exec options give it. */
struct hutch_exec_opts {
	const char *process_file;    /* --process: a whole process object, instead of args */
	const char *console_socket;
	const char *cwd, *user;      /* --cwd, --user UID[:GID] */
	const char *pid_file;
	const char *apparmor, *process_label; /* override process.apparmorProfile / selinuxLabel */
	char **env, **caps;          /* --env NAME=VALUE, --cap CAP (NULL-terminated) */
	gid_t *gids;                 /* --additional-gids */
	size_t ngids;
	int preserve_fds;
	bool tty, detach, no_new_privs;
};

/*
 * What the setup processes need; they are forked, so they inherit a copy. The parent's
 * copy owns console_fd, join_fds, dev_fds and sec: cleanup_ctx releases them.
 */
struct hutch_ctx {
	const struct hutch_global *g;
	const char *id;
	struct hutch_spec *spec;
	struct hutch_process *proc;  /* the process to run */
	struct hutch_security *sec;
	int sync_fd;                 /* the child's end of the sync pair */
	int listen_fd;               /* exec.sock: init waits here for `start` */
	int state_fd;                /* the locked state dir: the children must not hold it */
	int console_fd;              /* connected --console-socket, or -1 */
	int preserve_fds;
	bool no_pivot, no_new_keyring;
	int join_fds[8];             /* namespaces to join, by path */
	int join_types[8];
	size_t njoin;
	int *dev_fds;                /* host nodes for linux.devices in a user namespace */
	size_t ndev_fds;
	int exec_pidfd;              /* exec: the container init */
	int exec_rootfd;             /* exec: /proc/<init>/root */
	int exec_nsflags;            /* exec: namespaces that differ from ours */
	char *host_cgroups;          /* init: /proc/self/cgroup read before the new cgroup
					namespace hid the paths (init.c: bind_cgroup) */
	struct hutch_cgroup *cg;     /* the child enters it first thing (hutch_cgroup_enter_self) */
	bool await_go;               /* ... then waits for the runtime's go: it has cgroups to
					write for the child (hutch_cgroup_enter_pending) */
};

void hutch_ctx_release(struct hutch_ctx *c);
#define cleanup_ctx __attribute__((cleanup(hutch_ctx_release)))

int container_create(struct hutch_global *g, const char *id, const struct hutch_create_opts *o,
		     pid_t *init_pid, hutch_err *err);
int container_start(struct hutch_global *g, const char *id, hutch_err *err);
int container_kill(struct hutch_global *g, const char *id, int sig, bool all, hutch_err *err);
int container_delete(struct hutch_global *g, const char *id, bool force, hutch_err *err);
/*
 * Run args (or o->process_file) in container id (exec.c). Returns the process's exit
 * code, 0 with --detach, or <0 with *err set.
 */
int container_exec(struct hutch_global *g, const char *id, const struct hutch_exec_opts *o,
		   char **args, hutch_err *err);

struct hutch_state;
/* Every pid of the container (cgroup, or its pid namespace when cgroups are off). */
int container_pids(struct hutch_state *st, pid_t **pids, size_t *n, hutch_err *err);
int container_signal_all(struct hutch_state *st, int sig, hutch_err *err);

/* state.json of a container whose init is st->pid (create, restore): written now. */
int container_record(struct hutch_state *st, const struct hutch_spec *s, struct hutch_cgroup *cg,
		     hutch_err *err);

/* A failed create's or restore's cgroup: its processes killed, its directories removed. */
void container_cgroup_discard(struct hutch_cgroup *cg);

/* Container-process side (init.c). */
__attribute__((noreturn)) void init_stage1(struct hutch_ctx *c);
/*
 * Without a user namespace, namespaces joined by path or a time namespace, the init is
 * cloned straight into its new namespaces (clone3) and needs no stage 1 (one process
 * fewer, one sync round trip fewer): init_direct creates the cgroup namespace once it is
 * in its cgroups, then goes on as stage 2.
 */
bool init_direct_possible(const struct hutch_ctx *c);
__attribute__((noreturn)) void init_direct(struct hutch_ctx *c);
__attribute__((noreturn)) void exec_stage1(struct hutch_ctx *c);
/* Shared by init and exec: user, umask, cwd, security, then execve. */
int process_exec(struct hutch_ctx *c, int reply_fd, hutch_err *err);
/* Resolve args[0] against PATH from the process environment. */
char *find_executable(const char *name, char *const *env);

/* Run a foreground child until it exits, forwarding signals; returns the exit code. */
int wait_forward(pid_t pid);

/* Every fd that --preserve-fds n passes (3 .. 3+n-1) must be open when hutch starts. */
int check_preserved_fds(int n, hutch_err *err);

/* Write pid to path atomically (pid files are read by other programs). */
int write_pid_file(const char *path, pid_t pid, hutch_err *err);

#endif
