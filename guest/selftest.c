/* SPDX-License-Identifier: MIT */
/*
 * selftest: checks the runtime and the VMM it runs on. Prints
 * "selftest: PASS" and exits 0 (or exit=N), or "selftest: FAIL <what>" and
 * exits 1. Command line:
 *   exit=N        exit status after passing
 *   mem_mib=N     MiB of RAM to pattern-test (default 16)
 *   fault=ud|pf|gp  raise that exception (tests the fault reporter)
 *   irqtest=serial  also check an IOAPIC-routed device interrupt: COM1's
 *                 transmitter-empty interrupt (GSI 4) on vector 0x30
 *   st.str=... st.flag st.num=...  when st.str is present, checked against
 *                 st.str=world (last wins), st.flag bare, st.num=42
 */
#include "rt.h"
#include "internal.h"

static int failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			rt_printf("selftest: FAIL ");                                              \
			rt_printf(__VA_ARGS__);                                                    \
			rt_printf("\n");                                                           \
			failed = 1;                                                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static void check_memmap(void)
{
	const struct rt_memmap_entry *m;
	unsigned int n, i, j;
	int image_in_ram = 0;

	CHECK(rt_start_info() != 0, "start_info: not PVH-booted (bad magic)");
	CHECK(rt_start_info_version() >= 1, "start_info: version %u < 1", rt_start_info_version());
	m = rt_memmap(&n);
	CHECK(n > 0, "memmap: no entries");
	for (i = 0; i < n; i++)
		rt_printf("memmap: 0x%016lx-0x%016lx type %u\n", m[i].addr, m[i].addr + m[i].size,
			  m[i].type);
	for (i = 0; i < n; i++) {
		if (m[i].size == 0)
			continue; /* qboot appends an empty entry */
		CHECK(m[i].addr + m[i].size > m[i].addr, "memmap: entry %u wraps", i);
		if (m[i].type != RT_MEM_RAM)
			continue;
		if (m[i].addr <= rt_image_start() && m[i].addr + m[i].size >= rt_image_end())
			image_in_ram = 1;
		for (j = 0; j < i; j++) {
			if (m[j].type != RT_MEM_RAM)
				continue;
			CHECK(m[i].addr >= m[j].addr + m[j].size ||
				  m[j].addr >= m[i].addr + m[i].size,
			      "memmap: RAM entries %u and %u overlap", j, i);
		}
	}
	CHECK(image_in_ram, "memmap: image 0x%lx-0x%lx not inside RAM", rt_image_start(),
	      rt_image_end());
	CHECK(rt_ram_bytes() >= 16ULL << 20, "memmap: only %lu bytes of RAM", rt_ram_bytes());
	rt_printf("memmap: %u entries, %lu MiB RAM\n", n, rt_ram_bytes() >> 20);
}

static uint64_t pattern(uint64_t addr, uint64_t seed)
{
	uint64_t x = addr ^ seed;

	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	return x ^ (x >> 29);
}

static void check_memory(void)
{
	const struct rt_memmap_entry *m;
	uint64_t want = rt_cmdline_u64("mem_mib", 16) << 20, done = 0;
	unsigned int n, i, pass;

	m = rt_memmap(&n);
	for (i = 0; i < n && done < want; i++) {
		uint64_t s = m[i].addr, e = m[i].addr + m[i].size;

		if (m[i].type != RT_MEM_RAM)
			continue;
		if (s < rt_image_end())
			s = rt_image_end();
		if (e > 0xc0000000ULL)
			e = 0xc0000000ULL; /* identity map ends at 4 GiB; RAM below 3 GiB */
		s = (s + 4095) & ~4095ULL;
		e &= ~4095ULL;
		if (s >= e)
			continue;
		if (e - s > want - done)
			e = s + (want - done);
		for (pass = 0; pass < 2; pass++) {
			uint64_t seed = pass ? ~0x5a5a5a5a5a5a5a5aULL : 0x0123456789abcdefULL;
			volatile uint64_t *p;

			for (p = (volatile uint64_t *)s; (uint64_t)p < e; p++)
				*p = pattern((uint64_t)p, seed);
			for (p = (volatile uint64_t *)s; (uint64_t)p < e; p++)
				CHECK(*p == pattern((uint64_t)p, seed),
				      "memory at 0x%lx: read 0x%lx wrote 0x%lx", (uint64_t)p, *p,
				      pattern((uint64_t)p, seed));
		}
		done += e - s;
	}
	CHECK(done == want, "memory: only %lu of %lu bytes of RAM testable", done, want);
	rt_printf("memory: %lu MiB ok\n", done >> 20);
}

