// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kmod-test: drives hutch.ko's raw generic netlink API. Run as root with the
 * module loaded: `kmod-test NAME` runs one test and exits 0 when it passes
 * (diagnostics on stderr, prefixed "# "); `kmod-test list` names the tests.
 * The shell suites in tests/kmod/ wrap it in the ok/not ok protocol.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/capability.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "kmodule.h"
#include "utils.h"

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "# %s:%d: check failed: %s: ", __func__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		return 1; \
	} \
} while (0)

#define OK(call) do { \
	cleanup_err hutch_err _e = NULL; \
	hutch_err *err = &_e; \
	if ((call) < 0) { \
		fprintf(stderr, "# %s:%d: %s: %s\n", __func__, __LINE__, #call, _e ? _e->msg : "?"); \
		return 1; \
	} \
} while (0)

/* Runs call and checks it fails with errno value want; *msg gets the text. */
static int fails_with(int r, hutch_err e, int want, const char *what)
{
	if (r >= 0) {
		fprintf(stderr, "# %s: succeeded, expected %s\n", what, strerror(want));
		return 1;
	}
	if (!e || e->status != want) {
		fprintf(stderr, "# %s: failed with [%s], expected %s\n", what, e ? e->msg : "?",
			strerror(want));
		return 1;
	}
	fprintf(stderr, "#   %s -> %s\n", what, e->msg);
	return 0;
}

