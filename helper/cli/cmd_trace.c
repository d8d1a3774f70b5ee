// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch trace ID: a container's hutch.ko events as JSON lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "cli.h"
#include "kmodule.h"
#include "log.h"
#include "utils.h"

static void print_event(const struct hutch_kmod_event *ev, const char *id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seq", json_object_new_int64((int64_t)ev->seq));
	json_object_object_add(o, "timeNs", json_object_new_int64((int64_t)ev->time_ns));
	json_object_object_add(o, "event", json_object_new_string(hutch_kmod_event_name(ev->type)));
	json_object_object_add(o, "id", json_object_new_string(id));
	if (ev->pid)
		json_object_object_add(o, "pid", json_object_new_int(ev->pid));
	if (ev->ppid)
		json_object_object_add(o, "ppid", json_object_new_int(ev->ppid));
	if (ev->has_status)
		json_object_object_add(o, "status", json_object_new_int((int)ev->status));
	if (ev->filename[0])
		json_object_object_add(o, "filename", json_object_new_string(ev->filename));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}

/*
 * Runs until the container is unregistered (or --count events were printed,
 * or --timeout seconds passed without one). Events lost to a full socket
 * buffer are reported as {"event":"lost"} and on stderr.
 */
HUTCH_COMMAND(trace)
{
	enum { O_COUNT = 256, O_TIMEOUT, O_MODULE_NAME };
	static const struct option opts[] = {
		{ "count", required_argument, NULL, O_COUNT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "module-name", no_argument, NULL, O_MODULE_NAME },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *c = hutch_find_command("trace");
	struct cli_parser p = { .cmd = c, .argc = argc, .argv = argv, .longopts = opts };
	cleanup_kmod struct hutch_kmod *k = NULL, *ev = NULL;
	struct hutch_kmod_ct ct;
	uint64_t count = 0, printed = 0, timeout = 0;
	cleanup_free char *name = NULL;
	const char *id = NULL;
	bool raw = false;
	int opt;

	while ((opt = cli_next(&p, err)) > 0) {
		if (opt == O_COUNT && parse_u64(p.arg, &count) < 0)
			return hutch_usage_error(c, err, "--count: not a number `%s`", p.arg);
		if (opt == O_TIMEOUT && parse_u64(p.arg, &timeout) < 0)
			return hutch_usage_error(c, err, "--timeout: not a number `%s`", p.arg);
		if (opt == O_MODULE_NAME)
			raw = true;
	}
	if (opt < 0 || cli_operands(&p, 1, 1, err) < 0)
		return -1;
	id = argv[p.ind];
	if (g->module_mode == MODULE_OFF)
		return hutch_fail(err, 0, "trace: needs the hutch.ko kernel module (not with --module off)");
	name = raw ? xstrdup(id) : hutch_kmod_name(id);
	if (hutch_kmod_open(&k, err) < 0 || hutch_kmod_open(&ev, err) < 0)
		return hutch_error_prefix(err, "trace");
	/* Subscribe first so nothing between the check and the stream is missed. */
	if (hutch_kmod_subscribe(ev, err) < 0)
		return hutch_error_prefix(err, "trace");
	if (hutch_kmod_get(k, name, &ct, err) < 0)
		return hutch_error_prefix(err, "trace: container `%s` is not registered with hutch.ko", id);
	hutch_kmod_ct_clear(&ct);
	log_debug("trace `%s`: subscribed to the events of hutch.ko", id);
	for (;;) {
		cleanup_err hutch_err e = NULL;
		struct hutch_kmod_event event;
		int r = hutch_kmod_next_event(ev, &event, timeout ? (int)(timeout * 1000) : -1, &e);

		if (r == 0)
			return 0;
		if (r < 0) {
			if (e && e->status == ENOBUFS) {
				log_warn("trace: %s", e->msg);
				printf("{\"event\":\"lost\",\"id\":\"%s\"}\n", id);
				fflush(stdout);
				continue;
			}
			return hutch_error_move(err, &e);
		}
		if (strcmp(event.id, name))
			continue;
		print_event(&event, id);
		if (event.type == HUTCH_EV_UNREGISTERED || (count && ++printed >= count))
			return 0;
	}
}
