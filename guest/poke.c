/* SPDX-License-Identifier: MIT */
/*
 * poke: addr=A val=V [size=4|8] [read=1]: one MMIO access, then report it.
 * Used by the confinement tests to make a device process misbehave on
 * request (the test device's MISBEHAVE register) and by register tests.
 * After the access it prints "poke: done" and exits with status 0 unless
 * hold=1, when it keeps running until the VMM stops it.
 */
#include "rt.h"

int main(void)
{
	uint64_t addr = rt_cmdline_u64("addr", 0), val = rt_cmdline_u64("val", 0);
	uint64_t size = rt_cmdline_u64("size", 4);

	if (!addr) {
		rt_printf("poke: no addr= on the command line\n");
		return 2;
	}
	if (rt_cmdline_u64("read", 0)) {
		uint64_t v = size == 8 ? mmio_read64(addr) : mmio_read32(addr);
		rt_printf("poke: read 0x%lx = 0x%lx\n", addr, v);
	} else {
		if (size == 8)
			mmio_write64(addr, val);
		else
			mmio_write32(addr, (uint32_t)val);
		rt_printf("poke: wrote 0x%lx to 0x%lx\n", val, addr);
	}
	rt_printf("poke: done\n");
	while (rt_cmdline_u64("hold", 0))
		rt_sleep_us(100000);
	return 0;
}
