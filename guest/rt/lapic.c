/* SPDX-License-Identifier: MIT */
/* Local APIC (MMIO at CPL3), its timer, and waiting for interrupts. */
#include "rt.h"
#include "internal.h"

#define LAPIC_ID	 0x020
#define LAPIC_SVR	 0x0f0
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_LVT_LINT0	 0x350
#define LAPIC_LVT_LINT1	 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	 0x390
#define LAPIC_TIMER_DIV	 0x3e0
#define LVT_MASKED	 (1u << 16)
#define LVT_PERIODIC	 (1u << 17)

static rt_irq_fn handlers[256];
static uint64_t seen[256];
static uint64_t tsc_hz;

uint32_t rt_lapic_read(uint32_t reg)
{
	return mmio_read32(RT_LAPIC_BASE + reg);
}

void rt_lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(RT_LAPIC_BASE + reg, v);
}

uint32_t rt_lapic_id(void)
{
	return rt_lapic_read(LAPIC_ID) >> 24;
}

void rt_lapic_enable(void)
{
	rt_lapic_write(LAPIC_SVR, 0x100 | RT_VEC_SPURIOUS);
	rt_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | RT_VEC_TIMER);
}

void rt_timer_oneshot(uint32_t ticks)
{
	rt_lapic_write(LAPIC_TIMER_DIV, 0xb); /* divide by 1 */
	rt_lapic_write(LAPIC_LVT_TIMER, RT_VEC_TIMER);
	rt_lapic_write(LAPIC_TIMER_INIT, ticks);
}

void rt_timer_periodic(uint32_t ticks)
{
	rt_lapic_write(LAPIC_TIMER_DIV, 0xb);
	rt_lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | RT_VEC_TIMER);
	rt_lapic_write(LAPIC_TIMER_INIT, ticks);
}

void rt_timer_stop(void)
{
	rt_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | RT_VEC_TIMER);
	rt_lapic_write(LAPIC_TIMER_INIT, 0);
}

void rt_sti(void)
{
	rt_svc0(RT_SVC_STI);
}

void rt_cli(void)
{
	rt_svc0(RT_SVC_CLI);
}

void rt_wait_ne(const volatile uint64_t *p, uint64_t v)
{
	while (*p == v)
		rt_svc2(RT_SVC_HALT_IF_EQ, (uint64_t)p, v);
}

void rt_irq_register(unsigned int vector, rt_irq_fn fn)
{
	if (vector < 256) {
		seen[vector] = rt_irq_count[vector];
		handlers[vector] = fn;
	}
}

int rt_irq_poll(void)
{
	unsigned int v;
	int ran = 0;

	for (v = RT_VEC_FIRST_IRQ; v < 256; v++) {
		uint64_t c = rt_irq_count[v];

		if (c != seen[v]) {
			seen[v] = c;
			if (handlers[v]) {
				handlers[v](v, c);
				ran++;
			}
		}
	}
	return ran;
}

int rt_irq_wait(void)
{
	uint64_t t = rt_irq_total;
	int ran = rt_irq_poll();

	if (ran)
		return ran;
	rt_wait_ne(&rt_irq_total, t);
	return rt_irq_poll();
}

void rt_sleep_us(uint64_t us)
{
	while (us) {
		uint64_t chunk = us > 4000000 ? 4000000 : us; /* 32-bit count at 1 GHz */
		uint64_t c = rt_irq_count[RT_VEC_TIMER];

		rt_timer_oneshot((uint32_t)(chunk * (RT_LAPIC_HZ / 1000000)));
		rt_wait_ne(&rt_irq_count[RT_VEC_TIMER], c);
		us -= chunk;
	}
}

/*
 * One 10 ms LAPIC one-shot, timed with the TSC. Preemption of the vCPU and
 * late delivery lengthen it; on a host that is itself emulated (the KVM box:
 * QEMU TCG under load) a one-shot was also seen ending after 0.5% of its
 * time. So the median of five is kept: robust to two outliers either way.
 */
static uint64_t tsc_per_10ms(void)
{
	uint64_t c = rt_irq_count[RT_VEC_TIMER], t0;

	rt_timer_oneshot((uint32_t)(RT_LAPIC_HZ / 100));
	t0 = rdtsc();
	while (rt_irq_count[RT_VEC_TIMER] == c) {
		cpu_relax();
		if (rdtsc() - t0 > (1ULL << 36))
			return 0; /* no timer interrupt (tens of seconds) */
	}
	return rdtsc() - t0;
}

uint64_t rt_tsc_hz(void)
{
	uint64_t t[5], x;
	int i, j;

	if (tsc_hz)
		return tsc_hz;
	for (i = 0; i < 5; i++) {
		x = tsc_per_10ms();
		if (!x)
			return 0;
		for (j = i; j > 0 && t[j - 1] > x; j--) /* insertion sort */
			t[j] = t[j - 1];
		t[j] = x;
	}
	tsc_hz = t[2] * 100;
	return tsc_hz;
}

#define IOAPIC_SEL 0x00
#define IOAPIC_WIN 0x10

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(RT_IOAPIC_BASE + IOAPIC_SEL, reg);
	mmio_write32(RT_IOAPIC_BASE + IOAPIC_WIN, v);
}

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(RT_IOAPIC_BASE + IOAPIC_SEL, reg);
	return mmio_read32(RT_IOAPIC_BASE + IOAPIC_WIN);
}

int rt_ioapic_route(unsigned int gsi, unsigned int vector, uint32_t apic_id, int level_low)
{
	uint32_t max = (ioapic_read(1) >> 16) & 0xff, lo;

	if (gsi > max || vector < RT_VEC_FIRST_IRQ || vector >= RT_VEC_SPURIOUS)
		return -1;
	lo = vector | (level_low ? (1u << 15) | (1u << 13) : 0);
	ioapic_write(0x10 + 2 * gsi, 1u << 16); /* mask while changing */
	ioapic_write(0x11 + 2 * gsi, apic_id << 24);
	ioapic_write(0x10 + 2 * gsi, lo);
	return 0;
}

void rt_ioapic_mask(unsigned int gsi)
{
	if (gsi <= ((ioapic_read(1) >> 16) & 0xff))
		ioapic_write(0x10 + 2 * gsi, 1u << 16);
}
