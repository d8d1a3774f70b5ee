// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device access for a container.
 *
 * v1: each rule, in order, is written to devices.allow or devices.deny.
 * v2: hutch assembles a BPF_PROG_TYPE_CGROUP_DEVICE program from the same rules and
 * attaches it to the container's directory with raw bpf(2) calls. The program checks
 * the rules from the last to the first; the first match decides (so, as on v1, a later
 * rule overrides an earlier one), and a device no rule matches is allowed, as a new v1
 * cgroup inherits "allow all". An allow rule matches when every requested access is in
 * its access string; a deny rule when any requested access is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

/*
 * Always allowed after the configured rules, like runc's AllowedDevices, minus its
 * "c *:* m" and "b *:* m": here a denied device cannot be created with mknod either.
 */
static const struct cg_dev_rule defaults[] = {
	{ true, 'c', 1, 3, 7 },    /* /dev/null */
	{ true, 'c', 1, 5, 7 },    /* /dev/zero */
	{ true, 'c', 1, 7, 7 },    /* /dev/full */
	{ true, 'c', 1, 8, 7 },    /* /dev/random */
	{ true, 'c', 1, 9, 7 },    /* /dev/urandom */
	{ true, 'c', 5, 0, 7 },    /* /dev/tty */
	{ true, 'c', 5, 1, 7 },    /* /dev/console */
	{ true, 'c', 5, 2, 7 },    /* /dev/ptmx */
	{ true, 'c', 136, -1, 7 }, /* /dev/pts/N */
	{ true, 'c', 10, 200, 7 }, /* /dev/net/tun */
};

void cg_devices_defaults(struct cg_dev_rule **rules, size_t *n)
{
	*rules = xrealloc(*rules, (*n + ARRAY_SIZE(defaults)) * sizeof(**rules));
	memcpy(*rules + *n, defaults, sizeof(defaults));
	*n += ARRAY_SIZE(defaults);
}

/*
 * linux.devices asks for these nodes in the container's /dev whatever the device rules of
 * linux.resources say (runc allows every mknod, "c *:* m" and "b *:* m"): allow mknod of
 * exactly those devices, after the configured rules. Reading and writing them stay as
 * configured. Entries spec.c will reject are skipped here.
 */
