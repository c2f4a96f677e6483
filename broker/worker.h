/* SPDX-License-Identifier: MIT */
/* Starting the vcpu-worker, confined by the "vcpu" profile. */
#ifndef CELLVM_WORKER_H
#define CELLVM_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spawn.h"

struct vm_spawn {
	int exe;
	const struct spawn_fd *fds;
	unsigned nfds;
	uid_t uid;
	gid_t gid;
	bool seccomp_log;
	const char *cgroup;
	const char *selinux_exec_con; /* NULL: unlabelled */
	uint64_t guest_ram;	      /* RAM + kernel + initrd: its RLIMIT_AS scales with these */
	unsigned ncpus;
};

pid_t vm_spawn_worker(const struct vm_spawn *vs, int *pidfd, char *err, size_t n);

#endif
