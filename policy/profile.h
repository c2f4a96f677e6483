/* SPDX-License-Identifier: MIT */
/*
 * Confinement profiles: one declarative table per process type, the single
 * source of truth for what a cellvm child may do. seccomp/jail.c applies a
 * profile (namespaces, rlimits, capabilities, Landlock, seccomp);
 * policy__show() prints it. Every syscall entry says why it is needed, in
 * the style of OpenBSD's pledge.
 */
#ifndef CELLVM_POLICY_PROFILE_H
#define CELLVM_POLICY_PROFILE_H

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PROFILE_MAX_CMP 3

enum sc_op {
	SC_EQ = 1,	/* arg == val */
	SC_MASKED_EQ,	/* (arg & mask) == val */
	SC_EQ_SELF_PID, /* arg == getpid() of the process installing the filter */
};

/* One comparison on a syscall argument (index 0..5). */
struct sc_cmp {
	unsigned arg;
	enum sc_op op;
	uint64_t mask;
	uint64_t val;
	const char *what; /* human text for policy show, e.g. "KVM_RUN" */
};

/*
 * One rule. Rules for the same syscall are ORed; the comparisons inside one
 * rule are ANDed. errno_ret != 0 makes the rule return -errno instead of
 * allowing the call (used for clone3 -> ENOSYS so glibc falls back to clone,
 * whose flags a filter can inspect).
 */
struct sc_rule {
	const char *name;
	const char *why;
	int errno_ret;
	unsigned ncmp;
	struct sc_cmp cmp[PROFILE_MAX_CMP];
};

struct profile_rlimit {
	int resource;
	const char *name;
	rlim_t value; /* soft == hard */
};

#define PROFILE_MAX_RLIMITS 8

struct profile {
	const char *type;	  /* "vcpu", "serial", ... */
	const char *desc;	  /* one line */
	const char *selinux_type; /* e.g. "cellvm_vcpu_t" */
	const struct sc_rule *rules;
	unsigned nrules;
	unsigned long namespaces; /* CLONE_NEW* flags the child gets */
	uint64_t caps;		  /* capabilities kept (bitmask of CAP_*): 0 everywhere */
	bool threads;		  /* may create threads (clone with thread flags) */
	bool guest_ram;		  /* may receive the guest RAM memfd */
	bool ring;		  /* a ring device: has its own cellvm_<type>_ring_t */
	bool landlock_fs;	  /* deny every filesystem access right */
	bool landlock_net;	  /* deny TCP bind/connect (Landlock ABI >= 4) */
	bool landlock_scope;	  /* deny abstract unix sockets and signals out (ABI >= 6) */
	struct profile_rlimit rlimits[PROFILE_MAX_RLIMITS];
	unsigned nrlimits;
	/*
	 * RLIMIT_AS of a process that maps guest RAM, which differs per VM: the
	 * RAM (jail_spec.guest_ram) + as_over_ram + as_per_vcpu per vCPU. 0: no limit.
	 */
	uint64_t as_over_ram;
	uint64_t as_per_vcpu;
};

/* The profile for a process type, or NULL. */
const struct profile *profile__find(const char *type);
/* NULL-terminated list of every profile. */
const struct profile *const *profile__all(void);
/* Distinct syscalls the profile allows (rules with errno_ret == 0). */
unsigned profile__nr_allowed(const struct profile *p);
/* Does the profile allow (any rule, any argument) the named syscall? */
bool profile__allows(const struct profile *p, const char *name);
/* rlimit value for resource, or RLIM_INFINITY if the profile leaves it alone. */
rlim_t profile__rlimit(const struct profile *p, int resource, bool *found);

/*
 * Print each profile's effective confinement (or only type_or_NULL's):
 * syscalls and their count, argument filters, capabilities, namespaces,
 * Landlock, rlimits, SELinux type. Returns 0, or -1 for an unknown type.
 */
int policy__show(FILE *out, const char *type_or_NULL, bool json);

/* ---- helpers for the per-type tables (policy/<type>.c) ---- */

#define SC_ARG_EQ(i, v)                                                                            \
	{                                                                                          \
		.arg = (i), .op = SC_EQ, .val = (uint64_t)(v), .what = #v                          \
	}
#define SC_ARG_MASKED(i, m, v)                                                                     \
	{                                                                                          \
		.arg = (i), .op = SC_MASKED_EQ, .mask = (uint64_t)(m), .val = (uint64_t)(v),       \
		.what = #m " == " #v                                                               \
	}
#define SC_ARG_SELF_PID(i)                                                                         \
	{                                                                                          \
		.arg = (i), .op = SC_EQ_SELF_PID, .what = "own pid"                                \
	}
#define SC_NCMP(...) (sizeof((struct sc_cmp[]){__VA_ARGS__}) / sizeof(struct sc_cmp))
#define SC_ALLOW(n, w)                                                                             \
	{                                                                                          \
		.name = #n, .why = (w)                                                             \
	}
#define SC_ALLOW_IF(n, w, ...)                                                                     \
	{                                                                                          \
		.name = #n, .why = (w), .ncmp = SC_NCMP(__VA_ARGS__), .cmp = { __VA_ARGS__ }       \
	}
#define SC_ERRNO(n, e, w)                                                                          \
	{                                                                                          \
		.name = #n, .why = (w), .errno_ret = (e)                                           \
	}
#define PROFILE_RULES(arr) .rules = (arr), .nrules = sizeof(arr) / sizeof((arr)[0])
#define PROFILE_RL(r, v)                                                                           \
	{                                                                                          \
		.resource = (r), .name = #r, .value = (v)                                          \
	}
