// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: image reference parsing and normalisation (image_ref.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hutch.h"
#include "image.h"
#include "utils.h"

static int failed;

static void ok(int cond, const char *name)
{
	printf("%s - image_ref: %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failed = 1;
}

static void good(const char *in, const char *name, const char *digest)
{
	struct image_ref r;
	cleanup_err hutch_err err = NULL;
	cleanup_free char *n = NULL, *t = xasprintf("parse `%s`", in);

	if (image_ref_parse(in, &r, &err) < 0) {
		printf("# %s: %s\n", in, err->msg);
		ok(0, t);
		return;
	}
	n = image_ref_name(&r);
	if (strcmp(n, name) != 0 || (digest ? !r.digest || strcmp(digest, r.digest) : r.digest != NULL))
		printf("# %s: got %s digest %s\n", in, n, r.digest ? r.digest : "(none)");
	ok(strcmp(n, name) == 0 && (digest ? r.digest && !strcmp(digest, r.digest) : !r.digest), t);
	image_ref_clear(&r);
}

static void bad(const char *in, const char *msg)
{
	struct image_ref r;
	cleanup_err hutch_err err = NULL;
	cleanup_free char *t = xasprintf("refuse `%s`", in);
	int ret = image_ref_parse(in, &r, &err);

	if (ret == 0) {
		image_ref_clear(&r);
		ok(0, t);
		return;
	}
	if (!strstr(err->msg, msg))
		printf("# %s: message `%s` lacks `%s`\n", in, err->msg, msg);
	ok(strstr(err->msg, msg) != NULL, t);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int main(void)
{
	good("busybox", "docker.io/library/busybox:latest", NULL);
	good("busybox:1.36", "docker.io/library/busybox:1.36", NULL);
	good("library/busybox", "docker.io/library/busybox:latest", NULL);
	good("user/app:v1", "docker.io/user/app:v1", NULL);
	good("docker.io/busybox", "docker.io/library/busybox:latest", NULL);
	good("quay.io/org/sub/app:1.0-rc_1", "quay.io/org/sub/app:1.0-rc_1", NULL);
	good("localhost/app", "localhost/app:latest", NULL);
	good("localhost:5000/app:t", "localhost:5000/app:t", NULL);
	good("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", NULL);
	good("[::1]:5000/a", "[::1]:5000/a:latest", NULL);
	good("a__b/c-d--e.f", "docker.io/a__b/c-d--e.f:latest", NULL);
	good("busybox@" D, "docker.io/library/busybox@" D, D);
	good("busybox:1@" D, "docker.io/library/busybox:1", D);
	bad("", "empty");
	bad("Busybox", "must be lowercase");
	bad("busybox:", "tag must be 1 to 128");
	bad("busybox:-x", "invalid tag");
	bad("busybox:a+b", "invalid tag");
	bad("busybox@sha256:abc", "invalid digest");
	bad("busybox@md5:0123", "invalid digest");
	bad("a//b", "empty path component");
	bad("a/b/", "empty path component");
	bad("a-/b", "must not end in a separator");
	bad("a..b", "must not end in a separator");
	bad("a b", "white space");
	bad("https://host/x", "not a URL");
	bad("host:0/x", "bad registry port");
	bad("host:99999/x", "bad registry port");
	bad("ho_st.io/x", "bad registry host");
	bad("localhost:5000/", "missing repository");
	ok(image_digest_valid(D), "digest_valid accepts sha256");
	ok(!image_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
	   "digest_valid refuses upper case");
	return failed;
}
