/* SPDX-License-Identifier: MIT */
/* Valid kernels: the exact bytes each boot path writes to guest RAM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include <cmocka.h>

#include "abi.h"
#include "config.h"
#include "builders.h"
#include "loader.h"

static uint8_t img[1 << 20];
static uint8_t initrd[0x8000];

static void fill_initrd(size_t len)
{
	for (size_t i = 0; i < len; i++)
		initrd[i] = (uint8_t)(i * 31 + 3);
}

static void check_initrd(const struct gmem *gm, uint64_t addr, size_t len)
{
	assert_int_equal(addr & 0xfff, 0);
	assert_memory_equal(ram__at(gm, addr), initrd, len);
}

static void check_segment(const struct gmem *gm, const struct seg *s, unsigned idx)
{
	const uint8_t *p = ram__at(gm, s->paddr);
	for (uint64_t i = 0; i < s->filesz; i++)
		assert_int_equal(p[i], pat_byte(idx, i));
	for (uint64_t i = s->filesz; i < s->memsz; i++)
		assert_int_equal(p[i], 0);
}

/* The e820 map for a RAM_SIZE guest, as (addr, size, type). */
static const uint64_t e820_small[4][3] = {
    {0, 0x9fc00, 1},
    {0x9fc00, 0x400, 2},
    {0xe0000, 0x20000, 2},
    {0x100000, RAM_SIZE - 0x100000, 1},
};

static void check_gdt(const struct gmem *gm, const struct boot_setup *bs, int long_mode)
{
	assert_int_equal(bs->gdt_base, CV_BOOT_GDT);
	assert_int_equal(bs->gdt_limit, 47);
	assert_int_equal(bs->cs_sel, 0x10);
	assert_int_equal(bs->ds_sel, 0x18);
	assert_int_equal(bs->tr_sel, 0x20);
	assert_int_equal(bs->cs_l, long_mode);
	assert_int_equal(bs->cs_db, !long_mode);
	assert_int_equal(rd64(gm, CV_BOOT_GDT), 0);
	assert_int_equal(rd64(gm, CV_BOOT_GDT + 0x10),
			 long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL);
	assert_int_equal(rd64(gm, CV_BOOT_GDT + 0x18), 0x00cf93000000ffffULL);
	assert_int_equal(rd64(gm, CV_BOOT_GDT + 0x20), 0x00008b0000000067ULL);
	assert_int_equal(rd64(gm, CV_BOOT_GDT + 0x28), 0);
}

static void test_pvh(void **state)
{
	struct gmem *gm = *state;
	const struct seg segs[] = {
	    {1, 0x100000, 0xffffffff80100000ULL, 0x3000, 0x1800},
	    {1, 0x200000, 0xffffffff80200000ULL, 0x100, 0x100},
	};
	size_t len = elf__build(img, sizeof(img), segs, 2, 0x100000, 4, 0x100040);
	const char *cmd = "console=ttyS0 foo=bar";
	fill_initrd(10000);
	struct boot_input in = {img, len, initrd, 10000, cmd, 2, 0};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(bs.mode, BOOT_PVH32);
	assert_int_equal(bs.entry, 0x100040);
	assert_int_equal(bs.rbx, CV_BOOT_PVH_START_INFO);
	assert_int_equal(bs.rsi, 0);
	assert_int_equal(bs.cr0, 0x11);
	assert_int_equal(bs.cr3, 0);
	assert_int_equal(bs.cr4, 0);
	assert_int_equal(bs.efer, 0);
	assert_int_equal(bs.kernel_start, 0x100000);
	assert_int_equal(bs.kernel_end, 0x200100);
	check_gdt(gm, &bs, 0);
	check_segment(gm, &segs[0], 0);
	check_segment(gm, &segs[1], 1);
	assert_int_equal(*ram__at(gm, 0x103000), 0xaa); /* past memsz: untouched */

	const uint64_t si = CV_BOOT_PVH_START_INFO;
	assert_int_equal(rd32(gm, si + 0x00), 0x336ec578);
	assert_int_equal(rd32(gm, si + 0x04), 1);
	assert_int_equal(rd32(gm, si + 0x08), 0);
	assert_int_equal(rd32(gm, si + 0x0c), 1);
	assert_int_equal(rd64(gm, si + 0x10), si + 0x40);
	assert_int_equal(rd64(gm, si + 0x18), CV_BOOT_CMDLINE);
	assert_int_equal(rd64(gm, si + 0x20), CV_BOOT_ACPI); /* rsdp_paddr */
	assert_int_equal(rd64(gm, si + 0x28), si + 0x80);
	assert_int_equal(rd32(gm, si + 0x30), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(rd64(gm, si + 0x80 + 24 * i), e820_small[i][0]);
		assert_int_equal(rd64(gm, si + 0x88 + 24 * i), e820_small[i][1]);
		assert_int_equal(rd32(gm, si + 0x90 + 24 * i), e820_small[i][2]);
		assert_int_equal(rd32(gm, si + 0x94 + 24 * i), 0);
	}
	/* the initrd is module 0, at the highest page below the end of RAM */
	uint64_t want = (RAM_SIZE - 10000) & ~0xfffULL;
	assert_int_equal(bs.initrd_addr, want);
	assert_int_equal(bs.initrd_size, 10000);
	assert_int_equal(rd64(gm, si + 0x40), want);
	assert_int_equal(rd64(gm, si + 0x48), 10000);
	assert_int_equal(rd64(gm, si + 0x50), 0);
	check_initrd(gm, want, 10000);
	assert_memory_equal(ram__at(gm, CV_BOOT_CMDLINE), cmd, strlen(cmd) + 1);
	assert_memory_equal(ram__at(gm, CV_BOOT_MPTABLE), "_MP_", 4);
}

