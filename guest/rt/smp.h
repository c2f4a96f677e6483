/* SPDX-License-Identifier: MIT */
/* Application processors (see smp.c). */
#ifndef RT_SMP_H
#define RT_SMP_H

#include <stdint.h>

/* CPUs counted so far, the boot cpu included (each AP adds itself). */
extern volatile uint32_t rt_smp_online;
/* Enabled processor entries of an Intel MP table, or -1 if none is found. */
int rt_smp_mp_cpus(void);
/* rt_smp_mp_cpus(), else cpus=N from the command line, else 1. */
unsigned int rt_smp_expected(void);
/*
 * Starts every other cpu (INIT-SIPI-SIPI broadcast); each runs fn(cpu) at
 * CPL3 with interrupts on, cpu = 1, 2, ... in arrival order, then waits
 * for interrupts forever. Returns 0, or -1 if the trampoline page is not RAM.
 */
int rt_smp_start(void (*fn)(unsigned int cpu));

#endif
