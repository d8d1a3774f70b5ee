// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch image pull|import|ls|inspect|rm */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "image.h"
#include "image_internal.h"
#include "utils.h"

static int usage(hutch_err *err, const char *fmt, const char *arg)
{
	const struct hutch_command *c = hutch_find_command("image");

	return hutch_usage_error(c, err, fmt, arg);
}

static int64_t image_size(const struct image_manifest *m)
{
	int64_t t = 0;

	for (size_t i = 0; i < m->nlayers; i++)
		t += m->layers[i].size > 0 ? m->layers[i].size : 0;
	return t;
}

static int do_ls(struct image_store *s, bool json, hutch_err *err)
{
	cleanup_json json_object *refs = NULL, *out = json_object_new_array();

	if (image_store_lock(s, false, err) < 0 || image_refs_load(s, &refs, err) < 0)
		return -1;
	if (!json)
		printf("%-50s %-19s %-10s %s\n", "NAME", "DIGEST", "SIZE", "CREATED");
	json_object_object_foreach(refs, k, v) {
		json_object *md, *cr;
		struct image_manifest m;
		char sz[32] = "?";
		int64_t size = -1;

		if (!json_object_object_get_ex(v, "manifest", &md))
			continue;
		if (image_manifest_load(s, json_object_get_string(md), &m, NULL) == 0) {
			size = image_size(&m);
			format_size(sz, sizeof(sz), size, 1);
			image_manifest_clear(&m);
		}
		json_object_object_get_ex(v, "created", &cr);
		if (json) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "name", json_object_new_string(k));
			json_object_object_add(e, "digest", json_object_get(md));
			json_object_object_add(e, "size", json_object_new_int64(size));
			json_object_object_add(e, "created", json_object_get(cr));
			json_object_array_add(out, e);
		} else {
			printf("%-50s %-19.19s %-10s %s\n", k, json_object_get_string(md), sz,
			       cr ? json_object_get_string(cr) : "");
		}
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	image_store_unlock(s);
	return 0;
}

static int do_inspect(struct image_store *s, const char *ref, hutch_err *err)
{
	cleanup_free char *name = NULL, *digest = NULL, *upath = NULL;
	cleanup_json json_object *out = json_object_new_object(), *refs = NULL;
	json_object *layers = json_object_new_array(), *e, *ix;
	struct image_manifest m;
	int ret = -1;

	if (image_store_lock(s, false, err) < 0)
		return -1;
	if (image_lookup(s, ref, &name, &digest, err) < 0 || image_manifest_load(s, digest, &m, err) < 0) {
		json_object_put(layers);
		goto out;
	}
	json_object_object_add(out, "name", json_object_new_string(name));
	json_object_object_add(out, "digest", json_object_new_string(digest));
	if (image_refs_load(s, &refs, NULL) == 0 && json_object_object_get_ex(refs, name, &e) &&
	    json_object_object_get_ex(e, "index", &ix))
		json_object_object_add(out, "index", json_object_get(ix));
	json_object_object_add(out, "configDigest", json_object_new_string(m.config_digest));
	for (size_t i = 0; i < m.nlayers; i++) {
		json_object *l = json_object_new_object();
		cleanup_free char *dir = xasprintf("%s/layers/%s", s->root, m.layers[i].digest + 7);
		struct stat st;

		json_object_object_add(l, "digest", json_object_new_string(m.layers[i].digest));
		json_object_object_add(l, "mediaType", json_object_new_string(m.layers[i].media_type));
		json_object_object_add(l, "size", json_object_new_int64(m.layers[i].size));
		json_object_object_add(l, "unpacked", json_object_new_boolean(stat(dir, &st) == 0));
		json_object_array_add(layers, l);
	}
	json_object_object_add(out, "layers", layers);
	json_object_object_add(out, "size", json_object_new_int64(image_size(&m)));
	json_object_object_add(out, "config", json_object_get(m.config));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	image_manifest_clear(&m);
	ret = 0;
out:
	image_store_unlock(s);
	return ret;
}

static int do_rm(struct image_store *s, char **refs, int n, hutch_err *err)
{
	int freed = 0;

	if (image_store_lock(s, true, err) < 0)
		return -1;
	/* every name must exist before anything is removed */
	for (int i = 0; i < n; i++) {
		cleanup_free char *name = NULL, *digest = NULL;

		if (image_lookup(s, refs[i], &name, &digest, err) < 0)
			goto fail;
	}
	for (int i = 0; i < n; i++) {
		cleanup_free char *name = NULL, *digest = NULL;

		if (image_lookup(s, refs[i], &name, &digest, err) < 0 || image_refs_remove(s, name, err) < 0)
			goto fail;
		printf("%s\n", name);
	}
	if (image_store_gc(s, &freed, err) < 0)
		goto fail;
	image_store_unlock(s);
	return 0;
fail:
	image_store_unlock(s);
	return -1;
}

