/* SPDX-License-Identifier: MIT */
/* demo: banner, cpu, memory, command line, then "alive N" about every second. */
#include "rt.h"

int main(void)
{
	char vendor[13];
	uint32_t r[4];
	uint64_t hz, next;
	unsigned long n = 0;
	int have_timer;

	rt_printf("cellvm demo guest\n");
	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	rt_printf("cpu: %s\n", vendor);
	rt_printf("ram: %lu MiB\n", rt_ram_bytes() >> 20);
	rt_printf("cmdline: %s\n", rt_cmdline());
	hz = rt_tsc_hz();
	have_timer = hz != 0;
	if (have_timer) {
		rt_printf("tsc: %lu kHz\n", hz / 1000);
	} else {
		/* No LAPIC timer interrupt: spin on the TSC, frequency from CPUID or a guess. */
		cpuid(0, 0, r);
		if (r[0] >= 0x16) {
			cpuid(0x16, 0, r);
			hz = (uint64_t)(r[0] & 0xffff) * 1000000;
		}
		if (!hz)
			hz = 2000000000ULL;
		rt_printf("tsc: no LAPIC timer, assuming %lu kHz\n", hz / 1000);
	}
	next = rdtsc() + hz;
	for (;;) {
		uint64_t now = rdtsc();

		if (now < next) {
			if (have_timer)
				rt_sleep_us((next - now) * 1000000 / hz);
			else
				cpu_relax();
			continue;
		}
		rt_printf("alive %lu\n", ++n);
		next += hz;
	}
}
