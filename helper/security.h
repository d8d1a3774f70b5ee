/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process security, hooks and terminals (capabilities, seccomp, masked and read-only
 * paths, sysctl, personality, scheduler, ioPriority, LSM labels).
 *
 *   parent (create):  hutch_security_prepare   parse and validate everything from
 *                                             config.json; nothing applied yet. The
 *                                             seccomp profile is compiled to BPF here,
 *                                             and a notify listener socket connected.
 *   container init, after pivot_root (or chroot), still root in the container:
 *                     hutch_security_apply_fs  sysctl, maskedPaths, readonlyPaths
 *   container init / exec child, right before execve, after setuid/setgid:
 *                     hutch_security_apply_process  caps, LSM labels, personality,
 *                                             scheduler, ioprio, no_new_privs, seccomp (last)
 */
#ifndef HUTCH_SECURITY_H
#define HUTCH_SECURITY_H

#include <stdbool.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "error.h"

struct hutch_security;

/*
 * config is the whole config.json; process is the process object (config.process,
 * or the --process file of exec). extra_caps are exec --cap names (may be NULL):
 * each is added to the bounding, effective and permitted sets. Errors name the JSON
 * path ("config.json: linux.seccomp.syscalls[2].action: unknown action ..."). Also
 * validates config.hooks. An unknown capability name is an error; one the running
 * kernel lacks is a warning.
 */
int hutch_security_prepare(json_object *config, json_object *process, char *const *extra_caps,
			   bool no_new_privs, struct hutch_security **out, hutch_err *err);
/*
 * For a seccomp SCMP_ACT_NOTIFY listener: the container state JSON and the pid (as
 * the host sees it) sent with the notify fd. Call before apply_process (the init
 * has both once the parent sent the state; pid <= 0 takes the state's "pid"); without
 * it, the pid is getpid().
 */
void hutch_security_set_state(struct hutch_security *sec, const char *state_json, pid_t pid);
/* linux.mountLabel when SELinux is enabled (validated in prepare), or NULL. */
const char *hutch_security_mount_label(const struct hutch_security *sec);
/* The connected linux.seccomp.listenerPath socket the container's process uses (or -1):
 * kept when the runtime's other fds are closed. */
int hutch_security_listener_fd(const struct hutch_security *sec);
int hutch_security_apply_fs(struct hutch_security *sec, hutch_err *err);
/*
 * Called with the final uid/gid already set (caps kept with PR_SET_KEEPCAPS).
 * Order: permitted caps made effective; personality, scheduler, ioprio, LSM exec
 * labels; no_new_privs; bounding set; effective/permitted/inheritable; ambient;
 * seccomp. Without noNewPrivileges and with CAP_SYS_ADMIN dropped, seccomp must go
 * in before the final capset (the kernel needs one or the other), so the profile
 * must then allow capset.
 */
int hutch_security_apply_process(struct hutch_security *sec, hutch_err *err);
void hutch_security_free(struct hutch_security *sec);

/*
 * fd is where the init answers `start`: apply_process writes "ok" there just before it
 * loads seccomp, so a profile that denies write() cannot turn a good start into an
 * error; ready_sent says whether it did.
 */
void hutch_security_set_ready_fd(struct hutch_security *sec, int fd);
bool hutch_security_ready_sent(const struct hutch_security *sec);

/*
 * Hooks (config.hooks.<kind>), state_json on each hook's stdin. For kinds whose
 * failure is fatal (prestart, createRuntime, createContainer, startContainer) a
 * failure returns <0; for poststart and poststop it is logged as a warning.
 * A hook runs with exactly its env (none when absent), args (default [path]);
 * timeout (seconds) kills it with SIGKILL. Its output is captured and quoted in
 * the error (debug log on success). err may be NULL.
 */
int hutch_hooks_run(json_object *config, const char *kind, const char *state_json, hutch_err *err);
/* Validate config.hooks (done by hutch_security_prepare too). */
int hutch_hooks_validate(json_object *config, hutch_err *err);

/*
 * CVE-2019-5736: make sure nothing in a container can open the runtime for writing
 * through /proc/<pid>/exe (selfexe.c). Call it before any work for the commands that put
 * a runtime process into a container: create and run with id NULL (first thing in
 * main), exec with the container's id (first thing in container_exec). Returns 0 at
 * once when the binary is already protected (read-only mount, sealed copy, or hutch.ko's
 * write guard for that container: hutch_kmod_exe_guarded(id)); otherwise re-executes the
 * binary once from a read-only clone or a sealed memfd copy (main's argv, which
 * hutch_selfexe_init recorded, environ unchanged) and returns 0 there.
 * HUTCH_NO_SEALED_EXE=1 turns it off (debugging only).
 */
void hutch_selfexe_init(char **argv);
int hutch_selfexe_protect(const char *id, hutch_err *err);
/*
 * The read-only clone the process was re-executed from stays open (close-on-exec) until
 * hutch_selfexe_release, as its release waits for an RCU grace period (selfexe.c): the
 * runtime calls it where the wait overlaps the container's program, and every process
 * forked toward a container first thing (its copy: a reference drop).
 */
void hutch_selfexe_release(void);
/* True when /proc/self/exe is a sealed memfd. */
bool hutch_selfexe_sealed(void);

#endif
