// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hutch events: runc's event stream for a container, one JSON object a line:
 *   {"type":"stats","id":ID,"data":{cpu, memory, pids, blkio, hugetlb}} every --interval
 *   {"type":"oom","id":ID}  when a process of the container hits its memory limit
 * --stats prints one stats event and exits. The stream ends when the container's init
 * exits. The state lock is not held while streaming (delete must not wait for us).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_cmd.h"
#include "jsonutil.h"
#include "log.h"
#include "utils.h"


static void emit(const char *type, const char *id, json_object *data)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "id", json_object_new_string(id));
	if (data)
		json_object_object_add(o, "data", data);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

HUTCH_COMMAND(events)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("events");
	cleanup_state struct hutch_state *st = NULL;
	cleanup_cgroup struct hutch_cgroup *cg = NULL;
	cleanup_close int pidfd = -1;
	cleanup_free char *id = NULL;
	enum hutch_status status;
	bool once = false;
	int64_t interval = 5000, next;
	int c, oomfd;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "",
				.longopts = opts };

	while ((c = cli_next(&p, err)) > 0) {
		if (c == 's') {
			once = true;
		} else if (c == 'i') {
			if (parse_duration_ms(p.arg, &interval, err) < 0)
				return hutch_error_prefix(err, "--interval");
		}
	}
	if (c < 0 || cli_operands(&p, 1, 1, err) < 0)
		return -1;
	if (cgcmd_open(g, argv[p.ind], false, &st, &status, err) < 0)
		return -1;
	if (status == STATUS_STOPPED)
		return hutch_fail(err, 0, "container `%s` is stopped: no events", argv[p.ind]);
	id = xstrdup(st->id);
	if (once) {
		emit("stats", id, hutch_cgroup_runc_stats(st->cg));
		return 0;
	}
	/* Keep our own copy of the cgroup and a pidfd of the init; drop the lock. */
	{
		json_object *j = hutch_cgroup_to_json(st->cg);
		int r = hutch_cgroup_from_json(j, &cg, err);

		json_object_put(j);
		if (r < 0)
			return -1;
	}
	pidfd = state_init_pidfd(st);
	state_free(steal_ptr(&st));
	if (pidfd < 0)
		return hutch_fail(err, 0, "container `%s` is stopped: no events", id);
	oomfd = hutch_cgroup_oom_fd(cg, NULL);
	if (oomfd < 0)
		log_debug("events: no OOM notification for `%s`", id);
	next = now_ms() + interval;
	for (;;) {
		struct pollfd pfd[2] = { { pidfd, POLLIN, 0 }, { oomfd, POLLIN, 0 } };
		int64_t wait = next - now_ms();
		int r;

		if (wait <= 0) {
			emit("stats", id, hutch_cgroup_runc_stats(cg));
			next += interval;
			continue;
		}
		r = poll(pfd, oomfd >= 0 ? 2 : 1, (int)(wait > 60000 ? 60000 : wait));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hutch_fail(err, errno, "poll");
		if (oomfd >= 0 && (pfd[1].revents & POLLIN)) {
			int n = hutch_cgroup_oom_read(cg);

			for (int i = 0; i < n; i++)
				emit("oom", id, NULL);
			if (n < 0)
				return 0;   /* the cgroup is gone */
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			/* the init exited: report an OOM that killed it, then end */
			if (oomfd >= 0) {
				int n = hutch_cgroup_oom_read(cg);

				for (int i = 0; i < n; i++)
					emit("oom", id, NULL);
			}
			return 0;
		}
	}
}
