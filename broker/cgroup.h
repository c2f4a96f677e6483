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
/* Create it where the controllers are mounted and set memory and pids limits. */
int cgroup__create(const char *name, uint64_t mem_limit, unsigned pids_max);
/* Remove it (all its processes have exited). */
void cgroup__remove(const char *name);

#endif