#define FAILS(want, call) do { \
	cleanup_err hutch_err _e = NULL; \
	hutch_err *err = &_e; \
	int _r = (call); \
	if (fails_with(_r, _e, want, #call)) \
		return 1; \
} while (0)

static struct hutch_kmod *K;

/* A child that waits until its release fd is written to (or closed). */
struct kid {
	pid_t pid;
	int go;        /* write a byte to let it run */
};

typedef void (*kid_fn)(void *arg);

static struct kid spawn(kid_fn fn, void *arg)
{
	struct kid k;
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	k.pid = fork();
	if (k.pid < 0)
		abort();
	if (k.pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(111);
		close(p[0]);
		if (fn)
			fn(arg);
		_exit(0);
	}
	close(p[0]);
	k.go = p[1];
	return k;
}

static void release(struct kid *k)
{
	if (k->go >= 0) {
		(void)!write(k->go, "x", 1);
		close(k->go);
		k->go = -1;
	}
}

static int reap(struct kid *k)
{
	int st = 0;

	release(k);
	if (waitpid(k->pid, &st, 0) < 0)
		return -1;
	return st;
}

static void kill_reap(struct kid *k)
{
	kill(k->pid, SIGKILL);
	reap(k);
}

static uint32_t info_count(int which)
{
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod_info info;

	if (hutch_kmod_get_info(K, &info, &e) < 0)
		return UINT32_MAX;
	return which ? info.nr_tasks : info.nr_containers;
}

/* Waits up to 10 s for the container's state. */
static int wait_state(const char *id, uint32_t state)
{
	for (int i = 0; i < 1000; i++) {
		cleanup_err hutch_err e = NULL;
		struct hutch_kmod_ct ct;

		if (hutch_kmod_get(K, id, &ct, &e) < 0)
			return -1;
		uint32_t s = ct.state;

		hutch_kmod_ct_clear(&ct);
		if (s == state)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int t_info(void)
{
	struct hutch_kmod_info info;

	OK(hutch_kmod_get_info(K, &info, err));
	fprintf(stderr, "#   version %s protocol %u features %#" PRIx64 " containers %u tasks %u max %u\n",
		info.version, info.protocol, info.features, info.nr_containers, info.nr_tasks,
		info.max_containers);
	CHECK(info.protocol == HUTCH_GENL_VERSION, "protocol %u", info.protocol);
	CHECK(info.version[0], "no version");
	CHECK(info.features & HUTCH_FEAT_ACCOUNTING, "features %#" PRIx64, info.features);
	CHECK(info.nr_containers == 0 && info.nr_tasks == 0, "module not idle");
	CHECK(info.max_containers > 0, "max_containers");
	return 0;
}

static uint32_t ns_inum(pid_t pid, const char *ns)
{
	cleanup_free char *p = xasprintf("/proc/%d/ns/%s", pid, ns);
	struct stat st;

	return stat(p, &st) < 0 ? 0 : (uint32_t)st.st_ino;
}

static int t_register(void)
{
	static const struct { int a; const char *name; } nss[] = {
		{ HUTCH_NS_A_PID, "pid" }, { HUTCH_NS_A_MNT, "mnt" }, { HUTCH_NS_A_NET, "net" },
		{ HUTCH_NS_A_IPC, "ipc" }, { HUTCH_NS_A_UTS, "uts" }, { HUTCH_NS_A_USER, "user" },
		{ HUTCH_NS_A_CGROUP, "cgroup" },
	};
	struct kid k = spawn(NULL, NULL);
	struct hutch_kmod_ct ct;
	cleanup_free char *cg = NULL;
	cleanup_free pid_t *pids = NULL;
	size_t n;

	OK(hutch_kmod_register(K, "reg-1", k.pid, 0, err));
	CHECK(info_count(0) == 1 && info_count(1) == 1, "counts after register");
	OK(hutch_kmod_get(K, "reg-1", &ct, err));
	CHECK(ct.id && !strcmp(ct.id, "reg-1"), "id");
	CHECK(ct.pid == k.pid, "pid %d != %d", ct.pid, k.pid);
	CHECK(ct.state == HUTCH_CT_RUNNING, "state %u", ct.state);
	CHECK(!ct.exited, "exited");
	for (size_t i = 0; i < ARRAY_SIZE(nss); i++)
		CHECK(ct.ns[nss[i].a] == ns_inum(k.pid, nss[i].name), "ns %s: %u != %u",
		      nss[i].name, ct.ns[nss[i].a], ns_inum(k.pid, nss[i].name));
	{
		cleanup_free char *path = xasprintf("/proc/%d/cgroup", k.pid);
		cleanup_err hutch_err e = NULL;
		char *line;

		CHECK(read_file(path, &cg, NULL, &e) == 0, "read %s", path);
		line = strstr(cg, "0::");
		CHECK(line, "no cgroup v2 line in [%s]", cg);
		line += 3;
		line[strcspn(line, "\n")] = 0;
		CHECK(ct.cgroup_path && !strcmp(ct.cgroup_path, line), "cgroup [%s] != [%s]",
		      ct.cgroup_path ? ct.cgroup_path : "(none)", line);
	}
	CHECK(ct.has_stats && ct.stats[HUTCH_STAT_A_PROCS] == 1 && ct.stats[HUTCH_STAT_A_TASKS] == 1,
	      "stats procs %" PRIu64, ct.stats[HUTCH_STAT_A_PROCS]);
	hutch_kmod_ct_clear(&ct);
	OK(hutch_kmod_pids(K, "reg-1", &pids, &n, err));
	CHECK(n == 1 && pids[0] == k.pid, "pids n=%zu", n);
	/* The init process exits: the module keeps its status. */
	CHECK(reap(&k) == 0, "child status");
	CHECK(wait_state("reg-1", HUTCH_CT_EMPTY) == 0, "never empty");
	OK(hutch_kmod_get(K, "reg-1", &ct, err));
	CHECK(ct.exited && ct.exit_status == 0, "exit record");
	CHECK(ct.stats[HUTCH_STAT_A_EXITS] == 1 && ct.stats[HUTCH_STAT_A_PROCS] == 0, "exits");
	hutch_kmod_ct_clear(&ct);
	OK(hutch_kmod_unregister(K, "reg-1", err));
	FAILS(ENOENT, hutch_kmod_get(K, "reg-1", &ct, err));
	CHECK(info_count(0) == 0 && info_count(1) == 0, "counts after unregister");
	return 0;
}

static int t_errors(void)
{
	struct kid a = spawn(NULL, NULL), b = spawn(NULL, NULL);
	struct hutch_kmod_ct ct;
	pid_t *pids;
	size_t n;
	uint32_t c;

	OK(hutch_kmod_register(K, "dup", a.pid, 0, err));
	FAILS(EEXIST, hutch_kmod_register(K, "dup", b.pid, 0, err));
	FAILS(EBUSY, hutch_kmod_register(K, "other", a.pid, 0, err));
	FAILS(ENOENT, hutch_kmod_unregister(K, "nope", err));
	FAILS(ENOENT, hutch_kmod_attach(K, "nope", b.pid, err));
	FAILS(ENOENT, hutch_kmod_get(K, "nope", &ct, err));
	FAILS(ENOENT, hutch_kmod_pids(K, "nope", &pids, &n, err));
	FAILS(ENOENT, hutch_kmod_kill(K, "nope", SIGTERM, true, &c, err));
	FAILS(ESRCH, hutch_kmod_register(K, "ghost", 4000000, 0, err));
	OK(hutch_kmod_register(K, "other", b.pid, 0, err));
	FAILS(EBUSY, hutch_kmod_attach(K, "dup", b.pid, err));
	OK(hutch_kmod_attach(K, "other", b.pid, err));  /* same container: fine */
	kill_reap(&a);
	kill_reap(&b);
	CHECK(wait_state("dup", HUTCH_CT_EMPTY) == 0, "dup not empty");
	FAILS(ESRCH, hutch_kmod_kill(K, "dup", SIGTERM, false, &c, err));
	FAILS(ESRCH, hutch_kmod_kill(K, "dup", SIGTERM, true, &c, err));
	OK(hutch_kmod_unregister(K, "dup", err));
	OK(hutch_kmod_unregister(K, "other", err));
	FAILS(ENOENT, hutch_kmod_unregister(K, "dup", err));
	CHECK(info_count(0) == 0, "containers left");
	return 0;
}

static void forker(void *arg)
{
	int n = *(int *)arg;

	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	pause();
}

static int t_dump_large(void)
{
	enum { NCT = 150, NPROC = 1200 };
	struct kid kids[NCT];
	struct hutch_kmod_ct *cts;
	size_t n, found = 0;
	char id[HUTCH_ID_MAX];
	int nproc = NPROC;
	pid_t *pids;

	for (int i = 0; i < NCT; i++) {
		kids[i] = spawn(i == 0 ? forker : NULL, &nproc);
		memset(id, 'x', 200);
		snprintf(id + 200, sizeof(id) - 200, "-%03d", i);
		OK(hutch_kmod_register(K, id, kids[i].pid, 0, err));
	}
	OK(hutch_kmod_dump(K, &cts, &n, err));
	for (size_t i = 0; i < n; i++)
		if (cts[i].id && strlen(cts[i].id) == 204)
			found++;
	hutch_kmod_cts_free(cts, n);
	CHECK(found == NCT, "dump found %zu of %d containers", found, NCT);
	/* One container with 1201 processes: the pid dump spans several messages. */
	memset(id, 'x', 200);
	snprintf(id + 200, sizeof(id) - 200, "-000");
	release(&kids[0]);
	/* forking 1200 processes takes a while in an emulated VM: up to 2 minutes */
	for (int i = 0; i < 12000; i++) {
		cleanup_err hutch_err e = NULL;

		if (hutch_kmod_pids(K, id, &pids, &n, &e) < 0)
			return 1;
		free(pids);
		if (n == NPROC + 1)
			break;
		usleep(10000);
	}
	CHECK(n == NPROC + 1, "pids dump has %zu, expected %d", n, NPROC + 1);
	{
		uint32_t c;

		OK(hutch_kmod_kill(K, id, SIGKILL, true, &c, err));
		CHECK(c == NPROC + 1, "killed %u", c);
	}
	for (int i = 0; i < NCT; i++)
		kill_reap(&kids[i]);
	CHECK(wait_state(id, HUTCH_CT_EMPTY) == 0, "forker container not empty");
	for (int i = 0; i < NCT; i++) {
		memset(id, 'x', 200);
		snprintf(id + 200, sizeof(id) - 200, "-%03d", i);
		OK(hutch_kmod_unregister(K, id, err));
	}
	CHECK(info_count(0) == 0 && info_count(1) == 0, "counts not zero");
	return 0;
}

#define MARK "hutch-forkbomb"

static void forkloop(void *arg)
{
	prctl(PR_SET_NAME, MARK);
	for (;;) {
		pid_t p = fork();

		if (p == 0)
			continue;      /* the child forks on too */
		if (p < 0) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			usleep(1000);
		}
	}
}

static int count_marked(void)
{
	int n = 0;
	char path[64], comm[32];

	for (pid_t p = 2; p < 4194304; p++) {
		int fd;
		ssize_t r;

		snprintf(path, sizeof(path), "/proc/%d/comm", p);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			if (p > 100000)
				break;
			continue;
		}
		r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (r > 0) {
			comm[r] = 0;
			if (!strncmp(comm, MARK, strlen(MARK))) {
				char st[256];
				cleanup_free char *sp = xasprintf("/proc/%d/stat", p);

				fd = open(sp, O_RDONLY);
				r = fd >= 0 ? read(fd, st, sizeof(st) - 1) : -1;
				if (fd >= 0)
					close(fd);
				/* zombies awaiting their reaper do not count */
				if (r > 0 && !strstr(st, ") Z "))
					n++;
			}
		}
	}
	return n;
}

static int t_kill_race(void)
{
	struct rlimit rl = { 4000, 4000 };
	struct kid k;
	uint32_t c;
	/*
	 * Three rounds, one on the debug kernel (kmemleak: KASAN and lockdep too), where a
	 * round of killing thousands of processes takes over a minute of the emulated guest
	 * and one round already runs every path of CT_KILL under the detectors.
	 */
	int rounds = access("/sys/kernel/debug/kmemleak", F_OK) == 0 ? 1 : 3;

	setrlimit(RLIMIT_NPROC, &rl);
	for (int round = 0; round < rounds; round++) {
		k = spawn(forkloop, NULL);
		OK(hutch_kmod_register(K, "bomb", k.pid, 0, err));
		release(&k);
		usleep(300000);
		OK(hutch_kmod_kill(K, "bomb", SIGKILL, true, &c, err));
		fprintf(stderr, "#   round %d: signalled %u processes\n", round, c);
		CHECK(c > 1, "only %u processes signalled", c);
		reap(&k);
		CHECK(wait_state("bomb", HUTCH_CT_EMPTY) == 0, "container never empty");
		usleep(100000);
		int left = count_marked();

		CHECK(left == 0, "%d processes survived CT_KILL", left);
		OK(hutch_kmod_unregister(K, "bomb", err));
	}
	return 0;
}

/* The init of the events test: fork a child that execs true, exit 5. */
static void ev_init(void *arg)
{
	pid_t p = fork();

	if (p == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
	_exit(5);
}

static int next_ev(struct hutch_kmod *ev, struct hutch_kmod_event *e, const char *id)
{
	for (;;) {
		cleanup_err hutch_err err = NULL;
		int r = hutch_kmod_next_event(ev, e, 5000, &err);

		if (r <= 0) {
			fprintf(stderr, "# no event: %s\n", err ? err->msg : "timeout");
			return -1;
		}
		if (!strcmp(e->id, id))
			return 0;
	}
}

static int t_events(void)
{
	cleanup_kmod struct hutch_kmod *ev = NULL;
	struct hutch_kmod_event e;
	struct kid k;
	uint64_t seq;
	pid_t child;

	OK(hutch_kmod_open(&ev, err));
	OK(hutch_kmod_subscribe(ev, err));
	k = spawn(ev_init, NULL);
	OK(hutch_kmod_register(K, "ev", k.pid, HUTCH_CT_F_TRACE, err));
	release(&k);
	CHECK(next_ev(ev, &e, "ev") == 0, "registered");
	CHECK(e.type == HUTCH_EV_REGISTERED && e.pid == k.pid, "registered: type %u pid %d",
	      e.type, e.pid);
	CHECK(e.time_ns > 0, "time");
	seq = e.seq;
	CHECK(next_ev(ev, &e, "ev") == 0, "fork");
	CHECK(e.type == HUTCH_EV_FORK && e.ppid == k.pid && e.pid > 0, "fork: type %u ppid %d",
	      e.type, e.ppid);
	CHECK(e.seq > seq, "seq order");
	seq = e.seq;
	child = e.pid;
	CHECK(next_ev(ev, &e, "ev") == 0, "exec");
	CHECK(e.type == HUTCH_EV_EXEC && e.pid == child && !strcmp(e.filename, "/bin/true"),
	      "exec: type %u pid %d file %s", e.type, e.pid, e.filename);
	CHECK(e.seq > seq, "seq order");
	seq = e.seq;
	CHECK(next_ev(ev, &e, "ev") == 0, "child exit");
	CHECK(e.type == HUTCH_EV_EXIT && e.pid == child && e.has_status && e.status == 0,
	      "child exit: type %u pid %d status %u", e.type, e.pid, e.status);
	CHECK(e.seq > seq, "seq order");
	CHECK(next_ev(ev, &e, "ev") == 0, "init exit");
	CHECK(e.type == HUTCH_EV_EXIT && e.pid == k.pid && e.status == (5 << 8),
	      "init exit: type %u status %#x", e.type, e.status);
	CHECK(next_ev(ev, &e, "ev") == 0, "init-exit");
	CHECK(e.type == HUTCH_EV_INIT_EXIT && e.pid == k.pid && e.status == (5 << 8),
	      "init-exit: type %u status %#x", e.type, e.status);
	CHECK(next_ev(ev, &e, "ev") == 0, "empty");
	CHECK(e.type == HUTCH_EV_EMPTY, "empty: type %u", e.type);
	reap(&k);
	OK(hutch_kmod_unregister(K, "ev", err));
	CHECK(next_ev(ev, &e, "ev") == 0, "unregistered");
	CHECK(e.type == HUTCH_EV_UNREGISTERED, "unregistered: type %u", e.type);
	return 0;
}

static int t_events_lost(void)
{
	cleanup_kmod struct hutch_kmod *ev = NULL;
	cleanup_err hutch_err e2 = NULL;
	struct hutch_kmod_event e;
	int small = 4096, r = 0, got = 0;

	OK(hutch_kmod_open(&ev, err));
	OK(hutch_kmod_subscribe(ev, err));
	setsockopt(hutch_kmod_fd(ev), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (int i = 0; i < 200; i++) {
		struct kid k = spawn(NULL, NULL);

		OK(hutch_kmod_register(K, "lost", k.pid, 0, err));
		OK(hutch_kmod_unregister(K, "lost", err));
		kill_reap(&k);
	}
	while ((r = hutch_kmod_next_event(ev, &e, 200, &e2)) > 0)
		got++;
	CHECK(r < 0 && e2 && e2->status == ENOBUFS, "no ENOBUFS after %d events (r=%d)", got, r);
	fprintf(stderr, "#   %s\n", e2->msg);
	return 0;
}

static void work(void *arg)
{
	struct timespec t0, t;
	char buf[65536];
	int fd;

	/* ~300 ms of CPU in this process */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do {
		for (volatile int i = 0; i < 100000; i++)
			;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
	/* 10 forks, 5 of them exec */
	for (int i = 0; i < 10; i++) {
		pid_t p = fork();

		if (p == 0) {
			if (i % 2)
				execl("/bin/true", "true", (char *)NULL);
			_exit(0);
		}
		waitpid(p, NULL, 0);
	}
	/* 1 MiB written and read back in 16 calls each */
	memset(buf, 'a', sizeof(buf));
	fd = open("/tmp/hutch-kmod-acct", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < 16; i++)
		(void)!write(fd, buf, sizeof(buf));
	lseek(fd, 0, SEEK_SET);
	for (int i = 0; i < 16; i++)
		(void)!read(fd, buf, sizeof(buf));
	close(fd);
	unlink("/tmp/hutch-kmod-acct");
	close(open("/tmp/hutch-kmod-acct.done", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	pause();
}

/* utime + stime + cutime + cstime of /proc/PID/stat, in ns. */
static uint64_t proc_cpu_ns(pid_t pid)
{
	cleanup_free char *path = xasprintf("/proc/%d/stat", pid), *buf = NULL;
	unsigned long long v[4] = { 0 };
	char *p;

	if (read_file(path, &buf, NULL, NULL) < 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime.. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3]) != 4)
		return 0;
	return (v[0] + v[1] + v[2] + v[3]) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

static int t_accounting(void)
{
	struct kid k;
	struct hutch_kmod_ct ct;
	struct rusage ru;
	uint64_t cpu, ref;
	int i;

	unlink("/tmp/hutch-kmod-acct.done");
	k = spawn(work, NULL);
	OK(hutch_kmod_register(K, "acct", k.pid, 0, err));
	release(&k);
	/* the workload is done once it has read its 1 MiB back (up to 60 s in a slow VM) */
	for (i = 0; i < 6000; i++) {
		OK(hutch_kmod_get(K, "acct", &ct, err));
		bool done = access("/tmp/hutch-kmod-acct.done", F_OK) == 0 &&
			    ct.stats[HUTCH_STAT_A_EXITS] == 10;

		hutch_kmod_ct_clear(&ct);
		if (done)
			break;
		usleep(10000);
	}
	usleep(50000);
	OK(hutch_kmod_get(K, "acct", &ct, err));
	uint64_t *s = ct.stats;

	fprintf(stderr, "#   forks %" PRIu64 " execs %" PRIu64 " exits %" PRIu64 " utime %" PRIu64
		" stime %" PRIu64 " wchar %" PRIu64 " rchar %" PRIu64 " syscw %" PRIu64 " syscr %" PRIu64
		" minflt %" PRIu64 " maxrss %" PRIu64 " nvcsw %" PRIu64 "\n",
		s[HUTCH_STAT_A_FORKS], s[HUTCH_STAT_A_EXECS], s[HUTCH_STAT_A_EXITS],
		s[HUTCH_STAT_A_UTIME_NS], s[HUTCH_STAT_A_STIME_NS], s[HUTCH_STAT_A_WCHAR],
		s[HUTCH_STAT_A_RCHAR], s[HUTCH_STAT_A_SYSCW], s[HUTCH_STAT_A_SYSCR],
		s[HUTCH_STAT_A_MINFLT], s[HUTCH_STAT_A_MAXRSS], s[HUTCH_STAT_A_NVCSW]);
	CHECK(s[HUTCH_STAT_A_FORKS] == 10, "forks");
	CHECK(s[HUTCH_STAT_A_EXECS] == 5, "execs");
	CHECK(s[HUTCH_STAT_A_EXITS] == 10, "exits of the exited children");
	CHECK(s[HUTCH_STAT_A_PROCS] == 1 && s[HUTCH_STAT_A_TASKS] == 1, "alive");
	cpu = s[HUTCH_STAT_A_UTIME_NS] + s[HUTCH_STAT_A_STIME_NS];
	ref = proc_cpu_ns(k.pid);
	fprintf(stderr, "#   cpu %" PRIu64 " ns, /proc of init with its exited children %" PRIu64 " ns\n",
		cpu, ref);
	CHECK(cpu >= 280000000ULL, "cpu %" PRIu64 " ns, the workload burnt >= 300 ms", cpu);
	/* the kernel's own figures for the init and its waited-for children: 10% + 30 ms */
	CHECK(cpu + cpu / 10 + 30000000 >= ref && cpu <= ref + ref / 10 + 30000000,
	      "cpu %" PRIu64 " vs /proc %" PRIu64, cpu, ref);
	CHECK(s[HUTCH_STAT_A_WCHAR] >= (1 << 20) && s[HUTCH_STAT_A_WCHAR] < (1 << 20) + (1 << 16),
	      "wchar");
	CHECK(s[HUTCH_STAT_A_RCHAR] >= (1 << 20), "rchar");
	CHECK(s[HUTCH_STAT_A_SYSCW] >= 16 && s[HUTCH_STAT_A_SYSCR] >= 16, "syscalls");
	CHECK(s[HUTCH_STAT_A_MINFLT] > 0 && s[HUTCH_STAT_A_MAXRSS] > 0, "faults, rss");
	hutch_kmod_ct_clear(&ct);
	/* After the init exits everything is in the exited sum, compared with rusage. */
	kill(k.pid, SIGKILL);
	wait4(k.pid, NULL, 0, &ru);
	CHECK(wait_state("acct", HUTCH_CT_EMPTY) == 0, "not empty");
	OK(hutch_kmod_get(K, "acct", &ct, err));
	cpu = ct.stats[HUTCH_STAT_A_UTIME_NS] + ct.stats[HUTCH_STAT_A_STIME_NS];
	ref = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	fprintf(stderr, "#   cpu %" PRIu64 " ns, rusage of init %" PRIu64 " ns, exits %" PRIu64 "\n",
		cpu, ref, ct.stats[HUTCH_STAT_A_EXITS]);
	CHECK(ct.stats[HUTCH_STAT_A_EXITS] == 11 && ct.stats[HUTCH_STAT_A_PROCS] == 0, "exits");
	/* rusage of init includes its waited-for children: within 10% + 20 ms */
	CHECK(cpu + cpu / 10 + 20000000 >= ref && cpu <= ref + ref / 10 + 20000000,
	      "cpu %" PRIu64 " vs rusage %" PRIu64, cpu, ref);
	CHECK(ct.stats[HUTCH_STAT_A_MAXRSS] >= (uint64_t)ru.ru_maxrss * 1024 * 9 / 10,
	      "maxrss %" PRIu64 " vs %ld KiB", ct.stats[HUTCH_STAT_A_MAXRSS], ru.ru_maxrss);
	hutch_kmod_ct_clear(&ct);
	OK(hutch_kmod_unregister(K, "acct", err));
	unlink("/tmp/hutch-kmod-acct.done");
	return 0;
}

static int t_permission(void)
{
	struct kid k = spawn(NULL, NULL);
	pid_t p;
	int st;

	OK(hutch_kmod_register(K, "perm", k.pid, 0, err));
	p = fork();
	if (p == 0) {
		struct hutch_kmod_info info;
		struct hutch_kmod_ct ct, *cts;
		cleanup_kmod struct hutch_kmod *u = NULL;
		pid_t *pids;
		size_t n;
		uint32_t c;

		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		K = NULL;
		{
			cleanup_err hutch_err e = NULL;

			if (hutch_kmod_open(&u, &e) < 0) {
				fprintf(stderr, "# open as nobody: %s\n", e->msg);
				_exit(1);
			}
		}
		FAILS(EPERM, hutch_kmod_get_info(u, &info, err));
		FAILS(EPERM, hutch_kmod_register(u, "perm2", getpid(), 0, err));
		FAILS(EPERM, hutch_kmod_unregister(u, "perm", err));
		FAILS(EPERM, hutch_kmod_attach(u, "perm", getpid(), err));
		FAILS(EPERM, hutch_kmod_get(u, "perm", &ct, err));
		FAILS(EPERM, hutch_kmod_dump(u, &cts, &n, err));
		FAILS(EPERM, hutch_kmod_pids(u, "perm", &pids, &n, err));
		FAILS(EPERM, hutch_kmod_kill(u, "perm", SIGKILL, true, &c, err));
		FAILS(EPERM, hutch_kmod_subscribe(u, err));
		_exit(0);
	}
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged child: status %#x", st);
	CHECK(info_count(0) == 1, "container gone");
	kill_reap(&k);
	OK(hutch_kmod_unregister(K, "perm", err));
	return 0;
}

/*
 * Root without one of the two capabilities the family needs: CAP_NET_ADMIN
 * (GENL_ADMIN_PERM, checked by the genetlink core) and CAP_SYS_ADMIN (checked
 * by the module). Either missing is EPERM, for a command and for a dump.
 */
static int t_capabilities(void)
{
	static const cap_value_t drop[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };

	for (size_t i = 0; i < ARRAY_SIZE(drop); i++) {
		pid_t p = fork();
		int st;

		if (p == 0) {
			struct hutch_kmod_info info;
			struct hutch_kmod_ct *cts;
			cleanup_kmod struct hutch_kmod *u = NULL;
			cap_t caps = cap_get_proc();
			size_t n;

			if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &drop[i], CAP_CLEAR) < 0 ||
			    cap_set_proc(caps) < 0)
				_exit(2);
			cap_free(caps);
			K = NULL;
			{
				cleanup_err hutch_err e = NULL;

				if (hutch_kmod_open(&u, &e) < 0)
					_exit(3);
			}
			FAILS(EPERM, hutch_kmod_get_info(u, &info, err));
			FAILS(EPERM, hutch_kmod_dump(u, &cts, &n, err));
			_exit(0);
		}
		waitpid(p, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child without %s: status %#x",
		      cap_to_name(drop[i]), st);
	}
	return 0;
}

/* A process of proc-info's container: spins ~100 ms, then execs a known command line. */
static void proc_info_kid(void *arg)
{
	struct timespec t0, t;

	if (arg)	/* the long command line */
		execl("/bin/sh", "sh", "-c", "while :; do sleep 1; done", (char *)arg, (char *)NULL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < 100000000L);
	execl("/bin/sh", "sh", "-c", "while :; do sleep 1; done", "two words", (char *)NULL);
	_exit(112);
}

/*
 * CT_PIDS's process details (HUTCH_FEAT_PROC_INFO) match /proc: ppid, uid, comm, state,
 * start time, CPU time and the command line, for a process of the container and for its
 * init; a process that exited is no longer listed.
 */
static int t_proc_info(void)
{
	struct hutch_kmod_info info;
	struct kid k = spawn(NULL, NULL);
	struct kid c;
	struct hutch_kmod_proc *procs = NULL;
	static const char want[] = "sh\0" "-c\0" "while :; do sleep 1; done\0" "two words";
	size_t n = 0;
	int found = 0;

	OK(hutch_kmod_get_info(K, &info, err));
	CHECK(info.features & HUTCH_FEAT_PROC_INFO, "features %#" PRIx64, info.features);
	OK(hutch_kmod_register(K, "pinfo", getpid(), 0, err));
	c = spawn(proc_info_kid, NULL);
	release(&c);
	/* wait for the exec to have set up the new command line (comm is set before) */
	for (int i = 0; i < 300; i++) {
		cleanup_free char *cmd = NULL;
		cleanup_free char *path = xasprintf("/proc/%d/cmdline", c.pid);
		size_t len = 0;

		if (read_file(path, &cmd, &len, NULL) == 0 && len == sizeof(want) &&
		    !memcmp(cmd, want, len))
			break;
		usleep(100000);
	}
	OK(hutch_kmod_procs(K, "pinfo", &procs, &n, err));
	for (size_t i = 0; i < n; i++) {
		struct hutch_kmod_proc *p = &procs[i];
		cleanup_free char *path = xasprintf("/proc/%d/stat", p->pid);
		cleanup_free char *stat = NULL;
		unsigned long long start;
		char *r;

		CHECK(p->has_info, "pid %d without details", p->pid);
		CHECK(p->uid == getuid(), "pid %d: uid %u", p->pid, p->uid);
		CHECK(read_file(path, &stat, NULL, NULL) == 0, "read %s", path);
		r = strrchr(stat, ')');
		/* field 22, starttime in clock ticks since boot */
		CHECK(r && sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
				  "%*d %*d %*d %*d %*d %llu", &start) == 1, "parse %s", path);
		CHECK(llabs((long long)(p->start_ns / (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK))) -
			    (long long)start) <= 1, "pid %d: start %" PRIu64 " ns vs %llu ticks",
		      p->pid, p->start_ns, start);
		if (p->pid == getpid()) {
			found |= 1;
			CHECK(p->state == 'R', "self: state %c", p->state);
			CHECK(p->ppid == getppid(), "self: ppid %d", p->ppid);
			CHECK(!strcmp(p->comm, "kmod-test"), "self: comm %s", p->comm);
		} else if (p->pid == c.pid) {
			found |= 2;
			/* alive: running, sleeping, or briefly in D (a fault on the debug kernel) */
			CHECK(strchr("RSD", p->state) && p->state, "child: state %c", p->state);
			CHECK(p->ppid == getpid(), "child: ppid %d", p->ppid);
			CHECK(!strcmp(p->comm, "sh"), "child: comm %s", p->comm);
			CHECK(p->cmdline_len == sizeof(want) &&
			      !memcmp(p->cmdline, want, sizeof(want)), "child: cmdline of %zu bytes",
			      p->cmdline_len);
			CHECK(p->utime_ns + p->stime_ns >= 90000000ULL, "child: cpu %" PRIu64 " + %"
			      PRIu64 " ns", p->utime_ns, p->stime_ns);
		}
	}
	CHECK(found == 3, "self and child in the dump (%d)", found);
	hutch_kmod_procs_free(procs, n);
	/* a command line longer than HUTCH_CMDLINE_MAX is cut, on a new connection too */
	{
		cleanup_kmod struct hutch_kmod *u = NULL;
		cleanup_free char *arg = xmalloc(3001);
		struct kid l;
		bool seen = false;

		memset(arg, 'x', 3000);
		arg[3000] = '\0';
		l = spawn(proc_info_kid, arg);
		release(&l);
		for (int i = 0; i < 300 && !seen; i++) {
			OK(hutch_kmod_open(&u, err));
			OK(hutch_kmod_procs(u, "pinfo", &procs, &n, err));
			hutch_kmod_close(u);
			u = NULL;
			for (size_t j = 0; j < n; j++)
				if (procs[j].pid == l.pid && procs[j].cmdline &&
				    !memcmp(procs[j].cmdline, "sh", 3)) {
					CHECK(procs[j].cmdline_len == HUTCH_CMDLINE_MAX,
					      "long cmdline: %zu bytes", procs[j].cmdline_len);
					seen = true;
				}
			hutch_kmod_procs_free(procs, n);
			if (!seen)
				usleep(100000);
		}
		CHECK(seen, "the long command line's process");
		kill(l.pid, SIGKILL);
		reap(&l);
	}
	/* an exited process leaves the dump (the exit probe drops it) */
	kill(c.pid, SIGKILL);
	reap(&c);
	OK(hutch_kmod_procs(K, "pinfo", &procs, &n, err));
	for (size_t j = 0; j < n; j++)
		CHECK(procs[j].pid != c.pid, "pid %d still listed after its exit", c.pid);
	hutch_kmod_procs_free(procs, n);
	reap(&c);
	kill_reap(&k);
	OK(hutch_kmod_unregister(K, "pinfo", err));
	return 0;
}

/* O_WRONLY open of path: 0, or the errno. */
static int open_for_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * HUTCH_A_EXE_FD: while the container is registered its file cannot be opened for
 * writing (ETXTBSY), CT_GET names it (inode, device); unregistering ends the guard; a
 * file open for writing, a directory or a bad fd is refused and nothing is registered.
 */
static int t_exe_guard(void)
{
	char path[] = "/tmp/hutch-exe-XXXXXX";
	struct kid k = spawn(NULL, NULL);
	struct hutch_kmod_ct ct;
	struct stat st;
	int fd = mkstemp(path), wfd;

	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "temporary file");
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "open %s", path);
	OK(hutch_kmod_register_guarded(K, "guard", k.pid, 0, fd, err));
	close(fd);      /* the module holds its own reference */
	CHECK(open_for_write(path) == ETXTBSY, "write open while registered: %s",
	      strerror(open_for_write(path)));
	OK(hutch_kmod_get(K, "guard", &ct, err));
	CHECK(ct.exe_guarded && ct.exe_ino == st.st_ino && ct.exe_dev == st.st_dev,
	      "CT_GET: guarded %d ino %" PRIu64 " dev %" PRIu64, ct.exe_guarded, ct.exe_ino,
	      ct.exe_dev);
	hutch_kmod_ct_clear(&ct);
	OK(hutch_kmod_unregister(K, "guard", err));
	CHECK(open_for_write(path) == 0, "write open after unregister: %s",
	      strerror(open_for_write(path)));
	/* refused: open for writing, a directory, a bad fd; nothing left registered */
	wfd = open(path, O_WRONLY | O_CLOEXEC);
	FAILS(ETXTBSY, hutch_kmod_register_guarded(K, "guard", k.pid, 0, wfd, err));
	close(wfd);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FAILS(EINVAL, hutch_kmod_register_guarded(K, "guard", k.pid, 0, fd, err));
	close(fd);
	FAILS(EBADF, hutch_kmod_register_guarded(K, "guard", k.pid, 0, 1000, err));
	CHECK(info_count(0) == 0, "containers registered after refusals");
	/* unloading with a guard held releases it (40-robustness unloads with containers) */
	kill_reap(&k);
	unlink(path);
	return 0;
}

