/*
 * Decoding the plan (plan.h). Every field is a decimal length, a colon and
 * that many bytes ("5:hello"); numbers and booleans are such fields too,
 * lists a count followed by their items, binary data lower-case hex. Only
 * the canonical encoding is accepted (no leading zeros, "1"/"0"), so that
 * one plan has one encoding. The first error sticks: later reads return
 * zero values and plan_decode reports it.
 */
#define _GNU_SOURCE
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const char *start, *p, *end;
	const char *field; /* where the field being read starts */
	int failed;
	char *err;
	size_t errcap;
};

static void failf(struct reader *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = 1;
	/* Where: the offset of the field at fault. */
	int n = snprintf(r->err, r->errcap, "at byte %zu: ", (size_t)(r->field - r->start));
	if (n < 0 || (size_t)n >= r->errcap)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errcap - n, fmt, ap);
	va_end(ap);
	r->p = r->end;
}

static void *alloc(struct reader *r, size_t n, size_t size)
{
	void *v = calloc(n ? n : 1, size);
	if (!v)
		failf(r, "out of memory");
	return v;
}

/* field returns the next field's bytes and length, or NULL. */
static const char *field(struct reader *r, size_t *len)
{
	*len = 0;
	if (r->failed)
		return NULL;
	r->field = r->p;
	const char *colon = memchr(r->p, ':', r->end - r->p);
	if (!colon) {
		failf(r, "truncated");
		return NULL;
	}
	size_t digits = colon - r->p, n = 0;
	if (digits == 0 || digits > 9 || (digits > 1 && r->p[0] == '0')) {
		failf(r, "bad field length %.*s", (int)(digits > 12 ? 12 : digits), r->p);
		return NULL;
	}
	for (const char *d = r->p; d < colon; d++) {
		if (*d < '0' || *d > '9') {
			failf(r, "bad field length %.*s", (int)(digits > 12 ? 12 : digits), r->p);
			return NULL;
		}
		n = n * 10 + (size_t)(*d - '0');
	}
	if (n > (size_t)(r->end - colon - 1)) {
		failf(r, "truncated");
		return NULL;
	}
	*len = n;
	r->p = colon + 1 + n;
	return colon + 1;
}

static char *str(struct reader *r)
{
	size_t n;
	const char *s = field(r, &n);
	char *out = alloc(r, n + 1, 1);
	if (s && out)
		memcpy(out, s, n);
	return out ? out : "";
}

/* number reads a canonical decimal integer, as Go's strconv.Itoa writes it. */
static long long number(struct reader *r)
{
	size_t n;
	const char *s = field(r, &n);
	if (!s)
		return 0;
	size_t i = (n > 0 && s[0] == '-') ? 1 : 0;
	int ok = n > i && n - i <= 19 && !(n - i > 1 && s[i] == '0') && !(i && n == 2 && s[1] == '0');
	unsigned long long v = 0;
	for (size_t j = i; ok && j < n; j++) {
		if (s[j] < '0' || s[j] > '9')
			ok = 0;
		else
			v = v * 10 + (unsigned long long)(s[j] - '0');
	}
	if (!ok || (!i && v > (unsigned long long)INT64_MAX) || (i && v > (unsigned long long)INT64_MAX + 1)) {
		failf(r, "bad number %.*s", (int)(n > 24 ? 24 : n), s);
		return 0;
	}
	return i ? (long long)(0 - v) : (long long)v;
}

static int boolean(struct reader *r)
{
	size_t n;
	const char *s = field(r, &n);
	if (!s)
		return 0;
	if (n == 1 && (s[0] == '0' || s[0] == '1'))
		return s[0] == '1';
	failf(r, "bad boolean %.*s", (int)(n > 12 ? 12 : n), s);
	return 0;
}

/* count reads a list length, which cannot exceed what is left: each item
 * takes at least two bytes ("0:"). */
