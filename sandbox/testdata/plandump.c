/*
 * plandump: a test driver for the sandbox helper's plan decoder
 * (nsexec/plan.c), built by specwire_test.go. It reads a plan on stdin and
 * prints what plan_decode made of it, one field per line, or "error: MSG"
 * and exits 1. With --cuts it decodes every proper prefix of the plan
 * instead and prints each length that decoded (none should). With --serve
 * it decodes one input after another, for fuzzing without a process per
 * input: each is a 4-byte length (native order) and that many bytes, and
 * each answer one byte, '0' decoded or '1' refused.
 */
#define _GNU_SOURCE
#include "../nsexec/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quoted(const char *name, const char *s)
{
	printf("%s \"", name);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\')
			putchar(*c);
		else
			printf("\\x%02x", *c);
	}
	printf("\"\n");
}

static void list(const char *name, struct strs s)
{
	printf("%s %zu\n", name, s.n);
	for (size_t i = 0; i < s.n; i++)
		quoted(name, s.v[i]);
}

static void hex(const char *name, const unsigned char *b, size_t n)
{
	printf("%s ", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static void id(const char *name, struct file_id id)
{
	printf("%s %llu %llu\n", name, (unsigned long long)id.dev, (unsigned long long)id.ino);
}

static void dump(struct plan *p)
{
	printf("confine %d\nmounts %zu\n", p->confine, p->nmounts);
	for (size_t i = 0; i < p->nmounts; i++) {
		struct mount_op *m = &p->mounts[i];
		quoted("path", m->path);
		quoted("kind", m->kind);
		list("keep", m->keep);
		id("id", m->id);
		printf("dir %d\n", m->dir);
		quoted("make_in", m->make_in.path);
		id("make_in_id", m->make_in.id);
		list("make", m->make);
		printf("in_mask %ld\nkeep_file %zu", m->in_mask, m->nkeep_file);
		for (size_t k = 0; k < m->nkeep_file; k++)
			printf(" %d", m->keep_file[k]);
		printf("\n");
	}
	printf("shell %d\n", p->has_shell);
	if (p->has_shell) {
		quoted("shell_source", p->shell_source);
		list("shell_targets", p->shell_targets);
	}
	printf("namespaces %d\nproc %d\ngate %d\nmax_procs %ld\n", p->namespaces, p->proc, p->gate, p->max_procs);
	quoted("pids_cgroup", p->pids_cgroup);
	printf("nproc %d\nlandlock %d\nlandlock_flags %ld\nall_writable %d\nwritable %zu\n", p->nproc, p->landlock,
	       p->landlock_flags, p->all_writable, p->nwritable);
	for (size_t i = 0; i < p->nwritable; i++) {
		quoted("writable", p->writable[i].path);
		id("writable_id", p->writable[i].id);
	}
	list("mount_points", p->mount_points);
	hex("seccomp", p->seccomp, p->seccomp_len);
	hex("gate_filter", p->gate_filter, p->gate_filter_len);
	list("argv", p->argv);
	list("env", p->env);
	quoted("dir", p->dir);
}

static int serve(void)
{
	uint32_t n;
	while (fread(&n, sizeof n, 1, stdin) == 1) {
		/* Exactly n bytes, so that a read past the end is an overflow
		 * the sanitizer sees. */
		char *b = malloc(n ? n : 1);
		if (!b || fread(b, 1, n, stdin) != n)
			return 2;
		struct plan p;
		char err[256];
		putchar(plan_decode(b, n, &p, err, sizeof err) == 0 ? '0' : '1');
		fflush(stdout);
		free(b);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--serve") == 0)
		return serve();
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	for (size_t r; b && (r = fread(b + n, 1, cap - n, stdin)) > 0;) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	if (!b)
		return 2;
	struct plan p;
	char err[256];
	if (argc > 1 && strcmp(argv[1], "--cuts") == 0) {
		for (size_t i = 0; i < n; i++) {
			/* A copy of exactly i bytes, so that a read past the cut
			 * is an overflow the sanitizer sees. */
			char *cut = malloc(i ? i : 1);
			memcpy(cut, b, i);
			if (plan_decode(cut, i, &p, err, sizeof err) == 0)
				printf("%zu\n", i);
			free(cut);
		}
		return 0;
	}
	if (plan_decode(b, n, &p, err, sizeof err) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	dump(&p);
	return 0;
}