static void check_cmdline(void)
{
	const char *v;

	rt_cmdline_parse("a=1 b  c=x=y d= e=2 a=3\tf");
	CHECK((v = rt_cmdline_get("a")) && !strcmp(v, "3"), "cmdline: a (last wins)");
	CHECK((v = rt_cmdline_get("b")) && !strcmp(v, ""), "cmdline: bare b");
	CHECK((v = rt_cmdline_get("c")) && !strcmp(v, "x=y"), "cmdline: c=x=y");
	CHECK((v = rt_cmdline_get("d")) && !strcmp(v, ""), "cmdline: empty d=");
	CHECK((v = rt_cmdline_get("f")) && !strcmp(v, ""), "cmdline: tab separator");
	CHECK(!rt_cmdline_get("x") && !rt_cmdline_get("y") && !rt_cmdline_get(""),
	      "cmdline: absent");
	CHECK(rt_cmdline_u64("e", 7) == 2 && rt_cmdline_u64("c", 7) == 7 &&
		  rt_cmdline_u64("b", 7) == 7 && rt_cmdline_u64("zz", 7) == 7,
	      "cmdline: numbers");
	rt_cmdline_parse("n=0x10 m=18446744073709551615 o=18446744073709551616 p=0x q=12a");
	CHECK(rt_cmdline_u64("n", 0) == 16 && rt_cmdline_u64("m", 0) == UINT64_MAX &&
		  rt_cmdline_u64("o", 5) == 5 && rt_cmdline_u64("p", 5) == 5 &&
		  rt_cmdline_u64("q", 5) == 5,
	      "cmdline: number edge cases");
	rt_cmdline_parse("");
	CHECK(!rt_cmdline_get("n"), "cmdline: empty line");
	rt_cmdline_parse(rt_cmdline());
	if (rt_cmdline_get("st.str")) {
		CHECK(!strcmp(rt_cmdline_get("st.str"), "world"), "cmdline: st.str=%s",
		      rt_cmdline_get("st.str"));
		CHECK((v = rt_cmdline_get("st.flag")) && !*v, "cmdline: st.flag");
		CHECK(rt_cmdline_u64("st.num", 0) == 42, "cmdline: st.num");
		rt_printf("cmdline: boot command line checked\n");
	}
	rt_printf("cmdline: ok\n");
}

static void check_cpuid(void)
{
	uint32_t r[4];
	char vendor[13];
	volatile double a = 1.5, b = 2.25;
	int i;

	cpuid(0, 0, r);
	CHECK(r[0] >= 1, "cpuid: max leaf %u", r[0]);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	for (i = 0; i < 12; i++)
		CHECK(vendor[i] >= 0x20 && vendor[i] < 0x7f, "cpuid: vendor not printable");
	cpuid(1, 0, r);
	CHECK(r[3] & (1u << 9), "cpuid: no APIC");
	CHECK(r[3] & (1u << 26), "cpuid: no SSE2");
	CHECK(a * b == 3.375, "sse: 1.5 * 2.25 != 3.375");
	cpuid(0x80000000, 0, r);
	CHECK(r[0] >= 0x80000001, "cpuid: no extended leaves");
	cpuid(0x80000001, 0, r);
	CHECK(r[3] & (1u << 29), "cpuid: no long mode");
	rt_printf("cpuid: %s ok\n", vendor);
}

static volatile unsigned int cb_calls;
static volatile uint64_t cb_last;

static void timer_cb(unsigned int vector, uint64_t count)
{
	if (vector == RT_VEC_TIMER) {
		cb_calls++;
		cb_last = count;
	}
}

