/* SPDX-License-Identifier: MIT */
/* Runtime-internal declarations. */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include <stdint.h>

void rt_cmdline_parse(const char *cmdline);
void rt_cpl3_entry(uint64_t cpu);
void rt_fault(uint64_t vec, uint64_t err, uint64_t rip, uint64_t cr2, uint64_t cs);
/* AP side of rt_smp (smp.c); weak default in start.c halts. */
void rt_ap_entry(unsigned int cpu);

/* int3 service call: eax = service, rdi/rsi = arguments. */
static inline void rt_svc2(uint32_t svc, uint64_t a, uint64_t b)
{
	__asm__ volatile("int3" : : "a"(svc), "D"(a), "S"(b) : "memory");
}
static inline void rt_svc0(uint32_t svc)
{
	__asm__ volatile("int3" : : "a"(svc) : "memory");
}

#endif
