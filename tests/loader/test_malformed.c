/* SPDX-License-Identifier: MIT */
/*
 * Hostile and broken inputs: each is refused with the expected -errno and a
 * message, and nothing is read or written out of bounds (run under ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "abi.h"
#include "builders.h"
#include "loader.h"

static uint8_t img[1 << 16];
static size_t img_len;

/* Run the loader on buf[0..len) (copied to an exact-size heap buffer). */
static int try_load(struct gmem *gm, const uint8_t *buf, size_t len, const uint8_t *initrd,
		    size_t initrd_len, const char *cmdline, unsigned ncpus)
{
	uint8_t *k = len ? malloc(len) : NULL;
	struct boot_setup bs;
	char err[160] = "unset";
	int rc;

	if (len) {
		assert_non_null(k);
		memcpy(k, buf, len);
	}
	struct boot_input in = {k, len, initrd, initrd_len, cmdline, ncpus, 0};
	rc = loader__load(gm, &in, &bs, err, sizeof(err));
	if (rc) {
		assert_true(rc < 0);
		assert_true(err[0] != 0);
		assert_string_not_equal(err, "unset");
	}
	free(k);
	return rc;
}

#define EXPECT(gm, rc) assert_int_equal(try_load(gm, img, img_len, NULL, 0, "", 1), rc)

static void pvh_image(void)
{
	const struct seg segs[] = {
	    {1, 0x100000, 0xffffffff80100000ULL, 0x2000, 0x200},
	    {1, 0x300000, 0xffffffff80300000ULL, 0x100, 0x100},
	};
	img_len = elf__build(img, sizeof(img), segs, 2, 0x100000, 4, 0x100010);
}

static void vmlinux_image(void)
{
	const struct seg segs[] = {
	    {1, 0x1000000, 0xffffffff81000000ULL, 0x2000, 0x200},
	    {1, 0x1002000, 0, 0x100, 0x40},
	};
	img_len = elf__build(img, sizeof(img), segs, 2, 0x1000000, 0, 0);
}

static void bz_image(void)
{
	struct bz b = bz__default();
	b.kbytes = 0x400;
	img_len = bz__build(img, sizeof(img), &b);
}

static void put32(size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}
static void put64(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}
static void put16(size_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}

/* Every proper prefix of a valid image is refused. */
static void truncations(struct gmem *gm, void (*build)(void))
{
	build();
	size_t full = img_len;
	assert_int_equal(try_load(gm, img, full, NULL, 0, "", 1), 0);
	for (size_t len = 0; len < full; len++)
		assert_true(try_load(gm, img, len, NULL, 0, "", 1) < 0);
}

static void test_truncated(void **state)
{
	truncations(*state, pvh_image);
	truncations(*state, vmlinux_image);
	truncations(*state, bz_image);
}

static void test_bad_elf_headers(void **state)
{
	struct gmem *gm = *state;

	pvh_image();
	img[1] = 'X';
	EXPECT(gm, -ENOEXEC); /* neither ELF nor bzImage */
	pvh_image();
	img[4] = 1; /* ELFCLASS32 */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	img[5] = 2; /* big endian */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(18, 3); /* EM_386 */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(16, 3); /* ET_DYN */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(54, 32); /* e_phentsize */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(56, 0); /* no program headers */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(56, 0xffff); /* huge phnum (PN_XNUM) */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put16(56, 100); /* headers past the end of the file */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put64(32, UINT64_MAX - 8); /* e_phoff wraps */
	EXPECT(gm, -ENOEXEC);
}