static size_t count(struct reader *r)
{
	long long n = number(r);
	if (!r->failed && (n < 0 || n > (r->end - r->p) / 2)) {
		failf(r, "bad list length %lld", n);
		return 0;
	}
	return (size_t)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static unsigned char *bytes(struct reader *r, size_t *len)
{
	size_t n;
	*len = 0;
	const char *s = field(r, &n);
	if (!s || n == 0)
		return NULL;
	if (n % 2) {
		failf(r, "bad hex field: odd length %zu", n);
		return NULL;
	}
	unsigned char *b = alloc(r, n / 2, 1);
	for (size_t i = 0; b && i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0) {
			failf(r, "bad hex field %.*s", (int)(n > 40 ? 40 : n), s);
			return NULL;
		}
		b[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return b;
}

static struct strs strs(struct reader *r)
{
	struct strs s = {0, NULL};
	size_t n = count(r);
	s.v = alloc(r, n + 1, sizeof *s.v);
	if (!s.v)
		return (struct strs){0, NULL};
	for (size_t i = 0; i < n && !r->failed; i++)
		s.v[i] = str(r);
	s.n = r->failed ? 0 : n;
	s.v[s.n] = NULL;
	return s;
}

static struct file_id file_id(struct reader *r)
{
	struct file_id id;
	/* Written as Go ints: a value above INT64_MAX comes back the same. */
	id.dev = (uint64_t)number(r);
	id.ino = (uint64_t)number(r);
	return id;
}

static struct path_id path_id(struct reader *r)
{
	struct path_id p;
	p.path = str(r);
	p.id = file_id(r);
	return p;
}

static void mount_op(struct reader *r, struct mount_op *m)
{
	m->path = str(r);
	m->kind = str(r);
	m->keep = strs(r);
	m->id = file_id(r);
	m->dir = boolean(r);
	m->make_in = path_id(r);
	m->make = strs(r);
	m->in_mask = (long)number(r);
	m->nkeep_file = count(r);
	m->keep_file = alloc(r, m->nkeep_file, sizeof *m->keep_file);
	for (size_t i = 0; m->keep_file && i < m->nkeep_file; i++)
		m->keep_file[i] = boolean(r);
}

int plan_decode(const char *b, size_t n, struct plan *p, char *err, size_t errcap)
{
	struct reader r = {b, b, b + n, b, 0, err, errcap};
	memset(p, 0, sizeof *p);
	char *tag = str(&r);
	if (!r.failed && strcmp(tag, PLAN_TAG) != 0)
		failf(&r, "not a %s message (%.20s)", PLAN_TAG, tag);
	p->confine = boolean(&r);
	p->nmounts = count(&r);
	p->mounts = alloc(&r, p->nmounts, sizeof *p->mounts);
	for (size_t i = 0; p->mounts && i < p->nmounts && !r.failed; i++)
		mount_op(&r, &p->mounts[i]);
	p->has_shell = boolean(&r);
	if (p->has_shell) {
		p->shell_source = str(&r);
		p->shell_targets = strs(&r);
	}
	p->namespaces = boolean(&r);
	p->proc = boolean(&r);
	p->gate = boolean(&r);
	p->max_procs = (long)number(&r);
	p->pids_cgroup = str(&r);
	p->nproc = boolean(&r);
	p->landlock = boolean(&r);
	p->landlock_flags = (long)number(&r);
	p->all_writable = boolean(&r);
	p->nwritable = count(&r);
	p->writable = alloc(&r, p->nwritable, sizeof *p->writable);
	for (size_t i = 0; p->writable && i < p->nwritable && !r.failed; i++)
		p->writable[i] = path_id(&r);
	p->mount_points = strs(&r);
	p->seccomp = bytes(&r, &p->seccomp_len);
	p->gate_filter = bytes(&r, &p->gate_filter_len);
	p->argv = strs(&r);
	p->env = strs(&r);
	p->dir = str(&r);
	if (!r.failed && r.p != r.end)
		failf(&r, "%zu bytes after the last field", (size_t)(r.end - r.p));
	if (r.failed) {
		p->nmounts = p->nwritable = 0;
		return -1;
	}
	return 0;
}
