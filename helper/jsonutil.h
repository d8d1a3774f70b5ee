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

/* A JSON path being walked, used only for error messages. */
struct jpath {
	const char *file;   /* "config.json" */
	char *path;         /* "linux.namespaces[2]" or "" for the top */
};

/* path of child member key: "a.b" */
char *jpath_key(const char *parent, const char *key);
/* path of element i: "a[i]" */
char *jpath_idx(const char *parent, size_t i);

int jfail(hutch_err *err, const char *file, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Each getter looks up obj[key]. A missing (or null) member leaves *out untouched
 * and returns 0, or fails when required. A wrong type always fails.
 */
int jget_obj(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, json_object **out, hutch_err *err);
int jget_array(json_object *obj, const char *file, const char *path, const char *key,
	       bool required, json_object **out, hutch_err *err);
int jget_str(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, const char **out, hutch_err *err);
int jget_bool(json_object *obj, const char *file, const char *path, const char *key,
	      bool *out, hutch_err *err);
int jget_i64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, int64_t *out, hutch_err *err);
/* Unsigned, with an upper bound. */
int jget_u64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, uint64_t max, uint64_t *out, hutch_err *err);
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