static void test_pvh_8byte_note_no_initrd(void **state)
{
	struct gmem *gm = *state;
	const struct seg segs[] = {{1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x1000}};
	size_t len = elf__build(img, sizeof(img), segs, 1, 0x1000000, 8, 0x1000ff0);
	struct boot_input in = {img, len, NULL, 0, NULL, 1, 0};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	assert_int_equal(bs.mode, BOOT_PVH32);
	assert_int_equal(bs.entry, 0x1000ff0);
	assert_int_equal(bs.initrd_addr, 0);
	assert_int_equal(rd32(gm, CV_BOOT_PVH_START_INFO + 0x0c), 0);
	assert_int_equal(rd64(gm, CV_BOOT_PVH_START_INFO + 0x10), 0);
	assert_int_equal(*ram__at(gm, CV_BOOT_CMDLINE), 0); /* empty command line */
}

/* boot_params fields every Linux64 load sets. */
static void check_boot_params(const struct gmem *gm, const struct boot_setup *bs, unsigned n_e820,
			      const uint64_t (*e820)[3])
{
	const uint64_t bp = CV_BOOT_ZERO_PAGE;
	assert_int_equal(bs->mode, BOOT_LINUX64);
	assert_int_equal(bs->rsi, CV_BOOT_ZERO_PAGE);
	assert_int_equal(bs->rbx, 0);
	assert_int_equal(bs->cr0, 0x80000011);
	assert_int_equal(bs->cr3, CV_BOOT_PML4);
	assert_int_equal(bs->cr4, 0x20);
	assert_int_equal(bs->efer, 0x500);
	check_gdt(gm, bs, 1);
	assert_int_equal(rd16(gm, bp + 0x1fe), 0xaa55);
	assert_memory_equal(ram__at(gm, bp + 0x202), "HdrS", 4);
	assert_int_equal(*ram__at(gm, bp + 0x210), 0xff);
	assert_int_equal(*ram__at(gm, bp + 0x211) & 0x81, 0x81);
	assert_int_equal(rd16(gm, bp + 0x224), 0xfe00);
	assert_int_equal(rd32(gm, bp + 0x228), CV_BOOT_CMDLINE);
	assert_int_equal(rd32(gm, bp + 0xc8), 0);
	assert_int_equal(rd32(gm, bp + 0x218), bs->initrd_addr);
	assert_int_equal(rd32(gm, bp + 0x21c), bs->initrd_size);
	assert_int_equal(rd32(gm, bp + 0xc0), 0);
	assert_int_equal(rd32(gm, bp + 0xc4), 0);
	assert_int_equal(*ram__at(gm, bp + 0x1e8), n_e820);
	for (unsigned i = 0; i < n_e820; i++) {
		assert_int_equal(rd64(gm, bp + 0x2d0 + 20 * i), e820[i][0]);
		assert_int_equal(rd64(gm, bp + 0x2d8 + 20 * i), e820[i][1]);
		assert_int_equal(rd32(gm, bp + 0x2e0 + 20 * i), e820[i][2]);
	}
	assert_int_equal(rd64(gm, bp + 0x2d0 + 20 * n_e820), 0);
	assert_int_equal(rd64(gm, bp + 0x70), CV_BOOT_ACPI); /* acpi_rsdp_addr */
	/* what the loader did not set is zero, not left-over RAM */
	for (unsigned i = 0; i < 0xc0; i++)
		if (i < 0x70 || i >= 0x78)
			assert_int_equal(*ram__at(gm, bp + i), 0);
	assert_int_equal(*ram__at(gm, bp + 0xfff), 0);

	/* identity map of [0, 4 GiB) with 2 MiB pages */
	assert_int_equal(rd64(gm, CV_BOOT_PML4), 0xa003);
	assert_int_equal(rd64(gm, CV_BOOT_PML4 + 8), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rd64(gm, 0xa000 + 8 * i), 0xb003 + 0x1000 * i);
	assert_int_equal(rd64(gm, 0xa000 + 8 * 4), 0);
	for (uint64_t pd = 0; pd < 4; pd++)
		for (uint64_t i = 0; i < 512; i++)
			assert_int_equal(rd64(gm, 0xb000 + 0x1000 * pd + 8 * i),
					 ((pd * 512 + i) << 21) | 0x83);
}

