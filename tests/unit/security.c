// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the security part: parsing and validation (errors name the JSON path),
 * and the apply functions in forked children (caps, no_new_privs, seccomp, masked and
 * read-only paths, hooks, terminal), observed through /proc/self/status and syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "seccomp_filter.h"
#include "security.h"
#include "terminal.h"
#include "utils.h"

#define CHECK_SUITE "security"
#include "check.h"

static json_object *cfg(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (!o) {
		fprintf(stderr, "bad test JSON: %s\n", text);
		exit(2);
	}
	return o;
}

static json_object *proc_of(json_object *c)
{
	json_object *p = NULL;

	json_object_object_get_ex(c, "process", &p);
	return p;
}

/* prepare must fail with an error containing want. */
static void expect_error(const char *name, const char *json, char *const *extra, const char *want)
{
	json_object *c = cfg(json);
	struct hutch_security *s = NULL;
	hutch_err err = NULL;
	int r = hutch_security_prepare(c, proc_of(c), extra, false, &s, &err);

	CHECK(name, r < 0 && err && strstr(err->msg, want) && !s, "got r=%d err=[%s], want [%s]", r,
	       err ? err->msg : "(none)", want);
	hutch_error_free(&err);
	hutch_security_free(s);
	json_object_put(c);
}

static void expect_ok(const char *name, const char *json)
{
	json_object *c = cfg(json);
	struct hutch_security *s = NULL;
	hutch_err err = NULL;
	int r = hutch_security_prepare(c, proc_of(c), NULL, false, &s, &err);

	CHECK(name, r == 0 && s, "error: %s", err ? err->msg : "(none)");
	hutch_error_free(&err);
	hutch_security_free(s);
	json_object_put(c);
}

