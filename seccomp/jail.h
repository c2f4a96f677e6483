/* SPDX-License-Identifier: MIT */
/*
 * Applying a confinement profile (policy/profile.h).
 *
 * The broker spawns every child with jail__spawn(): the child gets exactly
 * the fds in the spec, an empty environment, the profile's rlimits, the VM's
 * cgroup, fresh user/pid/mount/net/ipc/uts/cgroup namespaces, an empty
 * read-only tmpfs as root, an unprivileged uid/gid, no capabilities,
 * no_new_privs, and is exec'd from an fd. Any layer that cannot be applied
 * stops the child before exec ("fail closed").
 *
 * The exec'd program sets up its mappings and then calls jail__lockdown():
 * Landlock (no filesystem access at all), then the seccomp filter (last).
 */
#ifndef CELLVM_JAIL_H
#define CELLVM_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/profile.h"

struct jail_fd {
	int fd;		 /* in the parent */
	int target;	 /* number in the child */
	const char *why; /* for logs and review */
};

struct jail_spec {
	const char *type;  /* profile */
	int exe_fd;	   /* O_PATH (or O_RDONLY) fd of the binary */
	char *const *argv; /* argv[0] included */
	const struct jail_fd *fds;
	unsigned nfds; /* the exact fd table of the child; everything else closed */
	uid_t uid;     /* unprivileged host ids the child runs as (per VM), never 0 */
	gid_t gid;
	const char *cgroup;	      /* relative name, e.g. "cellvm/vm-1234", or NULL */
	const char *selinux_exec_con; /* NULL = none; written to attr/exec right before exec */
	/* If set, called in the child instead (before the mounts) to set the
	 * exec context: libselinux's setexeccon_raw, so label tests can mock it. */
	int (*setexec)(const char *con);
	bool seccomp_log;   /* passed on for information; the child chooses at lockdown */
	uint64_t guest_ram; /* bytes of guest RAM it maps: scales the profile's RLIMIT_AS */
	unsigned ncpus;	    /* the VM's vCPUs: ditto */
};

#define JAIL_MAX_FDS	     192 /* the vcpu-worker's table is the largest (VM_WORKER_MAX_FDS) */
#define JAIL_ENV_SECCOMP_LOG "CELLVM_SECCOMP_LOG"

/*
 * Spawn a confined child. Returns its pid (in the caller's pid namespace)
 * and stores a pidfd in *pidfd_out (CLOEXEC), or returns -1 with
 * "jail: <layer> failed: <reason>" in err; then no child is left behind
 * and the program never ran.
 */
pid_t jail__spawn(const struct jail_spec *s, int *pidfd_out, char *err, size_t errlen);

/*
 * In the exec'd child, once its mappings are set up: no_new_privs,
 * not dumpable, Landlock, then seccomp (last). 0 or -1 with err.
 * seccomp_log (or CELLVM_SECCOMP_LOG=1 from jail_spec.seccomp_log): blocked syscalls trap to a
 * handler that writes "seccomp: blocked syscall NAME (nr N)" on stderr and the process then dies of
 * SIGSYS; otherwise the kernel kills the process at once.
 */
int jail__lockdown(const char *type, bool seccomp_log, char *err, size_t errlen);

/* The two layers of jail__lockdown, for tests and for programs that need
 * something between them. */
int jail__landlock(const struct profile *p, char *err, size_t errlen);
int jail__seccomp(const struct profile *p, bool seccomp_log, char *err, size_t errlen);
/* Landlock ABI version of the running kernel, or -errno. */
int jail__landlock_abi(void);

#endif