static void test_bad_segments(void **state)
{
	struct gmem *gm = *state;
	const size_t ph = ELF_PHDR(0);

	pvh_image();
	put64(ph + 24, RAM_SIZE); /* p_paddr past RAM */
	EXPECT(gm, -ENOSPC);
	pvh_image();
	put64(ph + 24, RAM_SIZE - 0x1000); /* memsz runs past RAM */
	EXPECT(gm, -ENOSPC);
	pvh_image();
	put64(ph + 24, 0xfffffffffffff000ULL); /* p_paddr + p_memsz wraps */
	EXPECT(gm, -ENOSPC);
	pvh_image();
	put64(ph + 24, CV_HIGHMEM_BASE); /* not low RAM */
	EXPECT(gm, -ENOSPC);
	pvh_image();
	put64(ph + 40, UINT64_MAX); /* huge memsz */
	EXPECT(gm, -ENOSPC);
	const uint64_t fixed[] = {CV_BOOT_GDT,
				  CV_BOOT_PVH_START_INFO,
				  CV_BOOT_ZERO_PAGE,
				  CV_BOOT_PML4 + 0x3000,
				  CV_BOOT_CMDLINE + 0x8000,
				  0x9f000,
				  0xf8000};
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		pvh_image();
		put64(ph + 24, fixed[i]); /* over a loader-owned area */
		put64(ph + 40, 0x1000);
		EXPECT(gm, -ENOSPC);
	}
	pvh_image();
	put64(ph + 32, img_len); /* p_offset + p_filesz past EOF */
	put64(ph + 40, img_len);
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put64(ph + 8, UINT64_MAX); /* p_offset wraps */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put64(ph + 32, 0x3000); /* filesz > memsz */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put64(ELF_PHDR(1) + 24, 0x101000); /* segments overlap */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put32(ELF_PHDR(0), 6); /* no PT_LOAD left */
	put32(ELF_PHDR(1), 6);
	EXPECT(gm, -ENOEXEC);
}

static void test_bad_notes(void **state)
{
	struct gmem *gm = *state;
	const size_t nph = ELF_PHDR(2); /* the PT_NOTE follows the two segments */
	uint64_t noff;

	pvh_image();
	memcpy(&noff, img + nph + 8, 8);
	put32(noff + 20 + 16, 0x5000000); /* PVH entry outside every segment */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put32(noff + 20 + 16, 0x100300); /* in the BSS part: not loaded code */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put32(noff + 20 + 4, 2); /* 2-byte entry */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put32(noff + 20, 0xffffffff); /* namesz past the note */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put32(noff + 4, 0xfffffffd); /* descsz past the note (and + 3 near wrap) */
	EXPECT(gm, -ENOEXEC);
	pvh_image();
	put64(nph + 32, 0x100000); /* note past EOF */
	EXPECT(gm, -ENOEXEC);
	vmlinux_image();
	put64(24, 0x5000000); /* vmlinux entry outside every segment */
	EXPECT(gm, -ENOEXEC);
	vmlinux_image();
	put64(ELF_PHDR(1) + 40, 0);			/* empty segment whose filesz claims data */
	put64(ELF_PHDR(1) + 16, 0xffffffff90000000ULL); /* ... and holds the virtual entry */
	put64(ELF_PHDR(1) + 24, 0x4000000000000ULL);
	put64(24, 0xffffffff90000010ULL);
	EXPECT(gm, -ENOEXEC);
}

