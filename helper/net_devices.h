/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.netDevices (runtime-spec 1.3): host interfaces moved into the container. */
#ifndef HUTCH_NET_DEVICES_H
#define HUTCH_NET_DEVICES_H

#include <sys/types.h>
#include "error.h"

struct hutch_spec;

/* Check linux.netDevices (errors name the field); *out: "HOST CONTAINER" lines or NULL. */
int net_devices_parse(const struct hutch_spec *s, char **out, hutch_err *err);
/* Move them into the network namespace of init_pid, recorded in the state dir. */
int net_devices_move_in(const struct hutch_spec *s, pid_t init_pid, int state_dirfd,
			const char *state_dir, hutch_err *err);
/* Move the recorded ones back to the host and let the namespace go. */
void net_devices_release(int state_dirfd, const char *state_dir);

#endif
