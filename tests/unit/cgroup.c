// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup interface on the real host layout (v1, v2 or hybrid), for a forked child:
 * prepare/create/enter/pids/freeze/to_json/from_json/destroy and resource errors.
 * Needs root and a writable /sys/fs/cgroup; prints "ok - unit/cgroup: ... # SKIP" otherwise.
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

#define CHECK_SUITE "cgroup"
#include "check.h"

static bool statfs_is_cgroup2(const char *p)
{
	struct statfs s;

	return statfs(p, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

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
	CHECK("prepare with resources", r == 0);
	if (r < 0) {
		printf("# %s\n", err->msg);
		json_object_put(lin);
		return;
	}
	CHECK("absolute path kept", strcmp(hutch_cgroup_path(cg), "/hutch-unit/a/b") == 0);
	bool ok = true;

	for (size_t i = 0; i < cg->nh; i++)
		ok = ok && !dir_exists(cg->h[i].dir);
	CHECK("prepare creates nothing", ok);
	r = hutch_cgroup_create(cg, &err);
	CHECK("create", r == 0);
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
	CHECK("a directory per hierarchy", dirs && cg->nh > 0);
	CHECK("parents recorded as created", rec);
	struct cg_hier *ph = cg_find(cg, "pids");
	uint64_t v = 0;

	if (ph) {
		CHECK("pids.max written", cg_read_u64(ph->dir, "pids.max", &v) == 0 && v == 42);
	}
	struct cg_hier *mh = cg_find(cg, "memory");
	if (mh) {
		CHECK("memory limit written", cg_read_u64(mh->dir, mh->v2 ? "memory.max" : "memory.limit_in_bytes", &v) == 0 &&
		      v == 67108864);
	}
	struct cg_hier *ch = cg_find(cg, "cpu");
	if (ch && !ch->v2) {
		CHECK("cpu.shares written", cg_read_u64(ch->dir, "cpu.shares", &v) == 0 && v == 512);
		CHECK("cpu.cfs_quota_us written", cg_read_u64(ch->dir, "cpu.cfs_quota_us", &v) == 0 && v == 50000);
	} else if (ch) {
		cleanup_free char *s = NULL;

		CHECK("cpu.weight converted", cg_read_u64(ch->dir, "cpu.weight", &v) == 0 && v == 20);
		CHECK("cpu.max written", cg_read(ch->dir, "cpu.max", &s, &err) == 0 && strcmp(s, "50000 100000\n") == 0);
	}

	child = fork();
	if (child == 0) {
		counter_child(NULL);
		_exit(0);
	}
	r = hutch_cgroup_enter(cg, child, false, &err);
	CHECK("enter", r == 0);
	r = hutch_cgroup_pids(cg, &pids, &n, &err);
	CHECK("pids lists the child", r == 0 && n == 1 && pids[0] == child);

	/* a child that enters by itself (v1 tasks files opened before the fork) */
	{
		int pfd[2];
		pid_t self;
		char b = 0;
		bool all = true;

		CHECK("enter_open", pipe(pfd) == 0 && hutch_cgroup_enter_open(cg) == 0);
		self = fork();
		if (self == 0) {
			hutch_err e = NULL;

			b = hutch_cgroup_enter_self(cg, &e) == 0 ? 'y' : 'n';
			(void)!write(pfd[1], &b, 1);
			counter_child(NULL);
			_exit(0);
		}
		r = hutch_cgroup_enter(cg, self, false, &err);
		CHECK("enter_self in the child", r == 0 && read(pfd[0], &b, 1) == 1 && b == 'y');
		for (size_t i = 0; i < cg->nh; i++) {
			cleanup_free char *procs = NULL;
			cleanup_free char *want = xasprintf("%d\n", (int)self);

			if (cg_read(cg->h[i].dir, "cgroup.procs", &procs, NULL) < 0 || !strstr(procs, want)) {
				printf("# %d not in %s\n", (int)self, cg->h[i].dir);
				all = false;
			}
		}
		CHECK("the self-entered child is in every hierarchy", all);
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
	CHECK("from_json", r == 0);
	CHECK("from_json keeps path and hierarchies", r == 0 && cg2->nh == cg->nh && strcmp(hutch_cgroup_path(cg2), hutch_cgroup_path(cg)) == 0);

	r = hutch_cgroup_freeze(cg2, true, &err);
	CHECK("freeze", r == 0 && hutch_cgroup_frozen(cg2));
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
	CHECK("thaw", r == 0 && !hutch_cgroup_frozen(cg2));

	/* waiting for the cgroup to empty: cgroup.events where there is v2, else looking */
	CHECK("wait_empty times out while a process is in", hutch_cgroup_wait_empty(cg2, 50) < 0);
	{
		struct timespec a, b;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		kill(child, SIGKILL);
		r = hutch_cgroup_wait_empty(cg2, 5000);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
		printf("# wait_empty: %ld ms\n", ms);
		CHECK("wait_empty returns once the last process has left", r == 0 && ms < 2000);
	}
	/* destroy while the child lives fails (EBUSY after the retries) */
	waitpid(child, NULL, 0);
	r = hutch_cgroup_destroy(cg2, &err);
	CHECK("destroy", r == 0);
	if (r < 0)
		printf("# %s\n", err->msg);
	bool gone = true;

	for (size_t i = 0; i < cg->nh; i++) {
		cleanup_free char *top = xasprintf("%s/hutch-unit", cg->h[i].mount);

		gone = gone && !dir_exists(top);
	}
	CHECK("destroy removes every created directory", gone);
	json_object_put(lin);
}

static void expect_prepare_error(const char *linux_json, const char *msg, const char *name)
{
	json_object *lin = linux_with(linux_json);
	struct hutch_cgroup *cg = NULL;
	cleanup_err hutch_err err = NULL;
	int r = hutch_cgroup_prepare(&G, "bad", lin, &cg, &err);

	CHECK(name, r < 0 && err && strstr(err->msg, msg));
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
		printf("ok - unit/cgroup: missing knob is an error # SKIP net_cls is available here\n");
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

	CHECK("disabled manager is a no-op", hutch_cgroup_prepare(&g, "d", NULL, &cg, &err) == 0 &&
	      hutch_cgroup_create(cg, &err) == 0 && hutch_cgroup_enter(cg, getpid(), false, &err) == 0 &&
	      hutch_cgroup_v2_fd(cg) == -1 && hutch_cgroup_pids(cg, &pids, &n, &err) == 0 &&
	      n == 0 && hutch_cgroup_destroy(cg, &err) == 0);
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
		printf("ok - unit/cgroup: v2 device program # SKIP no cgroup2 mount\n");
		return;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		CHECK("v2 device program", false, "mkdir %s: %s", dir, strerror(errno));
		return;
	}
	if (cg_devices_apply_bpf(dir, rules, ARRAY_SIZE(rules), &err) < 0) {
		CHECK("v2 device program", false, "%s", err->msg);
		rmdir(dir);
		return;
	}
	/* replacing the program (update) keeps exactly one attached */
	CHECK("device program replaced", cg_devices_apply_bpf(dir, rules, ARRAY_SIZE(rules), &err) == 0);
	p = fork();
	if (p == 0)
		_exit(child_try(dir));
	waitpid(p, &status, 0);
	status = WEXITSTATUS(status);
	printf("# device checks: 0x%x\n", status);
	CHECK("v2 device program: allowed device opens", (status & 1));
	CHECK("v2 device program: denied device cannot be opened (EPERM)", !(status & 2) && (status & 4));
	CHECK("v2 device program: mknod-only rule allows mknod, not open", (status & 8) && (status & 16));
	CHECK("v2 device program: denied device cannot be created", (status & 32));
	for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

/* systemd's slice:prefix:name to the unit and its cgroup path (cgroup_systemd.c). */
static void test_systemd_names(void)
{
	static const struct {
		const char *in, *unit, *slice, *path;
	} ok[] = {
		{ NULL, "hutch-c1.scope", "system.slice", "/system.slice/hutch-c1.scope" },
		{ "machine.slice:libpod:abc", "libpod-abc.scope", "machine.slice",
		  "/machine.slice/libpod-abc.scope" },
		{ "a-b-c.slice:p:n", "p-n.scope", "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope" },
		{ "-.slice:p:n", "p-n.scope", "-.slice", "/p-n.scope" },
		{ ":p:n", "p-n.scope", "system.slice", "/system.slice/p-n.scope" },
		{ "x.slice::n", "n.scope", "x.slice", "/x.slice/n.scope" },
	};
	static const char *const bad[] = { "a:b", "a:b:c:d", "x:p:n", "x.slice:p:", "-a.slice:p:n",
					   "a-.slice:p:n", "a--b.slice:p:n", "a/b.slice:p:n",
					   "x.slice:p:n.slice", "x.slice:p:n/m", ".slice:p:n" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct cg_systemd *sd = NULL;
		cleanup_free char *path = NULL, *name = xasprintf("systemd name %s", ok[i].in ? ok[i].in : "(default)");
		cleanup_err hutch_err e = NULL;

		CHECK(name, cg_sd_parse(ok[i].in, "c1", &sd, &path, &e) == 0 &&
			      strcmp(sd->unit, ok[i].unit) == 0 && strcmp(sd->slice, ok[i].slice) == 0 &&
			      strcmp(path, ok[i].path) == 0);
		cg_sd_free(sd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cg_systemd *sd = NULL;
		char *path = NULL;
		cleanup_free char *name = xasprintf("systemd name %s refused", bad[i]);
		cleanup_err hutch_err e = NULL;

		CHECK(name, cg_sd_parse(bad[i], "c1", &sd, &path, &e) < 0 && !sd && !path && e &&
			      strstr(e->msg, "linux.cgroupsPath"));
	}
}

int main(void)
{
	test_systemd_names();
	if (geteuid() != 0 || access("/sys/fs/cgroup", W_OK) != 0) {
		printf("ok - unit/cgroup: lifecycle # SKIP needs root\n");
		return 0;
	}
	test_lifecycle();
	test_errors();
	test_missing_knob();
	test_disabled();
	test_bpf_devices();
	return check_status();
}
