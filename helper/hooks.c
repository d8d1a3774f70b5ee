// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * OCI hooks (config.hooks.<kind>[]: path, args, env, timeout). Each hook runs with
 * exactly its env, the container state JSON on stdin, and its stdout+stderr
 * captured: on failure the output is part of the error, otherwise it is logged at
 * debug level. A timeout kills the hook (SIGKILL) and counts as a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "jsonutil.h"
#include "security.h"
#include "utils.h"

#define CFG "config.json"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *const hook_kinds[] = { "prestart", "createRuntime", "createContainer",
					  "startContainer", "poststart", "poststop", NULL };

static bool kind_is_fatal(const char *kind)
{
	return strcmp(kind, "poststart") != 0 && strcmp(kind, "poststop") != 0;
}

struct hook {
	const char *path;
	char **args;
	char **env;
	int64_t timeout;   /* seconds, 0: none */
};

static void hook_clear(struct hook *h)
{
	strv_free(h->args);
	strv_free(h->env);
}

static int hook_parse(json_object *o, const char *path, struct hook *h, hutch_err *err)
{
	bool has_timeout;

	memset(h, 0, sizeof(*h));
	if (!o || !json_object_is_type(o, json_type_object))
		return jfail(err, CFG, path, "expected an object");
	has_timeout = json_object_object_get_ex(o, "timeout", NULL);
	if (jget_str(o, CFG, path, "path", true, &h->path, err) < 0 ||
	    jget_strv(o, CFG, path, "args", false, &h->args, err) < 0 ||
	    jget_strv(o, CFG, path, "env", false, &h->env, err) < 0 ||
	    jget_i64(o, CFG, path, "timeout", false, &h->timeout, err) < 0)
		return -1;
	if (h->path[0] != '/') {
		cleanup_free char *p = jpath_key(path, "path");

		return jfail(err, CFG, p, "\"%s\" is not an absolute path", h->path);
	}
	if (has_timeout && h->timeout <= 0) {
		cleanup_free char *p = jpath_key(path, "timeout");

		return jfail(err, CFG, p, "must be greater than zero");
	}
	return 0;
}

int hutch_hooks_validate(json_object *config, hutch_err *err)
{
	json_object *hooks = NULL;

	if (jget_obj(config, CFG, "", "hooks", false, &hooks, err) < 0)
		return -1;
	for (size_t k = 0; hooks && hook_kinds[k]; k++) {
		json_object *arr = NULL;
		cleanup_free char *kp = xasprintf("hooks.%s", hook_kinds[k]);

		if (jget_array(hooks, CFG, "hooks", hook_kinds[k], false, &arr, err) < 0)
			return -1;
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			cleanup_free char *p = jpath_idx(kp, i);
			struct hook h;
			int r = hook_parse(json_object_array_get_idx(arr, i), p, &h, err);

			hook_clear(&h);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int hook_run(const struct hook *h, const char *where, const char *state, hutch_err *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	cleanup_free char *output = NULL;
	size_t olen = 0, ocap = 0;
	int64_t deadline = h->timeout > 0 ? now_ms() + h->timeout * 1000 : -1;
	bool timed_out = false;
	int status = 0, pidfd = -1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0) {
		int e = errno;

		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
		}
		return hutch_fail(err, e, "%s: pipes", where);
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		return hutch_fail(err, e, "%s: fork", where);
	}
	if (pid == 0) {
		sigset_t none;
		char *const argv0[] = { (char *)h->path, NULL };
		char *const envnone[] = { NULL };

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[1], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : envnone);
		dprintf(2, "exec %s: %s\n", h->path, strerror(errno));
		_exit(127);
	}
	close(in[1]);
	close(out[1]);
	if (state && *state)
		(void)!send(in[0], state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(in[0], SHUT_WR);
	pidfd = pidfd_open_pid(pid, 0);
	/* read the output until EOF, or until the hook exits (a daemon it left may keep the pipe) */
	for (;;) {
		struct pollfd pf[2] = { { .fd = out[0], .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		int tmo = -1, r;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				timed_out = true;
				kill(pid, SIGKILL);
				break;
			}
			tmo = left;
		}
		r = poll(pf, pidfd >= 0 ? 2 : 1, tmo);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (pf[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n;

			if (olen + 4096 > ocap) {
				ocap = ocap ? ocap * 2 : 8192;
				output = xrealloc(output, ocap + 1);
			}
			n = read(out[0], output + olen, 4096);
			if (n > 0 && olen < (1 << 20)) {
				olen += n;
				continue;
			}
			if (n == 0)
				break;
		}
		if (pidfd >= 0 && (pf[1].revents & POLLIN)) {
			/* exited: take what is already there, then stop */
			fcntl(out[0], F_SETFL, O_NONBLOCK);
			for (;;) {
				ssize_t n;

				if (olen + 4096 > ocap) {
					ocap = ocap ? ocap * 2 : 8192;
					output = xrealloc(output, ocap + 1);
				}
				n = read(out[0], output + olen, 4096);
				if (n <= 0 || olen >= (1 << 20))
					break;
				olen += n;
			}
			break;
		}
	}
	close(in[0]);
	close(out[0]);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (output) {
		output[olen] = '\0';
		while (olen && output[olen - 1] == '\n')
			output[--olen] = '\0';
	}
	if (timed_out)
		return hutch_fail(err, 0, "%s: `%s` timed out after %lld s", where, h->path,
				  (long long)h->timeout);
	if (WIFSIGNALED(status))
		return hutch_fail(err, 0, "%s: `%s` killed by signal %d%s%s", where, h->path,
				  WTERMSIG(status), olen ? ": " : "", olen ? output : "");
	if (WEXITSTATUS(status) != 0)
		return hutch_fail(err, 0, "%s: `%s` exited with status %d%s%s", where, h->path,
				  WEXITSTATUS(status), olen ? ": " : "", olen ? output : "");
	if (olen)
		log_debug("%s: %s", where, output);
	return 0;
}

int hutch_hooks_run(json_object *config, const char *kind, const char *state_json, hutch_err *err)
{
	json_object *hooks = NULL, *arr = NULL;
	cleanup_free char *kp = xasprintf("hooks.%s", kind);
	bool fatal = kind_is_fatal(kind);
	size_t n;

	if (!config || !json_object_object_get_ex(config, "hooks", &hooks) || !hooks ||
	    !json_object_object_get_ex(hooks, kind, &arr) || !arr ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *p = jpath_idx(kp, i);
		cleanup_err hutch_err e = NULL;
		struct hook h;
		int r;

		r = hook_parse(json_object_array_get_idx(arr, i), p, &h, &e);
		if (r == 0) {
			log_debug("running hook %s: %s", p, h.path);
			r = hook_run(&h, p, state_json, &e);
		}
		hook_clear(&h);
		if (r < 0) {
			if (fatal) {
				return hutch_error_move(err, &e);
			}
			log_warn("%s (ignored: %s hooks do not stop the container)", e->msg, kind);
		}
	}
	return 0;
}