static void test_validation(void)
{
	expect_ok("minimal config", "{\"process\":{}}");
	expect_error("unknown capability",
		     "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_FOO\"]}}}", NULL,
		     "config.json: process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"");
	expect_error("capability without CAP_ prefix",
		     "{\"process\":{\"capabilities\":{\"ambient\":[\"chown\"]}}}", NULL,
		     "process.capabilities.ambient[0]: unknown capability");
	{
		char *extra[] = { "CAP_NOPE", NULL };

		expect_error("exec --cap unknown", "{\"process\":{}}", extra, "--cap: unknown capability \"CAP_NOPE\"");
	}
	expect_error("seccomp unknown default action",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}", NULL,
		     "config.json: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
	expect_error("seccomp unknown syscall action",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_BOGUS\"}]}}}",
		     NULL, "config.json: linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_BOGUS\"");
	expect_error("seccomp bad architecture",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}}}",
		     NULL, "config.json: linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
	expect_error("seccomp bad operator",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_ALMOST\"}]}]}}}",
		     NULL, "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ALMOST\"");
	expect_error("seccomp arg index out of range",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}}}",
		     NULL, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range");
	expect_error("seccomp unknown flag",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}}}",
		     NULL, "config.json: linux.seccomp.flags[0]: unknown flag");
	expect_error("seccomp notify without listenerPath",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
		     NULL, "linux.seccomp.listenerPath: required");
	expect_error("seccomp errnoRet with allow",
		     "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":3}]}}}",
		     NULL, "linux.seccomp.syscalls[0].errnoRet: only valid with");
	expect_ok("seccomp: every architecture `hutch features` lists (other endianness skipped)",
		  "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":["
		  "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\",\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64\",\"SCMP_ARCH_MIPS64N32\","
		  "\"SCMP_ARCH_MIPSEL\",\"SCMP_ARCH_MIPSEL64\",\"SCMP_ARCH_MIPSEL64N32\",\"SCMP_ARCH_PPC\",\"SCMP_ARCH_PPC64\","
		  "\"SCMP_ARCH_PPC64LE\",\"SCMP_ARCH_RISCV64\",\"SCMP_ARCH_S390\",\"SCMP_ARCH_S390X\",\"SCMP_ARCH_X32\","
		  "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}}");
	expect_ok("seccomp unknown syscall name is skipped",
		  "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"no_such_syscall\",\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}}");
	expect_ok("seccomp every action, operator and flag",
		  "{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
		  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		  "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\",\"SECCOMP_FILTER_FLAG_TSYNC\"],"
		  "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		  "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_LOG\"},"
		  "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_KILL\"},"
		  "{\"names\":[\"tkill\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
		  "{\"names\":[\"tgkill\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
		  "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_TRAP\"},"
		  "{\"names\":[\"chmod\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5},"
		  "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
		  "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
		  "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
		  "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_NE\"}]},"
		  "{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_LT\"}]},"
		  "{\"names\":[\"pipe2\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_LE\"}]},"
		  "{\"names\":[\"lseek\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":0,\"op\":\"SCMP_CMP_GE\"}]},"
		  "{\"names\":[\"fcntl\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_GT\"}]},"
		  "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}}");
	expect_error("sysctl not namespaced",
		     "{\"process\":{},\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":{\"vm.swappiness\":\"10\"}}}",
		     NULL, "config.json: linux.sysctl.vm.swappiness: not a namespaced sysctl");
	expect_error("sysctl needs its namespace",
		     "{\"process\":{},\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}",
		     NULL, "linux.sysctl.net.ipv4.ip_forward: needs a network namespace");
	expect_ok("sysctl namespaced",
		  "{\"process\":{},\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":\"network\"}],\"sysctl\":{\"kernel.shmmax\":\"1000000\",\"net.ipv4.ip_forward\":\"1\",\"fs.mqueue.msg_max\":\"20\"}}}");
	expect_error("masked path relative",
		     "{\"process\":{},\"linux\":{\"maskedPaths\":[\"/proc/kcore\",\"proc/keys\"]}}", NULL,
		     "config.json: linux.maskedPaths[1]: \"proc/keys\" is not an absolute path");
	expect_error("personality domain",
		     "{\"process\":{},\"linux\":{\"personality\":{\"domain\":\"WINDOWS\"}}}", NULL,
		     "config.json: linux.personality.domain: unknown domain \"WINDOWS\"");
	expect_error("scheduler policy",
		     "{\"process\":{\"scheduler\":{\"policy\":\"SCHED_FAST\"}}}", NULL,
		     "config.json: process.scheduler.policy: unknown policy \"SCHED_FAST\"");
	expect_error("scheduler nice range",
		     "{\"process\":{\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":40}}}", NULL,
		     "process.scheduler.nice: 40 is out of range");
	expect_error("ioPriority class",
		     "{\"process\":{\"ioPriority\":{\"class\":\"IOPRIO_CLASS_FAST\",\"priority\":1}}}", NULL,
		     "config.json: process.ioPriority.class: unknown class");
	expect_error("ioPriority priority",
		     "{\"process\":{\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":9}}}", NULL,
		     "process.ioPriority.priority: 9 is out of range");
	expect_error("apparmor requested but unavailable",
		     "{\"process\":{\"apparmorProfile\":\"hutch-test\"}}", NULL,
		     "config.json: process.apparmorProfile: \"hutch-test\" requested, but AppArmor is not enabled");
	expect_error("selinux requested but unavailable",
		     "{\"process\":{\"selinuxLabel\":\"system_u:system_r:container_t:s0\"}}", NULL,
		     "config.json: process.selinuxLabel:");
	expect_error("hook without path", "{\"process\":{},\"hooks\":{\"prestart\":[{\"args\":[\"x\"]}]}}",
		     NULL, "config.json: hooks.prestart[0].path: missing required field");
	expect_error("hook relative path",
		     "{\"process\":{},\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\"},{\"path\":\"true\"}]}}",
		     NULL, "config.json: hooks.poststop[1].path: \"true\" is not an absolute path");
	expect_error("hook bad timeout",
		     "{\"process\":{},\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/true\",\"timeout\":0}]}}",
		     NULL, "hooks.createRuntime[0].timeout: must be greater than zero");
}