static void test_vmlinux(void **state)
{
	struct gmem *gm = *state;
	const struct seg segs[] = {
	    {1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x2000},
	    {1, 0x1002000, 0, 0x1000, 0x80}, /* like .data..percpu: vaddr 0 */
	};
	size_t len = elf__build(img, sizeof(img), segs, 2, 0x1000000, 0, 0);
	const char *cmd = "console=ttyS0 earlyprintk=serial";
	fill_initrd(5000);
	struct boot_input in = {img, len, initrd, 5000, cmd, 1, 0};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	assert_int_equal(bs.entry, 0x1000000);
	assert_int_equal(bs.kernel_start, 0x1000000);
	assert_int_equal(bs.kernel_end, 0x1003000);
	check_segment(gm, &segs[0], 0);
	check_segment(gm, &segs[1], 1);
	assert_int_equal(bs.initrd_addr, (RAM_SIZE - 5000) & ~0xfffULL);
	check_initrd(gm, bs.initrd_addr, 5000);
	check_boot_params(gm, &bs, 4, e820_small);
	assert_int_equal(rd16(gm, CV_BOOT_ZERO_PAGE + 0x206), 0x020f);
	assert_int_equal(rd32(gm, CV_BOOT_ZERO_PAGE + 0x22c), 0x7fffffff);
	assert_memory_equal(ram__at(gm, CV_BOOT_CMDLINE), cmd, strlen(cmd) + 1);
}

static void test_vmlinux_virtual_entry(void **state)
{
	struct gmem *gm = *state;
	const struct seg segs[] = {{1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x2000}};
	size_t len = elf__build(img, sizeof(img), segs, 1, 0xffffffff81000100ULL, 0, 0);
	struct boot_input in = {img, len, NULL, 0, "", 1, 0};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	assert_int_equal(bs.mode, BOOT_LINUX64);
	assert_int_equal(bs.entry, 0x1000100);
}

static void test_pvh_note_ignored_on_request(void **state)
{
	struct gmem *gm = *state;
	const struct seg segs[] = {{1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x2000}};
	size_t len = elf__build(img, sizeof(img), segs, 1, 0x1000000, 8, 0x1000800);
	struct boot_input in = {img, len, NULL, 0, "x", 1, LOADER_F_NO_PVH};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	assert_int_equal(bs.mode, BOOT_LINUX64);
	assert_int_equal(bs.entry, 0x1000000);
	assert_int_equal(bs.rsi, CV_BOOT_ZERO_PAGE);
}

