// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup interface on the real host layout (v1, v2 or hybrid), for a forked child:
 * prepare/create/enter/pids/freeze/to_json/from_json/destroy and resource errors.
 * Needs root and a writable /sys/fs/cgroup; prints "ok - cgroup: ... # SKIP" otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "utils.h"

static int failures;

static bool statfs_is_cgroup2(const char *p)
{
	struct statfs s;

	return statfs(p, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

#define CHECK(cond, name)                                                        \
	do {                                                                     \
		if (cond) {                                                      \
			printf("ok - cgroup: %s\n", name);                      \
		} else {                                                         \
			printf("not ok - cgroup: %s\n", name);                  \
			printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			failures++;                                              \
		}                                                                \
	} while (0)

static const struct hutch_global G = { .cgroup_manager = CGROUP_MANAGER_CGROUPFS };

static json_object *linux_with(const char *json)
{
	return json_tokener_parse(json);
}

static bool dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static long counter_child(volatile long *unused)
{
	(void)unused;
	for (;;)
		pause();
	return 0;
}

static void test_lifecycle(void)
{
	json_object *lin = linux_with("{\"cgroupsPath\": \"/hutch-unit/a/b\", \"resources\": {"
				      "\"pids\": {\"limit\": 42}, \"memory\": {\"limit\": 67108864},"
				      "\"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000}}}");
	cleanup_cgroup struct hutch_cgroup *cg = NULL;
	cleanup_cgroup struct hutch_cgroup *cg2 = NULL;
	cleanup_err hutch_err err = NULL;
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	pid_t child;
	int r;

	r = hutch_cgroup_prepare(&G, "x", lin, &cg, &err);
	CHECK(r == 0, "prepare with resources");
	if (r < 0) {
		printf("# %s\n", err->msg);
		json_object_put(lin);
		return;
	}
	CHECK(strcmp(hutch_cgroup_path(cg), "/hutch-unit/a/b") == 0, "absolute path kept");
	bool ok = true;

	for (size_t i = 0; i < cg->nh; i++)
		ok = ok && !dir_exists(cg->h[i].dir);
	CHECK(ok, "prepare creates nothing");
	r = hutch_cgroup_create(cg, &err);
	CHECK(r == 0, "create");
	if (r < 0) {
		printf("# %s\n", err->msg);
		json_object_put(lin);
		return;
	}
	bool dirs = true, rec = true;

	for (size_t i = 0; i < cg->nh; i++) {
		dirs = dirs && dir_exists(cg->h[i].dir);
		rec = rec && strv_len(cg->h[i].created) == 3;
	}
	CHECK(dirs && cg->nh > 0, "a directory per hierarchy");
	CHECK(rec, "parents recorded as created");
	struct cg_hier *ph = cg_find(cg, "pids");
	uint64_t v = 0;

	if (ph) {
		CHECK(cg_read_u64(ph->dir, "pids.max", &v) == 0 && v == 42, "pids.max written");
	}
	struct cg_hier *mh = cg_find(cg, "memory");
	if (mh) {
		CHECK(cg_read_u64(mh->dir, mh->v2 ? "memory.max" : "memory.limit_in_bytes", &v) == 0 &&
		      v == 67108864, "memory limit written");
	}
	struct cg_hier *ch = cg_find(cg, "cpu");
	if (ch && !ch->v2) {
		CHECK(cg_read_u64(ch->dir, "cpu.shares", &v) == 0 && v == 512, "cpu.shares written");
		CHECK(cg_read_u64(ch->dir, "cpu.cfs_quota_us", &v) == 0 && v == 50000,
		      "cpu.cfs_quota_us written");
	} else if (ch) {
		cleanup_free char *s = NULL;

		CHECK(cg_read_u64(ch->dir, "cpu.weight", &v) == 0 && v == 20, "cpu.weight converted");
		CHECK(cg_read(ch->dir, "cpu.max", &s, &err) == 0 && strcmp(s, "50000 100000\n") == 0,
		      "cpu.max written");
	}

	child = fork();
	if (child == 0) {
		counter_child(NULL);
		_exit(0);
	}
	r = hutch_cgroup_enter(cg, child, false, &err);
	CHECK(r == 0, "enter");
	r = hutch_cgroup_pids(cg, &pids, &n, &err);
	CHECK(r == 0 && n == 1 && pids[0] == child, "pids lists the child");

	/* a child that enters by itself (v1 tasks files opened before the fork) */
	{
		int pfd[2];
		pid_t self;
		char b = 0;
		bool all = true;

		CHECK(pipe(pfd) == 0 && hutch_cgroup_enter_open(cg) == 0, "enter_open");
		self = fork();
		if (self == 0) {
			hutch_err e = NULL;

			b = hutch_cgroup_enter_self(cg, &e) == 0 ? 'y' : 'n';
			(void)!write(pfd[1], &b, 1);
			counter_child(NULL);
			_exit(0);
		}
		r = hutch_cgroup_enter(cg, self, false, &err);
		CHECK(r == 0 && read(pfd[0], &b, 1) == 1 && b == 'y', "enter_self in the child");
		for (size_t i = 0; i < cg->nh; i++) {
			cleanup_free char *procs = NULL;
			cleanup_free char *want = xasprintf("%d\n", (int)self);

			if (cg_read(cg->h[i].dir, "cgroup.procs", &procs, NULL) < 0 || !strstr(procs, want)) {
				printf("# %d not in %s\n", (int)self, cg->h[i].dir);
				all = false;
			}
		}
		CHECK(all, "the self-entered child is in every hierarchy");
		kill(self, SIGKILL);
		waitpid(self, NULL, 0);
		close(pfd[0]);
		close(pfd[1]);
	}

	/* state round trip */
	json_object *j = hutch_cgroup_to_json(cg);
	cleanup_free char *js = xstrdup(json_object_to_json_string(j));
	json_object *j2 = json_tokener_parse(js);

	json_object_put(j);
	r = hutch_cgroup_from_json(j2, &cg2, &err);
	json_object_put(j2);
	CHECK(r == 0, "from_json");
	CHECK(r == 0 && cg2->nh == cg->nh && strcmp(hutch_cgroup_path(cg2), hutch_cgroup_path(cg)) == 0,
	      "from_json keeps path and hierarchies");

	r = hutch_cgroup_freeze(cg2, true, &err);
	CHECK(r == 0 && hutch_cgroup_frozen(cg2), "freeze");
	if (r < 0)
		printf("# %s\n", err->msg);
	{
		char st = 0;
		uint64_t t;

		for (int i = 0; i < 100 && st != 'S' && st != 'D'; i++) {
			pid_start_time(child, &t, &st);
			usleep(1000);
		}
	}
	r = hutch_cgroup_freeze(cg2, false, &err);
	CHECK(r == 0 && !hutch_cgroup_frozen(cg2), "thaw");

	/* waiting for the cgroup to empty: cgroup.events where there is v2, else looking */
	CHECK(hutch_cgroup_wait_empty(cg2, 50) < 0, "wait_empty times out while a process is in");
	{
		struct timespec a, b;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		kill(child, SIGKILL);
		r = hutch_cgroup_wait_empty(cg2, 5000);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
		printf("# wait_empty: %ld ms\n", ms);
		CHECK(r == 0 && ms < 2000, "wait_empty returns once the last process has left");
	}
	/* destroy while the child lives fails (EBUSY after the retries) */
	waitpid(child, NULL, 0);
	r = hutch_cgroup_destroy(cg2, &err);
	CHECK(r == 0, "destroy");
	if (r < 0)
		printf("# %s\n", err->msg);
	bool gone = true;

	for (size_t i = 0; i < cg->nh; i++) {
		cleanup_free char *top = xasprintf("%s/hutch-unit", cg->h[i].mount);

		gone = gone && !dir_exists(top);
	}
	CHECK(gone, "destroy removes every created directory");
	json_object_put(lin);
}

static void expect_prepare_error(const char *linux_json, const char *msg, const char *name)
{
	json_object *lin = linux_with(linux_json);
	struct hutch_cgroup *cg = NULL;
	cleanup_err hutch_err err = NULL;
	int r = hutch_cgroup_prepare(&G, "bad", lin, &cg, &err);

	CHECK(r < 0 && err && strstr(err->msg, msg), name);
	if (err && !strstr(err->msg, msg))
		printf("# got: %s\n", err->msg);
	hutch_cgroup_free(cg);
	json_object_put(lin);
}

static void test_errors(void)
{
	expect_prepare_error("{\"resources\": {\"memory\": {\"limit\": -5}}}",
			     "config.json: linux.resources.memory.limit: -5 is invalid", "negative limit");
	expect_prepare_error("{\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"x\"}]}}",
			     "linux.resources.devices[0].type: unknown device type \"x\"",
			     "unknown device type");
	expect_prepare_error("{\"resources\": {\"cpu\": {\"shares\": \"a\"}}}",
			     "linux.resources.cpu.shares: expected an integer", "wrong type");
	expect_prepare_error("{\"cgroupsPath\": \"a/../b\"}", "linux.cgroupsPath", "dotdot path");
	expect_prepare_error("{\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"3MB\", "
			     "\"limit\": 1}]}}", "hugepageLimits[0].pageSize", "unknown page size");
}

static void test_missing_knob(void)
{
	/* A knob the host lacks: net_cls on v2, or when it is not mounted on v1. */
	cleanup_cgroup struct hutch_cgroup *probe = NULL;
	cleanup_err hutch_err err = NULL;
	json_object *lin = linux_with("{\"cgroupsPath\": \"/hutch-unit-probe\"}");

	hutch_cgroup_prepare(&G, "p", lin, &probe, &err);
	json_object_put(lin);
	if (!probe)
		return;
	if (cg_find(probe, "net_cls")) {
		printf("ok - cgroup: missing knob is an error # SKIP net_cls is available here\n");
		return;
	}
	expect_prepare_error("{\"resources\": {\"network\": {\"classID\": 5}}}",
			     "linux.resources.network.classID", "missing knob is an error");
}

static void test_disabled(void)
{
	const struct hutch_global g = { .cgroup_manager = CGROUP_MANAGER_DISABLED };
	cleanup_cgroup struct hutch_cgroup *cg = NULL;
	cleanup_err hutch_err err = NULL;
	size_t n = 1;
	pid_t *pids = NULL;

	CHECK(hutch_cgroup_prepare(&g, "d", NULL, &cg, &err) == 0 &&
	      hutch_cgroup_create(cg, &err) == 0 && hutch_cgroup_enter(cg, getpid(), false, &err) == 0 &&
	      hutch_cgroup_v2_fd(cg) == -1 && hutch_cgroup_pids(cg, &pids, &n, &err) == 0 &&
	      n == 0 && hutch_cgroup_destroy(cg, &err) == 0, "disabled manager is a no-op");
}

/* The v2 device program, attached to a directory of the unified hierarchy (on a hybrid
 * host too: the BPF hook works there whatever the v1 devices controller says). */
static int child_try(const char *dir)
{
	cleanup_free char *pid = xasprintf("%d", getpid());
	cleanup_err hutch_err e = NULL;
	int res = 0, fd;

	if (cg_write(dir, "cgroup.procs", pid, &e) < 0)
		return 0x80;
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		res |= 1;           /* allowed c 1:3 rw */
		close(fd);
	}
	fd = open("/dev/zero", O_RDONLY);
	if (fd >= 0) {
		res |= 2;           /* not allowed */
		close(fd);
	} else if (errno == EPERM) {
		res |= 4;
	}
	if (mknod("/tmp/hutch-unit-kmsg", S_IFCHR | 0600, makedev(1, 11)) == 0) {
		res |= 8;           /* allowed c 1:11 m */
		fd = open("/tmp/hutch-unit-kmsg", O_WRONLY);
		if (fd < 0 && errno == EPERM)
			res |= 16;  /* but not w */
		if (fd >= 0)
			close(fd);
		unlink("/tmp/hutch-unit-kmsg");
	}
	if (mknod("/tmp/hutch-unit-kmem", S_IFCHR | 0600, makedev(1, 2)) < 0 && errno == EPERM)
		res |= 32;          /* c 1:2 not even created */
	else
		unlink("/tmp/hutch-unit-kmem");
	return res;
}

static void test_bpf_devices(void)
{
	const char *base = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ?
		"/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
	cleanup_free char *dir = xasprintf("%s/hutch-unit-bpf", base);
	struct cg_dev_rule rules[] = {
		{ false, 'a', -1, -1, 7 },
		{ true, 'c', 1, 3, CG_ACC_READ | CG_ACC_WRITE },
		{ true, 'c', 1, 11, CG_ACC_MKNOD },
		{ true, 'c', 1, 5, 7 },
		{ false, 'c', 1, 5, CG_ACC_READ },   /* the later rule wins */
	};
	cleanup_err hutch_err err = NULL;
	int status = 0;
	pid_t p;

	if (statfs_is_cgroup2(base) == false) {
		printf("ok - cgroup: v2 device program # SKIP no cgroup2 mount\n");
		return;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		printf("not ok - cgroup: v2 device program\n# mkdir %s: %s\n", dir, strerror(errno));
		failures++;
		return;
	}
	if (cg_devices_apply_bpf(dir, rules, ARRAY_SIZE(rules), &err) < 0) {
		printf("not ok - cgroup: v2 device program\n# %s\n", err->msg);
		failures++;
		rmdir(dir);
		return;
	}
	/* replacing the program (update) keeps exactly one attached */
	CHECK(cg_devices_apply_bpf(dir, rules, ARRAY_SIZE(rules), &err) == 0, "device program replaced");
	p = fork();
	if (p == 0)
		_exit(child_try(dir));
	waitpid(p, &status, 0);
	status = WEXITSTATUS(status);
	printf("# device checks: 0x%x\n", status);
	CHECK((status & 1), "v2 device program: allowed device opens");
	CHECK(!(status & 2) && (status & 4), "v2 device program: denied device cannot be opened (EPERM)");
	CHECK((status & 8) && (status & 16), "v2 device program: mknod-only rule allows mknod, not open");
	CHECK((status & 32), "v2 device program: denied device cannot be created");
	for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

int main(void)
{
	if (geteuid() != 0 || access("/sys/fs/cgroup", W_OK) != 0) {
		printf("ok - cgroup: lifecycle # SKIP needs root\n");
		return 0;
	}
	test_lifecycle();
	test_errors();
	test_missing_knob();
	test_disabled();
	test_bpf_devices();
	return failures ? 1 : 0;
}
