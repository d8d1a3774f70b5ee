// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image references as Docker and podman write them:
 *   [REGISTRY/]REPOSITORY[:TAG][@sha256:HEX]
 * REGISTRY is the first component when it holds a '.' or ':' or is "localhost";
 * otherwise the registry is docker.io and one-component names get "library/".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "utils.h"

bool image_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

static bool is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int check_component(const char *s, size_t n, const char *ref, hutch_err *err)
{
	size_t i = 0;

	if (n == 0)
		return hutch_fail(err, 0, "image reference `%s`: empty path component", ref);
	for (size_t k = 0; k < n; k++)
		if (isupper((unsigned char)s[k]))
			return hutch_fail(err, 0, "image reference `%s`: repository name must be lowercase",
					  ref);
	while (i < n) {
		if (!is_alnum_lower(s[i]))
			return hutch_fail(err, 0, "image reference `%s`: invalid character `%c` in repository name",
					  ref, s[i]);
		while (i < n && is_alnum_lower(s[i]))
			i++;
		if (i == n)
			break;
		/* a separator, then more alphanumerics */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return hutch_fail(err, 0, "image reference `%s`: invalid character `%c` in repository name",
					  ref, s[i]);
		}
		if (i == n || !is_alnum_lower(s[i]))
			return hutch_fail(err, 0, "image reference `%s`: repository name component must not end in a separator",
					  ref);
	}
	return 0;
}

static int check_registry(const char *s, const char *ref, hutch_err *err)
{
	const char *colon = strrchr(s, ':');
	const char *end = s + strlen(s);

	if (s[0] == '[') {   /* [v6]:port */
		const char *close = strchr(s, ']');

		if (!close)
			return hutch_fail(err, 0, "image reference `%s`: bad registry `%s`", ref, s);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return hutch_fail(err, 0, "image reference `%s`: bad registry `%s`", ref, s);
	} else {
		for (const char *p = s; p < (colon ? colon : end); p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return hutch_fail(err, 0, "image reference `%s`: bad registry host `%s`", ref, s);
		if (s[0] == '-' || s[0] == '.' || s == (colon ? colon : end))
			return hutch_fail(err, 0, "image reference `%s`: bad registry host `%s`", ref, s);
	}
	if (colon) {
		uint64_t port;

		if (parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
			return hutch_fail(err, 0, "image reference `%s`: bad registry port `%s`", ref, colon + 1);
	}
	return 0;
}

static int check_tag(const char *t, const char *ref, hutch_err *err)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return hutch_fail(err, 0, "image reference `%s`: tag must be 1 to 128 characters", ref);
	if (!isalnum((unsigned char)t[0]) && t[0] != '_')
		return hutch_fail(err, 0, "image reference `%s`: invalid tag `%s`", ref, t);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return hutch_fail(err, 0, "image reference `%s`: invalid tag `%s`", ref, t);
	return 0;
}

void image_ref_clear(struct image_ref *r)
{
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int image_ref_parse(const char *ref, struct image_ref *r, hutch_err *err)
{
	cleanup_free char *s = NULL;
	char *at, *slash, *name, *colon, *p;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!ref || !*ref)
		return hutch_fail(err, 0, "image reference: empty");
	if (strlen(ref) > 4096)
		return hutch_fail(err, 0, "image reference: too long");
	for (const char *c = ref; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return hutch_fail(err, 0, "image reference `%s`: must not contain white space", ref);
	if (strstr(ref, "://"))
		return hutch_fail(err, 0, "image reference `%s`: give REGISTRY/REPOSITORY[:TAG], not a URL", ref);
	s = xstrdup(ref);
	at = strchr(s, '@');
	if (at) {
		*at = '\0';
		if (!image_digest_valid(at + 1))
			return hutch_fail(err, 0, "image reference `%s`: invalid digest `%s` (expected sha256:<64 hex digits>)",
					  ref, at + 1);
		r->digest = xstrdup(at + 1);
	}
	name = s;
	slash = strchr(s, '/');
	if (slash && (memchr(s, '.', slash - s) || memchr(s, ':', slash - s) || memchr(s, '[', slash - s) ||
		      (slash - s == 9 && strncmp(s, "localhost", 9) == 0))) {
		*slash = '\0';
		r->registry = xstrdup(s);
		name = slash + 1;
		if ((ret = check_registry(r->registry, ref, err)) < 0)
			goto fail;
	} else {
		r->registry = xstrdup(IMAGE_DEFAULT_REGISTRY);
	}
	colon = strrchr(name, ':');
	if (colon) {
		*colon = '\0';
		if ((ret = check_tag(colon + 1, ref, err)) < 0)
			goto fail;
		r->tag = xstrdup(colon + 1);
	}
	if (!*name) {
		ret = hutch_fail(err, 0, "image reference `%s`: missing repository name", ref);
		goto fail;
	}
	/* components */
	for (p = name;;) {
		char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if ((ret = check_component(p, n, ref, err)) < 0)
			goto fail;
		if (!e)
			break;
		p = e + 1;
	}
	if (strcmp(r->registry, IMAGE_DEFAULT_REGISTRY) == 0 && !strchr(name, '/'))
		r->repository = xasprintf("library/%s", name);
	else
		r->repository = xstrdup(name);
	if (strlen(r->registry) + 1 + strlen(r->repository) > 255) {
		ret = hutch_fail(err, 0, "image reference `%s`: name longer than 255 characters", ref);
		goto fail;
	}
	if (!r->tag && !r->digest)
		r->tag = xstrdup("latest");
	return 0;
fail:
	image_ref_clear(r);
	return ret;
}

char *image_ref_name(const struct image_ref *r)
{
	if (r->tag)
		return xasprintf("%s/%s:%s", r->registry, r->repository, r->tag);
	return xasprintf("%s/%s@%s", r->registry, r->repository, r->digest);
}
