/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging: text or JSON lines (level, msg, time as runc writes them). */
#ifndef HUTCH_LOG_H
#define HUTCH_LOG_H

#include <stdbool.h>

enum hutch_log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* path may be NULL (stderr only); json selects runc's JSON-lines format. */
int hutch_log_init(const char *path, bool json, bool debug);
void hutch_log(enum hutch_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool hutch_log_debug_enabled(void);
/* The --log file's fd (close-on-exec), or -1: kept open when a container process closes
 * the runtime's other fds. */
int hutch_log_fd(void);

#define log_error(...) hutch_log(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) hutch_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...) hutch_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (hutch_log_debug_enabled()) hutch_log(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
