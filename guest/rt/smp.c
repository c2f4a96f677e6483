/* SPDX-License-Identifier: MIT */
/*
 * Application processors: count them (MP table, else cpus=N on the command
 * line), start them with INIT-SIPI-SIPI written to the LAPIC ICR (MMIO,
 * from CPL3), and run a payload function on each at CPL3.
 */
#include "rt.h"
#include "internal.h"
#include "smp.h"

#define LAPIC_ICR_LO	 0x300
#define LAPIC_ICR_HI	 0x310
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_ASSERT	 (1u << 14)
#define ICR_INIT	 (5u << 8)
#define ICR_SIPI	 (6u << 8)
#define ICR_PENDING	 (1u << 12)

extern const char rt_trampoline[], rt_trampoline_end[];
volatile uint32_t rt_smp_next_cpu = 1; /* taken by APs with lock xadd at CPL0 */
volatile uint32_t rt_smp_online = 1;
static void (*ap_fn)(unsigned int cpu);

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint64_t mp_find_in(uint64_t start, uint64_t end)
{
	uint64_t p;

	for (p = start; p + 16 <= end; p += 16) {
		const uint8_t *f = (const uint8_t *)p;

		if (!memcmp(f, "_MP_", 4) && f[8] == 1 && !sum8(f, 16))
			return p;
	}
	return 0;
}

int rt_smp_mp_cpus(void)
{
	uint64_t fp, ebda;
	const uint8_t *f, *t, *e;
	uint32_t cfg, len, count, i;
	int cpus = 0;

	/* cellvm: 0x9fc00; else EBDA, top of base memory, BIOS ROM. */
	fp = mp_find_in(0x9fc00, 0xa0000);
	ebda = (uint64_t)mmio_read16(0x40e) << 4; /* BDA: EBDA segment */
	if (!fp && ebda >= 0x80000 && ebda < 0xa0000)
		fp = mp_find_in(ebda, ebda + 1024);
	if (!fp)
		fp = mp_find_in(0xf0000, 0x100000);
	if (!fp)
		return -1;
	f = (const uint8_t *)fp;
	memcpy(&cfg, f + 4, 4);
	if (!cfg || cfg >= 0x100000)
		return -1;
	t = (const uint8_t *)(uint64_t)cfg;
	if (memcmp(t, "PCMP", 4))
		return -1;
	len = (uint32_t)t[4] | (uint32_t)t[5] << 8;
	count = (uint32_t)t[34] | (uint32_t)t[35] << 8;
	if (len < 44 || cfg + len > 0x100000 || sum8(t, len))
		return -1;
	e = t + 44;
	for (i = 0; i < count && e < t + len; i++) {
		if (e[0] == 0) { /* processor, 20 bytes */
			if (e + 20 > t + len)
				return -1;
			if (e[3] & 1)
				cpus++;
			e += 20;
		} else if (e[0] <= 4) {
			e += 8;
		} else {
			return -1;
		}
	}
	return cpus;
}

/* ACPI: a table at pa of at least min bytes, with a valid checksum; its length or 0. */
static uint32_t acpi_table(uint64_t pa, const char *sig, uint32_t min)
{
	const uint8_t *t = (const uint8_t *)pa;
	uint32_t len;

	if (pa == 0 || pa >= 0xfffff000ULL)
		return 0;
	if (memcmp(t, sig, 4))
		return 0;
	memcpy(&len, t + 4, 4);
	if (len < min || len > 0x100000 || pa + len > 0x100000000ULL || sum8(t, len))
		return 0;
	return len;
}

static uint64_t rsdp_find_in(uint64_t start, uint64_t end)
{
	uint64_t p;

	for (p = start; p + 20 <= end; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8) && !sum8((const uint8_t *)p, 20))
			return p;
	return 0;
}

