// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "secjson.h"
#include "utils.h"

int sj_fail(hutch_err *err, const char *path, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	return hutch_fail(err, 0, "config.json: %s: %s", path, msg);
}

/* The same paths jsonutil names elsewhere. */
char *sj_key(const char *parent, const char *key)
{
	return jpath_key(parent, key);
}

char *sj_idx(const char *parent, size_t i)
{
	return jpath_idx(parent, i);
}

static int get(json_object *o, const char *path, const char *key, json_type want,
	       const char *what, json_object **v, hutch_err *err)
{
	if (!o || !json_object_object_get_ex(o, key, v) || !*v)
		return 0;
	if (json_object_get_type(*v) != want &&
	    !(want == json_type_double && json_object_get_type(*v) == json_type_int)) {
		cleanup_free char *p = sj_key(path, key);

		return sj_fail(err, p, "expected %s", what);
	}
	return 1;
}

int sj_obj(json_object *o, const char *path, const char *key, json_object **out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_object, "an object", &v, err);

	if (r > 0)
		*out = v;
	return r < 0 ? r : 0;
}

int sj_arr(json_object *o, const char *path, const char *key, json_object **out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_array, "an array", &v, err);

	if (r > 0)
		*out = v;
	return r < 0 ? r : 0;
}

int sj_str(json_object *o, const char *path, const char *key, const char **out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_string, "a string", &v, err);

	if (r > 0)
		*out = json_object_get_string(v);
	return r < 0 ? r : 0;
}

int sj_bool(json_object *o, const char *path, const char *key, bool *out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_boolean, "a boolean", &v, err);

	if (r > 0)
		*out = json_object_get_boolean(v);
	return r < 0 ? r : 0;
}

int sj_i64(json_object *o, const char *path, const char *key, int64_t *out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_int, "an integer", &v, err);

	if (r > 0) {
		errno = 0;
		*out = json_object_get_int64(v);
		if (errno) {
			cleanup_free char *p = sj_key(path, key);

			return sj_fail(err, p, "integer out of range");
		}
	}
	return r < 0 ? r : 0;
}

int sj_u64(json_object *o, const char *path, const char *key, uint64_t *out, hutch_err *err)
{
	json_object *v;
	int r = get(o, path, key, json_type_int, "an integer", &v, err);

	if (r > 0) {
		const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

		if (parse_u64(s, out) < 0) {
			cleanup_free char *p = sj_key(path, key);

			return sj_fail(err, p, "expected a non-negative integer, got %s", s);
		}
	}
	return r < 0 ? r : 0;
}

int sj_strv(json_object *o, const char *path, const char *key, char ***out, hutch_err *err)
{
	json_object *a = NULL;
	cleanup_free char *p = NULL;
	char **v = NULL;
	size_t n;

	if (sj_arr(o, path, key, &a, err) < 0)
		return -1;
	if (!a)
		return 0;
	p = sj_key(path, key);
	n = json_object_array_length(a);
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (!e || json_object_get_type(e) != json_type_string) {
			strv_free(v);
			return sj_fail(err, p, "element %zu: expected a string", i);
		}
		v[i] = xstrdup(json_object_get_string(e));
	}
	strv_free(*out);
	*out = v;
	return 0;
}
