/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a Linux guest needs to find its CPUs and PCI bus and to
 * power off and reboot (ACPI 6.4): RSDP, RSDT and XSDT, FADT (a PM1a event
 * and control block for S5, a reset register), FACS, MADT (local APICs, the
 * IOAPIC, the SCI override, LINT1 NMI) and a DSDT with the PCI root bridge
 * and \_S5. Written at CV_BOOT_ACPI, a reserved area of low memory. The
 * vcpu-worker answers the PM ports (platform.c).
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

#define OEM_ID	  "CELLVM"
#define OEM_TABLE "CELLVM  "

struct blob {
	uint8_t b[CV_BOOT_ACPI_LEN];
	size_t n;
	bool full;
};

static void put(struct blob *t, const void *p, size_t len)
{
	if (t->full || len > sizeof(t->b) - t->n) {
		t->full = true;
		return;
	}
	memcpy(t->b + t->n, p, len);
	t->n += len;
}

static void put8(struct blob *t, uint8_t v)
{
	put(t, &v, 1);
}

static void put16(struct blob *t, uint16_t v)
{
	uint8_t b[2];
	st16(b, v);
	put(t, b, 2);
}

static void put32(struct blob *t, uint32_t v)
{
	uint8_t b[4];
	st32(b, v);
	put(t, b, 4);
}

static void put64(struct blob *t, uint64_t v)
{
	uint8_t b[8];
	st64(b, v);
	put(t, b, 8);
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

/* Standard 36-byte header; the length and checksum are fixed by end(). */
static size_t begin(struct blob *t, const char *sig, uint8_t rev)
{
	size_t at = t->n;
	put(t, sig, 4);
	put32(t, 0);
	put8(t, rev);
	put8(t, 0);
	put(t, OEM_ID, 6);
	put(t, OEM_TABLE, 8);
	put32(t, 1);
	put(t, "CVMM", 4);
	put32(t, 1);
	return at;
}

static void end(struct blob *t, size_t at)
{
	if (t->full)
		return;
	st32(t->b + at + 4, (uint32_t)(t->n - at));
	t->b[at + 9] = (uint8_t)-sum(t->b + at, t->n - at);
}

static void align(struct blob *t, size_t a)
{
	while (!t->full && t->n % a)
		put8(t, 0);
}

/* Generic Address Structure: an I/O port register of `bits`, accessed in
 * units of `access` (1 byte, 2 word); port 0 is "not present". */
static void gas_io(struct blob *t, uint16_t port, uint8_t bits, uint8_t access)
{
	put8(t, port ? 1 : 0); /* SystemIO */
	put8(t, port ? bits : 0);
	put8(t, 0);
	put8(t, port ? access : 0);
	put64(t, port);
}

/* ---- AML ---------------------------------------------------------------- */

/* A PkgLength-prefixed object: opcode bytes, then the body built by fn. */
struct aml {
	uint8_t b[512];
	size_t n;
};

static void aml_put(struct aml *a, const void *p, size_t len)
{
	if (len <= sizeof(a->b) - a->n) {
		memcpy(a->b + a->n, p, len);
		a->n += len;
	} else {
		a->n = sizeof(a->b) + 1; /* overflow: caught by the caller's size check */
	}
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_put(a, &v, 1);
}

/* Integer constant in its shortest encoding. */
static void aml_int(struct aml *a, uint32_t v)
{
	uint8_t b[4];
	if (v <= 1) {
		aml_byte(a, (uint8_t)v); /* ZeroOp, OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		st16(b, (uint16_t)v);
		aml_put(a, b, 2);
	} else {
		aml_byte(a, 0x0c);
		st32(b, v);
		aml_put(a, b, 4);
	}
}

/* Wrap body (len bytes) as: op[, op2] PkgLength body. PkgLength counts itself. */
static void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
	size_t len = body->n + 1;
	aml_put(a, op, oplen);
	if (len < 0x40) {
		aml_byte(a, (uint8_t)len);
	} else {
		len++; /* a two-byte PkgLength (bodies here stay below 4 KiB) */
		aml_byte(a, (uint8_t)(0x40 | (len & 0xf)));
		aml_byte(a, (uint8_t)(len >> 4));
	}
	aml_put(a, body->b, body->n);
}

static void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, 0x08); /* NameOp */
	aml_put(a, seg, 4);
}

