/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One error type, carried up from where a failure happens to the command
 * that reports it: an errno value plus a message that names what failed.
 */
#ifndef HUTCH_ERROR_H
#define HUTCH_ERROR_H

#include <stdarg.h>

struct hutch_error {
	int status;     /* errno value, 0 when none applies */
	char *msg;      /* owned, never NULL once set */
};
typedef struct hutch_error *hutch_err;

/*
 * Set *err (when err is not NULL and *err is still empty) and return a
 * negative value, so a caller can write `return hutch_fail(err, errno, ...)`.
 * The errno text is appended to the message when status is non-zero.
 */
int hutch_fail(hutch_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing error's message with more context: "ctx: old". */
int hutch_error_prefix(hutch_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void hutch_error_free(hutch_err *err);

/*
 * Hand the error in *from up to err (the same rules as hutch_fail: dropped when err is
 * NULL or already set) and return -1: `return hutch_error_move(err, &e);`.
 */
int hutch_error_move(hutch_err *err, hutch_err *from);

#define cleanup_err __attribute__((cleanup(hutch_error_free)))

#endif
