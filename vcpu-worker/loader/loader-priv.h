/* SPDX-License-Identifier: MIT */
/* Internals shared by the loader's files: not for callers of loader.h. */
#ifndef CELLVM_LOADER_PRIV_H
#define CELLVM_LOADER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "loader.h"

/* One load in progress. */
struct ldr {
	struct gmem *gm;
	const struct boot_input *in;
	struct boot_setup *out;
	char *err;
	size_t errlen;
	size_t cmdline_len; /* strlen of in->cmdline */
	uint64_t kstart;    /* guest-physical [kstart, kend) reserved for the kernel */
	uint64_t kend;
	uint64_t initrd_limit; /* initrd must end at or below this (exclusive) */
	uint64_t rsdp;	       /* GPA of the ACPI RSDP (written before the boot path runs) */
};

#define PAGE_SIZE_4K 0x1000ULL

/* Page tables: PML4, PDPT and four PDs (2 MiB pages) mapping [0, 4 GiB). */
#define LDR_PT_PAGES	6
#define LDR_GDT_ENTRIES 6 /* null, null, code 0x10, data 0x18, TSS 0x20 (16 bytes) */

/* e820 types (also the PVH memmap types). */
#define E820_RAM      1
#define E820_RESERVED 2
#define LDR_E820_MAX  8

struct e820 {
	uint64_t addr, size;
	uint32_t type;
};

/* Store a one-line reason in l->err and return rc (a negative errno). */
int ldr__fail(struct ldr *l, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Name of the first loader-owned fixed area [addr, addr+len) overlaps, or NULL. */
const char *ldr__fixed_overlap(uint64_t addr, uint64_t len);
/* Whether [a, a+alen) and [b, b+blen) intersect (no wrap assumed: callers check). */
bool ldr__overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen);

/* The guest's e820 map; returns the entry count (<= LDR_E820_MAX). */
unsigned ldr__e820(const struct gmem *gm, struct e820 *e);

/* Command line at CV_BOOT_CMDLINE if strlen <= max_len; initrd below l->initrd_limit. */
int ldr__cmdline(struct ldr *l, uint64_t max_len);
int ldr__initrd(struct ldr *l);
/* GDT at CV_BOOT_GDT with a 64-bit (long) or 32-bit code segment; fills out's selectors. */
int ldr__gdt(struct ldr *l, bool long_mode);

/* ELF64: validation, PVH note, segment loading. */
struct elf_info {
	uint64_t entry; /* physical entry from e_entry (translated if virtual) */
	uint64_t pvh_entry;
	bool has_pvh;
	bool entry_ok; /* e_entry lies in a loaded segment */
};
bool elf__is_elf(const uint8_t *p, size_t len);
int elf__load(struct ldr *l, struct elf_info *ei);

int pvh__setup(struct ldr *l, const struct elf_info *ei);

/* Linux 64-bit boot: bp is the 4 KiB boot_params being built. */
#define BP_SIZE 4096
bool bzimage__is_bzimage(const uint8_t *p, size_t len);
int bzimage__load(struct ldr *l, uint8_t *bp);
int linux__setup_vmlinux(struct ldr *l, const struct elf_info *ei);
int linux__finish(struct ldr *l, uint8_t *bp);

/* Little-endian accessors for packed, unaligned structures. */
static inline uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}
static inline void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)v);
	st16(p + 2, (uint16_t)(v >> 16));
}
static inline void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

#endif
