/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typed access to json-c objects with errors that name the JSON path:
 * "config.json: process.cwd: expected a string".
 */
#ifndef HUTCH_JSONUTIL_H
#define HUTCH_JSONUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

/* path of child member key: "a.b" */
char *jpath_key(const char *parent, const char *key);
/* path of element i: "a[i]" */
char *jpath_idx(const char *parent, size_t i);

int jfail(hutch_err *err, const char *file, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The one typed JSON access layer of the library: config.json, state.json, the resources
 * file of `hutch update`, image manifests and indexes. `file` names the document ("config.json",
 * "manifest sha256:..."), `path` the object that holds key ("linux.resources.memory", "" for
 * the top); errors read "FILE: PATH.KEY: ...".
 *
 * Each getter looks up obj[key]. A missing (or null) member leaves *out untouched
 * and returns 0, or fails when required. A wrong type always fails.
 */
int jget_obj(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, json_object **out, hutch_err *err);
int jget_array(json_object *obj, const char *file, const char *path, const char *key,
	       bool required, json_object **out, hutch_err *err);
int jget_str(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, const char **out, hutch_err *err);
/* *has (may be NULL) is set when the member is present. */
int jget_bool(json_object *obj, const char *file, const char *path, const char *key,
	      bool *has, bool *out, hutch_err *err);
int jget_i64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, int64_t *out, hutch_err *err);
/* Unsigned, with an upper bound. */
int jget_u64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, uint64_t max, uint64_t *out, hutch_err *err);
/*
 * An optional integer in [min, max]; *has (may be NULL) is set when present. min -1 reads
 * "-1 (unlimited) or >= 0" in the error.
 */
int jget_range(json_object *obj, const char *file, const char *path, const char *key,
	       int64_t min, int64_t max, bool *has, int64_t *out, hutch_err *err);
/* The same into an unsigned (min and max at most INT64_MAX). */
int jget_urange(json_object *obj, const char *file, const char *path, const char *key,
		uint64_t min, uint64_t max, bool *has, uint64_t *out, hutch_err *err);
/* An array of strings, copied into a NULL-terminated vector (missing: *out unchanged). */
int jget_strv(json_object *obj, const char *file, const char *path, const char *key,
	      bool required, char ***out, hutch_err *err);

static inline void cleanup_jsonp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(cleanup_jsonp)))

/* Parse a whole JSON document from a file; errors name the file and position. */
int json_parse_file(const char *path, const char *display, json_object **out, hutch_err *err);
/* Serialize pretty or plain; the string belongs to the object. */
const char *json_str(json_object *o, bool pretty);

#endif
