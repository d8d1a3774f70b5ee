/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2) for the container process. */
#ifndef HUTCH_MEMPOLICY_H
#define HUTCH_MEMPOLICY_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"

#define HUTCH_MPOL_MAXNODES 1024

struct hutch_mempolicy {
	bool set;
	int mode, flags;
	unsigned long mask[HUTCH_MPOL_MAXNODES / (8 * sizeof(unsigned long))];
	unsigned long maxnode;     /* highest node + 1, 0 without nodes */
	char *mode_name, *nodes;   /* as configured, for messages */
};

/* Parse linux.memoryPolicy of LIN (the "linux" object, may be NULL); errors name the field. */
int mempolicy_parse(json_object *lin, struct hutch_mempolicy *mp, hutch_err *err);
/* set_mempolicy(2) in the calling process; nothing when none was configured. */
int mempolicy_apply(const struct hutch_mempolicy *mp, hutch_err *err);
void mempolicy_clear(struct hutch_mempolicy *mp);

#endif