static void test_bad_bzimage(void **state)
{
	struct gmem *gm = *state;
	struct bz b;

#define BZ(field, value, rc)                                                                       \
	do {                                                                                       \
		b = bz__default();                                                                 \
		b.kbytes = 0x400;                                                                  \
		b.field = value;                                                                   \
		img_len = bz__build(img, sizeof(img), &b);                                         \
		EXPECT(gm, rc);                                                                    \
	} while (0)
	BZ(version, 0x020b, -ENOEXEC);
	BZ(version, 0x0200, -ENOEXEC);
	BZ(xloadflags, 0x7e, -ENOEXEC);		     /* no XLF_KERNEL_64 */
	BZ(loadflags, 0x00, -ENOEXEC);		     /* not LOADED_HIGH */
	BZ(init_size, 0xffffffff, -ENOSPC);	     /* larger than RAM */
	BZ(init_size, RAM_SIZE - 0x100000, -ENOSPC); /* nowhere to put it */
	BZ(kernel_alignment, 0x300000, -ENOEXEC);    /* not a power of two */
	BZ(kernel_alignment, 0, -ENOEXEC);
	BZ(kernel_alignment, 0x80000000, -ENOEXEC);
	BZ(relocatable, 0, 0); /* at pref_address: fine */
	b = bz__default();
	b.kbytes = 0x400;
	b.relocatable = 0;
	b.pref_address = 0x3000000; /* fixed, and past RAM */
	img_len = bz__build(img, sizeof(img), &b);
	EXPECT(gm, -ENOSPC);
	b.pref_address = 0x80000; /* fixed, below 1 MiB */
	img_len = bz__build(img, sizeof(img), &b);
	EXPECT(gm, -ENOSPC);
	b.pref_address = UINT64_MAX - 0x1000; /* wraps */
	img_len = bz__build(img, sizeof(img), &b);
	EXPECT(gm, -ENOSPC);
#undef BZ

	bz_image();
	put16(0x1fe, 0x55aa); /* boot_flag */
	EXPECT(gm, -ENOEXEC);
	bz_image();
	put32(0x1f4, 0xffffffff); /* syssize past the file */
	EXPECT(gm, -ENOEXEC);
	bz_image();
	put32(0x1f4, 0); /* no kernel */
	EXPECT(gm, -ENOEXEC);
	bz_image();
	img[0x1f1] = 0xff; /* setup past the file */
	EXPECT(gm, -ENOEXEC);
	bz_image();
	img[0x201] = 0x10; /* header too short */
	EXPECT(gm, -ENOEXEC);
	bz_image();
	img[0x201] = 0xff; /* header longer than boot_params has room for */
	EXPECT(gm, -ENOEXEC);
}

static void test_cmdline_and_initrd_limits(void **state)
{
	struct gmem *gm = *state;
	char *cmd = malloc(CV_BOOT_CMDLINE_MAX + 1);
	uint8_t *big = malloc(RAM_SIZE);

	assert_non_null(cmd);
	assert_non_null(big);
	memset(cmd, 'a', CV_BOOT_CMDLINE_MAX);
	cmd[CV_BOOT_CMDLINE_MAX] = 0;
	vmlinux_image();
	assert_int_equal(try_load(gm, img, img_len, NULL, 0, cmd, 1), -E2BIG);
	cmd[CV_BOOT_CMDLINE_MAX - 1] = 0; /* 65535 characters + NUL: fits */
	assert_int_equal(try_load(gm, img, img_len, NULL, 0, cmd, 1), 0);
	assert_int_equal(*ram__at(gm, CV_BOOT_CMDLINE + CV_BOOT_CMDLINE_MAX - 1), 0);
	pvh_image();
	cmd[CV_BOOT_CMDLINE_MAX - 1] = 'a';
	assert_int_equal(try_load(gm, img, img_len, NULL, 0, cmd, 1), -E2BIG);

	memset(big, 0x3c, RAM_SIZE);
	assert_int_equal(try_load(gm, img, img_len, big, RAM_SIZE, "", 1), -E2BIG);
	assert_int_equal(try_load(gm, img, img_len, big, RAM_SIZE - 0x100000, "", 1), -E2BIG);
	bz_image(); /* kernel at 16 MiB + 4 MiB: 16 MiB do not fit either side */
	assert_int_equal(try_load(gm, img, img_len, big, 16 << 20, "", 1), -E2BIG);
	assert_int_equal(try_load(gm, img, img_len, big, 15 << 20, "", 1), 0);
	free(cmd);
	free(big);
}

