/* SPDX-License-Identifier: MIT */
/*
 * Format detection and what every boot path shares: the fixed low-memory
 * areas, the e820 map, the command line, initrd placement and the GDT.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "abi.h"
#include "loader-priv.h"

int ldr__fail(struct ldr *l, int rc, const char *fmt, ...)
{
	if (l->err && l->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Loader-owned guest-physical areas a kernel segment must not cover. */
static const struct {
	uint64_t addr, len;
	const char *what;
} fixed_areas[] = {
    {CV_BOOT_GDT, 0x100, "the boot GDT"},
    {CV_BOOT_PVH_START_INFO, PAGE_SIZE_4K, "the PVH start info"},
    {CV_BOOT_ZERO_PAGE, PAGE_SIZE_4K, "boot_params"},
    {CV_BOOT_PML4, LDR_PT_PAGES *PAGE_SIZE_4K, "the boot page tables"},
    {CV_BOOT_CMDLINE, CV_BOOT_CMDLINE_MAX, "the command line"},
    /* MP table, VGA hole, BIOS area: none of it is RAM for the guest. */
    {CV_BOOT_MPTABLE, CV_KERNEL_DEFAULT - CV_BOOT_MPTABLE, "the MP table/BIOS area"},
};

bool ldr__overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (alen == 0 || blen == 0)
		return false;
	return a < b + blen && b < a + alen;
}

const char *ldr__fixed_overlap(uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < sizeof(fixed_areas) / sizeof(fixed_areas[0]); i++)
		if (ldr__overlap(addr, len, fixed_areas[i].addr, fixed_areas[i].len))
			return fixed_areas[i].what;
	return NULL;
}

unsigned ldr__e820(const struct gmem *gm, struct e820 *e)
{
	unsigned n = 0;

	e[n++] = (struct e820){0, CV_EBDA_START, E820_RAM};
	e[n++] = (struct e820){CV_EBDA_START, 0xa0000 - CV_EBDA_START, E820_RESERVED};
	/* ACPI tables (CV_BOOT_ACPI) and the MP table's high spot (0xf0000) */
	e[n++] = (struct e820){CV_BOOT_ACPI, 0x100000 - CV_BOOT_ACPI, E820_RESERVED};
	if (gm->low_size > CV_KERNEL_DEFAULT)
		e[n++] =
		    (struct e820){CV_KERNEL_DEFAULT, gm->low_size - CV_KERNEL_DEFAULT, E820_RAM};
	/* [low_size, 4 GiB) is the PCI/MMIO hole: left out, so not RAM. */
	if (gm->size > gm->low_size)
		e[n++] = (struct e820){CV_HIGHMEM_BASE, gm->size - gm->low_size, E820_RAM};
	return n;
}

int ldr__cmdline(struct ldr *l, uint64_t max_len)
{
	const char *s = l->in->cmdline ? l->in->cmdline : "";

	if (max_len > CV_BOOT_CMDLINE_MAX - 1)
		max_len = CV_BOOT_CMDLINE_MAX - 1;
	if (l->cmdline_len > max_len)
		return ldr__fail(l, -E2BIG, "command line is %zu bytes, the limit is %llu",
				 l->cmdline_len, (unsigned long long)max_len);
	if (!gmem__write(l->gm, CV_BOOT_CMDLINE, s, l->cmdline_len + 1))
		return ldr__fail(l, -ENOSPC, "command line area outside guest RAM");
	return 0;
}

int ldr__initrd(struct ldr *l)
{
	const struct boot_input *in = l->in;
	uint64_t len = in->initrd_len, top, addr;

	if (!in->initrd || !len)
		return 0;
	top = l->initrd_limit < l->gm->low_size ? l->initrd_limit : l->gm->low_size;
	if (top <= CV_KERNEL_DEFAULT || len > top - CV_KERNEL_DEFAULT)
		return ldr__fail(l, -E2BIG, "initrd of %llu bytes does not fit below %#llx",
				 (unsigned long long)len, (unsigned long long)top);
	addr = (top - len) & ~(PAGE_SIZE_4K - 1);
	if (ldr__overlap(addr, len, l->kstart, l->kend - l->kstart)) {
		if (l->kstart < len)
			return ldr__fail(l, -E2BIG,
					 "no room for a %llu-byte initrd besides the kernel",
					 (unsigned long long)len);
		addr = (l->kstart - len) & ~(PAGE_SIZE_4K - 1);
	}
	if (addr < CV_KERNEL_DEFAULT || ldr__fixed_overlap(addr, len))
		return ldr__fail(l, -E2BIG, "no room for a %llu-byte initrd besides the kernel",
				 (unsigned long long)len);
	if (!gmem__write(l->gm, addr, in->initrd, len))
		return ldr__fail(l, -ENOSPC, "initrd outside guest RAM");
	l->out->initrd_addr = addr;
	l->out->initrd_size = len;
	return 0;
}

