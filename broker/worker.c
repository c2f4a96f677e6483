/* SPDX-License-Identifier: MIT */
#include "worker.h"

#include <stdio.h>

#include "seccomp/jail.h"
#include "vmplan.h"
#include "sel.h"

_Static_assert(VM_WORKER_MAX_FDS <= JAIL_MAX_FDS, "the worker's table must fit a jail spec");

pid_t vm_spawn_worker(const struct vm_spawn *vs, int *pidfd, char *err, size_t n)
{
	struct jail_fd jf[JAIL_MAX_FDS];
	if (vs->nfds > JAIL_MAX_FDS) {
		snprintf(err, n, "vcpu-worker: too many fds (%u)", vs->nfds);
		return -1;
	}
	for (unsigned i = 0; i < vs->nfds; i++)
		jf[i] = (struct jail_fd){vs->fds[i].fd, vs->fds[i].target, vs->fds[i].why};
	char *const argv[] = {"cellvm-vcpu", NULL};
	struct jail_spec spec = {
	    .type = "vcpu",
	    .exe_fd = vs->exe,
	    .argv = argv,
	    .fds = jf,
	    .nfds = vs->nfds,
	    .uid = vs->uid,
	    .gid = vs->gid,
	    .cgroup = vs->cgroup,
	    .selinux_exec_con = vs->selinux_exec_con,
	    .setexec = sel__setexec,
	    .seccomp_log = vs->seccomp_log,
	    .guest_ram = vs->guest_ram,
	    .ncpus = vs->ncpus,
	};
	return jail__spawn(&spec, pidfd, err, n);
}