/* Run fn in a forked child; it prints nothing, returns 0 on success or a message. */
static void in_child(const char *name, const char *(*fn)(void))
{
	int p[2];
	pid_t pid;
	char msg[512] = "";
	ssize_t n;
	int status;

	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		const char *m;

		close(p[0]);
		m = fn();
		if (m)
			(void)!write(p[1], m, strlen(m));
		_exit(m ? 1 : 0);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK(name, WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (status %#x)", msg, status);
}

static char *status_field(const char *field)
{
	static char val[128];
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	val[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) && line[strlen(field)] == ':')
			sscanf(line + strlen(field) + 1, " %127s", val);
	if (f)
		fclose(f);
	return val;
}

static char errbuf[512];

static const char *apply(const char *json, bool nnp, char *const *extra, uid_t uid)
{
	json_object *c = cfg(json);
	struct hutch_security *s = NULL;
	hutch_err err = NULL;

	if (hutch_security_prepare(c, proc_of(c), extra, nnp, &s, &err) < 0) {
		snprintf(errbuf, sizeof(errbuf), "prepare: %s", err->msg);
		return errbuf;
	}
	if (uid) {
		prctl(PR_SET_KEEPCAPS, 1);
		if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
			return "setresuid";
	}
	if (hutch_security_apply_process(s, &err) < 0) {
		snprintf(errbuf, sizeof(errbuf), "apply: %s", err->msg);
		return errbuf;
	}
	return NULL;
}

static const char *t_caps_root(void)
{
	const char *m = apply("{\"process\":{\"capabilities\":{"
			      "\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\",\"CAP_NET_RAW\"],"
			      "\"effective\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
			      "\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\",\"CAP_NET_RAW\"],"
			      "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}}}",
			      true, NULL, 0);

	if (m)
		return m;
	/* CHOWN=0, KILL=5, NET_RAW=13 */
	if (strcmp(status_field("CapBnd"), "0000000000002021"))
		return xasprintf("CapBnd %s", status_field("CapBnd"));
	if (strcmp(status_field("CapEff"), "0000000000000021"))
		return xasprintf("CapEff %s", status_field("CapEff"));
	if (strcmp(status_field("CapPrm"), "0000000000002021"))
		return xasprintf("CapPrm %s", status_field("CapPrm"));
	if (strcmp(status_field("CapInh"), "0000000000000020"))
		return xasprintf("CapInh %s", status_field("CapInh"));
	if (strcmp(status_field("CapAmb"), "0000000000000020"))
		return xasprintf("CapAmb %s", status_field("CapAmb"));
	if (strcmp(status_field("NoNewPrivs"), "1"))
		return "NoNewPrivs not set";
	return NULL;
}

static const char *t_caps_user(void)
{
	char *extra[] = { "CAP_SETUID", NULL };
	const char *m = apply("{\"process\":{\"capabilities\":{"
			      "\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
			      "\"permitted\":[\"CAP_KILL\"]}}}", false, extra, 1000);

	if (m)
		return m;
	/* KILL=5, SETUID=7 */
	if (strcmp(status_field("CapEff"), "00000000000000a0"))
		return xasprintf("CapEff %s", status_field("CapEff"));
	if (strcmp(status_field("CapBnd"), "00000000000000a0"))
		return xasprintf("CapBnd %s", status_field("CapBnd"));
	if (strcmp(status_field("NoNewPrivs"), "0"))
		return "NoNewPrivs set without noNewPrivileges";
	return NULL;
}

static const char *t_no_caps_user(void)
{
	const char *m = apply("{\"process\":{}}", false, NULL, 1000);

	if (m)
		return m;
	if (strcmp(status_field("CapEff"), "0000000000000000"))
		return xasprintf("CapEff %s (no capabilities in the config, non-root user)",
				 status_field("CapEff"));
	return NULL;
}

static const char *t_seccomp_errno(void)
{
	const char *m = apply("{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			      "\"syscalls\":[{\"names\":[\"mkdirat\",\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
			      "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
			      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22,\"args\":[{\"index\":0,\"value\":255,\"valueTwo\":8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}}",
			      true, NULL, 0);

	if (m)
		return m;
	if (strcmp(status_field("Seccomp"), "2"))
		return "Seccomp is not 2";
	errno = 0;
	if (mkdir("/tmp/hutch-unit-never", 0700) == 0 || errno != ENOSYS)
		return xasprintf("mkdir: errno %d, want ENOSYS", errno);
	if (syscall(SYS_getppid) != -1 || errno != EPERM)
		return "getppid: want EPERM (the default errnoRet)";
	if (personality(0xffffffff) < 0)
		return "personality query denied, masked_eq should not match 0xffffffff&255";
	if (personality(8) != -1 || errno != EINVAL)
		return "personality(8): want EINVAL from masked_eq";
	return NULL;
}

static const char *t_seccomp_default_errno(void)
{
	/* everything not listed fails with defaultErrnoRet */
	const char *m = apply("{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,"
			      "\"syscalls\":[{\"names\":[\"write\",\"exit\",\"exit_group\",\"openat\",\"read\",\"close\",\"fstat\",\"newfstatat\",\"lseek\",\"capget\",\"capset\",\"prctl\",\"brk\",\"mmap\",\"munmap\",\"seccomp\",\"getpid\",\"futex\",\"sigaltstack\",\"rt_sigaction\",\"rt_sigprocmask\",\"madvise\",\"mprotect\",\"gettid\",\"sched_yield\",\"readlink\",\"getrlimit\",\"prlimit64\"],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
			      true, NULL, 0);

	if (m)
		return m;
	errno = 0;
	if (syscall(SYS_getuid) != -1 || errno != EACCES)
		return "getuid not denied with EACCES";
	return NULL;
}

static const char *t_seccomp_notify(void)
{
	int sv[2], fd;
	char path[] = "/tmp/hutch-unit-notify.XXXXXX";
	char data[4096];
	const char *m;
	char *json;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t pid;
	int status;

	(void)sv;
	if (!mkdtemp(path))
		return "mkdtemp";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/l.sock", path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		return "listen";
	json = xasprintf("{\"process\":{},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			 "\"listenerPath\":\"%s\",\"listenerMetadata\":\"meta!\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
			 "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
			 sa.sun_path);
	pid = fork();
	if (pid == 0) {
		json_object *c = cfg(json);
		struct hutch_security *s = NULL;
		hutch_err err = NULL;

		if (hutch_security_prepare(c, proc_of(c), NULL, true, &s, &err) < 0)
			_exit(10);
		hutch_security_set_state(s, "{\"id\":\"unit\",\"status\":\"creating\"}", 4242);
		if (hutch_security_apply_process(s, &err) < 0)
			_exit(11);
		_exit(0);   /* never calls getppid: the listener only checks what it got */
	}
	fd = accept(lfd, NULL, NULL);
	{
		int nfd = hutch_recv_fd(fd, data, sizeof(data));

		waitpid(pid, &status, 0);
		unlink(sa.sun_path);
		rmdir(path);
		if (nfd < 0)
			return xasprintf("no fd received (%d), child status %#x", nfd, status);
		close(nfd);
	}
	m = NULL;
	if (!strstr(data, "\"fds\":[\"seccompFd\"]") || !strstr(data, "\"pid\":4242") ||
	    !strstr(data, "\"metadata\":\"meta!\"") || !strstr(data, "\"id\":\"unit\"") ||
	    !strstr(data, "\"ociVersion\""))
		m = xasprintf("containerProcessState is %s", data);
	return m;
}

static const char *paths_in(const char *dir)
{
	char *f, *d, *ro, *sub, *p;
	cleanup_free char *buf = NULL;
	size_t len = 0;
	json_object *c;
	struct hutch_security *s = NULL;
	hutch_err err = NULL;

	f = xasprintf("%s/secret", dir);
	d = xasprintf("%s/secretdir", dir);
	ro = xasprintf("%s/ro", dir);
	sub = xasprintf("%s/ro/file", dir);
	if (write_file(f, "TOP SECRET", 10, NULL) < 0 || mkdir(d, 0755) < 0 || mkdir(ro, 0755) < 0)
		return "setup";
	p = xasprintf("%s/secretdir/x", dir);
	if (write_file(p, "hidden", 6, NULL) < 0)
		return "setup2";
	c = cfg(xasprintf("{\"process\":{},\"linux\":{\"maskedPaths\":[\"%s\",\"%s\",\"%s/missing\"],"
			  "\"readonlyPaths\":[\"%s\",\"%s/missing\"]}}", f, d, dir, ro, dir));
	if (hutch_security_prepare(c, proc_of(c), NULL, false, &s, &err) < 0 ||
	    hutch_security_apply_fs(s, &err) < 0)
		return xasprintf("%s", err->msg);
	if (read_file(f, &buf, &len, NULL) < 0 || len != 0)
		return "masked file is not empty";
	if (access(p, F_OK) == 0)
		return "masked directory still shows its files";
	if (write_file(p, "x", 1, NULL) == 0)
		return "masked directory is writable";
	if (write_file(sub, "x", 1, NULL) == 0 || errno != EROFS)
		return "read-only path is writable";
	return NULL;
}

/* maskedPaths and readonlyPaths over a tmpfs of a private mount namespace; the directory
 * it is mounted on (in the host's /tmp) goes afterwards */
static const char *t_paths(void)
{
	char dir[] = "/tmp/hutch-unit-paths.XXXXXX";
	const char *r;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return "unshare mount ns";
	if (!mkdtemp(dir))
		return "mkdtemp";
	if (mount("tmpfs", dir, "tmpfs", 0, NULL) < 0) {
		rmdir(dir);
		return "tmpfs";
	}
	r = paths_in(dir);
	if (umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
		return r ? r : "remove the test directory";
	return r;
}

static const char *t_hooks(void)
{
	char dir[] = "/tmp/hutch-unit-hooks.XXXXXX";
	cleanup_free char *out = NULL;
	char *json;
	json_object *c;
	hutch_err err = NULL;

	if (!mkdtemp(dir))
		return "mkdtemp";
	json = xasprintf("{\"hooks\":{\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %s/state; echo $FOO >> %s/state\"],\"env\":[\"FOO=bar\"]}],"
			 "\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo broken >&2; exit 3\"]}],"
			 "\"createContainer\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\"5\"],\"timeout\":1}],"
			 "\"poststop\":[{\"path\":\"/bin/false\"}]}}", dir, dir);
	c = cfg(json);
	if (hutch_hooks_run(c, "prestart", "{\"id\":\"x\"}", &err) < 0)
		return xasprintf("prestart: %s", err->msg);
	out = xasprintf("%s/state", dir);
	{
		cleanup_free char *st = NULL;

		if (read_file(out, &st, NULL, NULL) < 0 || strcmp(st, "{\"id\":\"x\"}bar\n"))
			return xasprintf("hook saw [%s]", st ? st : "");
		unlink(out);
		rmdir(dir);
	}
	if (hutch_hooks_run(c, "createRuntime", "{}", &err) == 0 ||
	    !strstr(err->msg, "hooks.createRuntime[0]: `/bin/sh` exited with status 3: broken"))
		return xasprintf("createRuntime failure: %s", err ? err->msg : "none");
	hutch_error_free(&err);
	if (hutch_hooks_run(c, "createContainer", "{}", &err) == 0 || !strstr(err->msg, "timed out after 1 s"))
		return xasprintf("timeout: %s", err ? err->msg : "none");
	hutch_error_free(&err);
	if (hutch_hooks_run(c, "poststop", "{}", &err) < 0)
		return "poststop failure must only warn";
	return NULL;
}

static const char *t_terminal(void)
{
	int sv[2], master;
	pid_t pid;
	char buf[256] = "";
	ssize_t n;
	struct winsize ws;
	int status;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return "socketpair";
	pid = fork();
	if (pid == 0) {
		hutch_err err = NULL;

		setsid();
		if (hutch_terminal_setup(sv[1], 33, 111, &err) < 0)
			_exit(3);
		if (!isatty(0) || !isatty(1) || tcgetpgrp(0) != getpid())
			_exit(4);
		if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 33 || ws.ws_col != 111)
			_exit(5);
		execl("/bin/sh", "sh", "-c", "read x; echo got:$x", NULL);
		_exit(6);
	}
	close(sv[1]);
	master = hutch_terminal_recv(sv[0], NULL);
	close(sv[0]);
	if (master < 0)
		return "no master received";
	if (write(master, "hello\n", 6) != 6)
		return "write master";
	{
		size_t got = 0;

		while (got < sizeof(buf) - 1 && (n = read(master, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += n;
			buf[got] = '\0';
			if (strstr(buf, "got:hello"))
				break;
		}
	}
	waitpid(pid, &status, 0);
	close(master);
	if (!strstr(buf, "got:hello"))
		return xasprintf("pty output [%s], child status %#x", buf, status);
	return NULL;
}

int main(void)
{
	test_validation();
	if (geteuid() != 0) {
		printf("ok - unit/security: apply tests # SKIP not root\n");
		return 0;
	}
	in_child("caps as root: bounding, effective, permitted, inheritable, ambient", t_caps_root);
	in_child("caps as uid 1000 kept across setuid, plus --cap", t_caps_user);
	in_child("no capabilities in the config: uid 1000 gets none", t_no_caps_user);
	in_child("seccomp errno, errnoRet, masked_eq", t_seccomp_errno);
	in_child("seccomp defaultErrnoRet", t_seccomp_default_errno);
	in_child("seccomp notify sends the fd and containerProcessState", t_seccomp_notify);
	in_child("maskedPaths and readonlyPaths", t_paths);
	in_child("hooks: state on stdin, env, failure output, timeout, poststop warns", t_hooks);
	in_child("terminal: pty as controlling tty, consoleSize, master over the socket", t_terminal);
	return check_status();
}
