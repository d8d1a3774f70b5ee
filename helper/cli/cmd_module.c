// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch module status|load|unload: hutch.ko through libkmod. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <libkmod.h>

#include "cli.h"
#include "dl.h"
#include "kmodule.h"
#include "log.h"
#include "utils.h"

#define HUTCH_KO_NAME "hutch"

static void kmod_ctx_unrefp(struct kmod_ctx **c)
{
	if (*c)
		kmod_unref(*c);
}

static void kmod_module_unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_module_unref(*m);
}

#define cleanup_kctx __attribute__((cleanup(kmod_ctx_unrefp)))
#define cleanup_kmodule __attribute__((cleanup(kmod_module_unrefp)))

static int open_ctx(struct kmod_ctx **ctx, hutch_err *err)
{
	if (hutch_dl_load(HUTCH_DL_KMOD, err) < 0)
		return -1;
	*ctx = kmod_new(NULL, NULL);
	if (!*ctx)
		return hutch_fail(err, ENOMEM, "module: libkmod context");
	return 0;
}

static bool is_live(struct kmod_ctx *ctx)
{
	cleanup_kmodule struct kmod_module *m = NULL;

	if (kmod_module_new_from_name(ctx, HUTCH_KO_NAME, &m) < 0)
		return false;
	return kmod_module_get_initstate(m) == KMOD_MODULE_LIVE;
}

