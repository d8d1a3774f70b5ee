// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Process security: capabilities, no_new_privs, LSM labels, personality, scheduler,
 * I/O priority, seccomp; and the filesystem side: sysctl, maskedPaths, readonlyPaths.
 * Everything is parsed and validated in the parent (hutch_security_prepare), so bad
 * input fails before a container exists; the apply functions only make syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "seccomp_filter.h"
#include "jsonutil.h"
#include "security.h"
#include "utils.h"

#define CFG "config.json"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif
#ifndef IOPRIO_CLASS_SHIFT
#define IOPRIO_CLASS_SHIFT 13
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* sched_setattr(2)'s argument (linux/sched/types.h clashes with glibc's sched.h) */
struct hutch_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

enum { CAPSET_BOUNDING, CAPSET_EFFECTIVE, CAPSET_PERMITTED, CAPSET_INHERITABLE, CAPSET_AMBIENT,
       CAPSET_N };
static const char *const capset_names[CAPSET_N] = { "bounding", "effective", "permitted",
						    "inheritable", "ambient" };

struct hutch_security {
	int ready_fd;           /* start's reply, sent before seccomp (set_ready_fd) */
	bool ready_sent;
	bool has_caps;
	cap_value_t *caps[CAPSET_N];
	size_t ncaps[CAPSET_N];
	bool no_new_privs;
	char *apparmor, *selinux, *mount_label;
	bool has_personality;
	unsigned long persona;
	bool has_sched;
	struct hutch_sched_attr sched;
	bool has_ioprio;
	int ioprio;
	char **sysctl_keys, **sysctl_vals;
	char **masked, **readonly;
	struct hutch_seccomp *seccomp;
	char *state_json;
	pid_t pid;
};

/* ---- capabilities ------------------------------------------------------ */

static int last_cap(void)
{
	static int last = -1;
	cleanup_free char *buf = NULL;
	uint64_t v;

	if (last >= 0)
		return last;
	if (read_file("/proc/sys/kernel/cap_last_cap", &buf, NULL, NULL) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (parse_u64(buf, &v) == 0 && v < 64)
			return last = v;
	}
	return last = CAP_LAST_CAP;
}

/*
 * A capability name to its number: <0 with *err for a name no one knows, 1 (with a
 * warning) for one this kernel lacks, 0 when usable.
 */
