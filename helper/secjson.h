/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small typed JSON getters for the security, seccomp and hooks parsers. Every
 * error names the file and the JSON path: "config.json: linux.seccomp.syscalls[3].action: ...".
 * A missing or null member returns 0 and leaves *out untouched; a wrong type fails.
 */
#ifndef HUTCH_SECJSON_H
#define HUTCH_SECJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

int sj_fail(hutch_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "parent.key" / "parent[i]", newly allocated */
char *sj_key(const char *parent, const char *key);
char *sj_idx(const char *parent, size_t i);

int sj_obj(json_object *o, const char *path, const char *key, json_object **out, hutch_err *err);
int sj_arr(json_object *o, const char *path, const char *key, json_object **out, hutch_err *err);
int sj_str(json_object *o, const char *path, const char *key, const char **out, hutch_err *err);
int sj_bool(json_object *o, const char *path, const char *key, bool *out, hutch_err *err);
int sj_i64(json_object *o, const char *path, const char *key, int64_t *out, hutch_err *err);
int sj_u64(json_object *o, const char *path, const char *key, uint64_t *out, hutch_err *err);
/* Array of strings into a NULL-terminated vector (owned by the caller). */
int sj_strv(json_object *o, const char *path, const char *key, char ***out, hutch_err *err);

#endif
