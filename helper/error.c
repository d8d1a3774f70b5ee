// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "utils.h"

int hutch_fail(hutch_err *err, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (err == NULL || *err != NULL)
		return -(status ? status : 1);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	va_end(ap);
	if (status) {
		char *full = xasprintf("%s: %s", msg, strerror(status));

		free(msg);
		msg = full;
	}
	*err = xmalloc(sizeof(**err));
	(*err)->status = status;
	(*err)->msg = msg;
	return -(status ? status : 1);
}

int hutch_error_prefix(hutch_err *err, const char *fmt, ...)
{
	va_list ap;
	char *pre, *full;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&pre, fmt, ap) < 0)
		oom();
	va_end(ap);
	full = xasprintf("%s: %s", pre, (*err)->msg);
	free(pre);
	free((*err)->msg);
	(*err)->msg = full;
	return -((*err)->status ? (*err)->status : 1);
}

void hutch_error_free(hutch_err *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

int hutch_error_move(hutch_err *err, hutch_err *from)
{
	if (err && !*err) {
		*err = *from;
		*from = NULL;
	} else {
		hutch_error_free(from);
	}
	return -1;
}
