/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json (OCI runtime-spec 1.2): the parts the lifecycle applies itself,
 * parsed and validated up front so bad input fails before anything is created.
 * Sections owned by other parts (linux.resources, capabilities, seccomp, hooks...)
 * stay in `json` for them to parse.
 */
#ifndef HUTCH_SPEC_H
#define HUTCH_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "error.h"
#include "mempolicy.h"

struct hutch_mount {
	char *destination;
	char *source;
	char *type;
	char *data;                 /* filesystem options passed to mount(2) */
	unsigned long flags;        /* MS_* set */
	unsigned long clear;        /* MS_* cleared explicitly (rw, suid...) */
	unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC) */
	bool bind, rec;
};

struct hutch_idmap {
	uint32_t container, host, size;
};

struct hutch_ns {
	int type;        /* CLONE_NEW* */
	char *path;      /* join this one instead of creating */
};

struct hutch_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct hutch_device {
	char *path;
	char type;       /* c, b, u or p */
	int64_t major, minor;
	mode_t mode;
	bool has_mode;
	uid_t uid;
	gid_t gid;
	bool has_uid, has_gid;
};

struct hutch_user {
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t ngids;
	mode_t umask;
	bool has_umask;
};

struct hutch_process {
	json_object *json;          /* the process object (borrowed from spec or exec file) */
	bool terminal;
	unsigned int console_height, console_width;
	struct hutch_user user;
	char **args;
	char **env;
	char *cwd;
	struct hutch_rlimit *rlimits;
	size_t nrlimits;
	bool no_new_privs;
	bool has_oom_score_adj;
	int oom_score_adj;
};

struct hutch_spec {
	json_object *json;          /* the whole document, owned */
	char *bundle;               /* absolute bundle directory */
	char *root;                 /* absolute rootfs path */
	bool root_readonly;
	char *hostname, *domainname;
	struct hutch_mount *mounts;
	size_t nmounts;
	struct hutch_process process;
	bool has_process;
	struct hutch_ns *namespaces;
	size_t nnamespaces;
	int ns_new;                 /* CLONE_NEW* flags of namespaces to create */
	struct hutch_idmap *uid_maps, *gid_maps;
	size_t nuid_maps, ngid_maps;
	int64_t time_offsets[2][2]; /* [monotonic, boottime][secs, nanosecs] */
	bool has_time_offsets;
	struct hutch_device *devices;
	size_t ndevices;
	unsigned long rootfs_propagation;
	json_object *annotations;   /* borrowed */
	struct hutch_mempolicy mempolicy;   /* linux.memoryPolicy */
};

/* Load bundle/config.json (or config_path when not NULL). */
int spec_load(const char *bundle, const char *config_path, struct hutch_spec **out, hutch_err *err);
/* Parse a process object (config.process or exec --process FILE). */
int spec_parse_process(json_object *obj, const char *file, const char *path,
		       struct hutch_process *p, hutch_err *err);
void spec_process_clear(struct hutch_process *p);
void spec_free(struct hutch_spec *s);
bool spec_has_ns(const struct hutch_spec *s, int type);
const struct hutch_ns *spec_get_ns(const struct hutch_spec *s, int type);

/* Mount option parsing, shared with tests: fills flags/clear/propagation/data. */
int mount_parse_options(char *const *options, struct hutch_mount *m, const char *file,
			const char *path, hutch_err *err);

/* Namespace names <-> CLONE_NEW* */
int ns_type_from_name(const char *name);
const char *ns_name(int type);
/* The default config.json `hutch spec` writes. */
json_object *spec_default(bool rootless);

static inline void cleanup_specp(struct hutch_spec **s)
{
	if (*s)
		spec_free(*s);
}
#define cleanup_spec __attribute__((cleanup(cleanup_specp)))

#endif