HUTCH_COMMAND(image);
HUTCH_COMMAND(image)
{
	struct image_store s = { .dirfd = -1, .lockfd = -1 };
	enum { O_STORE = 256, O_CREDS, O_AUTHFILE, O_CA_FILE, O_PLATFORM, O_NAME, O_INSECURE,
	       O_TLS_VERIFY };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "creds", required_argument, NULL, O_CREDS },
		{ "authfile", required_argument, NULL, O_AUTHFILE },
		{ "ca-file", required_argument, NULL, O_CA_FILE },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "name", required_argument, NULL, O_NAME },
		CLI_OPT_FORMAT,
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "tls-verify", optional_argument, NULL, O_TLS_VERIFY },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("image");
	struct image_pull_opts po = { 0 };
	const char *store = NULL, *name = NULL, *sub;
	cleanup_strv char **args = NULL;
	bool json = false;
	int ret = -1, c;

	if (argc < 2)
		return usage(err, "missing subcommand%s", "");
	sub = argv[1];
	if (strcmp(sub, "pull") && strcmp(sub, "import") && strcmp(sub, "ls") && strcmp(sub, "list") &&
	    strcmp(sub, "inspect") && strcmp(sub, "rm"))
		return usage(err, "unknown subcommand `%s`", sub);
	/* the options follow the subcommand: argv[1] is the parser's argv[0] */
	struct cli_parser p = { .cmd = cmd, .argc = argc - 1, .argv = argv + 1, .shortopts = "q",
				.longopts = opts, .json = &json };

	while ((c = cli_next(&p, err)) > 0) {
		switch (c) {
		case O_STORE: store = p.arg; break;
		case O_CREDS: po.creds = p.arg; break;
		case O_AUTHFILE: po.authfile = p.arg; break;
		case O_CA_FILE: po.ca_file = p.arg; break;
		case O_PLATFORM: po.platform = p.arg; break;
		case O_NAME: name = p.arg; break;
		case O_INSECURE: po.insecure = true; break;
		case O_TLS_VERIFY:
			if (p.arg && strcmp(p.arg, "false") == 0)
				po.insecure = true;
			else if (p.arg && strcmp(p.arg, "true") != 0)
				return usage(err, "--tls-verify: `%s` is not true or false", p.arg);
			break;
		case 'q': po.quiet = true; break;
		}
	}
	if (c < 0)
		return -1;
	for (int i = p.ind; i < argc - 1; i++)
		strv_push(&args, xstrdup(argv[1 + i]));
	if ((!strcmp(sub, "pull") || !strcmp(sub, "import") || !strcmp(sub, "inspect")) && strv_len(args) != 1)
		return usage(err, "%s takes one argument", sub);
	if (!strcmp(sub, "rm") && !args)
		return usage(err, "%s needs at least one image", sub);
	if ((!strcmp(sub, "ls") || !strcmp(sub, "list")) && args)
		return usage(err, "unexpected argument `%s`", args[0]);
	if (!strcmp(sub, "pull")) {
		/* check the reference before touching the store */
		struct image_ref r;

		if (image_ref_parse(args[0], &r, err) < 0)
			return -1;
		image_ref_clear(&r);
	}
	if (image_store_open(store, &s, err) < 0)
		goto out;
	if (!strcmp(sub, "pull")) {
		cleanup_free char *digest = NULL;

		if (image_pull(&s, args[0], &po, &digest, err) < 0)
			goto out;
		printf("%s\n", digest);
	} else if (!strcmp(sub, "import")) {
		cleanup_strv char **names = NULL;

		if (image_import(&s, args[0], name, &names, err) < 0)
			goto out;
		for (size_t i = 0; names && names[i]; i++)
			printf("%s\n", names[i]);
	} else if (!strcmp(sub, "inspect")) {
		if (do_inspect(&s, args[0], err) < 0)
			goto out;
	} else if (!strcmp(sub, "rm")) {
		if (do_rm(&s, args, strv_len(args), err) < 0)
			goto out;
	} else if (do_ls(&s, json, err) < 0) {
		goto out;
	}
	ret = 0;
out:
	image_store_close(&s);
	return ret;
}