/* The PCI root bridge's resources: bus 0, all I/O but 0xcf8-0xcff, the 32-bit window. */
static void pci_crs(struct aml *a)
{
	static const uint8_t res[] = {
	    /* WordBusNumber: producer, min/max fixed, 0..0 */
	    0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x01, 0x00,
	    /* IO (Decode16, 0xcf8, 0xcf8, 1, 8): the configuration ports */
	    0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	    /* WordIO: 0x0000-0x0cf7 */
	    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00,
	    0xf8, 0x0c,
	    /* WordIO: 0x0d00-0xffff */
	    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00,
	    0x00, 0xf3,
	    /* DWordMemory: read-write, non-cacheable, the 32-bit BAR window */
	    0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, (uint8_t)CV_PCI_MMIO_BASE,
	    (uint8_t)(CV_PCI_MMIO_BASE >> 8), (uint8_t)(CV_PCI_MMIO_BASE >> 16),
	    (uint8_t)(CV_PCI_MMIO_BASE >> 24), (uint8_t)(CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE - 1),
	    (uint8_t)((CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE - 1) >> 8),
	    (uint8_t)((CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE - 1) >> 16),
	    (uint8_t)((CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE - 1) >> 24), 0x00, 0x00, 0x00, 0x00,
	    (uint8_t)CV_PCI_MMIO_SIZE, (uint8_t)(CV_PCI_MMIO_SIZE >> 8),
	    (uint8_t)(CV_PCI_MMIO_SIZE >> 16), (uint8_t)(CV_PCI_MMIO_SIZE >> 24),
	    /* EndTag */
	    0x79, 0x00};
	struct aml buf = {.n = 0};
	static const uint8_t buffer_op = 0x11;

	aml_int(&buf, sizeof(res));
	aml_put(&buf, res, sizeof(res));
	aml_name(a, "_CRS");
	aml_pkg(a, &buffer_op, 1, &buf);
}

/* Scope (\_SB) { Device (PCI0) { ... } }  Name (\_S5, Package { S5, S5, 0, 0 }) */
static size_t dsdt_aml(uint8_t *out, size_t cap)
{
	static const uint8_t device_op[] = {0x5b, 0x82}, scope_op = 0x10, package_op = 0x12;
	struct aml dev = {.n = 0}, pci = {.n = 0}, sb = {.n = 0}, s5 = {.n = 0}, all = {.n = 0};

	aml_put(&pci, "PCI0", 4);
	aml_name(&pci, "_HID");
	aml_int(&pci, 0x030ad041); /* EisaId ("PNP0A03") */
	aml_name(&pci, "_ADR");
	aml_int(&pci, 0);
	aml_name(&pci, "_UID");
	aml_int(&pci, 0);
	aml_name(&pci, "_BBN");
	aml_int(&pci, 0);
	pci_crs(&pci);
	aml_pkg(&dev, device_op, 2, &pci);

	aml_put(&sb, "\\_SB_", 5);
	aml_put(&sb, dev.b, dev.n);
	aml_pkg(&all, &scope_op, 1, &sb);

	aml_byte(&s5, 4); /* NumElements */
	aml_int(&s5, CV_ACPI_SLP_TYP_S5);
	aml_int(&s5, CV_ACPI_SLP_TYP_S5);
	aml_int(&s5, 0);
	aml_int(&s5, 0);
	aml_name(&all, "_S5_");
	aml_pkg(&all, &package_op, 1, &s5);

	if (all.n > sizeof(all.b) || all.n > cap)
		return 0;
	memcpy(out, all.b, all.n);
	return all.n;
}

/* ---- tables --------------------------------------------------------------- */

static void fadt(struct blob *t, uint64_t facs, uint64_t dsdt, bool i8042)
{
	size_t at = begin(t, "FACP", 6);
	put32(t, 0); /* FIRMWARE_CTRL: the FACS is in X_FIRMWARE_CTRL */
	put32(t, (uint32_t)dsdt);
	put8(t, 0); /* reserved */
	put8(t, 0); /* preferred PM profile: unspecified */
	put16(t, CV_IRQ_ACPI_SCI);
	put32(t, 0); /* SMI_CMD 0: always in ACPI mode */
	put32(t, 0); /* ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT */
	put32(t, CV_PORT_ACPI_PM1_EVT);
	put32(t, 0);
	put32(t, CV_PORT_ACPI_PM1_CNT);
	put32(t, 0);
	put32(t, 0);	/* PM2_CNT */
	put32(t, 0);	/* PM_TMR: none (Linux uses the TSC or kvm-clock) */
	put32(t, 0);	/* GPE0 */
	put32(t, 0);	/* GPE1 */
	put8(t, 4);	/* PM1_EVT_LEN */
	put8(t, 2);	/* PM1_CNT_LEN */
	put8(t, 0);	/* PM2_CNT_LEN */
	put8(t, 0);	/* PM_TMR_LEN */
	put32(t, 0);	/* GPE0/1 lengths, GPE1 base, CST_CNT */
	put16(t, 101);	/* P_LVL2_LAT > 100: no C2 */
	put16(t, 1001); /* P_LVL3_LAT > 1000: no C3 */
	put32(t, 0);	/* FLUSH_SIZE, FLUSH_STRIDE */
	put8(t, 0);	/* DUTY_OFFSET */
	put8(t, 0);	/* DUTY_WIDTH */
	put8(t, 0);	/* DAY_ALRM */
	put8(t, 0);	/* MON_ALRM */
	put8(t, 0);	/* CENTURY */
	/* IAPC_BOOT_ARCH: 8042 only with the input device, no VGA, no CMOS RTC */
	put16(t, (uint16_t)((i8042 ? 0x2 : 0) | 0x4 | 0x20));
	put8(t, 0);
	/* WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON absent, RESET_REG_SUP */
	put32(t, 0x1 | 0x4 | 0x10 | 0x20 | 0x400);
	gas_io(t, CV_PORT_ACPI_RESET, 8, 1);
	put8(t, CV_ACPI_RESET_VALUE);
	put16(t, 0); /* ARM_BOOT_ARCH */
	put8(t, 4);  /* FADT minor version: 6.4 */
	put64(t, facs);
	put64(t, dsdt);
	gas_io(t, CV_PORT_ACPI_PM1_EVT, 32, 2);
	gas_io(t, 0, 0, 0);
	gas_io(t, CV_PORT_ACPI_PM1_CNT, 16, 2);
	for (int i = 0; i < 7; i++) /* PM1b_CNT PM2_CNT PM_TMR GPE0 GPE1 SLEEP_CTL/STS */
		gas_io(t, 0, 0, 0);
	put64(t, 0); /* hypervisor vendor identity */
	end(t, at);
}