/* Load a bzImage built from b; returns loader__load's result. */
static int load_bz(struct gmem *gm, const struct bz *b, size_t initrd_len, const char *cmd,
		   struct boot_setup *bs, size_t *len)
{
	char err[128];
	*len = bz__build(img, sizeof(img), b);
	fill_initrd(initrd_len);
	struct boot_input in = {img, *len, initrd, initrd_len, cmd, 1, 0};
	return loader__load(gm, &in, bs, err, sizeof(err));
}

static void check_bz_kernel(const struct gmem *gm, uint64_t addr, const struct bz *b)
{
	const uint8_t *p = ram__at(gm, addr);
	for (uint64_t i = 0; i < b->kbytes; i++)
		assert_int_equal(p[i], bz_byte(i));
	assert_int_equal(p[b->kbytes], 0); /* init_size room is cleared */
	assert_int_equal(p[b->init_size - 1], 0);
}

static void test_bzimage(void **state)
{
	struct gmem *gm = *state;
	struct bz b = bz__default();
	struct boot_setup bs;
	size_t len;

	b.initrd_addr_max = 0x17fffff;
	assert_int_equal(load_bz(gm, &b, 0x2345, "quiet", &bs, &len), 0);
	assert_int_equal(bs.entry, 0x1000200);
	assert_int_equal(bs.kernel_start, 0x1000000);
	assert_int_equal(bs.kernel_end, 0x1400000);
	check_bz_kernel(gm, 0x1000000, &b);
	assert_int_equal(bs.initrd_addr, 0x17fd000); /* highest page below initrd_addr_max */
	check_initrd(gm, bs.initrd_addr, 0x2345);
	check_boot_params(gm, &bs, 4, e820_small);
	assert_memory_equal(ram__at(gm, CV_BOOT_CMDLINE), "quiet", 6);

	/* the header is copied as is, but for the fields the loader owns */
	const uint8_t *hp = ram__at(gm, CV_BOOT_ZERO_PAGE);
	for (unsigned off = 0x1f1; off < 0x26c; off++) {
		if (off == 0x210 || off == 0x211 || (off >= 0x214 && off < 0x220) ||
		    (off >= 0x224 && off < 0x22c))
			continue;
		assert_int_equal(hp[off], img[off]);
	}
	assert_int_equal(rd32(gm, CV_BOOT_ZERO_PAGE + 0x214), 0x1000000); /* code32_start */
	assert_int_equal(hp[0x211], 0x81);
	assert_int_equal(hp[0x26c], 0); /* past the header: not copied */
}

static void test_bzimage_initrd_below_kernel(void **state)
{
	struct gmem *gm = *state;
	struct bz b = bz__default();
	struct boot_setup bs;
	size_t len;

	b.initrd_addr_max = 0x13fffff; /* the top fit would overlap init_size room */
	assert_int_equal(load_bz(gm, &b, 0x2345, "", &bs, &len), 0);
	assert_int_equal(bs.initrd_addr, 0xffd000);
	check_initrd(gm, bs.initrd_addr, 0x2345);
	check_bz_kernel(gm, 0x1000000, &b);
}

static void test_bzimage_relocated(void **state)
{
	struct gmem *gm = *state;
	struct bz b = bz__default();
	struct boot_setup bs;
	size_t len;

	b.pref_address = 0x4000000; /* beyond RAM: fall back to 16 MiB */
	assert_int_equal(load_bz(gm, &b, 0, "", &bs, &len), 0);
	assert_int_equal(bs.entry, 0x1000200);
	check_bz_kernel(gm, 0x1000000, &b);

	b.init_size = 0x1400000; /* 20 MiB: 16 MiB no longer fits, 2 MiB does */
	assert_int_equal(load_bz(gm, &b, 0, "", &bs, &len), 0);
	assert_int_equal(bs.entry, 0x200200);
	assert_int_equal(bs.kernel_end, 0x1600000);
	check_bz_kernel(gm, 0x200000, &b);
}

