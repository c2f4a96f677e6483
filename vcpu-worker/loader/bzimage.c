/* SPDX-License-Identifier: MIT */
/*
 * bzImage (boot protocol 2.12+): validate the setup header, load the
 * protected-mode kernel where the header allows, and start it at its 64-bit
 * entry (load address + 0x200), skipping the real-mode setup code.
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

#define HDR_START     0x1f1
#define HDR_MAX_END   0x290 /* the setup header area of boot_params ends here */
#define HDR_MIN_END   0x264 /* up to and including init_size */
#define XLF_KERNEL_64 0x1
#define LOADED_HIGH   0x01
#define MAX_ALIGN     0x40000000ULL /* 1 GiB */

bool bzimage__is_bzimage(const uint8_t *p, size_t len)
{
	return len >= 0x206 && !memcmp(p + 0x202, "HdrS", 4);
}

static bool fits(const struct ldr *l, uint64_t addr, uint64_t size)
{
	return addr >= CV_KERNEL_DEFAULT && addr <= l->gm->low_size &&
	       size <= l->gm->low_size - addr && !ldr__fixed_overlap(addr, size);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int bzimage__load(struct ldr *l, uint8_t *bp)
{
	const uint8_t *f = l->in->kernel;
	size_t flen = l->in->kernel_len;
	uint64_t setup_size, kbytes, extent, align, pref, addr, max;
	unsigned version, hdr_end, setup_sects;

	if (flen < 0x208)
		return ldr__fail(l, -ENOEXEC, "bzImage setup header truncated");
	if (ld16(f + 0x1fe) != 0xaa55)
		return ldr__fail(l, -ENOEXEC, "bzImage boot_flag is %#x, not 0xaa55",
				 ld16(f + 0x1fe));
	version = ld16(f + 0x206);
	if (version < 0x020c)
		return ldr__fail(l, -ENOEXEC, "boot protocol %u.%02u is older than 2.12",
				 version >> 8, version & 0xff);
	hdr_end = 0x202 + f[0x201];
	if (hdr_end < HDR_MIN_END || hdr_end > HDR_MAX_END)
		return ldr__fail(l, -ENOEXEC, "setup header ends at %#x", hdr_end);
	if (hdr_end > flen)
		return ldr__fail(l, -ENOEXEC, "bzImage setup header truncated");

	setup_sects = f[0x1f1] ? f[0x1f1] : 4;
	setup_size = (uint64_t)(setup_sects + 1) * 512;
	kbytes = (uint64_t)ld32(f + 0x1f4) * 16;
	if (setup_size > flen || kbytes == 0 || kbytes > flen - setup_size)
		return ldr__fail(l, -ENOEXEC, "bzImage setup_sects/syssize point past the file");
	if (!(ld16(f + 0x236) & XLF_KERNEL_64))
		return ldr__fail(l, -ENOEXEC, "kernel has no 64-bit entry (XLF_KERNEL_64)");
	if (!(f[0x211] & LOADED_HIGH))
		return ldr__fail(l, -ENOEXEC, "zImage (not loaded high) is not supported");

	extent = ld32(f + 0x260); /* init_size */
	if (extent < kbytes)
		extent = kbytes;
	if (extent > l->gm->low_size)
		return ldr__fail(l, -ENOSPC, "kernel needs %llu bytes, low RAM has %llu",
				 (unsigned long long)extent, (unsigned long long)l->gm->low_size);
	pref = ld64(f + 0x258);
	addr = pref;
	if (f[0x234]) { /* relocatable_kernel */
		align = ld32(f + 0x230);
		if (align < PAGE_SIZE_4K || align > MAX_ALIGN || (align & (align - 1)))
			return ldr__fail(l, -ENOEXEC, "kernel_alignment %#llx is invalid",
					 (unsigned long long)align);
		if (!fits(l, addr, extent) || (addr & (align - 1)))
			addr = align_up(16ULL << 20, align);
		if (!fits(l, addr, extent))
			addr = align_up(CV_KERNEL_DEFAULT, align);
	}
	if (!fits(l, addr, extent))
		return ldr__fail(l, -ENOSPC, "no room for the kernel (%llu bytes at %#llx)",
				 (unsigned long long)extent, (unsigned long long)addr);

	uint8_t *dst = gmem__ptr(l->gm, addr, extent);
	if (!dst)
		return ldr__fail(l, -ENOSPC, "kernel outside guest RAM");
	memcpy(dst, f + setup_size, kbytes);
	memset(dst + kbytes, 0, extent - kbytes);

	memcpy(bp + HDR_START, f + HDR_START, hdr_end - HDR_START);
	st32(bp + 0x214, (uint32_t)addr); /* code32_start */
	max = ld32(f + 0x22c);		  /* initrd_addr_max, inclusive */
	l->initrd_limit = (max ? max : 0x37ffffff) + 1ULL;
	l->kstart = addr;
	l->kend = addr + extent;
	l->out->entry = addr + 0x200;
	return 0;
}
