// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "log.h"
#include "utils.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug_on;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int hutch_log_init(const char *path, bool json, bool debug)
{
	log_json = json;
	log_debug_on = debug;
	if (path && *path) {
		log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (log_fd < 0)
			return -errno;
	}
	return 0;
}

int hutch_log_fd(void)
{
	return log_fd;
}

bool hutch_log_debug_enabled(void)
{
	return log_debug_on;
}

void hutch_log(enum hutch_log_level level, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	cleanup_free char *line = NULL;
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	va_end(ap);

	if (log_json) {
		cleanup_free char *t = rfc3339_now();
		json_object *o = json_object_new_object();

		json_object_object_add(o, "level", json_object_new_string(level_names[level]));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		json_object_object_add(o, "time", json_object_new_string(t));
		line = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		line = xasprintf("%s: %s\n", level == LOG_ERROR ? "hutch" : level_names[level], msg);
	}
	/* The log file gets every line; stderr gets warnings and errors as text. */
	if (log_fd >= 0)
		(void)!write(log_fd, line, strlen(line));
	if (level <= LOG_WARNING || (log_fd < 0 && log_debug_on)) {
		if (log_json || log_fd >= 0) {
			cleanup_free char *txt = xasprintf("%s: %s\n",
				level == LOG_ERROR ? "hutch" : level_names[level], msg);
			(void)!write(2, txt, strlen(txt));
		} else {
			(void)!write(2, line, strlen(line));
		}
	}
	errno = saved;
}