int rt_smp_madt_cpus(void)
{
	uint64_t rsdp = rt_start_info_rsdp(), sdt, ebda;
	uint32_t len, entsz, i, madt_len = 0;
	const uint8_t *r, *m, *e;
	int xsdt, cpus = 0;

	ebda = (uint64_t)mmio_read16(0x40e) << 4;
	if (!rsdp && ebda >= 0x80000 && ebda < 0xa0000)
		rsdp = rsdp_find_in(ebda, ebda + 1024);
	if (!rsdp)
		rsdp = rsdp_find_in(0xe0000, 0x100000);
	if (!rsdp || rsdp >= 0xfffff000ULL || sum8((const uint8_t *)rsdp, 20))
		return -1;
	r = (const uint8_t *)rsdp;
	xsdt = r[15] >= 2 && !sum8(r, 36);
	if (xsdt)
		memcpy(&sdt, r + 24, 8);
	else {
		uint32_t s32;

		memcpy(&s32, r + 16, 4);
		sdt = s32;
	}
	entsz = xsdt ? 8 : 4;
	len = acpi_table(sdt, xsdt ? "XSDT" : "RSDT", 36);
	if (!len)
		return -1;
	for (i = 36; i + entsz <= len && !madt_len; i += entsz) {
		uint64_t pa = 0;

		memcpy(&pa, (const uint8_t *)sdt + i, entsz);
		madt_len = acpi_table(pa, "APIC", 44);
		m = (const uint8_t *)pa;
	}
	if (!madt_len)
		return -1;
	for (e = m + 44; e + 2 <= m + madt_len; e += e[1]) {
		uint32_t flags;

		if (e[1] < 2 || e + e[1] > m + madt_len)
			return -1;
		if (e[0] == 0 && e[1] >= 8) { /* processor local APIC */
			memcpy(&flags, e + 4, 4);
			cpus += (flags & 1) != 0;
		} else if (e[0] == 9 && e[1] >= 16) { /* processor local x2APIC */
			memcpy(&flags, e + 8, 4);
			cpus += (flags & 1) != 0;
		}
	}
	return cpus;
}

unsigned int rt_smp_expected(void)
{
	int n = (int)rt_cmdline_u64("cpus", 0), mp, madt;

	if (n <= 0) {
		mp = rt_smp_mp_cpus();
		madt = rt_smp_madt_cpus();
		n = mp > madt ? mp : madt;
	}
	if (n < 1)
		n = 1;
	if (n > RT_MAX_CPUS)
		n = RT_MAX_CPUS;
	return (unsigned int)n;
}

void rt_ap_entry(unsigned int cpu)
{
	rt_lapic_enable();
	rt_sti();
	__atomic_add_fetch(&rt_smp_online, 1, __ATOMIC_SEQ_CST);
	if (ap_fn)
		ap_fn(cpu);
	for (;;)
		rt_irq_wait();
}

static void icr(uint32_t lo)
{
	rt_lapic_write(LAPIC_ICR_HI, 0);
	rt_lapic_write(LAPIC_ICR_LO, lo);
	while (rt_lapic_read(LAPIC_ICR_LO) & ICR_PENDING)
		cpu_relax();
}

static int trampoline_in_ram(void)
{
	const struct rt_memmap_entry *m;
	uint64_t s = RT_TRAMPOLINE_PA, e = RT_TRAMPOLINE_PA + 4096;
	unsigned int n, i;

	m = rt_memmap(&n);
	for (i = 0; i < n; i++)
		if (m[i].type == RT_MEM_RAM && m[i].addr <= s && m[i].addr + m[i].size >= e)
			return 1;
	return 0;
}

int rt_smp_start(void (*fn)(unsigned int cpu))
{
	size_t len = (size_t)(rt_trampoline_end - rt_trampoline);

	if (len > 4096 || !trampoline_in_ram())
		return -1;
	ap_fn = fn;
	memcpy((void *)RT_TRAMPOLINE_PA, rt_trampoline, len);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	icr(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	rt_sleep_us(10000);
	icr(ICR_ALL_BUT_SELF | ICR_SIPI | (RT_TRAMPOLINE_PA >> 12));
	rt_sleep_us(200);
	icr(ICR_ALL_BUT_SELF | ICR_SIPI | (RT_TRAMPOLINE_PA >> 12));
	return 0;
}
