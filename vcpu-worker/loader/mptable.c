/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 tables: how Linux (without ACPI)
 * and the guest payloads find the CPUs and the IOAPIC.
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

#define MPF_SIZE       16
#define MPC_HDR	       44
#define MPC_CPU	       20
#define MPC_SMALL      8 /* bus, IOAPIC, I/O and local interrupt entries */
#define ISA_IRQS       16
#define APIC_VERSION   0x14
#define IOAPIC_VERSION 0x11
#define MPC_MAX	       (MPC_HDR + 254 * MPC_CPU + 2 * MPC_SMALL + (ISA_IRQS + 2) * MPC_SMALL)

enum { MP_PROC, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static uint8_t *intsrc(uint8_t *p, uint8_t type, uint8_t kind, uint8_t irq, uint8_t apic,
		       uint8_t pin)
{
	p[0] = type;
	p[1] = kind;
	st16(p + 2, 0); /* polarity/trigger: conform to the bus */
	p[4] = 0;	/* source bus: ISA */
	p[5] = irq;
	p[6] = apic;
	p[7] = pin;
	return p + MPC_SMALL;
}

int mptable__write(struct gmem *gm, unsigned ncpus)
{
	uint8_t mpc[MPC_MAX] = {0}, mpf[MPF_SIZE] = {0}, *p = mpc + MPC_HDR;
	uint8_t ioapic_id = (uint8_t)ncpus;
	uint64_t table;
	size_t len;

	if (ncpus < 1 || ncpus > 254)
		return -EINVAL;
	for (unsigned i = 0; i < ncpus; i++, p += MPC_CPU) {
		p[0] = MP_PROC;
		p[1] = (uint8_t)i; /* local APIC id */
		p[2] = APIC_VERSION;
		p[3] = 0x1 | (i == 0 ? 0x2 : 0); /* enabled, bootstrap processor */
		st32(p + 4, 0x600);		 /* family 6 */
		st32(p + 8, 0x201);		 /* FPU, APIC */
	}
	p[0] = MP_BUS;
	memcpy(p + 2, "ISA   ", 6);
	p += MPC_SMALL;
	p[0] = MP_IOAPIC;
	p[1] = ioapic_id;
	p[2] = IOAPIC_VERSION;
	p[3] = 0x1; /* enabled */
	st32(p + 4, (uint32_t)CV_IOAPIC_BASE);
	p += MPC_SMALL;
	for (uint8_t irq = 0; irq < ISA_IRQS; irq++)
		p = intsrc(p, MP_INTSRC, MP_INT, irq, ioapic_id, irq);
	p = intsrc(p, MP_LINTSRC, MP_EXTINT, 0, 0xff, 0); /* LINT0 of every CPU */
	p = intsrc(p, MP_LINTSRC, MP_NMI, 0, 0xff, 1);	  /* LINT1 of every CPU */
	len = (size_t)(p - mpc);

	memcpy(mpc, "PCMP", 4);
	st16(mpc + 4, (uint16_t)len);
	mpc[6] = 4; /* spec 1.4 */
	memcpy(mpc + 8, "CELLVM  ", 8);
	memcpy(mpc + 16, "CELLVM 0.1  ", 12);
	st16(mpc + 34, (uint16_t)(ncpus + 1 + 1 + ISA_IRQS + 2));
	st32(mpc + 36, (uint32_t)CV_LAPIC_BASE);
	mpc[7] = checksum(mpc, len);

	table = CV_BOOT_MPTABLE + MPF_SIZE;
	if (len > 0xa0000 - table)
		table = CV_BOOT_MPTABLE_HIGH;
	memcpy(mpf, "_MP_", 4);
	st32(mpf + 4, (uint32_t)table);
	mpf[8] = 1; /* length in 16-byte units */
	mpf[9] = 4;
	/* feature bytes 0: a configuration table is present, virtual wire mode */
	mpf[10] = checksum(mpf, MPF_SIZE);

	if (!gmem__ptr(gm, CV_BOOT_MPTABLE, MPF_SIZE) || !gmem__ptr(gm, table, len))
		return -ENOSPC;
	gmem__write(gm, CV_BOOT_MPTABLE, mpf, MPF_SIZE);
	gmem__write(gm, table, mpc, len);
	return 0;
}
