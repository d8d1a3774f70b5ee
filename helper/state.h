/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container state under <root>/<id>/: state.json (written atomically), a copy of
 * config.json, cgroup.json (the cgroups, from before they exist) and exec.sock while the
 * container waits for `start`. A flock on
 * the directory serialises commands on one id. Status is derived from the live
 * process (pidfd + start time), never trusted from the file.
 */
#ifndef HUTCH_STATE_H
#define HUTCH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "error.h"
#include "hutch.h"

enum hutch_status { STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_PAUSED, STATUS_STOPPED };

struct hutch_cgroup;

struct hutch_state {
	char *id;
	char *dir;          /* <root>/<id> */
	int dirfd;          /* O_DIRECTORY fd of dir, flock'd */
	json_object *json;  /* state.json, NULL while creating */
	pid_t pid;
	uint64_t start_time;
	const char *bundle, *rootfs, *created, *owner;   /* borrowed from json */
	json_object *annotations;                        /* borrowed */
	struct hutch_cgroup *cg;                         /* from json, may be NULL */
};

#define STATE_EXEC_SOCK "exec.sock"
#define STATE_CONFIG "config.json"
#define STATE_FILE "state.json"
/* the rootfs whose mounts live in the host's mount namespace (no mount namespace) */
#define STATE_HOST_MOUNTS "host-mounts"
/* linux.netDevices moved into the container: "HOST-NAME CONTAINER-NAME" lines */
#define STATE_NET_DEVICES "net-devices"
#define STATE_NET_DEVICES_NS "net-devices.ns"   /* their namespace, bound here */
/* The cgroup record, written before the directories are made (hutch_cgroup_plan_json):
 * what delete removes of a container whose create died before state.json. */
#define STATE_CGROUP "cgroup.json"

int state_validate_id(const char *id, hutch_err *err);
/* Make <root>/<id> (fails if it exists) and lock it. */
int state_create(const struct hutch_global *g, const char *id, struct hutch_state **out, hutch_err *err);
/* Open and lock an existing container; loads state.json. */
int state_open(const struct hutch_global *g, const char *id, bool exclusive,
	       struct hutch_state **out, hutch_err *err);
int state_save(struct hutch_state *st, hutch_err *err);
/* Remove the directory and everything in it. */
int state_remove(struct hutch_state *st, hutch_err *err);
void state_free(struct hutch_state *st);

enum hutch_status state_status(struct hutch_state *st);
const char *status_name(enum hutch_status s);
/* A pidfd for the init process if it is still the one we started, else -1. */
int state_init_pidfd(struct hutch_state *st);
/* The OCI state document (status derived now). Caller puts it. */
json_object *state_oci_json(struct hutch_state *st, enum hutch_status status);
/* All container ids under root, sorted. */
int state_list(const struct hutch_global *g, char ***ids, hutch_err *err);

static inline void cleanup_statep(struct hutch_state **st)
{
	if (*st)
		state_free(*st);
}
#define cleanup_state __attribute__((cleanup(cleanup_statep)))

#endif
