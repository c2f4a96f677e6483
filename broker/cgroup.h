/* SPDX-License-Identifier: MIT */
/*
 * The VM's cgroup: every child joins it (jail.c); the broker creates it with
 * limits first and removes it when the VM is over.
 */
#ifndef CELLVM_BROKER_CGROUP_H
#define CELLVM_BROKER_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* "cellvm/vm-<broker pid>" into name. */
void cgroup__name(char *name, size_t n);
/*
 * Create it where the memory, pids and cpu controllers are (v1 or v2, found
 * in /proc/self/mountinfo) and set the memory, pids and cpu (`cpus` CPUs'
 * worth of time) limits. -1 (said why) when any of them cannot be set.
 */
int cgroup__create(const char *name, uint64_t mem_limit, unsigned pids_max, unsigned cpus);
/*
 * Move the broker itself into it, so that every child starts there by
 * inheritance: on cgroup v1 each migration into a cgroup costs a kernel
 * RCU grace period (~10 ms here), once per VM instead of once per child.
 */
int cgroup__enter(const char *name);
/* Move the broker back where it was (before cgroup__remove). */
void cgroup__leave(void);
/* Remove it (all its processes have exited). */
void cgroup__remove(const char *name);

#endif
