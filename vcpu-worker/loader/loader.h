/* SPDX-License-Identifier: MIT */
/*
 * Guest loading: the PVH boot ABI, the Linux x86-64 boot protocol (vmlinux
 * and bzImage through the 64-bit entry), the Intel MP table and ACPI.
 *
 * A pure library: it parses a hostile kernel image, writes guest RAM only
 * through gmem__ptr()/gmem__write() and makes no KVM call. The vcpu-worker
 * turns the returned struct boot_setup into KVM_SET_SREGS/KVM_SET_REGS for
 * the boot vCPU. See docs/boot.md for the memory layout.
 */
#ifndef CELLVM_LOADER_H
#define CELLVM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

enum boot_mode {
	BOOT_PVH32,  /* 32-bit protected mode, paging off (Xen PVH ABI) */
	BOOT_LINUX64 /* 64-bit long mode, identity paging (Linux 64-bit boot) */
};

/* boot_input.flags */
#define LOADER_F_NO_PVH 0x1 /* ignore a PVH note: boot an ELF vmlinux at e_entry */
#define LOADER_F_I8042	0x2 /* the machine has an i8042 (the FADT says so) */

struct boot_input {
	const uint8_t *kernel; /* ELF64 (PVH note or vmlinux) or bzImage */
	size_t kernel_len;
	const uint8_t *initrd; /* optional (NULL or initrd_len 0: none) */
	size_t initrd_len;
	const char *cmdline; /* NULL means "" */
	unsigned ncpus;	     /* 1..254: processor entries in the MP table */
	unsigned flags;	     /* LOADER_F_* */
};

/*
 * What the boot vCPU needs. Every segment is flat: base 0, limit 0xffffffff
 * (granularity 4 KiB), present, DPL 0, S=1; code type 0xb (execute/read,
 * accessed), data type 0x3 (read/write, accessed). The descriptors are also
 * in guest memory at gdt_base, in the same order, so the guest can reload
 * them. TR is a 32-bit busy TSS (type 0xb, S=0) at tr_sel, base 0, limit
 * 0x67 (what the PVH ABI asks for; harmless for Linux64). LDT unusable.
 * RFLAGS = 0x2, every other general register 0. IDT base 0 limit 0.
 */
struct boot_setup {
	enum boot_mode mode;
	uint64_t entry;	   /* RIP */
	uint64_t rsi;	   /* LINUX64: GPA of boot_params (CV_BOOT_ZERO_PAGE); else 0 */
	uint64_t rbx;	   /* PVH32: GPA of hvm_start_info (CV_BOOT_PVH_START_INFO); else 0 */
	uint64_t cr0;	   /* PVH32: PE|ET (0x11); LINUX64: PG|PE|ET (0x80000011) */
	uint64_t cr3;	   /* LINUX64: CV_BOOT_PML4 (identity map of [0, 4 GiB)); else 0 */
	uint64_t cr4;	   /* LINUX64: PAE (0x20); else 0 */
	uint64_t efer;	   /* LINUX64: LME|LMA (0x500); else 0 */
	uint64_t gdt_base; /* CV_BOOT_GDT */
	uint16_t gdt_limit;
	uint16_t cs_sel; /* 0x10 (__BOOT_CS) */
	uint16_t ds_sel; /* 0x18 (__BOOT_DS), also ES, SS, FS, GS */
	uint16_t tr_sel; /* 0x20 */
	uint8_t cs_l;	 /* CS.L: 1 for LINUX64 (then CS.DB = 0) */
	uint8_t cs_db;	 /* CS.DB: 1 for PVH32 */
	/* For logs and tests. */
	uint64_t kernel_start, kernel_end; /* guest-physical extent reserved for the kernel */
	uint64_t initrd_addr;		   /* 0 if none */
	uint64_t initrd_size;
};

/*
 * Detect the format of in->kernel, load it and everything it needs (command
 * line, initrd, e820/memmap, boot_params or hvm_start_info, GDT, page
 * tables, MP table, ACPI tables) into guest RAM and fill *out. Returns 0, or -errno with
 * a one-line reason in err (err may be NULL when errlen is 0). On failure
 * guest RAM may be partly written and *out is unspecified.
 */
int loader__load(struct gmem *gm, const struct boot_input *in, struct boot_setup *out, char *err,
		 size_t errlen);

/*
 * Write the MP floating pointer at CV_BOOT_MPTABLE and an MP configuration
 * table for ncpus (1..254) processors, APIC ids 0..ncpus-1, the BSP being 0,
 * an ISA bus, the IOAPIC (id ncpus) at CV_IOAPIC_BASE with ISA IRQs 0-15 on
 * pins 0-15, and local ExtINT (LINT0) and NMI (LINT1). The table follows the
 * floating pointer when it fits below 0xa0000 (up to 40 CPUs), else it is at
 * CV_BOOT_MPTABLE_HIGH. Returns 0 or -EINVAL/-ENOSPC.
 */
#define CV_BOOT_MPTABLE_HIGH 0xf0000ULL
int mptable__write(struct gmem *gm, unsigned ncpus);

/*
 * Write the ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, MADT, DSDT) at
 * CV_BOOT_ACPI for ncpus (1..254) processors; the FADT declares an i8042
 * only if `i8042`. *rsdp gets the RSDP's address. 0, -EINVAL or -ENOSPC.
 */
int acpi__write(struct gmem *gm, unsigned ncpus, bool i8042, uint64_t *rsdp);

#endif
