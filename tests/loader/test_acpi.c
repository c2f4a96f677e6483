/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables, parsed back as a guest would: RSDP, RSDT/XSDT, every
 * checksum, the FADT's fixed hardware, the FACS, every MADT entry, and the
 * DSDT's AML walked term by term (PkgLengths must add up to the table).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* A table at gpa with this signature and a good checksum; returns its length. */
static uint32_t table(const struct gmem *gm, uint64_t gpa, const char *sig)
{
	assert_true(gpa >= CV_BOOT_ACPI && gpa < CV_BOOT_ACPI + CV_BOOT_ACPI_LEN);
	const uint8_t *t = ram__at(gm, gpa);
	assert_memory_equal(t, sig, 4);
	uint32_t len = rd32(gm, gpa + 4);
	assert_true(len >= 36 && gpa + len <= CV_BOOT_ACPI + CV_BOOT_ACPI_LEN);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "CELLVM", 6);
	return len;
}

/* AML PkgLength at p: returns the length and sets *hdr to its byte count. */
static size_t pkglen(const uint8_t *p, size_t *hdr)
{
	size_t extra = p[0] >> 6;
	size_t len = extra ? p[0] & 0xf : p[0] & 0x3f;
	for (size_t i = 0; i < extra; i++)
		len |= (size_t)p[1 + i] << (4 + 8 * i);
	*hdr = 1 + extra;
	return len;
}

static void check_gas(const struct gmem *gm, uint64_t gpa, uint16_t port, uint8_t bits)
{
	assert_int_equal(*ram__at(gm, gpa), port ? 1 : 0);
	assert_int_equal(*ram__at(gm, gpa + 1), bits);
	assert_int_equal(rd64(gm, gpa + 4), port);
}

/* \_SB.PCI0 with _HID PNP0A03 and a _CRS buffer, and \_S5 = {S5, S5, 0, 0}. */
static void check_dsdt(const uint8_t *aml, size_t len)
{
	size_t h;
	assert_int_equal(aml[0], 0x10); /* ScopeOp */
	size_t scope = pkglen(aml + 1, &h);
	assert_memory_equal(aml + 1 + h, "\\_SB_", 5);
	const uint8_t *dev = aml + 1 + h + 5;
	assert_int_equal(dev[0], 0x5b);
	assert_int_equal(dev[1], 0x82); /* DeviceOp */
	size_t dlen = pkglen(dev + 2, &h);
	assert_int_equal((size_t)(dev + 2 + dlen - aml),
			 1 + scope); /* the scope holds the device */
	assert_memory_equal(dev + 2 + h, "PCI0", 4);
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03};
	assert_memory_equal(dev + 2 + h + 4, hid, sizeof(hid));
	assert_non_null(memmem(dev, dlen, "_CRS\x11", 5));
	const uint8_t *crs = memmem(dev, dlen, "_CRS\x11", 5) + 5;
	size_t clen = pkglen(crs, &h);
	assert_true(crs + clen <= dev + 2 + dlen);
	assert_int_equal(crs[clen - 2 + 0], 0x79); /* the resource template ends with EndTag */
	const uint8_t *s5 = aml + 1 + scope;
	static const uint8_t want[] = {0x08, '_',
				       'S',  '5',
				       '_',  0x12,
				       0x08, 0x04,
				       0x0a, CV_ACPI_SLP_TYP_S5,
				       0x0a, CV_ACPI_SLP_TYP_S5,
				       0x00, 0x00};
	assert_int_equal(len - (size_t)(s5 - aml), sizeof(want));
	assert_memory_equal(s5, want, sizeof(want));
}

