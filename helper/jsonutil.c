// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "utils.h"

char *jpath_key(const char *parent, const char *key)
{
	if (!parent || !*parent)
		return xstrdup(key);
	return xasprintf("%s.%s", parent, key);
}

char *jpath_idx(const char *parent, size_t i)
{
	return xasprintf("%s[%zu]", parent ? parent : "", i);
}

int jfail(hutch_err *err, const char *file, const char *path, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (path && *path)
		return hutch_fail(err, 0, "%s: %s: %s", file, path, msg);
	return hutch_fail(err, 0, "%s: %s", file, msg);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

/* Look up key; 1 when present and not null, 0 when absent, <0 on error. */
static int lookup(json_object *obj, const char *file, const char *path, const char *key,
		  bool required, json_type want, const char *want_name, json_object **v, hutch_err *err)
{
	cleanup_free char *p = NULL;

	if (!obj || !json_object_object_get_ex(obj, key, v) || *v == NULL) {
		if (required) {
			p = jpath_key(path, key);
			return jfail(err, file, p, "missing required field");
		}
		return 0;
	}
	if (json_object_get_type(*v) != want) {
		p = jpath_key(path, key);
		return jfail(err, file, p, "expected %s, got %s", want_name,
			     type_name(json_object_get_type(*v)));
	}
	return 1;
}

/* An object or array member, by type. */
static int get_container(json_object *obj, const char *file, const char *path, const char *key,
			 bool required, json_type type, json_object **out, hutch_err *err)
{
	json_object *v;
	int r = lookup(obj, file, path, key, required, type, type_name(type), &v, err);

	if (r > 0)
		*out = v;
	return r < 0 ? r : 0;
}

int jget_obj(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, json_object **out, hutch_err *err)
{
	return get_container(obj, file, path, key, required, json_type_object, out, err);
}

int jget_array(json_object *obj, const char *file, const char *path, const char *key,
	       bool required, json_object **out, hutch_err *err)
{
	return get_container(obj, file, path, key, required, json_type_array, out, err);
}

int jget_str(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, const char **out, hutch_err *err)
{
	json_object *v;
	int r = lookup(obj, file, path, key, required, json_type_string, "a string", &v, err);

	if (r > 0)
		*out = json_object_get_string(v);
	return r < 0 ? r : 0;
}

int jget_bool(json_object *obj, const char *file, const char *path, const char *key,
	      bool *has, bool *out, hutch_err *err)
{
	json_object *v;
	int r = lookup(obj, file, path, key, false, json_type_boolean, "a boolean", &v, err);

	if (r <= 0)
		return r;
	if (has)
		*has = true;
	*out = json_object_get_boolean(v);
	return 0;
}

/* An integer member; json-c parses 1e3 as a double, so accept integral doubles. */
static int get_integer(json_object *obj, const char *file, const char *path, const char *key,
		       bool required, json_object **v, hutch_err *err)
{
	cleanup_free char *p = NULL;
	json_type t;

	if (!obj || !json_object_object_get_ex(obj, key, v) || *v == NULL) {
		if (required) {
			p = jpath_key(path, key);
			return jfail(err, file, p, "missing required field");
		}
		return 0;
	}
	t = json_object_get_type(*v);
	if (t == json_type_int)
		return 1;
	if (t == json_type_double) {
		double d = json_object_get_double(*v);

		/* integral and within int64_t or uint64_t: converting one outside is undefined */
		if (d >= 0 && d < 18446744073709551616.0 && d == (double)(uint64_t)d)
			return 1;
		if (d < 0 && d >= -9223372036854775808.0 && d == (double)(int64_t)d)
			return 1;
	}
	p = jpath_key(path, key);
	return jfail(err, file, p, "expected an integer, got %s", type_name(t));
}

int jget_i64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, int64_t *out, hutch_err *err)
{
	json_object *v;
	int r = get_integer(obj, file, path, key, required, &v, err);

	if (r <= 0)
		return r;
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno == ERANGE) {
		cleanup_free char *p = jpath_key(path, key);

		return jfail(err, file, p, "%s is out of range", json_object_to_json_string(v));
	}
	return 0;
}