static int t_netns(void)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		cleanup_kmod struct hutch_kmod *u = NULL;

		if (unshare(CLONE_NEWNET) < 0)
			_exit(2);
		FAILS(ENOENT, hutch_kmod_open(&u, err));
		_exit(0);
	}
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child in a new netns: status %#x", st);
	return 0;
}

/* Raw requests: send attrs as given, return the errno of the reply (0 = ACK). */
static int raw_request(uint8_t cmd, const void *attrs, size_t len, char *msg, size_t msglen)
{
	struct nl_msg *m = nlmsg_alloc_size(len + 4096);
	struct nl_sock *sk = NULL;
	char buf[65536];
	int one = 1, r = -1;
	ssize_t n;

	sk = nl_socket_alloc();
	genl_connect(sk);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, hutch_kmod_family(K), 0, NLM_F_ACK, cmd, 1);
	if (len && nlmsg_append(m, (void *)attrs, len, 0) < 0)
		abort();
	nl_send_auto(sk, m);
	nlmsg_free(m);
	if (msg)
		msg[0] = 0;
	for (;;) {
		n = recv(nl_socket_get_fd(sk), buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		int left = (int)n;

		for (; nlmsg_ok(h, left); h = nlmsg_next(h, &left)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = nlmsg_data(h);

			r = -e->error;
			if (msg && (h->nlmsg_flags & NLM_F_ACK_TLVS)) {
				struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

				if (nla_parse(tb, NLMSGERR_ATTR_MAX,
					      (struct nlattr *)((char *)e + sizeof(*e)),
					      (int)h->nlmsg_len - NLMSG_HDRLEN - (int)sizeof(*e),
					      NULL) == 0 && tb[NLMSGERR_ATTR_MSG])
					snprintf(msg, msglen, "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
				/* a missing attribute is named by its type, without a message */
				else if (tb[NLMSGERR_ATTR_MISS_TYPE])
					snprintf(msg, msglen, "missing attribute %u",
						 nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
			}
			goto out;
		}
	}
out:
	nl_socket_free(sk);
	return r;
}

/* Appends one attribute to buf at *off. */
static void put_attr(char *buf, size_t *off, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(buf + *off);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	*off += NLA_ALIGN(a->nla_len);
}

static int t_malformed(void)
{
	static char big[70000];
	char buf[4096], msg[256];
	size_t off;
	uint32_t u32;
	struct kid k = spawn(NULL, NULL);
	/* longer than a u32 whatever the pid */
	cleanup_free char *pid = xasprintf("%08d", k.pid);
	struct {
		const char *what;
		uint8_t cmd;
		int want;
		int miss;	/* the attribute the extack names as missing */
	} *c, cases[] = {
		{ "id as u32", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "pid as string", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "missing id", HUTCH_CMD_CT_REGISTER, EINVAL, HUTCH_A_ID },
		{ "missing pid", HUTCH_CMD_CT_REGISTER, EINVAL, HUTCH_A_PID },
		{ "id too long", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "id with a slash", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "empty id", HUTCH_CMD_CT_UNREGISTER, EINVAL, 0 },
		{ "unknown attribute", HUTCH_CMD_CT_GET, EINVAL, 0 },
		{ "reply-only attribute", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "attribute the command does not take", HUTCH_CMD_GET_INFO, EINVAL, 0 },
		{ "unknown flag", HUTCH_CMD_CT_REGISTER, EINVAL, 0 },
		{ "signal 0", HUTCH_CMD_CT_KILL, ERANGE, 0 },
		{ "signal 65", HUTCH_CMD_CT_KILL, ERANGE, 0 },
		{ "pid 0", HUTCH_CMD_CT_ATTACH, ERANGE, 0 },
		{ "unknown command", 99, EOPNOTSUPP, 0 },
		{ "event command", HUTCH_CMD_EVENT, EOPNOTSUPP, 0 },
		{ "missing signal", HUTCH_CMD_CT_KILL, EINVAL, HUTCH_A_SIGNAL },
		{ "pid past PID_MAX_LIMIT", HUTCH_CMD_CT_ATTACH, ERANGE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		c = &cases[i];
		off = 0;
		u32 = (uint32_t)k.pid;
		switch (i) {
		case 0:
			put_attr(buf, &off, HUTCH_A_ID, &u32, 4);
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 1:
			put_attr(buf, &off, HUTCH_A_ID, "m1", 3);
			put_attr(buf, &off, HUTCH_A_PID, pid, (uint16_t)strlen(pid) + 1);
			break;
		case 2:
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 3:
			put_attr(buf, &off, HUTCH_A_ID, "m3", 3);
			break;
		case 4:
			memset(big, 'a', 300);
			big[300] = 0;
			put_attr(buf, &off, HUTCH_A_ID, big, 301);
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 5:
			put_attr(buf, &off, HUTCH_A_ID, "a/b", 4);
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 6:
			put_attr(buf, &off, HUTCH_A_ID, "", 1);
			break;
		case 7:
			put_attr(buf, &off, HUTCH_A_ID, "m7", 3);
			put_attr(buf, &off, 200, &u32, 4);
			break;
		case 8:
			put_attr(buf, &off, HUTCH_A_ID, "m8", 3);
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			put_attr(buf, &off, HUTCH_A_STATE, &u32, 4);
			break;
		case 9:
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 10:
			put_attr(buf, &off, HUTCH_A_ID, "m10", 4);
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			u32 = 1U << 20;
			put_attr(buf, &off, HUTCH_A_FLAGS, &u32, 4);
			break;
		case 11:
		case 12:
			put_attr(buf, &off, HUTCH_A_ID, "m11", 4);
			u32 = i == 11 ? 0 : 65;
			put_attr(buf, &off, HUTCH_A_SIGNAL, &u32, 4);
			break;
		case 13:
			put_attr(buf, &off, HUTCH_A_ID, "m13", 4);
			u32 = 0;
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		case 16:
			put_attr(buf, &off, HUTCH_A_ID, "m16", 4);
			break;
		case 17:
			put_attr(buf, &off, HUTCH_A_ID, "m17", 4);
			u32 = 4 * 1024 * 1024 + 1;
			put_attr(buf, &off, HUTCH_A_PID, &u32, 4);
			break;
		default:
			break;
		}
		int r = raw_request(c->cmd, buf, off, msg, sizeof(msg));

		fprintf(stderr, "#   %s -> %s%s%s\n", c->what, r < 0 ? "no reply" : strerror(r),
			msg[0] ? ": " : "", msg);
		CHECK(r == c->want, "%s: got %d, expected %d", c->what, r, c->want);
		if (c->want == EINVAL || c->want == ERANGE)
			CHECK(msg[0], "%s: no extack message", c->what);
		if (c->miss) {
			char want[64];

			snprintf(want, sizeof(want), "missing attribute %d", c->miss);
			CHECK(!strcmp(msg, want), "%s: extack \"%s\", expected \"%s\"", c->what, msg, want);
		}
	}
	/* A 64 KiB string: rejected. */
	memset(big, 'b', sizeof(big));
	{
		char *huge = xmalloc(65000);

		off = 0;
		struct nlattr *a = (struct nlattr *)huge;

		a->nla_type = HUTCH_A_ID;
		a->nla_len = 64000;
		memset(huge + NLA_HDRLEN, 'c', 64000 - NLA_HDRLEN - 1);
		huge[63999] = 0;
		int r = raw_request(HUTCH_CMD_CT_UNREGISTER, huge, 64000, msg, sizeof(msg));

		free(huge);
		fprintf(stderr, "#   64000-byte id -> %s: %s\n", strerror(r), msg);
		CHECK(r == EINVAL, "huge id: %d", r);
	}
	/* Random bytes after the genl header, for every command: an error, no crash. */
	srand(42);
	for (int i = 0; i < 3000; i++) {
		size_t len = (size_t)(rand() % 512);

		for (size_t j = 0; j < len; j++)
			buf[j] = (char)rand();
		/* mostly plausible attribute headers, to get past the first check */
		if (len >= 4 && i % 2) {
			struct nlattr *a = (struct nlattr *)buf;

			a->nla_len = (uint16_t)(4 + rand() % (len - 3));
			a->nla_type = (uint16_t)(rand() % (HUTCH_A_MAX + 3));
		}
		int r = raw_request((uint8_t)(1 + rand() % HUTCH_CMD_MAX), buf, len, NULL, 0);

		if (r == 0) {
			/* a random message that is valid: undo what it may have done */
			fprintf(stderr, "#   random message %d accepted\n", i);
		}
		CHECK(r >= 0, "random message %d: no reply", i);
	}
	kill_reap(&k);
	{
		cleanup_err hutch_err e = NULL;
		struct hutch_kmod_ct *cts;
		size_t n;

		CHECK(hutch_kmod_dump(K, &cts, &n, &e) == 0, "dump");
		for (size_t i = 0; i < n; i++)
			hutch_kmod_unregister(K, cts[i].id, NULL);
		hutch_kmod_cts_free(cts, n);
	}
	CHECK(info_count(0) == 0 && info_count(1) == 0, "counts not zero");
	return 0;
}

static int t_cycles(void)
{
	struct kid k = spawn(NULL, NULL);

	for (int i = 0; i < 10000; i++) {
		OK(hutch_kmod_register(K, "cycle", k.pid, i % 2 ? HUTCH_CT_F_TRACE : 0, err));
		OK(hutch_kmod_unregister(K, "cycle", err));
	}
	kill_reap(&k);
	CHECK(info_count(0) == 0 && info_count(1) == 0, "counts not zero after 10000 cycles");
	return 0;
}

static void stress_child(int n)
{
	char id[32];

	snprintf(id, sizeof(id), "stress-%d", n);
	for (int i = 0; i < 300; i++) {
		struct kid a = spawn(NULL, NULL), b = spawn(NULL, NULL);
		struct hutch_kmod_ct ct, *cts;
		pid_t *pids;
		size_t cnt;
		uint32_t c;
		cleanup_err hutch_err e = NULL;

		if (hutch_kmod_register(K, id, a.pid, HUTCH_CT_F_TRACE, &e) < 0) {
			fprintf(stderr, "# stress %d: %s\n", n, e->msg);
			_exit(1);
		}
		hutch_kmod_attach(K, id, b.pid, NULL);
		release(&a);   /* exits */
		if (hutch_kmod_get(K, id, &ct, NULL) == 0)
			hutch_kmod_ct_clear(&ct);
		if (hutch_kmod_dump(K, &cts, &cnt, NULL) == 0)
			hutch_kmod_cts_free(cts, cnt);
		if (hutch_kmod_pids(K, id, &pids, &cnt, NULL) == 0)
			free(pids);
		hutch_kmod_kill(K, id, SIGKILL, i % 2, &c, NULL);
		if (i % 3)
			reap(&a);
		if (hutch_kmod_unregister(K, id, NULL) < 0)
			_exit(1);
		kill_reap(&b);
		if (!(i % 3))
			reap(&a);
	}
	_exit(0);
}

static int t_stress(void)
{
	pid_t p[4];
	int st, bad = 0;

	for (int i = 0; i < 4; i++) {
		p[i] = fork();
		if (p[i] == 0) {
			cleanup_err hutch_err e = NULL;

			/* a socket of its own */
			if (hutch_kmod_open(&K, &e) < 0)
				_exit(1);
			stress_child(i);
		}
	}
	for (int i = 0; i < 4; i++) {
		waitpid(p[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	CHECK(!bad, "%d stress processes failed", bad);
	CHECK(info_count(0) == 0 && info_count(1) == 0, "counts not zero after stress");
	return 0;
}

static int t_max(void)
{
	struct hutch_kmod_info info;
	struct kid kids[65];
	char id[32];
	uint32_t max;

	OK(hutch_kmod_get_info(K, &info, err));
	max = info.max_containers;
	CHECK(max <= 64, "load the module with max_containers <= 64 (is %u)", max);
	for (uint32_t i = 0; i <= max; i++)
		kids[i] = spawn(NULL, NULL);
	for (uint32_t i = 0; i < max; i++) {
		snprintf(id, sizeof(id), "max-%u", i);
		OK(hutch_kmod_register(K, id, kids[i].pid, 0, err));
	}
	FAILS(ENOSPC, hutch_kmod_register(K, "max-over", kids[max].pid, 0, err));
	for (uint32_t i = 0; i < max; i++) {
		snprintf(id, sizeof(id), "max-%u", i);
		OK(hutch_kmod_unregister(K, id, err));
	}
	OK(hutch_kmod_register(K, "max-over", kids[max].pid, 0, err));
	OK(hutch_kmod_unregister(K, "max-over", err));
	for (uint32_t i = 0; i <= max; i++)
		kill_reap(&kids[i]);
	return 0;
}

/* Leaves a container registered (for the unload test). */
static int t_hold(void)
{
	struct kid k = spawn(NULL, NULL);

	OK(hutch_kmod_register(K, "held", k.pid, HUTCH_CT_F_TRACE, err));
	OK(hutch_kmod_register(K, "held-dead", getpid(), 0, err));
	release(&k);
	return 0;
}

/*
 * kmod-test bench N: where one request's time goes (not a test: bench/kmod-guest.sh's
 * `nl` part prints it). Each operation N times, the median in microseconds: a plain
 * syscall, a netlink socket, libnl's connect, the client's open (connect + family
 * lookup), GET_INFO, CT_GET of an unknown and of a registered id, CT_REGISTER +
 * CT_UNREGISTER.
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum { B_SYSCALL, B_SOCKET, B_CONNECT, B_OPEN, B_INFO, B_GET_MISS, B_GET, B_REG_UNREG, B_N };

static int bench_one(int op, struct hutch_kmod *k, pid_t kid)
{
	cleanup_err hutch_err e = NULL;
	struct hutch_kmod_info info;
	struct hutch_kmod_ct ct;

	switch (op) {
	case B_SYSCALL:
		return getppid() > 0 ? 0 : -1;
	case B_SOCKET: {
		int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

		if (fd < 0)
			return -1;
		close(fd);
		return 0;
	}
	case B_CONNECT: {
		struct nl_sock *sk = nl_socket_alloc();
		int r = sk ? genl_connect(sk) : -1;

		nl_socket_free(sk);
		return r < 0 ? -1 : 0;
	}
	case B_OPEN: {
		struct hutch_kmod *o;

		if (hutch_kmod_open(&o, &e) < 0)
			return -1;
		hutch_kmod_close(o);
		return 0;
	}
	case B_INFO:
		return hutch_kmod_get_info(k, &info, &e);
	case B_GET_MISS:
		return hutch_kmod_get(k, "bench-missing", &ct, &e) < 0 && e->status == ENOENT ? 0 : -1;
	case B_GET:
		if (hutch_kmod_get(k, "bench", &ct, &e) < 0)
			return -1;
		hutch_kmod_ct_clear(&ct);
		return 0;
	case B_REG_UNREG:
		if (hutch_kmod_unregister(k, "bench", &e) < 0)
			return -1;
		return hutch_kmod_register(k, "bench", kid, HUTCH_CT_F_TRACE, &e);
	}
	return -1;
}

static int t_bench(int n)
{
	static const char *const names[B_N] = {
		"syscall (getppid)", "netlink socket + close", "libnl genl_connect + free",
		"client open (connect + family) + close", "GET_INFO", "CT_GET, unknown id",
		"CT_GET", "CT_UNREGISTER + CT_REGISTER",
	};
	uint64_t *t = xcalloc((size_t)n, sizeof(*t));
	struct kid kid = spawn(NULL, NULL);
	int ret = 0;

	OK(hutch_kmod_register(K, "bench", kid.pid, HUTCH_CT_F_TRACE, err));
	for (int op = 0; op < B_N && !ret; op++) {
		for (int i = 0; i < n; i++) {
			uint64_t s = now_ns();

			if (bench_one(op, K, kid.pid) < 0) {
				fprintf(stderr, "# bench: %s failed\n", names[op]);
				ret = 1;
				break;
			}
			t[i] = now_ns() - s;
		}
		qsort(t, (size_t)n, sizeof(*t), cmp_u64);
		printf("%-40s %10.1f us (median of %d; min %.1f, max %.1f)\n", names[op],
		       (double)t[n / 2] / 1000, n, (double)t[0] / 1000, (double)t[n - 1] / 1000);
	}
	hutch_kmod_unregister(K, "bench", NULL);
	release(&kid);
	waitpid(kid.pid, NULL, 0);
	free(t);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "info", t_info }, { "register", t_register }, { "errors", t_errors },
	{ "dump-large", t_dump_large }, { "kill-race", t_kill_race }, { "events", t_events },
	{ "events-lost", t_events_lost }, { "accounting", t_accounting },
	{ "permission", t_permission }, { "capabilities", t_capabilities },
	{ "proc-info", t_proc_info }, { "exe-guard", t_exe_guard },
	{ "netns", t_netns }, { "malformed", t_malformed },
	{ "cycles", t_cycles }, { "stress", t_stress }, { "hold", t_hold }, { "max", t_max },
};

int main(int argc, char **argv)
{
	cleanup_err hutch_err e = NULL;

	if (argc == 5 && !strcmp(argv[1], "reg")) {
		/* kmod-test reg ID PID FLAGS: register a process (for the shell suites) */
		if (hutch_kmod_open(&K, &e) < 0 ||
		    hutch_kmod_register(K, argv[2], atoi(argv[3]), (uint32_t)atoi(argv[4]), &e) < 0) {
			fprintf(stderr, "# %s\n", e->msg);
			return 1;
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "reset")) {
		/* kmod-test reset: unregister whatever a failed test left behind */
		struct hutch_kmod_ct *cts;
		size_t n;

		if (hutch_kmod_open(&K, &e) < 0 || hutch_kmod_dump(K, &cts, &n, &e) < 0) {
			fprintf(stderr, "# %s\n", e->msg);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			hutch_kmod_unregister(K, cts[i].id, NULL);
		hutch_kmod_cts_free(cts, n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "unreg")) {
		if (hutch_kmod_open(&K, &e) < 0 || hutch_kmod_unregister(K, argv[2], &e) < 0) {
			fprintf(stderr, "# %s\n", e->msg);
			return 1;
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "bench")) {
		if (hutch_kmod_open(&K, &e) < 0) {
			fprintf(stderr, "# %s\n", e->msg);
			return 1;
		}
		return t_bench(atoi(argv[2]) > 0 ? atoi(argv[2]) : 100);
	}
	if (argc != 2) {
		fprintf(stderr, "usage: kmod-test NAME|list | reg ID PID FLAGS | unreg ID | bench N\n");
		return 2;
	}
	if (!strcmp(argv[1], "list")) {
		for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (hutch_kmod_open(&K, &e) < 0) {
		fprintf(stderr, "# %s\n", e->msg);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
		if (!strcmp(tests[i].name, argv[1]))
			return tests[i].fn();
	fprintf(stderr, "kmod-test: unknown test %s\n", argv[1]);
	return 2;
}
