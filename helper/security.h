/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process security, hooks and terminals (capabilities, seccomp, masked and read-only
 * paths, sysctl, personality, scheduler, ioPriority, LSM labels).
 *
 *   parent (create):  hutch_security_prepare   parse and validate everything from
 *                                             config.json; nothing applied yet
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
 * or the --process file of exec). extra_caps are exec --cap names (may be NULL).
 */
int hutch_security_prepare(json_object *config, json_object *process, char *const *extra_caps,
			   bool no_new_privs, struct hutch_security **out, hutch_err *err);
int hutch_security_apply_fs(struct hutch_security *sec, hutch_err *err);
/* Called with the final uid/gid already set (caps kept with PR_SET_KEEPCAPS). */
int hutch_security_apply_process(struct hutch_security *sec, hutch_err *err);
void hutch_security_free(struct hutch_security *sec);

/*
 * Hooks (config.hooks.<kind>), state_json on each hook's stdin. For kinds whose
 * failure is fatal (prestart, createRuntime, createContainer, startContainer) a
 * failure returns <0; for poststart and poststop it is logged as a warning.
 */
int hutch_hooks_run(json_object *config, const char *kind, const char *state_json, hutch_err *err);

#endif