int ldr__gdt(struct ldr *l, bool long_mode)
{
	uint8_t gdt[LDR_GDT_ENTRIES * 8] = {0};

	/* Flat 4 GiB segments, DPL 0; code execute/read, data read/write. */
	st64(gdt + 0x10, long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL);
	st64(gdt + 0x18, 0x00cf93000000ffffULL);
	/* Busy 32-bit TSS, base 0, limit 0x67 (16 bytes wide in long mode). */
	st64(gdt + 0x20, 0x00008b0000000067ULL);
	if (!gmem__write(l->gm, CV_BOOT_GDT, gdt, sizeof(gdt)))
		return ldr__fail(l, -ENOSPC, "GDT outside guest RAM");
	l->out->gdt_base = CV_BOOT_GDT;
	l->out->gdt_limit = sizeof(gdt) - 1;
	l->out->cs_sel = 0x10;
	l->out->ds_sel = 0x18;
	l->out->tr_sel = 0x20;
	l->out->cs_l = long_mode;
	l->out->cs_db = !long_mode;
	return 0;
}

int loader__load(struct gmem *gm, const struct boot_input *in, struct boot_setup *out, char *err,
		 size_t errlen)
{
	struct ldr l = {.gm = gm, .in = in, .out = out, .err = err, .errlen = errlen};
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!gm || !in || !out)
		return ldr__fail(&l, -EINVAL, "missing argument");
	memset(out, 0, sizeof(*out));
	if (!gm->host || gm->low_size < CV_KERNEL_DEFAULT || gm->size < gm->low_size)
		return ldr__fail(&l, -EINVAL,
				 "guest RAM of %llu bytes is too small (1 MiB at least)",
				 (unsigned long long)gm->size);
	if (!in->kernel || !in->kernel_len)
		return ldr__fail(&l, -EINVAL, "no kernel");
	if (in->ncpus < 1 || in->ncpus > 254)
		return ldr__fail(&l, -EINVAL, "%u CPUs: 1 to 254 are supported", in->ncpus);
	if (in->initrd_len && !in->initrd)
		return ldr__fail(&l, -EINVAL, "initrd length without initrd");
	l.cmdline_len = in->cmdline ? strnlen(in->cmdline, CV_BOOT_CMDLINE_MAX) : 0;
	rc = acpi__write(gm, in->ncpus, in->flags & LOADER_F_I8042, &l.rsdp);
	if (rc)
		return ldr__fail(&l, rc, "ACPI tables do not fit in guest RAM");

	if (elf__is_elf(in->kernel, in->kernel_len)) {
		struct elf_info ei;
		rc = elf__load(&l, &ei);
		if (rc)
			return rc;
		if (ei.has_pvh && !(in->flags & LOADER_F_NO_PVH))
			rc = pvh__setup(&l, &ei);
		else
			rc = linux__setup_vmlinux(&l, &ei);
	} else if (bzimage__is_bzimage(in->kernel, in->kernel_len)) {
		uint8_t bp[BP_SIZE] = {0};
		rc = bzimage__load(&l, bp);
		if (!rc)
			rc = linux__finish(&l, bp);
	} else {
		return ldr__fail(&l, -ENOEXEC, "kernel is neither ELF64 nor a bzImage");
	}
	if (rc)
		return rc;
	rc = mptable__write(gm, in->ncpus);
	if (rc)
		return ldr__fail(&l, rc, "MP table does not fit in guest RAM");
	return 0;
}