static int module_status(struct hutch_global *g, int argc, char **argv, hutch_err *err)
{
	const struct hutch_command *c = hutch_find_command("module");
	cleanup_kctx struct kmod_ctx *ctx = NULL;
	cleanup_kmod struct hutch_kmod *k = NULL;
	cleanup_free char *version = NULL;
	struct hutch_kmod_info info = { 0 };
	bool json = false, loaded, family = false;
	cleanup_err hutch_err e = NULL;
	int ind = cli_parse_format(c, argc, argv, false, &json, err);

	if (ind < 0)
		return -1;
	if (ind < argc)
		return hutch_usage_error(c, err, "unexpected argument `%s`", argv[ind]);
	if (open_ctx(&ctx, err) < 0)
		return -1;
	loaded = is_live(ctx);
	if (loaded) {
		size_t len;

		if (read_file("/sys/module/" HUTCH_KO_NAME "/version", &version, &len, NULL) == 0)
			version[strcspn(version, "\n")] = 0;
		if (hutch_kmod_open(&k, &e) == 0 && hutch_kmod_get_info(k, &info, &e) == 0)
			family = true;
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "loaded", json_object_new_boolean(loaded));
		if (version)
			json_object_object_add(o, "version", json_object_new_string(version));
		json_object_object_add(o, "helperProtocol", json_object_new_int(HUTCH_GENL_VERSION));
		if (family) {
			json_object_object_add(o, "protocol", json_object_new_int((int)info.protocol));
			json_object_object_add(o, "protocolMatch",
					       json_object_new_boolean(info.protocol == HUTCH_GENL_VERSION));
			json_object_object_add(o, "features", json_object_new_int64((int64_t)info.features));
			json_object_object_add(o, "containers", json_object_new_int((int)info.nr_containers));
			json_object_object_add(o, "tasks", json_object_new_int((int)info.nr_tasks));
			json_object_object_add(o, "maxContainers", json_object_new_int((int)info.max_containers));
			json_object_object_add(o, "eventsLost", json_object_new_int64((int64_t)info.events_lost));
		} else if (e) {
			json_object_object_add(o, "error", json_object_new_string(e->msg));
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	printf("module: %s\n", loaded ? "loaded" : "not loaded");
	if (!loaded)
		return 0;
	printf("version: %s\n", version ? version : "unknown");
	if (!family) {
		printf("family: unavailable (%s)\n", e ? e->msg : "unknown error");
		return 0;
	}
	printf("protocol: %u (helper %d: %s)\n", info.protocol, HUTCH_GENL_VERSION,
	       info.protocol == HUTCH_GENL_VERSION ? "match" : "MISMATCH");
	printf("containers: %u of at most %u\n", info.nr_containers, info.max_containers);
	printf("tasks: %u\n", info.nr_tasks);
	printf("events lost: %" PRIu64 "\n", info.events_lost);
	return 0;
}

static int module_load(struct hutch_global *g, int argc, char **argv, hutch_err *err)
{
	const struct hutch_command *c = hutch_find_command("module");
	cleanup_kctx struct kmod_ctx *ctx = NULL;
	cleanup_kmodule struct kmod_module *m = NULL;
	cleanup_free char *opts = NULL;
	const char *path = NULL;
	static const struct option lopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_parser p = { .cmd = c, .argc = argc, .argv = argv, .longopts = lopts };
	int r;

	while ((r = cli_next(&p, err)) > 0)
		path = p.arg;
	if (r < 0)
		return -1;
	/* the operands are the module's parameters, NAME=VALUE */
	for (int i = p.ind; i < argc; i++) {
		if (strchr(argv[i], '=') && argv[i][0] != '-') {
			char *n = opts ? xasprintf("%s %s", opts, argv[i]) : xstrdup(argv[i]);

			free(opts);
			opts = n;
		} else {
			return hutch_usage_error(c, err, "unexpected argument `%s`", argv[i]);
		}
	}
	if (open_ctx(&ctx, err) < 0)
		return -1;
	if (is_live(ctx)) {
		printf("hutch.ko is already loaded\n");
		return 0;
	}
	if (path) {
		r = kmod_module_new_from_path(ctx, path, &m);
		if (r < 0)
			return hutch_fail(err, -r, "module load: `%s`", path);
		r = kmod_module_insert_module(m, 0, opts);
	} else {
		cleanup_kmodule struct kmod_module *alias = NULL;
		struct kmod_list *l = NULL, *it;

		r = kmod_module_new_from_lookup(ctx, HUTCH_KO_NAME, &l);
		if (r < 0 || !l)
			return hutch_fail(err, ENOENT,
					  "module load: hutch.ko is not installed for this kernel "
					  "(`make dkms-install`, or give --path FILE)");
		kmod_list_foreach(it, l) {
			if (!m)
				m = kmod_module_get_module(it);
		}
		kmod_module_unref_list(l);
		r = kmod_module_probe_insert_module(m, 0, opts, NULL, NULL, NULL);
	}
	if (r < 0)
		return hutch_fail(err, -r, "module load: insert hutch.ko");
	printf("hutch.ko loaded\n");
	return 0;
}

static int module_unload(struct hutch_global *g, int argc, char **argv, hutch_err *err)
{
	cleanup_kctx struct kmod_ctx *ctx = NULL;
	cleanup_kmodule struct kmod_module *m = NULL;
	int r;

	if (argc > 1)
		return hutch_usage_error(hutch_find_command("module"), err,
					 "unexpected argument `%s`", argv[1]);
	if (open_ctx(&ctx, err) < 0)
		return -1;
	if (!is_live(ctx)) {
		printf("hutch.ko is not loaded\n");
		return 0;
	}
	if ((r = kmod_module_new_from_name(ctx, HUTCH_KO_NAME, &m)) < 0)
		return hutch_fail(err, -r, "module unload");
	r = kmod_module_remove_module(m, 0);
	if (r < 0)
		return hutch_fail(err, -r, "module unload: remove hutch.ko");
	printf("hutch.ko unloaded\n");
	return 0;
}

HUTCH_COMMAND(module)
{
	const struct hutch_command *c = hutch_find_command("module");

	if (argc < 2)
		return hutch_usage_error(c, err, "missing subcommand");
	if (!strcmp(argv[1], "status"))
		return module_status(g, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "load"))
		return module_load(g, argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "unload"))
		return module_unload(g, argc - 1, argv + 1, err);
	return hutch_usage_error(c, err, "unknown subcommand `%s`", argv[1]);
}