static int cap_parse(const char *name, const char *where, cap_value_t *out, hutch_err *err)
{
	cleanup_free char *low = NULL;
	cap_value_t v;

	if (strncasecmp(name, "CAP_", 4) != 0 || !name[4])
		return hutch_fail(err, 0, "%s: unknown capability \"%s\"", where, name);
	low = xstrdup(name);
	for (char *p = low; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
	if (cap_from_name(low, &v) < 0 || v < 0 || strspn(low + 4, "0123456789") == strlen(low + 4))
		return hutch_fail(err, 0, "%s: unknown capability \"%s\"", where, name);
	if (v > last_cap()) {
		log_warn("%s: capability \"%s\" is not supported by this kernel; ignored", where, name);
		return 1;
	}
	*out = v;
	return 0;
}

static void capset_add(struct hutch_security *s, int set, cap_value_t v)
{
	for (size_t i = 0; i < s->ncaps[set]; i++)
		if (s->caps[set][i] == v)
			return;
	s->caps[set] = xrealloc(s->caps[set], (s->ncaps[set] + 1) * sizeof(cap_value_t));
	s->caps[set][s->ncaps[set]++] = v;
}

static int parse_caps(struct hutch_security *s, json_object *process, char *const *extra,
		      hutch_err *err)
{
	json_object *c = NULL;

	if (jget_obj(process, CFG, "process", "capabilities", false, &c, err) < 0)
		return -1;
	if (c) {
		s->has_caps = true;
		for (int set = 0; set < CAPSET_N; set++) {
			cleanup_strv char **names = NULL;
			cleanup_free char *p = xasprintf("process.capabilities.%s", capset_names[set]);

			if (jget_strv(c, CFG, "process.capabilities", capset_names[set], false, &names, err) < 0)
				return -1;
			for (size_t i = 0; names && names[i]; i++) {
				cleanup_free char *w = xasprintf("config.json: %s[%zu]", p, i);
				cap_value_t v;
				int r = cap_parse(names[i], w, &v, err);

				if (r < 0)
					return -1;
				if (r == 0)
					capset_add(s, set, v);
			}
		}
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		cap_value_t v;
		int r = cap_parse(extra[i], "--cap", &v, err);

		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (!s->has_caps) {
			/* no capabilities in the process: start from an empty set, like runc */
			s->has_caps = true;
		}
		capset_add(s, CAPSET_BOUNDING, v);
		capset_add(s, CAPSET_EFFECTIVE, v);
		capset_add(s, CAPSET_PERMITTED, v);
	}
	return 0;
}

static bool capset_has(const struct hutch_security *s, int set, cap_value_t v)
{
	for (size_t i = 0; i < s->ncaps[set]; i++)
		if (s->caps[set][i] == v)
			return true;
	return false;
}

/* Make the permitted set effective again (setuid to non-root cleared it). */
static int caps_raise_effective(hutch_err *err)
{
	cap_t cur = cap_get_proc();
	cap_value_t all[64];
	int n = 0;
	cap_flag_value_t fv;

	if (!cur)
		return hutch_fail(err, errno, "capabilities: cap_get_proc");
	for (int c = 0; c <= last_cap(); c++)
		if (cap_get_flag(cur, c, CAP_PERMITTED, &fv) == 0 && fv == CAP_SET)
			all[n++] = c;
	if (n && (cap_set_flag(cur, CAP_EFFECTIVE, n, all, CAP_SET) < 0 || cap_set_proc(cur) < 0)) {
		int e = errno;

		cap_free(cur);
		return hutch_fail(err, e, "capabilities: raise the effective set");
	}
	cap_free(cur);
	return 0;
}

static int caps_apply_bounding(const struct hutch_security *s, hutch_err *err)
{
	/* (no CAP_IS_SUPPORTED read first: dropping what the kernel lacks is EINVAL) */
	for (int c = 0; c <= last_cap(); c++) {
		if (capset_has(s, CAPSET_BOUNDING, c))
			continue;
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return hutch_fail(err, errno, "process.capabilities.bounding: drop %s",
					  cap_to_name(c));
	}
	return 0;
}

static int caps_apply_sets(const struct hutch_security *s, hutch_err *err)
{
	static const cap_flag_t flag[] = { [CAPSET_EFFECTIVE] = CAP_EFFECTIVE,
					   [CAPSET_PERMITTED] = CAP_PERMITTED,
					   [CAPSET_INHERITABLE] = CAP_INHERITABLE };
	cap_t c = cap_init();
	int r = 0;

	if (!c)
		return hutch_fail(err, errno, "capabilities: cap_init");
	for (int set = CAPSET_EFFECTIVE; set <= CAPSET_INHERITABLE; set++)
		if (s->ncaps[set] && cap_set_flag(c, flag[set], s->ncaps[set], s->caps[set], CAP_SET) < 0)
			r = hutch_fail(err, errno, "capabilities: cap_set_flag");
	if (r == 0 && cap_set_proc(c) < 0)
		r = hutch_fail(err, errno, "process.capabilities: set the effective, permitted and inheritable sets");
	cap_free(c);
	if (r < 0)
		return r;
	if (CAP_AMBIENT_SUPPORTED()) {
		/* one prctl; libcap's cap_reset_ambient reads every capability first */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		/* A capability that is not also permitted and inheritable cannot be ambient
		 * (EPERM): a warning, and it is left out, as runc and crun do (buildah asks
		 * for ambient capabilities without inheritable ones). */
		cleanup_free char *left = NULL;

		for (size_t i = 0; i < s->ncaps[CAPSET_AMBIENT]; i++) {
			int e;
			char *name, *l;

			if (cap_set_ambient(s->caps[CAPSET_AMBIENT][i], CAP_SET) == 0)
				continue;
			e = errno;
			name = cap_to_name(s->caps[CAPSET_AMBIENT][i]);   /* cap_free()d */
			if (e != EPERM) {
				hutch_fail(err, e, "process.capabilities.ambient: raise %s", name);
				cap_free(name);
				return -1;
			}
			l = left ? xasprintf("%s, %s", left, name) : xstrdup(name);
			cap_free(name);
			free(left);
			left = l;
		}
		if (left)
			log_warn("process.capabilities.ambient: not permitted and inheritable, left out: %s",
				 left);
	}
	prctl(PR_SET_KEEPCAPS, 0);
	return 0;
}

/* ---- LSMs -------------------------------------------------------------- */

static bool apparmor_enabled(void)
{
	cleanup_free char *buf = NULL;

	return read_file("/sys/module/apparmor/parameters/enabled", &buf, NULL, NULL) == 0 &&
	       buf[0] == 'Y' && access("/proc/self/attr/apparmor/exec", F_OK) == 0;
}

static bool selinux_enabled(void)
{
	struct statfs sf;

	return statfs("/sys/fs/selinux", &sf) == 0 && (unsigned long)sf.f_type == SELINUX_MAGIC;
}

/* Through a verified procfs fd: a mount or link over /proc must not make this a no-op. */
static int write_attr(const char *rel, const char *data, const char *field, hutch_err *err)
{
	if (proc_write(rel, data, err) < 0)
		return hutch_error_prefix(err, "%s", field);
	return 0;
}

static int apply_lsm(const struct hutch_security *s, hutch_err *err)
{
	if (s->apparmor) {
		cleanup_free char *cmd = xasprintf("exec %s", s->apparmor);
		const char *p = access("/proc/self/attr/apparmor/exec", F_OK) == 0 ?
				"self/attr/apparmor/exec" : "self/attr/exec";

		if (write_attr(p, cmd, "process.apparmorProfile", err) < 0)
			return -1;
	}
	if (s->selinux && write_attr("self/attr/exec", s->selinux, "process.selinuxLabel", err) < 0)
		return -1;
	return 0;
}

/* ---- personality, scheduler, ioprio ------------------------------------ */

static int parse_personality(struct hutch_security *s, json_object *lin, hutch_err *err)
{
	json_object *p = NULL;
	const char *domain = NULL;
	cleanup_strv char **flags = NULL;

	if (jget_obj(lin, CFG, "linux", "personality", false, &p, err) < 0)
		return -1;
	if (!p)
		return 0;
	if (jget_str(p, CFG, "linux.personality", "domain", false, &domain, err) < 0 ||
	    jget_strv(p, CFG, "linux.personality", "flags", false, &flags, err) < 0)
		return -1;
	if (!domain)
		return jfail(err, CFG, "linux.personality.domain", "missing required field");
	if (!strcmp(domain, "LINUX"))
		s->persona = PER_LINUX;
	else if (!strcmp(domain, "LINUX32"))
		s->persona = PER_LINUX32;
	else
		return jfail(err, CFG, "linux.personality.domain", "unknown domain \"%s\" (LINUX or LINUX32)",
			       domain);
	if (flags && flags[0])
		return jfail(err, CFG, "linux.personality.flags", "no flags are supported (got \"%s\")",
			       flags[0]);
	s->has_personality = true;
	return 0;
}

static int parse_scheduler(struct hutch_security *s, json_object *process, hutch_err *err)
{
	static const struct {
		const char *n;
		unsigned int v;
	} policies[] = {
		{ "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
		{ "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", 4 }, { "SCHED_IDLE", SCHED_IDLE },
		{ "SCHED_DEADLINE", 6 },
	}, sflags[] = {
		{ "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
		{ "SCHED_FLAG_DL_OVERRUN", 0x04 }, { "SCHED_FLAG_KEEP_POLICY", 0x08 },
		{ "SCHED_FLAG_KEEP_PARAMS", 0x10 }, { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
		{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
	};
	const char *P = "process.scheduler";
	json_object *o = NULL;
	const char *policy = NULL;
	cleanup_strv char **flags = NULL;
	int64_t nice = 0, prio = 0;
	uint64_t runtime = 0, deadline = 0, period = 0;
	size_t i;

	if (jget_obj(process, CFG, "process", "scheduler", false, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	if (jget_str(o, CFG, P, "policy", false, &policy, err) < 0 ||
	    jget_i64(o, CFG, P, "nice", false, &nice, err) < 0 ||
	    jget_i64(o, CFG, P, "priority", false, &prio, err) < 0 ||
	    jget_strv(o, CFG, P, "flags", false, &flags, err) < 0 ||
	    jget_u64(o, CFG, P, "runtime", false, UINT64_MAX, &runtime, err) < 0 ||
	    jget_u64(o, CFG, P, "deadline", false, UINT64_MAX, &deadline, err) < 0 ||
	    jget_u64(o, CFG, P, "period", false, UINT64_MAX, &period, err) < 0)
		return -1;
	if (!policy)
		return jfail(err, CFG, "process.scheduler.policy", "missing required field");
	for (i = 0; i < ARRAY_SIZE(policies); i++)
		if (!strcmp(policy, policies[i].n))
			break;
	if (i == ARRAY_SIZE(policies))
		return jfail(err, CFG, "process.scheduler.policy", "unknown policy \"%s\"", policy);
	s->sched.size = sizeof(s->sched);
	s->sched.sched_policy = policies[i].v;
	if (nice < -20 || nice > 19)
		return jfail(err, CFG, "process.scheduler.nice", "%lld is out of range (-20..19)", (long long)nice);
	if (prio < 0 || prio > 99)
		return jfail(err, CFG, "process.scheduler.priority", "%lld is out of range (0..99)", (long long)prio);
	if ((policies[i].v == SCHED_FIFO || policies[i].v == SCHED_RR) && prio == 0)
		return jfail(err, CFG, "process.scheduler.priority", "%s needs a priority of 1..99", policy);
	if (policies[i].v != SCHED_FIFO && policies[i].v != SCHED_RR && prio != 0)
		return jfail(err, CFG, "process.scheduler.priority", "must be 0 for %s", policy);
	s->sched.sched_nice = nice;
	s->sched.sched_priority = prio;
	s->sched.sched_runtime = runtime;
	s->sched.sched_deadline = deadline;
	s->sched.sched_period = period;
	for (size_t k = 0; flags && flags[k]; k++) {
		for (i = 0; i < ARRAY_SIZE(sflags); i++)
			if (!strcmp(flags[k], sflags[i].n))
				break;
		if (i == ARRAY_SIZE(sflags))
			return hutch_fail(err, 0, "config.json: process.scheduler.flags[%zu]: unknown flag \"%s\"",
					  k, flags[k]);
		s->sched.sched_flags |= sflags[i].v;
	}
	s->has_sched = true;
	return 0;
}

static int parse_ioprio(struct hutch_security *s, json_object *process, hutch_err *err)
{
	json_object *o = NULL;
	const char *cls = NULL;
	int64_t prio = 0;
	int c;

	if (jget_obj(process, CFG, "process", "ioPriority", false, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	if (jget_str(o, CFG, "process.ioPriority", "class", false, &cls, err) < 0 ||
	    jget_i64(o, CFG, "process.ioPriority", "priority", false, &prio, err) < 0)
		return -1;
	if (!cls)
		return jfail(err, CFG, "process.ioPriority.class", "missing required field");
	if (!strcmp(cls, "IOPRIO_CLASS_RT"))
		c = 1;
	else if (!strcmp(cls, "IOPRIO_CLASS_BE"))
		c = 2;
	else if (!strcmp(cls, "IOPRIO_CLASS_IDLE"))
		c = 3;
	else
		return jfail(err, CFG, "process.ioPriority.class", "unknown class \"%s\"", cls);
	if (prio < 0 || prio > 7)
		return jfail(err, CFG, "process.ioPriority.priority", "%lld is out of range (0..7)",
			       (long long)prio);
	s->ioprio = (c << IOPRIO_CLASS_SHIFT) | (int)prio;
	s->has_ioprio = true;
	return 0;
}

/* ---- sysctl, masked and read-only paths -------------------------------- */

static bool ns_private(json_object *lin, const char *type)
{
	json_object *nss = NULL;

	if (!lin || !json_object_object_get_ex(lin, "namespaces", &nss) ||
	    !json_object_is_type(nss, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		json_object *n = json_object_array_get_idx(nss, i), *t = NULL;

		if (n && json_object_object_get_ex(n, "type", &t) &&
		    json_object_is_type(t, json_type_string) && !strcmp(json_object_get_string(t), type))
			return true;
	}
	return false;
}

/* Which namespace a sysctl belongs to, or NULL when it is not namespaced. */
static const char *sysctl_ns(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced", NULL };

	for (size_t i = 0; ipc[i]; i++)
		if (!strcmp(key, ipc[i]))
			return "ipc";
	if (str_has_prefix(key, "fs.mqueue."))
		return "ipc";
	if (str_has_prefix(key, "net."))
		return "network";
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return "uts";
	return NULL;
}

static int parse_sysctl(struct hutch_security *s, json_object *lin, hutch_err *err)
{
	json_object *o = NULL;

	if (jget_obj(lin, CFG, "linux", "sysctl", false, &o, err) < 0)
		return -1;
	if (!o)
		return 0;
	json_object_object_foreach(o, key, val) {
		cleanup_free char *norm = xstrdup(key);
		cleanup_free char *p = xasprintf("linux.sysctl.%s", key);
		const char *ns;

		if (!val || !json_object_is_type(val, json_type_string))
			return jfail(err, CFG, p, "expected a string");
		for (char *c = norm; *c; c++)
			if (*c == '/')
				*c = '.';
		if (!*norm || strstr(norm, "..") || norm[0] == '.' || norm[strlen(norm) - 1] == '.')
			return jfail(err, CFG, p, "invalid key");
		ns = sysctl_ns(norm);
		if (!ns)
			return jfail(err, CFG, p, "not a namespaced sysctl: it would change the host (only IPC, network and UTS sysctls are allowed)");
		if (!ns_private(lin, ns))
			return jfail(err, CFG, p, "needs a %s namespace of the container's own (linux.namespaces has none)",
				       ns);
		for (char *c = norm; *c; c++)
			if (*c == '.')
				*c = '/';
		strv_push(&s->sysctl_keys, xstrdup(norm));
		strv_push(&s->sysctl_vals, xstrdup(json_object_get_string(val)));
	}
	return 0;
}

static int check_abs_paths(char **v, const char *field, hutch_err *err)
{
	for (size_t i = 0; v && v[i]; i++)
		if (v[i][0] != '/')
			return hutch_fail(err, 0, "config.json: %s[%zu]: \"%s\" is not an absolute path",
					  field, i, v[i]);
	return 0;
}

static int apply_sysctl(const struct hutch_security *s, hutch_err *err)
{
	for (size_t i = 0; s->sysctl_keys && s->sysctl_keys[i]; i++) {
		cleanup_free char *p = xasprintf("sys/%s", s->sysctl_keys[i]);

		if (proc_write(p, s->sysctl_vals[i], err) < 0)
			return hutch_error_prefix(err, "linux.sysctl");
	}
	return 0;
}

/* An O_PATH fd of path resolved inside the tree at root: no link, magic or not, leads out. */
static int resolve_in_root(int root, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/*
 * The container's /dev/null, opened without following a link and checked to be the
 * character device 1:3: a rootfs that swaps it for a link or another file must not
 * get a host file bound over the masked paths (CVE-2025-31133).
 */
static int open_dev_null(hutch_err *err)
{
	cleanup_close int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return hutch_fail(err, errno, "linux.maskedPaths: open the container's /dev/null");
	if (fstat(fd, &st) < 0)
		return hutch_fail(err, errno, "linux.maskedPaths: stat the container's /dev/null");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
		return hutch_fail(err, 0, "linux.maskedPaths: the container's /dev/null is not the null device (1:3): refusing to mask with it");
	return steal_fd(&fd);
}

static int apply_masked(const struct hutch_security *s, hutch_err *err)
{
	cleanup_close int null = -1;
	cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (root < 0)
		return hutch_fail(err, errno, "linux.maskedPaths: open /");
	for (size_t i = 0; s->masked && s->masked[i]; i++) {
		const char *p = s->masked[i];
		cleanup_close int target = resolve_in_root(root, p);
		cleanup_free char *tp = NULL;
		struct stat st;
		int r;

		if (target < 0 || fstat(target, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
				continue;
			return hutch_fail(err, errno, "linux.maskedPaths[%zu]: resolve `%s`", i, p);
		}
		tp = xasprintf("/proc/self/fd/%d", target);
		if (S_ISDIR(st.st_mode)) {
			r = mount("tmpfs", tp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  "mode=0555");
		} else {
			cleanup_free char *np = NULL;

			if (null < 0 && (null = open_dev_null(err)) < 0)
				return -1;
			np = xasprintf("/proc/self/fd/%d", null);
			r = mount(np, tp, NULL, MS_BIND, NULL);
		}
		if (r < 0)
			return hutch_fail(err, errno, "linux.maskedPaths[%zu]: mask `%s`", i, p);
	}
	return 0;
}

/* Make the mount at target (an fd path) and every mount below it read-only; p names it. */
static int remount_ro(const char *target, const char *p, hutch_err *err, size_t i)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	struct statvfs sv;
	unsigned long keep = 0;

	/* every mount below p too, in one call where the kernel can */
	if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	if (statvfs(target, &sv) == 0)
		keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME | ST_NOATIME |
				    ST_NODIRATIME);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		return hutch_fail(err, errno, "linux.readonlyPaths[%zu]: remount `%s` read-only", i, p);
	return 0;
}

static int apply_readonly(const struct hutch_security *s, hutch_err *err)
{
	cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (root < 0)
		return hutch_fail(err, errno, "linux.readonlyPaths: open /");
	for (size_t i = 0; s->readonly && s->readonly[i]; i++) {
		const char *p = s->readonly[i];
		cleanup_close int target = resolve_in_root(root, p);
		cleanup_close int bound = -1;
		cleanup_free char *tp = NULL;
		cleanup_free char *bp = NULL;

		if (target < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return hutch_fail(err, errno, "linux.readonlyPaths[%zu]: resolve `%s`", i, p);
		}
		tp = xasprintf("/proc/self/fd/%d", target);
		if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
			return hutch_fail(err, errno, "linux.readonlyPaths[%zu]: bind `%s`", i, p);
		/* a fresh lookup: the new mount, on top */
		bound = resolve_in_root(root, p);
		if (bound < 0)
			return hutch_fail(err, errno, "linux.readonlyPaths[%zu]: resolve `%s`", i, p);
		bp = xasprintf("/proc/self/fd/%d", bound);
		if (remount_ro(bp, p, err, i) < 0)
			return -1;
	}
	return 0;
}

/* ---- the interface ----------------------------------------------------- */

int hutch_security_prepare(json_object *config, json_object *process, char *const *extra_caps,
			   bool no_new_privs, struct hutch_security **out, hutch_err *err)
{
	struct hutch_security *s = xcalloc(1, sizeof(*s));

	s->ready_fd = -1;
	json_object *lin = NULL, *sc = NULL;
	const char *aa = NULL, *se = NULL, *ml = NULL;

	*out = NULL;
	s->no_new_privs = no_new_privs;
	s->pid = -1;
	if (jget_obj(config, CFG, "", "linux", false, &lin, err) < 0 ||
	    parse_caps(s, process, extra_caps, err) < 0 ||
	    jget_str(process, CFG, "process", "apparmorProfile", false, &aa, err) < 0 ||
	    jget_str(process, CFG, "process", "selinuxLabel", false, &se, err) < 0 ||
	    jget_str(lin, CFG, "linux", "mountLabel", false, &ml, err) < 0 ||
	    parse_scheduler(s, process, err) < 0 || parse_ioprio(s, process, err) < 0 ||
	    parse_personality(s, lin, err) < 0 || parse_sysctl(s, lin, err) < 0 ||
	    jget_strv(lin, CFG, "linux", "maskedPaths", false, &s->masked, err) < 0 ||
	    jget_strv(lin, CFG, "linux", "readonlyPaths", false, &s->readonly, err) < 0 ||
	    check_abs_paths(s->masked, "linux.maskedPaths", err) < 0 ||
	    check_abs_paths(s->readonly, "linux.readonlyPaths", err) < 0 ||
	    hutch_hooks_validate(config, err) < 0)
		goto fail;
	if (aa && *aa) {
		if (!apparmor_enabled()) {
			hutch_fail(err, 0, "config.json: process.apparmorProfile: \"%s\" requested, but AppArmor is not enabled on this host",
				   aa);
			goto fail;
		}
		s->apparmor = xstrdup(aa);
	}
	if (se && *se) {
		if (!selinux_enabled()) {
			hutch_fail(err, 0, "config.json: process.selinuxLabel: \"%s\" requested, but SELinux is not enabled on this host",
				   se);
			goto fail;
		}
		s->selinux = xstrdup(se);
	}
	if (ml && *ml) {
		if (!selinux_enabled()) {
			hutch_fail(err, 0, "config.json: linux.mountLabel: \"%s\" requested, but SELinux is not enabled on this host",
				   ml);
			goto fail;
		}
		s->mount_label = xstrdup(ml);
	}
	if (lin && json_object_object_get_ex(lin, "seccomp", &sc) && sc &&
	    hutch_seccomp_compile(sc, &s->seccomp, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	hutch_security_free(s);
	return -1;
}

void hutch_security_set_state(struct hutch_security *sec, const char *state_json, pid_t pid)
{
	if (!sec)
		return;
	free(sec->state_json);
	sec->state_json = state_json ? xstrdup(state_json) : NULL;
	if (pid <= 0 && state_json) {
		/* the init: its host pid is the state's */
		json_object *o = json_tokener_parse(state_json), *p = NULL;

		if (o && json_object_object_get_ex(o, "pid", &p) && json_object_is_type(p, json_type_int))
			pid = json_object_get_int(p);
		json_object_put(o);
	}
	sec->pid = pid;
}

void hutch_security_set_ready_fd(struct hutch_security *sec, int fd)
{
	if (sec)
		sec->ready_fd = fd;
}

bool hutch_security_ready_sent(const struct hutch_security *sec)
{
	return sec && sec->ready_sent;
}

const char *hutch_security_mount_label(const struct hutch_security *sec)
{
	return sec ? sec->mount_label : NULL;
}

int hutch_security_listener_fd(const struct hutch_security *sec)
{
	return sec && sec->seccomp ? sec->seccomp->listener_fd : -1;
}

int hutch_security_apply_fs(struct hutch_security *s, hutch_err *err)
{
	if (!s)
		return 0;
	if (apply_sysctl(s, err) < 0 || apply_masked(s, err) < 0 || apply_readonly(s, err) < 0)
		return -1;
	return 0;
}

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

static int load_seccomp(struct hutch_security *s, hutch_err *err)
{
	pid_t pid = s->pid;

	if (!s->seccomp)
		return 0;
	/* tell `start` now: the profile may deny the write */
	if (s->ready_fd >= 0 && !s->ready_sent) {
		(void)!write(s->ready_fd, "ok", 2);
		s->ready_sent = true;
	}
	if (pid <= 0)
		pid = getpid();
	return hutch_seccomp_load(s->seccomp, s->state_json, pid, err);
}

int hutch_security_apply_process(struct hutch_security *s, hutch_err *err)
{
	bool seccomp_done = false;
	__attribute__((cleanup(cap_freep))) cap_t saved = NULL;

	if (!s)
		return 0;
	/* the caps kept across setuid, made effective for what follows */
	if (!s->has_caps && !(saved = cap_get_proc()))
		return hutch_fail(err, errno, "capabilities: cap_get_proc");
	if (caps_raise_effective(err) < 0)
		return -1;
	if (s->has_personality && personality(s->persona) < 0)
		return hutch_fail(err, errno, "linux.personality");
	if (s->has_sched && syscall(SYS_sched_setattr, 0, &s->sched, 0) < 0)
		return hutch_fail(err, errno, "process.scheduler: sched_setattr");
	if (s->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, s->ioprio) < 0)
		return hutch_fail(err, errno, "process.ioPriority: ioprio_set");
	if (apply_lsm(s, err) < 0)
		return -1;
	if (saved) {
		/*
		 * no process.capabilities: the sets stay as setuid left them, but for the
		 * inheritable set (and so the ambient one): what the caller of hutch had there
		 * must not reach the container (CVE-2022-29162)
		 */
		int r = cap_clear_flag(saved, CAP_INHERITABLE) < 0 ? -1 : cap_set_proc(saved);

		if (r < 0)
			return hutch_fail(err, errno, "capabilities: restore the sets");
	}
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hutch_fail(err, errno, "process.noNewPrivileges");
	if (s->has_caps && caps_apply_bounding(s, err) < 0)
		return -1;
	/*
	 * seccomp goes last. Without no_new_privs the kernel wants CAP_SYS_ADMIN to
	 * install a filter; when the final sets drop it, the filter goes in just before
	 * the capset instead (as runc and crun do), so the profile must allow capset.
	 */
	if (!s->no_new_privs && s->has_caps && !capset_has(s, CAPSET_EFFECTIVE, CAP_SYS_ADMIN)) {
		if (load_seccomp(s, err) < 0)
			return -1;
		seccomp_done = true;
	}
	if (s->has_caps && caps_apply_sets(s, err) < 0)
		return -1;
	if (!seccomp_done && load_seccomp(s, err) < 0)
		return -1;
	return 0;
}

void hutch_security_free(struct hutch_security *s)
{
	if (!s)
		return;
	for (int i = 0; i < CAPSET_N; i++)
		free(s->caps[i]);
	free(s->apparmor);
	free(s->selinux);
	free(s->mount_label);
	strv_free(s->sysctl_keys);
	strv_free(s->sysctl_vals);
	strv_free(s->masked);
	strv_free(s->readonly);
	hutch_seccomp_free(s->seccomp);
	free(s->state_json);
	free(s);
}
