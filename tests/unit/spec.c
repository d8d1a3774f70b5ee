// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: config.json parsing and mount option parsing. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonutil.h"
#include "spec.h"
#include "utils.h"

#define CHECK_SUITE "spec"
#include "check.h"

static char dir[] = "/tmp/hutch-unit-spec.XXXXXX";

/* Write config.json from a template and try to load it. */
static int load(const char *json, struct hutch_spec **s, hutch_err *err)
{
	cleanup_free char *p = xasprintf("%s/config.json", dir);
	FILE *f = fopen(p, "w");

	fputs(json, f);
	fclose(f);
	return spec_load(dir, NULL, s, err);
}

#define BASE(extra) "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, " \
	"\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}" extra "}"

static void expect_error(const char *name, const char *json, const char *msg)
{
	struct hutch_spec *s = NULL;
	hutch_err err = NULL;
	int r = load(json, &s, &err);
	bool ok = r < 0 && err && strstr(err->msg, msg);

	if (!ok)
		fprintf(stderr, "# %s: got [%s]\n", name, err ? err->msg : "success");
	CHECK(name, ok);
	if (s)
		spec_free(s);
	hutch_error_free(&err);
}

static void test_valid(void)
{
	struct hutch_spec *s = NULL;
	hutch_err err = NULL;
	int r = load(BASE(", \"hostname\": \"h\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, "
			  "{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}], "
			  "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 10}], "
			  "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 10}]}, "
			  "\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}, "
			  "{\"destination\": \"/b\", \"source\": \"rel\", \"options\": [\"rbind\", \"ro\"]}]"),
		     &s, &err);

	CHECK("valid config loads", r == 0);
	if (r < 0) {
		fprintf(stderr, "# %s\n", err->msg);
		hutch_error_free(&err);
		return;
	}
	CHECK("namespaces to create", s->ns_new == (CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWUSER));
	CHECK("id maps", s->nuid_maps == 1 && s->uid_maps[0].host == 1000 && s->uid_maps[0].size == 10);
	CHECK("hostname", s->hostname && strcmp(s->hostname, "h") == 0);
	CHECK("mount count", s->nmounts == 2);
	CHECK("relative bind source is under the bundle",
	      s->nmounts == 2 && str_has_prefix(s->mounts[1].source, s->bundle));
	CHECK("rbind ro", s->nmounts == 2 && s->mounts[1].bind && s->mounts[1].rec &&
			  (s->mounts[1].flags & MS_RDONLY));
	CHECK("process args", s->has_process && strcmp(s->process.args[0], "sh") == 0);
	spec_free(s);
}

static void test_errors(void)
{
	expect_error("not an object", "[1, 2]", "config.json: the document must be a JSON object");
	expect_error("bad version", "{\"ociVersion\": \"2.0\", \"root\": {\"path\": \"rootfs\"}}",
		     "config.json: ociVersion: unsupported version \"2.0\"");
	expect_error("unknown namespace",
		     BASE(", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"bogus\"}]}"),
		     "config.json: linux.namespaces[1].type: unknown namespace \"bogus\"");
	expect_error("duplicate namespace",
		     BASE(", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}"),
		     "namespace \"pid\" listed twice");
	expect_error("rlimit soft above hard",
		     BASE(", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": "
			  "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}"),
		     "process.rlimits[0]: soft limit is above the hard limit");
	expect_error("maps without userns",
		     BASE(", \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}"),
		     "id mappings need a new user namespace");
	expect_error("zero-size map",
		     BASE(", \"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": "
			  "[{\"containerID\": 0, \"hostID\": 1, \"size\": 0}]}"),
		     "linux.uidMappings[0]: size must be at least 1");
	expect_error("time offsets without timens",
		     BASE(", \"linux\": {\"timeOffsets\": {\"boottime\": {\"secs\": 1}}}"),
		     "linux.timeOffsets: needs a new time namespace");
	expect_error("device outside /dev",
		     BASE(", \"linux\": {\"devices\": [{\"path\": \"/etc/x\", \"type\": \"c\", \"major\": 1, \"minor\": 1}]}"),
		     "linux.devices[0].path: \"/etc/x\" is not a path under /dev");
	expect_error("mount without type or bind",
		     BASE(", \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}, \"mounts\": [{\"destination\": \"/x\"}]"),
		     "mounts[0]: mount has neither a type nor a bind option");
	expect_error("float uid", BASE(", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 1.5}}"),
		     "process.user.uid: expected an integer, got a number");
	expect_error("trailing data", BASE("") " {}", "trailing data after the document");
}

static void test_mount_options(void)
{
	struct hutch_mount m = { 0 };
	char *opts[] = { "nosuid", "ro", "rw", "noexec", "mode=755", "size=1m", "rslave", "strictatime", NULL };
	hutch_err err = NULL;
	int r = mount_parse_options(opts, &m, "config.json", "mounts[0].options", &err);

	CHECK("mount options parse", r == 0);
	CHECK("later rw clears earlier ro", !(m.flags & MS_RDONLY) && (m.clear & MS_RDONLY));
	CHECK("flags", (m.flags & (MS_NOSUID | MS_NOEXEC | MS_STRICTATIME)) == (MS_NOSUID | MS_NOEXEC | MS_STRICTATIME));
	CHECK("data", m.data && strcmp(m.data, "mode=755,size=1m") == 0);
	CHECK("propagation", m.propagation == (MS_SLAVE | MS_REC));
	free(m.data);

	struct hutch_mount b = { 0 };
	char *bopts[] = { "rbind", "tmpcopyup", "private", NULL };

	r = mount_parse_options(bopts, &b, "config.json", "mounts[1].options", &err);
	CHECK("rbind with a known no-op option", r == 0 && b.bind && b.rec && b.propagation == MS_PRIVATE);
	free(b.data);

	struct hutch_mount e = { 0 };
	char *eopts[] = { "bind", "frobnicate", NULL };

	r = mount_parse_options(eopts, &e, "config.json", "mounts[2].options", &err);
	CHECK("unknown bind option is an error",
	      r < 0 && err && strstr(err->msg, "mounts[2].options: unknown option \"frobnicate\" for a bind mount"));
	hutch_error_free(&err);
	free(e.data);
}

static void test_signals(void)
{
	int sig = 0;
	hutch_err err = NULL;

	CHECK("signal by name", parse_signal("TERM", &sig, &err) == 0 && sig == 15);
	CHECK("signal by SIG name", parse_signal("SIGKILL", &sig, &err) == 0 && sig == 9);
	CHECK("signal lowercase", parse_signal("hup", &sig, &err) == 0 && sig == 1);
	CHECK("signal by number", parse_signal("10", &sig, &err) == 0 && sig == 10);
	CHECK("realtime signal", parse_signal("RTMIN+2", &sig, &err) == 0 && sig == SIGRTMIN + 2);
	CHECK("bad signal", parse_signal("FOO", &sig, &err) < 0 && strstr(err->msg, "invalid signal `FOO`"));
	hutch_error_free(&err);
	CHECK("signal 0 rejected", parse_signal("0", &sig, &err) < 0);
	hutch_error_free(&err);
}

int main(void)
{
	cleanup_free char *rootfs = NULL;

	if (!mkdtemp(dir))
		return 1;
	rootfs = xasprintf("%s/rootfs", dir);
	mkdir(rootfs, 0755);
	test_valid();
	test_errors();
	test_mount_options();
	test_signals();
	{
		cleanup_free char *cfg = xasprintf("%s/config.json", dir);

		unlink(cfg);
		rmdir(rootfs);
		rmdir(dir);
	}
	return check_status();
}
