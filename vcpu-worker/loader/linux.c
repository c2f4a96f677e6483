/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86-64 boot protocol, 64-bit entry (Documentation/arch/x86/
 * boot.rst): boot_params ("zero page") at CV_BOOT_ZERO_PAGE, command line,
 * initrd, e820 table, an identity map of [0, 4 GiB) at CV_BOOT_PML4 and a
 * GDT with __BOOT_CS 0x10 / __BOOT_DS 0x18; RSI = boot_params.
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_E820_ENTRIES	     0x1e8
#define BP_BOOT_FLAG	     0x1fe
#define BP_HEADER	     0x202
#define BP_VERSION	     0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS	     0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE	     0x21c
#define BP_HEAP_END_PTR	     0x224
#define BP_CMD_LINE_PTR	     0x228
#define BP_INITRD_ADDR_MAX   0x22c
#define BP_KERNEL_ALIGNMENT  0x230
#define BP_CMDLINE_SIZE	     0x238
#define BP_E820_TABLE	     0x2d0
#define BP_E820_MAX	     128

#define LOADED_HIGH  0x01
#define CAN_USE_HEAP 0x80

/* Identity map [0, 4 GiB) with 2 MiB pages: PML4, PDPT, 4 PDs. */
static int write_page_tables(struct ldr *l)
{
	uint8_t pg[PAGE_SIZE_4K];

	memset(pg, 0, sizeof(pg));
	st64(pg, (CV_BOOT_PML4 + PAGE_SIZE_4K) | 0x3); /* present, writable */
	if (!gmem__write(l->gm, CV_BOOT_PML4, pg, sizeof(pg)))
		return ldr__fail(l, -ENOSPC, "page tables outside guest RAM");
	memset(pg, 0, sizeof(pg));
	for (unsigned i = 0; i < 4; i++)
		st64(pg + 8 * i, (CV_BOOT_PML4 + (2 + i) * PAGE_SIZE_4K) | 0x3);
	if (!gmem__write(l->gm, CV_BOOT_PML4 + PAGE_SIZE_4K, pg, sizeof(pg)))
		return ldr__fail(l, -ENOSPC, "page tables outside guest RAM");
	for (unsigned d = 0; d < 4; d++) {
		for (unsigned i = 0; i < 512; i++)
			st64(pg + 8 * i, (((uint64_t)d * 512 + i) << 21) | 0x83); /* P|RW|PS */
		if (!gmem__write(l->gm, CV_BOOT_PML4 + (2 + d) * PAGE_SIZE_4K, pg, sizeof(pg)))
			return ldr__fail(l, -ENOSPC, "page tables outside guest RAM");
	}
	return 0;
}

int linux__finish(struct ldr *l, uint8_t *bp)
{
	struct e820 e[LDR_E820_MAX];
	unsigned n;
	int rc;

	rc = ldr__cmdline(l, ld32(bp + BP_CMDLINE_SIZE));
	if (!rc)
		rc = ldr__initrd(l);
	if (rc)
		return rc;

	bp[BP_TYPE_OF_LOADER] = 0xff;
	bp[BP_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	st16(bp + BP_HEAP_END_PTR, 0xfe00);
	st32(bp + BP_CMD_LINE_PTR, (uint32_t)CV_BOOT_CMDLINE);
	st32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(CV_BOOT_CMDLINE >> 32));
	st32(bp + BP_RAMDISK_IMAGE, (uint32_t)l->out->initrd_addr);
	st32(bp + BP_RAMDISK_SIZE, (uint32_t)l->out->initrd_size);
	st32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(l->out->initrd_addr >> 32));
	st32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(l->out->initrd_size >> 32));
	st64(bp + BP_ACPI_RSDP_ADDR, l->rsdp);

	n = ldr__e820(l->gm, e);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n && i < BP_E820_MAX; i++) {
		uint8_t *p = bp + BP_E820_TABLE + 20 * i;
		st64(p, e[i].addr);
		st64(p + 8, e[i].size);
		st32(p + 16, e[i].type);
	}
	if (!gmem__write(l->gm, CV_BOOT_ZERO_PAGE, bp, BP_SIZE))
		return ldr__fail(l, -ENOSPC, "boot_params outside guest RAM");
	rc = write_page_tables(l);
	if (!rc)
		rc = ldr__gdt(l, true);
	if (rc)
		return rc;

	l->out->mode = BOOT_LINUX64;
	l->out->rsi = CV_BOOT_ZERO_PAGE;
	l->out->cr0 = 0x80000011;
	l->out->cr3 = CV_BOOT_PML4;
	l->out->cr4 = 0x20;
	l->out->efer = 0x500;
	l->out->kernel_start = l->kstart;
	l->out->kernel_end = l->kend;
	return 0;
}

int linux__setup_vmlinux(struct ldr *l, const struct elf_info *ei)
{
	uint8_t bp[BP_SIZE] = {0};

	if (!ei->entry_ok)
		return ldr__fail(l, -ENOEXEC, "ELF entry point is not in a loaded segment");
	/* A setup header as a bzImage of protocol 2.15 would carry. */
	st16(bp + BP_BOOT_FLAG, 0xaa55);
	memcpy(bp + BP_HEADER, "HdrS", 4);
	st16(bp + BP_VERSION, 0x020f);
	st32(bp + BP_INITRD_ADDR_MAX, 0x7fffffff);
	st32(bp + BP_KERNEL_ALIGNMENT, 0x200000);
	st32(bp + BP_CMDLINE_SIZE, CV_BOOT_CMDLINE_MAX - 1);
	l->initrd_limit = 0x80000000ULL;
	l->out->entry = ei->entry;
	return linux__finish(l, bp);
}
