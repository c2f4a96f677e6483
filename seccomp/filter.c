/* SPDX-License-Identifier: MIT */
/*
 * The seccomp layer: a libseccomp filter built from a profile's rules, with
 * a killing default. In logging mode the default is SCMP_ACT_TRAP and a
 * SIGSYS handler names the blocked syscall on stderr, then the process dies
 * of SIGSYS anyway: logging mode finds missing entries, it never lets a
 * call through.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

/* Syscall names, resolved before the filter is loaded: the handler may not
 * allocate. */
#define NAMES_MAX 512
/* Not a syscall on any arch: the filter's default action always applies. */
#define JAIL_NEVER_ALLOWED_NR 1000
static const char *sc_names[NAMES_MAX];

static size_t fmt_uint(char *p, unsigned long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char buf[160];
	size_t n = 0;
	int nr = si->si_syscall;
	const char *name = (nr >= 0 && nr < NAMES_MAX && sc_names[nr]) ? sc_names[nr] : "?";
	static const char pre[] = "seccomp: blocked syscall ";
	memcpy(buf, pre, sizeof(pre) - 1);
	n = sizeof(pre) - 1;
	size_t l = strnlen(name, 64);
	memcpy(buf + n, name, l);
	n += l;
	memcpy(buf + n, " (nr ", 5);
	n += 5;
	n += fmt_uint(buf + n, (unsigned long)(nr < 0 ? 0 : nr));
	buf[n++] = ')';
	buf[n++] = '\n';
	ssize_t r = write(STDERR_FILENO, buf, n);
	(void)r;
	/*
	 * Die of SIGSYS: SA_RESETHAND put the default action back, and a
	 * number no filter allows traps again; a forced signal that is blocked
	 * or default kills the process (even pid 1 of a pid namespace).
	 */
	syscall(JAIL_NEVER_ALLOWED_NR, 0, 0, 0, 0, 0, 0);
	_exit(128 + SIGSYS); /* not reached */
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r, char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	if (nr == __NR_SCMP_ERROR) {
		snprintf(err, errlen, "seccomp: unknown syscall %s", r->name);
		return -1;
	}
	struct scmp_arg_cmp cmp[PROFILE_MAX_CMP];
	if (r->ncmp > PROFILE_MAX_CMP) {
		snprintf(err, errlen, "seccomp: %s: too many argument checks", r->name);
		return -1;
	}
	for (unsigned i = 0; i < r->ncmp; i++) {
		const struct sc_cmp *c = &r->cmp[i];
		switch (c->op) {
		/* Filled field by field: SCMP_CMP64's initializer leaves datum_b
		 * implicit, which clang's -Wmissing-field-initializers rejects. */
		case SC_EQ:
			cmp[i] = (struct scmp_arg_cmp){c->arg, SCMP_CMP_EQ, c->val, 0};
			break;
		case SC_MASKED_EQ:
			cmp[i] = (struct scmp_arg_cmp){c->arg, SCMP_CMP_MASKED_EQ, c->mask, c->val};
			break;
		case SC_EQ_SELF_PID:
			cmp[i] = (struct scmp_arg_cmp){c->arg, SCMP_CMP_EQ, (uint64_t)getpid(), 0};
			break;
		default:
			snprintf(err, errlen, "seccomp: %s: bad comparison", r->name);
			return -1;
		}
	}
	uint32_t action = r->errno_ret ? SCMP_ACT_ERRNO((uint32_t)r->errno_ret) : SCMP_ACT_ALLOW;
	int rc = seccomp_rule_add_array(ctx, action, nr, r->ncmp, cmp);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: rule for %s: %s", r->name, strerror(-rc));
		return -1;
	}
	return 0;
}

static int install_sigsys(char *err, size_t errlen)
{
	for (int nr = 0; nr < NAMES_MAX; nr++)
		if (!sc_names[nr])
			sc_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	struct sigaction sa = {0};
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "seccomp: sigaction: %s", strerror(errno));
		return -1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}

#ifdef CV_SANITIZER_RUNTIME
/*
 * -Dfuzzing=true builds only (ASan/UBSan in every binary, so that the
 * device-process fuzzer runs the confined binaries with sanitizers): the
 * runtime's own calls. Never in a production filter.
 */
static const struct sc_rule sanitizer_rules[] = {
    {.name = "mmap", .why = "ASan: allocator and thread-local blocks (small devices have no mmap)"},
    {.name = "munmap", .why = "ASan: allocator"},
    {.name = "madvise", .why = "ASan: releases shadow and allocator pages (MADV_DONTNEED)"},
    {.name = "gettid", .why = "ASan: registers each new thread"},
    {.name = "sigaltstack", .why = "ASan: each new thread's stack for its SEGV handler"},
    {.name = "getpid", .why = "sanitizer runtime: the pid at the head of each report"},
    {.name = "sched_getaffinity", .why = "sanitizer runtime: CPU count at thread creation"},
};
#endif

int jail__seccomp(const struct profile *p, bool seccomp_log, char *err, size_t errlen)
{
	if (seccomp_log && install_sigsys(err, errlen) < 0)
		return -1;
	scmp_filter_ctx ctx = seccomp_init(seccomp_log ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -1;
	}
	int rc;
	/* Other ABIs (i386 int 0x80, x32) kill; NNP is already set by the jail. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0) {
		snprintf(err, errlen, "seccomp: attributes: %s", strerror(-rc));
		goto fail;
	}
	for (unsigned i = 0; i < p->nrules; i++)
		if (add_rule(ctx, &p->rules[i], err, errlen) < 0)
			goto fail;
#ifdef CV_SANITIZER_RUNTIME
	for (unsigned i = 0; i < sizeof(sanitizer_rules) / sizeof(sanitizer_rules[0]); i++)
		if (add_rule(ctx, &sanitizer_rules[i], err, errlen) < 0)
			goto fail;
#endif
	rc = seccomp_load(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: load: %s", strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

int jail__lockdown(const char *type, bool seccomp_log, char *err, size_t errlen)
{
	const struct profile *p = profile__find(type);
	if (!p) {
		snprintf(err, errlen, "lockdown: unknown profile %s", type ? type : "(null)");
		return -1;
	}
	/* execve reset dumpable; NNP survives exec but set it again all the same. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "lockdown: prctl: %s", strerror(errno));
		return -1;
	}
	const char *env = getenv(JAIL_ENV_SECCOMP_LOG);
	if (env && strcmp(env, "1") == 0)
		seccomp_log = true;
	if (jail__landlock(p, err, errlen) < 0)
		return -1;
	return jail__seccomp(p, seccomp_log, err, errlen); /* last */
}
