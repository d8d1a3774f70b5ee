/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unit tests' one check. Define CHECK_SUITE ("spec") before including this;
 *
 *	CHECK(name, cond);
 *	CHECK(name, cond, "got %d", r);     (a diagnostic line when it fails)
 *
 * prints "ok - unit/SUITE: name" or "not ok - unit/SUITE: name" with "# file:line: cond"
 * (tests/run counts them), and is cond's truth. main ends with `return check_status();`.
 */
#ifndef HUTCH_TESTS_CHECK_H
#define HUTCH_TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef CHECK_SUITE
#error "define CHECK_SUITE before including check.h"
#endif

static int check_failures;

static inline bool check_report(bool ok, const char *name, const char *file, int line,
				const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("%s - unit/%s: %s\n", ok ? "ok" : "not ok", CHECK_SUITE, name);
	if (!ok) {
		printf("# %s:%d: %s\n", file, line, expr);
		if (*fmt) {
			printf("# ");
			va_start(ap, fmt);
			vprintf(fmt, ap);
			va_end(ap);
			printf("\n");
		}
		check_failures++;
	}
	fflush(stdout);
	return ok;
}

#define CHECK(name, cond, ...) \
	check_report(!!(cond), (name), __FILE__, __LINE__, #cond, "" __VA_ARGS__)

static inline int check_status(void)
{
	return check_failures ? 1 : 0;
}

#endif
