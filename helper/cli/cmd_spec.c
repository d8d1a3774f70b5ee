// SPDX-License-Identifier: GPL-2.0-or-later
/* hutch spec and features. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <seccomp.h>
#include <sys/capability.h>

#include "cli.h"
#include "jsonutil.h"
#include "spec.h"
#include "utils.h"

HUTCH_COMMAND(spec)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hutch_command *cmd = hutch_find_command("spec");
	const char *bundle = ".";
	cleanup_free char *path = NULL;
	cleanup_json json_object *s = NULL;
	cleanup_close int fd = -1;
	const char *text;
	bool rootless = false;
	int c;
	struct cli_parser p = { .cmd = cmd, .argc = argc, .argv = argv, .shortopts = "b:",
				.longopts = opts };

	while ((c = cli_next(&p, err)) > 0) {
		if (c == 'b')
			bundle = p.arg;
		else if (c == 'r')
			rootless = true;
	}
	if (c < 0 || cli_operands(&p, 0, 0, err) < 0)
		return -1;
	path = xasprintf("%s/config.json", bundle);
	s = spec_default(rootless);
	text = json_str(s, true);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return hutch_fail(err, 0, "spec: `%s` exists: remove it first", path);
	if (fd < 0)
		return hutch_fail(err, errno, "spec: create `%s`", path);
	if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0)
		return hutch_fail(err, errno, "spec: write `%s`", path);
	return 0;
}

static json_object *strings(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* An object of KEY, VALUE pairs up to a NULL key. */
static json_object *obj(const char *key, ...)
{
	json_object *o = json_object_new_object();
	va_list ap;

	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *))
		json_object_object_add(o, key, va_arg(ap, json_object *));
	va_end(ap);
	return o;
}

static json_object *enabled(bool on)
{
	return obj("enabled", json_object_new_boolean(on), NULL);
}

HUTCH_COMMAND(features)
{
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop", NULL };
	static const char *const mopts[] = {
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime",
		"loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand",
		"norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount",
		"ro", "rprivate", "rshared", "rslave", "runbindable", "rw", "shared", "silent",
		"slave", "strictatime", "suid", "sync", "unbindable", NULL
	};
	static const char *const nss[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user",
					   "uts", NULL };
	static const char *const actions[] = {
		"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
		"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
		"SCMP_ACT_TRAP", NULL
	};
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
					   "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
	static const char *const archs[] = {
		"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
		"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
		"SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
		"SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32", "SCMP_ARCH_X86",
		"SCMP_ARCH_X86_64", NULL
	};
	static const char *const flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					     "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
	static const char *const mpol_modes[] = {
		"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
		"MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL", NULL
	};
	static const char *const mpol_flags[] = {
		"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES", NULL
	};
	json_object *caps = json_object_new_array(), *lin, *f;
	struct stat st;

	if (argc > 1)
		return hutch_usage_error(hutch_find_command("features"), err, "unexpected argument `%s`", argv[1]);
	for (int i = 0; i <= cap_max_bits() - 1; i++) {
		char *name = cap_to_name(i);

		if (name) {
			char *up = xasprintf("CAP_%s", str_has_prefix(name, "cap_") ? name + 4 : name);

			for (char *p = up; *p; p++)
				*p = *p >= 'a' && *p <= 'z' ? *p - 32 : *p;
			json_object_array_add(caps, json_object_new_string(up));
			free(up);
			cap_free(name);
		}
	}
	lin = obj("namespaces", strings(nss),
		  "capabilities", caps,
		  "cgroup", obj("v1", json_object_new_boolean(true), "v2", json_object_new_boolean(true),
				"systemd", json_object_new_boolean(true),
				"systemdUser", json_object_new_boolean(false),
				"rdma", json_object_new_boolean(true), NULL),
		  "seccomp", obj("enabled", json_object_new_boolean(true), "actions", strings(actions),
				 "operators", strings(ops), "archs", strings(archs),
				 "knownFlags", strings(flags), "supportedFlags", strings(flags), NULL),
		  "apparmor", enabled(stat("/sys/kernel/security/apparmor", &st) == 0),
		  "selinux", enabled(stat("/sys/fs/selinux/enforce", &st) == 0),
		  /* runtime-spec 1.3: what hutch parses and applies (mempolicy.c, net_devices.c) */
		  "memoryPolicy", obj("modes", strings(mpol_modes), "flags", strings(mpol_flags), NULL),
		  "netDevices", enabled(true),
		  "intelRdt", obj("enabled", json_object_new_boolean(false),
				  "schemata", json_object_new_boolean(false), NULL),
		  "mountExtensions", obj("idmap", enabled(false), NULL),
		  NULL);
	f = obj("ociVersionMin", json_object_new_string("1.0.0"),
		"ociVersionMax", json_object_new_string(HUTCH_OCI_VERSION),
		"hooks", strings(hooks),
		"mountOptions", strings(mopts),
		"linux", lin,
		"annotations", json_object_new_object(),
		NULL);
	printf("%s\n", json_str(f, true));
	json_object_put(f);
	return 0;
}