static void check_timer(void)
{
	uint64_t hz, c0, t0, t1;
	int i;

	hz = rt_tsc_hz();
	CHECK(hz != 0, "lapic timer: no interrupt");
	CHECK(hz >= 100000000ULL, "tsc: %lu Hz is implausible", hz);
	/* one-shot, waited for with the CPL0 sti;hlt service */
	c0 = rt_irq_count[RT_VEC_TIMER];
	t0 = rdtsc();
	rt_sleep_us(20000);
	t1 = rdtsc();
	CHECK(rt_irq_count[RT_VEC_TIMER] == c0 + 1, "lapic timer: one-shot fired %lu times",
	      rt_irq_count[RT_VEC_TIMER] - c0);
	/* Duration is reported, never asserted: timing depends on host load. */
	rt_printf("lapic timer: 20 ms one-shot took %lu TSC cycles\n", t1 - t0);
	/* periodic, dispatched to a CPL3 callback */
	rt_irq_register(RT_VEC_TIMER, timer_cb);
	c0 = rt_irq_count[RT_VEC_TIMER];
	rt_timer_periodic((uint32_t)(RT_LAPIC_HZ / 1000));
	for (i = 0; i < 5; i++)
		rt_irq_wait();
	rt_timer_stop();
	CHECK(cb_calls >= 1 && cb_calls <= 5, "irq callback: %u calls", cb_calls);
	CHECK(rt_irq_count[RT_VEC_TIMER] >= c0 + 5, "lapic timer: periodic fired %lu times",
	      rt_irq_count[RT_VEC_TIMER] - c0);
	CHECK(cb_last > c0, "irq callback: stale count");
	rt_irq_register(RT_VEC_TIMER, NULL);
	/* Timing is only reported: the host is shared, so no wall-clock verdicts. */
	rt_printf("lapic timer: ok, tsc %lu kHz, 20 ms sleep took %lu us, %u callbacks\n",
		  hz / 1000, (t1 - t0) * 1000 / (hz / 1000), cb_calls);
}

static void check_ioapic_serial(void)
{
	const unsigned int vec = 0x30;
	uint64_t c0 = rt_irq_count[vec], t0;

	CHECK(rt_ioapic_route(4, vec, rt_lapic_id(), 0) == 0, "ioapic: cannot route GSI 4");
	uint8_t mcr = inb(0x3f8 + 4);

	outb(0x3f8 + 4, (uint8_t)(mcr | 0x08)); /* MCR.OUT2 gates the IRQ line on a PC */
	outb(0x3f8 + 1, 0x02);			/* IER: transmitter holding register empty */
	t0 = rdtsc();
	while (rt_irq_count[vec] == c0 && rdtsc() - t0 < (1ULL << 34))
		cpu_relax();
	outb(0x3f8 + 1, 0x00);
	outb(0x3f8 + 4, mcr);
	rt_ioapic_mask(4);
	CHECK(rt_irq_count[vec] != c0, "ioapic: no COM1 interrupt on vector 0x%x", vec);
	rt_printf("ioapic: COM1 interrupt delivered (%lu)\n", rt_irq_count[vec] - c0);
}

static void maybe_fault(void)
{
	const char *f = rt_cmdline_get("fault");

	if (!f)
		return;
	rt_printf("selftest: raising %s\n", f);
	if (!strcmp(f, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(f, "pf"))
		(void)mmio_read32(0x100000000000ULL); /* beyond the identity map */
	else if (!strcmp(f, "gp"))
		__asm__ volatile("cli"); /* privileged at CPL3 */
}

int main(void)
{
	rt_printf("selftest: cellvm guest runtime\n");
	maybe_fault();
	check_memmap();
	if (!failed)
		check_cmdline();
	if (!failed)
		check_cpuid();
	if (!failed)
		check_memory();
	if (!failed)
		check_timer();
	if (!failed && rt_cmdline_get("irqtest") && !strcmp(rt_cmdline_get("irqtest"), "serial"))
		check_ioapic_serial();
	if (failed)
		return 1;
	rt_printf("selftest: PASS\n");
	return (int)rt_cmdline_u64("exit", 0);
}
