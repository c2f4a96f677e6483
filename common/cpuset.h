/* SPDX-License-Identifier: MIT */
/*
 * Which host CPU a vCPU thread is pinned to, and which are left for device
 * processes: vCPU i gets the (i mod n)-th CPU of the allowed set (n CPUs
 * allowed), devices get the allowed CPUs after the first `ncpus`. Counted
 * within the allowed set, never by CPU number: under a cpuset or taskset
 * the allowed CPUs need not start at 0.
 */
#ifndef CELLVM_COMMON_CPUSET_H
#define CELLVM_COMMON_CPUSET_H

#include <sched.h>

/* The CPU number of the n-th (from 0) CPU in `allowed`, or -1. */
static inline int cpuset__nth(const cpu_set_t *allowed, unsigned n)
{
	unsigned seen = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, allowed) && seen++ == n)
			return c;
	return -1;
}

/* Remove the first `n` allowed CPUs from `set`; returns how many are left. */
static inline unsigned cpuset__drop_first(cpu_set_t *set, unsigned n)
{
	unsigned seen = 0, left = 0;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		if (seen++ < n)
			CPU_CLR(c, set);
		else
			left++;
	}
	return left;
}

#endif
