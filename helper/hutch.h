/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The global options every library entry point gets (the CLI fills them in). */
#ifndef HUTCH_H
#define HUTCH_H

#include <stdbool.h>

#include "error.h"

#define HUTCH_VERSION "0.1.0"
#define HUTCH_OCI_VERSION "1.3.0"
#define HUTCH_DEFAULT_ROOT "/run/hutch"

enum hutch_cgroup_manager { CGROUP_MANAGER_CGROUPFS, CGROUP_MANAGER_DISABLED, CGROUP_MANAGER_SYSTEMD };
enum hutch_module_mode { MODULE_AUTO, MODULE_ON, MODULE_OFF };

struct hutch_global {
	const char *root;          /* state directory root, --root */
	const char *log_path;      /* --log */
	bool log_json;             /* --log-format json */
	bool debug;                /* --debug */
	enum hutch_cgroup_manager cgroup_manager;
	enum hutch_module_mode module_mode;
	const char *argv0;         /* how we were invoked */
};

#endif