int jget_range(json_object *obj, const char *file, const char *path, const char *key,
	       int64_t min, int64_t max, bool *has, int64_t *out, hutch_err *err)
{
	cleanup_free char *p = NULL;
	json_object *v;
	int64_t x;
	int r = get_integer(obj, file, path, key, false, &v, err);

	if (r <= 0)
		return r;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno == ERANGE || x > max) {
		p = jpath_key(path, key);
		return jfail(err, file, p, "%s is out of range (at most %" PRId64 ")",
			     json_object_to_json_string(v), max);
	}
	if (x < min) {
		p = jpath_key(path, key);
		if (min == -1)
			return jfail(err, file, p, "%" PRId64 " is invalid: must be -1 (unlimited) or >= 0", x);
		return jfail(err, file, p, "%" PRId64 " is invalid: must be >= %" PRId64, x, min);
	}
	if (has)
		*has = true;
	*out = x;
	return 0;
}

int jget_urange(json_object *obj, const char *file, const char *path, const char *key,
		uint64_t min, uint64_t max, bool *has, uint64_t *out, hutch_err *err)
{
	int64_t v = 0;
	bool h = false;

	if (jget_range(obj, file, path, key, (int64_t)min, max > INT64_MAX ? INT64_MAX : (int64_t)max,
		       &h, &v, err) < 0)
		return -1;
	if (h) {
		if (has)
			*has = true;
		*out = (uint64_t)v;
	}
	return 0;
}

int jget_u64(json_object *obj, const char *file, const char *path, const char *key,
	     bool required, uint64_t max, uint64_t *out, hutch_err *err)
{
	cleanup_free char *p = NULL;
	json_object *v;
	int r = get_integer(obj, file, path, key, required, &v, err);
	uint64_t u;

	if (r <= 0)
		return r < 0 ? r : 0;
	if (json_object_get_int64(v) < 0) {
		p = jpath_key(path, key);
		return jfail(err, file, p, "must not be negative (got %" PRId64 ")",
			     json_object_get_int64(v));
	}
	u = json_object_get_uint64(v);
	if (u > max) {
		p = jpath_key(path, key);
		return jfail(err, file, p, "%" PRIu64 " is out of range (at most %" PRIu64 ")", u, max);
	}
	*out = u;
	return 0;
}

int jget_strv(json_object *obj, const char *file, const char *path, const char *key,
	      bool required, char ***out, hutch_err *err)
{
	json_object *arr = NULL;
	cleanup_strv char **v = NULL;
	size_t n;
	int r = jget_array(obj, file, path, key, required, &arr, err);

	if (r < 0 || !arr)
		return r;
	n = json_object_array_length(arr);
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (!e || json_object_get_type(e) != json_type_string) {
			cleanup_free char *k = jpath_key(path, key);
			cleanup_free char *p = jpath_idx(k, i);

			return jfail(err, file, p, "expected a string");
		}
		v[i] = xstrdup(json_object_get_string(e));
	}
	strv_free(*out);
	*out = steal_ptr(&v);
	return 0;
}

int json_parse_file(const char *path, const char *display, json_object **out, hutch_err *err)
{
	cleanup_free char *buf = NULL;
	json_tokener *tok;
	json_object *o;
	size_t len;
	enum json_tokener_error jerr;

	if (read_file(path, &buf, &len, err) < 0)
		return -1;
	tok = json_tokener_new();
	if (!tok)
		oom();
	o = json_tokener_parse_ex(tok, buf, len);
	jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success) {
		size_t off = json_tokener_get_parse_end(tok);
		int line = 1;

		for (size_t i = 0; i < off && i < len; i++)
			if (buf[i] == '\n')
				line++;
		json_tokener_free(tok);
		if (o)
			json_object_put(o);
		return hutch_fail(err, 0, "%s: invalid JSON at line %d: %s", display, line,
				  jerr == json_tokener_success || jerr == json_tokener_continue
					  ? "unexpected end of input"
					  : json_tokener_error_desc(jerr));
	}
	if (json_tokener_get_parse_end(tok) < len) {
		const char *rest = buf + json_tokener_get_parse_end(tok);

		rest += strspn(rest, " \t\r\n");
		if (*rest) {
			json_tokener_free(tok);
			json_object_put(o);
			return hutch_fail(err, 0, "%s: invalid JSON: trailing data after the document",
					  display);
		}
	}
	json_tokener_free(tok);
	*out = o;
	return 0;
}

const char *json_str(json_object *o, bool pretty)
{
	return json_object_to_json_string_ext(o, pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE
							: JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
