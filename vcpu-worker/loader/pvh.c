/* SPDX-License-Identifier: MIT */
/*
 * The Xen PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h):
 * 32-bit protected mode, paging off, flat segments, EBX = hvm_start_info.
 *
 * Layout of the start-info page at CV_BOOT_PVH_START_INFO:
 *   +0x00 struct hvm_start_info (56 bytes, version 1)
 *   +0x40 struct hvm_modlist_entry[1] (the initrd, if any)
 *   +0x80 struct hvm_memmap_table_entry[] (the e820 map)
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

#define HVM_START_MAGIC 0x336ec578
#define SI_MODLIST	0x40
#define SI_MEMMAP	0x80
#define MEMMAP_ENTRY	24

int pvh__setup(struct ldr *l, const struct elf_info *ei)
{
	uint8_t si[PAGE_SIZE_4K] = {0};
	struct e820 e[LDR_E820_MAX];
	unsigned n = ldr__e820(l->gm, e);
	int rc;

	l->initrd_limit = l->gm->low_size;
	rc = ldr__cmdline(l, CV_BOOT_CMDLINE_MAX - 1);
	if (!rc)
		rc = ldr__initrd(l);
	if (!rc)
		rc = ldr__gdt(l, false);
	if (rc)
		return rc;

	st32(si + 0x00, HVM_START_MAGIC);
	st32(si + 0x04, 1); /* version */
	st32(si + 0x08, 0); /* flags */
	if (l->out->initrd_size) {
		st32(si + 0x0c, 1); /* nr_modules */
		st64(si + 0x10, CV_BOOT_PVH_START_INFO + SI_MODLIST);
		st64(si + SI_MODLIST + 0x00, l->out->initrd_addr);
		st64(si + SI_MODLIST + 0x08, l->out->initrd_size);
		/* cmdline_paddr and reserved stay 0 */
	}
	st64(si + 0x18, CV_BOOT_CMDLINE);
	st64(si + 0x20, l->rsdp); /* rsdp_paddr */
	st64(si + 0x28, CV_BOOT_PVH_START_INFO + SI_MEMMAP);
	st32(si + 0x30, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *m = si + SI_MEMMAP + i * MEMMAP_ENTRY;
		st64(m, e[i].addr);
		st64(m + 8, e[i].size);
		st32(m + 16, e[i].type);
	}
	if (!gmem__write(l->gm, CV_BOOT_PVH_START_INFO, si, sizeof(si)))
		return ldr__fail(l, -ENOSPC, "start info outside guest RAM");

	l->out->mode = BOOT_PVH32;
	l->out->entry = ei->pvh_entry;
	l->out->rbx = CV_BOOT_PVH_START_INFO;
	l->out->cr0 = 0x11;
	l->out->kernel_start = l->kstart;
	l->out->kernel_end = l->kend;
	return 0;
}
