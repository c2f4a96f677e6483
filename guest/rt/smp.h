/* SPDX-License-Identifier: MIT */
/* Application processors (see smp.c). */
#ifndef RT_SMP_H
#define RT_SMP_H

#include <stdint.h>

/* CPUs counted so far, the boot cpu included (each AP adds itself). */
extern volatile uint32_t rt_smp_online;
/* Enabled processor entries of an Intel MP table, or -1 if none is found. */
int rt_smp_mp_cpus(void);
/* Enabled processor entries of the ACPI MADT (RSDP from PVH start_info or a scan), or -1. */
int rt_smp_madt_cpus(void);
/*
 * cpus=N from the command line if given, else the larger of the MP table's
 * and the MADT's counts (SeaBIOS's MP table lists only the cpus it managed
 * to wake, which on slow-CPL0 hosts is just the boot cpu), else 1.
 */
unsigned int rt_smp_expected(void);
/*
 * Starts every other cpu (INIT-SIPI-SIPI broadcast); each runs fn(cpu) at
 * CPL3 with interrupts on, cpu = 1, 2, ... in arrival order, then waits
 * for interrupts forever. Returns 0, or -1 if the trampoline page is not RAM.
 */
int rt_smp_start(void (*fn)(unsigned int cpu));

#endif
