/* SPDX-License-Identifier: MIT */
/* Port and MMIO accessors, time stamp counter, CPUID. Usable at CPL3. */
#ifndef RT_IO_H
#define RT_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* One plain mov per access, so every VMM's MMIO decoder handles it. */
static inline uint8_t mmio_read8(uint64_t pa)
{
	uint8_t v;
	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(pa) : "memory");
	return v;
}
static inline uint16_t mmio_read16(uint64_t pa)
{
	uint16_t v;
	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(pa) : "memory");
	return v;
}
static inline uint32_t mmio_read32(uint64_t pa)
{
	uint32_t v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(pa) : "memory");
	return v;
}
static inline uint64_t mmio_read64(uint64_t pa)
{
	uint64_t v;
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(pa) : "memory");
	return v;
}
static inline void mmio_write8(uint64_t pa, uint8_t v)
{
	__asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(pa) : "memory");
}
static inline void mmio_write16(uint64_t pa, uint16_t v)
{
	__asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(pa) : "memory");
}
static inline void mmio_write32(uint64_t pa, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(pa) : "memory");
}
static inline void mmio_write64(uint64_t pa, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(pa) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#define barrier() __asm__ volatile("" ::: "memory")

#endif