static void test_bzimage_setup_sects_zero(void **state)
{
	struct gmem *gm = *state;
	struct bz b = bz__default();
	struct boot_setup bs;
	size_t len;

	b.setup_sects = 0; /* means 4: the kernel starts at 2560 */
	assert_int_equal(load_bz(gm, &b, 0, "", &bs, &len), 0);
	assert_int_equal(len, 2560 + b.kbytes);
	check_bz_kernel(gm, 0x1000000, &b);
}

static void test_bzimage_cmdline_size(void **state)
{
	struct gmem *gm = *state;
	struct bz b = bz__default();
	struct boot_setup bs;
	size_t len;

	b.cmdline_size = 5;
	assert_int_equal(load_bz(gm, &b, 0, "quiet", &bs, &len), 0);
	assert_int_equal(load_bz(gm, &b, 0, "quiet1", &bs, &len), -E2BIG);
}

static void test_e820_high_memory(void **state)
{
	(void)state;
	struct gmem gm;
	const uint64_t high = 8ULL << 20;
	const uint64_t e820[5][3] = {
	    {0, 0x9fc00, 1},
	    {0x9fc00, 0x400, 2},
	    {0xe0000, 0x20000, 2},
	    {0x100000, CV_LOWMEM_MAX - 0x100000, 1},
	    {CV_HIGHMEM_BASE, high, 1},
	};
	const struct seg segs[] = {{1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x2000}};
	size_t len = elf__build(img, sizeof(img), segs, 1, 0x1000000, 0, 0);
	fill_initrd(0x3000);
	struct boot_input in = {img, len, initrd, 0x3000, NULL, 1, 0};
	struct boot_setup bs;
	char err[128];

	ram__new(&gm, CV_LOWMEM_MAX + high);
	assert_int_equal(loader__load(&gm, &in, &bs, err, sizeof(err)), 0);
	check_boot_params(&gm, &bs, 5, e820);
	/* vmlinux: initrd_addr_max 0x7fffffff caps the placement */
	assert_int_equal(bs.initrd_addr, 0x80000000 - 0x3000);
	check_initrd(&gm, bs.initrd_addr, 0x3000);
	ram__free(&gm);
}

/* The fuzzer's seeds are valid kernels of each format in its 8 MiB RAM. */
static void test_fuzz_seeds_load(void **state)
{
	(void)state;
	const struct {
		const char *name;
		enum boot_mode mode;
		uint64_t entry;
	} seeds[] = {
	    {"pvh.elf", BOOT_PVH32, 0x100010},
	    {"vmlinux.elf", BOOT_LINUX64, 0x200000},
	    {"bzimage", BOOT_LINUX64, 0x200200},
	};
	struct gmem gm;

	ram__new(&gm, 8 << 20);
	for (unsigned i = 0; i < 3; i++) {
		char path[512], err[128];
		struct boot_setup bs;
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/loader-kernel/%s",
			 CV_SOURCE_ROOT, seeds[i].name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t len = fread(img, 1, sizeof(img), f);
		fclose(f);
		struct boot_input in = {img, len, initrd, 4096, "console=ttyS0", 1, 0};
		assert_int_equal(loader__load(&gm, &in, &bs, err, sizeof(err)), 0);
		assert_int_equal(bs.mode, seeds[i].mode);
		assert_int_equal(bs.entry, seeds[i].entry);
	}
	ram__free(&gm);
}

int loader_valid_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pvh, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_pvh_8byte_note_no_initrd, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_vmlinux, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_vmlinux_virtual_entry, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_pvh_note_ignored_on_request, ram_setup,
					    ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage_initrd_below_kernel, ram_setup,
					    ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage_relocated, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage_setup_sects_zero, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage_cmdline_size, ram_setup, ram_teardown),
	    cmocka_unit_test(test_e820_high_memory),
	    cmocka_unit_test(test_fuzz_seeds_load),
	};
	return cmocka_run_group_tests_name("loader-valid", tests, NULL, NULL);
}

int main(void)
{
	int failed = 0;
	failed += loader_valid_tests();
	failed += loader_mptable_tests();
	failed += loader_acpi_tests();
	failed += loader_malformed_tests();
	return failed ? 1 : 0;
}
