/* SPDX-License-Identifier: MIT */
/* The MP floating pointer and configuration table, parsed back entry by entry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"
#include "builders.h"
#include "loader.h"

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

static void check_mptable(const struct gmem *gm, unsigned n)
{
	const uint8_t *mpf = ram__at(gm, CV_BOOT_MPTABLE);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1);
	assert_int_equal(mpf[9], 4);
	assert_int_equal(mpf[11], 0); /* feature 1: a table is present */
	assert_int_equal(sum(mpf, 16), 0);

	uint64_t table = rd32(gm, CV_BOOT_MPTABLE + 4);
	size_t len = 44 + 20 * n + 8 + 8 + 18 * 8;
	assert_int_equal(table, n <= 40 ? CV_BOOT_MPTABLE + 16 : CV_BOOT_MPTABLE_HIGH);
	if (n <= 40)
		assert_true(table + len <= 0xa0000);

	const uint8_t *t = ram__at(gm, table);
	assert_memory_equal(t, "PCMP", 4);
	assert_int_equal(rd16(gm, table + 4), len);
	assert_int_equal(t[6], 4);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(rd16(gm, table + 34), n + 2 + 18);
	assert_int_equal(rd32(gm, table + 36), CV_LAPIC_BASE);

	const uint8_t *e = t + 44;
	for (unsigned i = 0; i < n; i++, e += 20) {
		assert_int_equal(e[0], 0);
		assert_int_equal(e[1], i);
		assert_int_equal(e[3], i == 0 ? 3 : 1);
	}
	assert_int_equal(e[0], 1);
	assert_memory_equal(e + 2, "ISA   ", 6);
	e += 8;
	assert_int_equal(e[0], 2);
	assert_int_equal(e[1], n); /* IOAPIC id */
	assert_int_equal(e[3], 1);
	assert_int_equal(rd32(gm, table + (uint64_t)(e - t) + 4), CV_IOAPIC_BASE);
	e += 8;
	for (unsigned irq = 0; irq < 16; irq++, e += 8) {
		assert_int_equal(e[0], 3);
		assert_int_equal(e[1], 0); /* INT */
		assert_int_equal(e[4], 0); /* ISA bus */
		assert_int_equal(e[5], irq);
		assert_int_equal(e[6], n);
		assert_int_equal(e[7], irq);
	}
	assert_int_equal(e[0], 4);
	assert_int_equal(e[1], 3); /* ExtINT */
	assert_int_equal(e[6], 0xff);
	assert_int_equal(e[7], 0); /* LINT0 */
	e += 8;
	assert_int_equal(e[0], 4);
	assert_int_equal(e[1], 1); /* NMI */
	assert_int_equal(e[7], 1); /* LINT1 */
	e += 8;
	assert_int_equal((size_t)(e - t), len);
}

static void test_mptable_sizes(void **state)
{
	struct gmem *gm = *state;
	const unsigned counts[] = {1, 2, 40, 41, 254};
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		assert_int_equal(mptable__write(gm, counts[i]), 0);
		check_mptable(gm, counts[i]);
	}
}

static void test_mptable_refused(void **state)
{
	struct gmem *gm = *state, small;
	assert_int_equal(mptable__write(gm, 0), -EINVAL);
	assert_int_equal(mptable__write(gm, 255), -EINVAL);
	assert_int_equal(*ram__at(gm, CV_BOOT_MPTABLE), 0xaa); /* nothing written */
	ram__new(&small, 0x9fc08);			       /* RAM ends inside the pointer */
	assert_int_equal(mptable__write(&small, 1), -ENOSPC);
	ram__free(&small);
}

static void test_mptable_through_loader(void **state)
{
	struct gmem *gm = *state;
	static uint8_t img[8192];
	const struct seg segs[] = {{1, 0x100000, 0x100000, 0x1000, 0x1000}};
	size_t len = elf__build(img, sizeof(img), segs, 1, 0x100000, 4, 0x100000);
	struct boot_input in = {img, len, NULL, 0, NULL, 7, 0};
	struct boot_setup bs;
	char err[128];

	assert_int_equal(loader__load(gm, &in, &bs, err, sizeof(err)), 0);
	check_mptable(gm, 7);
}

int loader_mptable_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mptable_sizes, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_mptable_refused, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_mptable_through_loader, ram_setup, ram_teardown),
	};
	return cmocka_run_group_tests_name("loader-mptable", tests, NULL, NULL);
}