static void test_bad_arguments(void **state)
{
	struct gmem *gm = *state, none, tiny;
	struct boot_setup bs;
	char err[80];

	pvh_image();
	assert_int_equal(try_load(gm, img, img_len, NULL, 0, "", 0), -EINVAL);
	assert_int_equal(try_load(gm, img, img_len, NULL, 0, "", 255), -EINVAL);
	assert_int_equal(try_load(gm, img, 0, NULL, 0, "", 1), -EINVAL);
	assert_int_equal(try_load(gm, img, img_len, NULL, 10, "", 1), -EINVAL);
	ram__new(&none, 0); /* zero RAM */
	assert_int_equal(try_load(&none, img, img_len, NULL, 0, "", 1), -EINVAL);
	ram__new(&tiny, 0x80000); /* 512 KiB */
	assert_int_equal(try_load(&tiny, img, img_len, NULL, 0, "", 1), -EINVAL);
	ram__free(&tiny);
	ram__new(&tiny, 0x100000); /* 1 MiB: no room for the kernel at 1 MiB */
	assert_int_equal(try_load(&tiny, img, img_len, NULL, 0, "", 1), -ENOSPC);
	ram__free(&tiny);

	/* no error buffer: still refused, still no crash */
	struct boot_input in = {img, 3, NULL, 0, "", 1, 0};
	assert_int_equal(loader__load(gm, &in, &bs, NULL, 0), -ENOEXEC);
	assert_int_equal(loader__load(gm, NULL, &bs, err, sizeof(err)), -EINVAL);
	/* a tiny error buffer is truncated, NUL-terminated */
	assert_int_equal(loader__load(gm, &in, &bs, err, 4), -ENOEXEC);
	assert_int_equal(strlen(err), 3);
}

/*
 * Issue 10 #9: the kernel is a mapping of a file its owner can change while
 * the loader runs, so the program headers must be read once. They sit on a
 * page of their own that faults on access; each fault there (after the
 * loader touched another page of the file) counts as one more read of them.
 */
static uint8_t *tt_map, *tt_ph;
static size_t tt_len;
static unsigned tt_phdr_reads;

static void tt_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uint8_t *a = si->si_addr;
	if (a >= tt_ph && a < tt_ph + 4096) {
		tt_phdr_reads++;
		mprotect(tt_ph, 4096, PROT_READ);
		mprotect(tt_map, (size_t)(tt_ph - tt_map), PROT_NONE);
	} else if (a >= tt_map && a < tt_map + tt_len) {
		mprotect(tt_map, (size_t)(tt_ph - tt_map), PROT_READ);
		mprotect(tt_ph, 4096, PROT_NONE);
	} else {
		abort();
	}
}

static void test_phdrs_read_once(void **state)
{
	struct gmem *gm = *state;
	struct seg segs[] = {
	    {1, 0x100000, 0x100000, 0x3000, 0x3000},
	    {1, 0x200000, 0x200000, 0x3000, 0x2000},
	    {1, 0x300000, 0x300000, 0x1000, 0x1000},
	};
	img_len = elf__build(img, sizeof(img), segs, 3, 0x100000, 4, 0x100010);
	/* the same file with its program headers moved to a page of their own */
	size_t data = (img_len + 4095) & ~(size_t)4095;
	tt_len = data + 4096;
	tt_map = mmap(NULL, tt_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(tt_map != MAP_FAILED);
	tt_ph = tt_map + data;
	memcpy(tt_map, img, img_len);
	memcpy(tt_ph, img + 64, 56 * 4);
	uint64_t phoff = data;
	memcpy(tt_map + 32, &phoff, 8);
	mprotect(tt_map, tt_len, PROT_READ);
	mprotect(tt_ph, 4096, PROT_NONE);
	struct sigaction sa = {.sa_sigaction = tt_fault, .sa_flags = SA_SIGINFO}, old;
	sigaction(SIGSEGV, &sa, &old);
	tt_phdr_reads = 0;
	struct boot_input in = {tt_map, tt_len, NULL, 0, "", 1, 0};
	struct boot_setup bs;
	char err[160] = "";
	int rc = loader__load(gm, &in, &bs, err, sizeof(err));
	sigaction(SIGSEGV, &old, NULL);
	munmap(tt_map, tt_len);
	if (rc)
		fail_msg("load: %s", err);
	assert_int_equal(tt_phdr_reads, 1);
	assert_int_equal(ram__at(gm, 0x200000)[0], pat_byte(1, 0));
}

int loader_malformed_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_truncated, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_elf_headers, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_segments, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_notes, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_bzimage, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_cmdline_and_initrd_limits, ram_setup,
					    ram_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_phdrs_read_once, ram_setup, ram_teardown),
	};
	return cmocka_run_group_tests_name("loader-malformed", tests, NULL, NULL);
}