static void madt(struct blob *t, unsigned ncpus)
{
	size_t at = begin(t, "APIC", 5);
	put32(t, (uint32_t)CV_LAPIC_BASE);
	put32(t, 1); /* PCAT_COMPAT: the 8259s exist (KVM's in-kernel PIC) */
	for (unsigned i = 0; i < ncpus; i++) {
		put8(t, 0); /* processor local APIC */
		put8(t, 8);
		put8(t, (uint8_t)i); /* ACPI processor UID */
		put8(t, (uint8_t)i); /* APIC id, as in the MP table */
		put32(t, 1);	     /* enabled */
	}
	put8(t, 1); /* IOAPIC, id after the CPUs' as in the MP table */
	put8(t, 12);
	put8(t, (uint8_t)ncpus);
	put8(t, 0);
	put32(t, (uint32_t)CV_IOAPIC_BASE);
	put32(t, 0); /* GSI base */
	put8(t, 2);  /* interrupt source override: the SCI is active-high, level */
	put8(t, 10);
	put8(t, 0); /* ISA */
	put8(t, CV_IRQ_ACPI_SCI);
	put32(t, CV_IRQ_ACPI_SCI);
	put16(t, 0x000d);
	put8(t, 4); /* local APIC NMI on LINT1 of every processor */
	put8(t, 6);
	put8(t, 0xff);
	put16(t, 0);
	put8(t, 1);
	end(t, at);
}

int acpi__write(struct gmem *gm, unsigned ncpus, bool i8042, uint64_t *rsdp_out)
{
	static struct blob t; /* 64 KiB: not on the vCPU thread's stack */
	const uint64_t base = CV_BOOT_ACPI;
	uint8_t aml[1024];
	size_t aml_len = dsdt_aml(aml, sizeof(aml));
	size_t rsdp, rsdt, xsdt, facs, dsdt, fadt_at, madt_at;

	if (ncpus < 1 || ncpus > 254 || !aml_len)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	rsdp = t.n;
	put(&t, "RSD PTR ", 8);
	put8(&t, 0);
	put(&t, OEM_ID, 6);
	put8(&t, 2); /* revision: ACPI 2.0+ (XSDT) */
	put32(&t, 0);
	put32(&t, 36);
	put64(&t, 0);
	put32(&t, 0); /* extended checksum, reserved */
	align(&t, 64);
	facs = t.n; /* FACS: no checksum, 64-byte aligned */
	put(&t, "FACS", 4);
	put32(&t, 64);
	put32(&t, 0); /* hardware signature */
	put32(&t, 0); /* firmware waking vector */
	put32(&t, 0); /* global lock */
	put32(&t, 0); /* flags */
	put64(&t, 0); /* X firmware waking vector */
	put8(&t, 2);  /* version */
	for (int i = 0; i < 31; i++)
		put8(&t, 0);
	dsdt = t.n;
	size_t at = begin(&t, "DSDT", 2);
	put(&t, aml, aml_len);
	end(&t, at);
	align(&t, 8);
	fadt_at = t.n;
	fadt(&t, base + facs, base + dsdt, i8042);
	align(&t, 8);
	madt_at = t.n;
	madt(&t, ncpus);
	align(&t, 8);
	rsdt = t.n;
	at = begin(&t, "RSDT", 1);
	put32(&t, (uint32_t)(base + fadt_at));
	put32(&t, (uint32_t)(base + madt_at));
	end(&t, at);
	align(&t, 8);
	xsdt = t.n;
	at = begin(&t, "XSDT", 1);
	put64(&t, base + fadt_at);
	put64(&t, base + madt_at);
	end(&t, at);
	if (t.full)
		return -ENOSPC;

	st32(t.b + rsdp + 16, (uint32_t)(base + rsdt));
	st64(t.b + rsdp + 24, base + xsdt);
	t.b[rsdp + 8] = (uint8_t)-sum(t.b + rsdp, 20);
	t.b[rsdp + 32] = (uint8_t)-sum(t.b + rsdp, 36);
	if (!gmem__write(gm, base, t.b, t.n))
		return -ENOSPC;
	*rsdp_out = base + rsdp;
	return 0;
}