#define PROFILE_RLIMITS(...)                                                                       \
	.rlimits = {__VA_ARGS__},                                                                  \
	.nrlimits = sizeof((struct profile_rlimit[]){__VA_ARGS__}) / sizeof(struct profile_rlimit)

/* Every process type lives in all of these. */
#define PROFILE_ALL_NS                                                                             \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

/* futex op without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define PROFILE_FUTEX_CMD 0xfffffe7fULL

/*
 * The base every process needs after lockdown: its event loop over fds it
 * was given, and glibc's allocator. Nothing here opens, creates or names an
 * object: the process can only use what the broker handed it.
 */
/*
 * What every small device process shares: every namespace, no capability,
 * a single thread, no guest RAM, Landlock on filesystem, TCP and scopes.
 */
#define PROFILE_SMALL_DEVICE                                                                       \
	.namespaces = PROFILE_ALL_NS, .caps = 0, .threads = false, .guest_ram = false,             \
	.landlock_fs = true, .landlock_net = true, .landlock_scope = true

/* Its rlimits: no core, few fds, one process, no files written, bounded memory. */
#define PROFILE_SMALL_DEVICE_RLIMITS                                                               \
	PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 32),                 \
			PROFILE_RL(RLIMIT_NPROC, 1), PROFILE_RL(RLIMIT_MEMLOCK, 0),                \
			PROFILE_RL(RLIMIT_FSIZE, 0), PROFILE_RL(RLIMIT_MSGQUEUE, 0),               \
			PROFILE_RL(RLIMIT_AS, 512ULL << 20),                                       \
			PROFILE_RL(RLIMIT_DATA, 256ULL << 20))

#define PROFILE_BASE_RULES                                                                         \
	SC_ALLOW(read, "ring doorbells, eventfd counters, backend fds handed over at spawn"),      \
	    SC_ALLOW(write, "irqfd/eventfd signals, ring doorbells, one-line logs on stderr"),     \
	    SC_ALLOW(close, "drop an fd once it is no longer needed"),                             \
	    SC_ALLOW(ppoll, "main loop: wait on ring doorbell, kick eventfds and backend fds"),    \
	    SC_ALLOW(poll, "glibc poll() on x86-64 is the poll syscall"),                          \
	    SC_ALLOW(epoll_wait, "main loop on an epoll set created before lockdown"),             \
	    SC_ALLOW(epoll_pwait, "same, with a signal mask"),                                     \
	    SC_ALLOW(epoll_ctl, "add/remove fds that were handed over at spawn"),                  \
	    SC_ALLOW_IF(futex, "ring sleep/wake on a shared word; glibc locks",                    \
			SC_ARG_MASKED(1, PROFILE_FUTEX_CMD, FUTEX_WAIT)),                          \
	    SC_ALLOW_IF(futex, "wake the peer sleeping on a ring word",                            \
			SC_ARG_MASKED(1, PROFILE_FUTEX_CMD, FUTEX_WAKE)),                          \
	    SC_ALLOW_IF(futex, "glibc condition variables and timed waits",                        \
			SC_ARG_MASKED(1, PROFILE_FUTEX_CMD, FUTEX_WAIT_BITSET)),                   \
	    SC_ALLOW(sched_yield, "adaptive spin on the ring before sleeping on the futex"),       \
	    SC_ALLOW(clock_gettime, "timers; the vDSO falls back to the syscall on some clocks"),  \
	    SC_ALLOW(brk, "malloc: grow the main arena"),                                          \
	    SC_ALLOW_IF(mmap, "malloc: large blocks; never executable",                            \
			SC_ARG_MASKED(2, PROT_EXEC, 0)),                                           \
	    SC_ALLOW(munmap, "free large blocks"),                                                 \
	    SC_ALLOW(rt_sigreturn, "return from a signal handler"),                                \
	    SC_ALLOW(restart_syscall, "the kernel restarts an interrupted sleep"),                 \
	    SC_ALLOW(exit_group, "orderly exit")

/*
 * Threads: glibc pthread_create tries clone3 (whose flags live in memory a
 * filter cannot read: answer ENOSYS) and falls back to clone with exactly
 * these flags, which the filter checks. A fork has other flags and dies.
 */
#define PROFILE_THREAD_CLONE_FLAGS                                                                 \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define PROFILE_THREAD_RULES                                                                       \
	SC_ERRNO(clone3, ENOSYS, "flags are in memory: make glibc fall back to clone"),            \
	    SC_ALLOW_IF(clone, "pthread_create; only thread flags, never fork or namespaces",      \
			SC_ARG_EQ(0, PROFILE_THREAD_CLONE_FLAGS)),                                 \
	    SC_ALLOW(exit, "a thread returns"),                                                    \
	    SC_ALLOW(set_robust_list, "glibc registers a new thread's robust futex list"),         \
	    SC_ALLOW(rseq, "glibc registers a new thread's restartable sequence area"),            \
	    SC_ALLOW(rt_sigprocmask, "pthread_create blocks signals around clone"),                \
	    SC_ALLOW_IF(rt_sigaction, "first pthread_create installs glibc's SIGCANCEL handler",   \
			SC_ARG_EQ(0, 32)),                                                         \
	    SC_ALLOW_IF(rt_sigaction, "first pthread_create installs glibc's SIGSETXID handler",   \
			SC_ARG_EQ(0, 33)),                                                         \
	    SC_ALLOW_IF(mprotect, "thread stack guard page; never executable",                     \
			SC_ARG_MASKED(2, PROT_EXEC, 0)),                                           \
	    SC_ALLOW_IF(madvise, "glibc releases a dead thread's stack",                           \
			SC_ARG_EQ(2, MADV_DONTNEED))

#endif