void cg_devices_allow_listed(struct cg_res *r, json_object *devices)
{
	if (!r->has_devices || !json_object_is_type(devices, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		json_object *e = json_object_array_get_idx(devices, i), *jt, *jmaj, *jmin;
		const char *t;

		if (!json_object_object_get_ex(e, "type", &jt) ||
		    !json_object_is_type(jt, json_type_string) ||
		    !json_object_object_get_ex(e, "major", &jmaj) ||
		    !json_object_is_type(jmaj, json_type_int) ||
		    !json_object_object_get_ex(e, "minor", &jmin) ||
		    !json_object_is_type(jmin, json_type_int))
			continue;
		t = json_object_get_string(jt);
		if (strcmp(t, "c") != 0 && strcmp(t, "u") != 0 && strcmp(t, "b") != 0)
			continue;
		r->dev = xrealloc(r->dev, (r->n_dev + 1) * sizeof(*r->dev));
		r->dev[r->n_dev++] = (struct cg_dev_rule){
			.allow = true, .type = t[0] == 'b' ? 'b' : 'c',
			.major = json_object_get_int64(jmaj), .minor = json_object_get_int64(jmin),
			.access = CG_ACC_MKNOD,
		};
	}
}

static char *rule_v1(const struct cg_dev_rule *r)
{
	char acc[4], *p = acc;
	cleanup_free char *maj = r->major < 0 ? xstrdup("*") : xasprintf("%" PRId64, r->major);
	cleanup_free char *min = r->minor < 0 ? xstrdup("*") : xasprintf("%" PRId64, r->minor);

	if (r->access & CG_ACC_READ)
		*p++ = 'r';
	if (r->access & CG_ACC_WRITE)
		*p++ = 'w';
	if (r->access & CG_ACC_MKNOD)
		*p++ = 'm';
	*p = '\0';
	if (r->type == 'a')
		return xstrdup("a");
	return xasprintf("%c %s:%s %s", r->type, maj, min, acc);
}

int cg_devices_apply_v1(const char *dir, const struct cg_dev_rule *rules, size_t n,
			hutch_err *err)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *s = rule_v1(&rules[i]);

		if (cg_write(dir, rules[i].allow ? "devices.allow" : "devices.deny", s, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the v2 program ---- */

struct prog {
	struct bpf_insn *insn;
	size_t n;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	p->insn = xrealloc(p->insn, (p->n + 1) * sizeof(*p->insn));
	p->insn[p->n++] = i;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						 .off = (o), .imm = (i) })
/* dst = *(u32 *)(src + off) */
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV32_REG(d, s) INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define JMP32_IMM(op, d, i, o) INSN(BPF_JMP32 | (op) | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r2 type, r3 access, r4 major, r5 minor, r6 scratch. Returns true when
 * the rule matches every device (what comes after it would be unreachable). */
static bool emit_rule(struct prog *p, const struct cg_dev_rule *r)
{
	struct bpf_insn body[8];
	size_t n = 0;
	int acc = 0;

	if (r->access & CG_ACC_MKNOD)
		acc |= BPF_DEVCG_ACC_MKNOD;
	if (r->access & CG_ACC_READ)
		acc |= BPF_DEVCG_ACC_READ;
	if (r->access & CG_ACC_WRITE)
		acc |= BPF_DEVCG_ACC_WRITE;
	/* Each check jumps over the rest of the block when the rule does not match; the
	 * offsets are patched below once the block's length is known (off = -1 marks). */
	if (r->type != 'a')
		body[n++] = JMP32_IMM(BPF_JNE, 2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK :
				      BPF_DEVCG_DEV_CHAR, -1);
	if (r->allow && acc != 7) {
		body[n++] = MOV32_REG(6, 3);
		body[n++] = ALU32_IMM(BPF_AND, 6, ~acc & 7);
		body[n++] = JMP32_IMM(BPF_JNE, 6, 0, -1);
	} else if (!r->allow && acc != 7) {
		body[n++] = MOV32_REG(6, 3);
		body[n++] = ALU32_IMM(BPF_AND, 6, acc);
		body[n++] = JMP32_IMM(BPF_JEQ, 6, 0, -1);
	}
	if (r->major >= 0)
		body[n++] = JMP32_IMM(BPF_JNE, 4, (int32_t)r->major, -1);
	if (r->minor >= 0)
		body[n++] = JMP32_IMM(BPF_JNE, 5, (int32_t)r->minor, -1);
	body[n++] = MOV64_IMM(0, r->allow ? 1 : 0);
	body[n++] = EXIT();
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(body[i].code) == BPF_JMP32 && body[i].off == -1)
			body[i].off = (int16_t)(n - i - 1);
		emit(p, body[i]);
	}
	return n == 2;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct prog *p, hutch_err *err)
{
	union bpf_attr attr;
	cleanup_free char *log = xcalloc(1, 65536);
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p->insn;
	attr.insn_cnt = (uint32_t)p->n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = 65536;
	attr.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd < 0 && errno == ENOSPC) {
		attr.log_buf = 0;
		attr.log_size = 0;
		attr.log_level = 0;
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
	}
	if (fd < 0) {
		int e = errno;

		if (log[0])
			log_debug("cgroup: BPF verifier: %s", log);
		return hutch_fail(err, e, "cgroup: load the device BPF program (%zu instructions)",
				  p->n);
	}
	return fd;
}

int cg_devices_apply_bpf(const char *dir, const struct cg_dev_rule *rules, size_t n,
			 hutch_err *err)
{
	struct prog p = { 0 };
	cleanup_close int cgfd = -1;
	cleanup_close int pfd = -1;
	union bpf_attr attr;
	uint32_t ids[64], cnt = ARRAY_SIZE(ids);

	emit(&p, LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&p, MOV32_REG(3, 2));
	emit(&p, ALU32_IMM(BPF_AND, 2, 0xffff));
	emit(&p, ALU32_IMM(BPF_RSH, 3, 16));
	emit(&p, LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	emit(&p, LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	/* the verifier rejects unreachable code: stop after a rule matching everything */
	bool all = false;

	for (size_t i = n; i-- > 0 && !all;)
		all = emit_rule(&p, &rules[i]);
	if (!all) {
		emit(&p, MOV64_IMM(0, 1));
		emit(&p, EXIT());
	}

	pfd = prog_load(&p, err);
	free(p.insn);
	if (pfd < 0)
		return -1;
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return hutch_fail(err, errno, "cgroup: open `%s`", dir);

	/* The programs already there (an update replaces them). */
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = cnt;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return hutch_fail(err, errno, "cgroup: query device programs of `%s`", dir);
	cnt = attr.query.prog_cnt;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = cgfd;
	attr.attach_bpf_fd = pfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return hutch_fail(err, errno, "cgroup: attach the device program to `%s`", dir);

	for (uint32_t i = 0; i < cnt && i < ARRAY_SIZE(ids); i++) {
		cleanup_close int old = -1;

		memset(&attr, 0, sizeof(attr));
		attr.prog_id = ids[i];
		old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (old < 0)
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = cgfd;
		attr.attach_bpf_fd = old;
		attr.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &attr) < 0)
			return hutch_fail(err, errno, "cgroup: detach the old device program of `%s`",
					  dir);
	}
	return 0;
}
