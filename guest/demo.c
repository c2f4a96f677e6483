/* SPDX-License-Identifier: MIT */
/*
 * demo: banner, cpu, memory, command line, then "alive N" about every second.
 * With a Bochs VBE adapter (PCI 1234:1111) it also shows a title screen with
 * the banner and the heartbeat counter; without one the serial output is
 * exactly the same.
 */
#include "rt.h"
#include "vga/vga.h"

#define DEMO_BG	   0x102040
#define DEMO_FG	   0xffffff
#define DEMO_LIVE  0x40ff40
#define DEMO_SCALE 4

static int demo_screen(struct vga *v, const char *vendor)
{
	char line[80];

	if (vga_probe(v) || vga_set_mode(v, 800, 600))
		return 0;
	vga_fill(v, DEMO_BG);
	vga_text(v, 32, 32, "cellvm demo guest", DEMO_FG, DEMO_BG, DEMO_SCALE);
	rt_snprintf(line, sizeof(line), "cpu: %s  ram: %lu MiB", vendor, rt_ram_bytes() >> 20);
	vga_text(v, 32, 112, line, DEMO_FG, DEMO_BG, 2);
	return 1;
}

static void demo_alive(const struct vga *v, unsigned long n)
{
	char line[32];

	rt_snprintf(line, sizeof(line), "alive %lu", n);
	vga_text(v, 32, 160, line, DEMO_LIVE, DEMO_BG, 2);
}

int main(void)
{
	char vendor[13];
	uint32_t r[4];
	uint64_t hz, next;
	unsigned long n = 0;
	int have_timer, screen;
	struct vga v;

	rt_printf("cellvm demo guest\n");
	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	rt_printf("cpu: %s\n", vendor);
	rt_printf("ram: %lu MiB\n", rt_ram_bytes() >> 20);
	rt_printf("cmdline: %s\n", rt_cmdline());
	screen = demo_screen(&v, vendor);
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
		if (screen)
			demo_alive(&v, n);
		next += hz;
	}
}