static void check_acpi(const struct gmem *gm, unsigned ncpus, bool i8042)
{
	const uint64_t rsdp = CV_BOOT_ACPI;
	const uint8_t *r = ram__at(gm, rsdp);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(gm, rsdp + 20), 36);
	assert_int_equal(sum(r, 36), 0);

	uint64_t xsdt = rd64(gm, rsdp + 24), rsdt = rd32(gm, rsdp + 16);
	assert_int_equal(table(gm, xsdt, "XSDT"), 36 + 2 * 8);
	assert_int_equal(table(gm, rsdt, "RSDT"), 36 + 2 * 4);
	uint64_t fadt = rd64(gm, xsdt + 36), madt = rd64(gm, xsdt + 44);
	assert_int_equal(rd32(gm, rsdt + 36), fadt);
	assert_int_equal(rd32(gm, rsdt + 40), madt);

	/* FADT (revision 6, 276 bytes) */
	assert_int_equal(table(gm, fadt, "FACP"), 276);
	assert_int_equal(*ram__at(gm, fadt + 8), 6);
	uint64_t facs = rd64(gm, fadt + 132), dsdt = rd64(gm, fadt + 140);
	assert_int_equal(rd32(gm, fadt + 36), 0); /* FACS only in X_FIRMWARE_CTRL */
	assert_int_equal(rd32(gm, fadt + 40), dsdt);
	assert_int_equal(rd16(gm, fadt + 46), CV_IRQ_ACPI_SCI);
	assert_int_equal(rd32(gm, fadt + 48), 0); /* no SMI_CMD: always ACPI mode */
	assert_int_equal(rd32(gm, fadt + 56), CV_PORT_ACPI_PM1_EVT);
	assert_int_equal(rd32(gm, fadt + 64), CV_PORT_ACPI_PM1_CNT);
	assert_int_equal(rd32(gm, fadt + 76), 0); /* no PM timer */
	assert_int_equal(*ram__at(gm, fadt + 88), 4);
	assert_int_equal(*ram__at(gm, fadt + 89), 2);
	uint16_t boot_arch = rd16(gm, fadt + 109);
	assert_int_equal(!!(boot_arch & 0x2), i8042);
	assert_true(boot_arch & 0x20); /* no CMOS RTC */
	uint32_t flags = rd32(gm, fadt + 112);
	assert_true(flags & 0x400);	  /* RESET_REG_SUP */
	assert_false(flags & (1u << 20)); /* not hardware-reduced: PM1 blocks are used */
	check_gas(gm, fadt + 116, CV_PORT_ACPI_RESET, 8);
	assert_int_equal(*ram__at(gm, fadt + 128), CV_ACPI_RESET_VALUE);
	check_gas(gm, fadt + 148, CV_PORT_ACPI_PM1_EVT, 32);
	check_gas(gm, fadt + 172, CV_PORT_ACPI_PM1_CNT, 16);

	/* FACS: 64 bytes, 64-byte aligned, no checksum */
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(ram__at(gm, facs), "FACS", 4);
	assert_int_equal(rd32(gm, facs + 4), 64);

	uint32_t dlen = table(gm, dsdt, "DSDT");
	check_dsdt(ram__at(gm, dsdt + 36), dlen - 36);

	/* MADT: one local APIC per CPU, the IOAPIC, the SCI override, NMI */
	uint32_t mlen = table(gm, madt, "APIC");
	assert_int_equal(rd32(gm, madt + 36), CV_LAPIC_BASE);
	assert_int_equal(mlen, 44 + 8 * ncpus + 12 + 10 + 6);
	const uint8_t *e = ram__at(gm, madt + 44);
	for (unsigned i = 0; i < ncpus; i++, e += 8) {
		assert_int_equal(e[0], 0);
		assert_int_equal(e[1], 8);
		assert_int_equal(e[2], i);
		assert_int_equal(e[3], i);
		assert_int_equal(e[4], 1);
	}
	assert_int_equal(e[0], 1);
	assert_int_equal(e[2], ncpus);
	assert_int_equal(e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24, CV_IOAPIC_BASE);
	e += 12;
	assert_int_equal(e[0], 2);
	assert_int_equal(e[3], CV_IRQ_ACPI_SCI);
	assert_int_equal(e[4], CV_IRQ_ACPI_SCI);
	assert_int_equal(e[8] | e[9] << 8, 0x000d); /* active high, level */
	e += 10;
	assert_int_equal(e[0], 4);
	assert_int_equal(e[2], 0xff);
	assert_int_equal(e[5], 1);
}

static void test_acpi_sizes(void **state)
{
	struct gmem *gm = *state;
	static const unsigned counts[] = {1, 2, 3, 64, 254};
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		for (int i8042 = 0; i8042 < 2; i8042++) {
			uint64_t rsdp = 0;
			assert_int_equal(acpi__write(gm, counts[k], i8042, &rsdp), 0);
			assert_int_equal(rsdp, CV_BOOT_ACPI);
			check_acpi(gm, counts[k], i8042);
		}
	}
}

static void test_acpi_refused(void **state)
{
	struct gmem *gm = *state;
	uint64_t rsdp = 0;
	assert_int_equal(acpi__write(gm, 0, false, &rsdp), -EINVAL);
	assert_int_equal(acpi__write(gm, 255, false, &rsdp), -EINVAL);
	struct gmem tiny;
	ram__new(&tiny, 0x80000); /* ends below the ACPI area */
	assert_int_equal(acpi__write(&tiny, 1, false, &rsdp), -ENOSPC);
	ram__free(&tiny);
}

int loader_acpi_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_acpi_sizes, ram_setup, ram_teardown),
	    cmocka_unit_test_setup_teardown(test_acpi_refused, ram_setup, ram_teardown),
	};
	return cmocka_run_group_tests_name("loader-acpi", tests, NULL, NULL);
}
