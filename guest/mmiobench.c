/* SPDX-License-Identifier: MIT */
/*
 * mmiobench: iters=N (default 100000) 32-bit reads, then writes, of
 * CV_MMIO_TESTDEV between benchmark marks 1, 2 and 3, with in-guest TSC
 * totals. The VMM's marks give wall-clock figures; this gives cycles.
 */
#include "rt.h"
#include "abi.h"

int main(void)
{
	uint64_t n = rt_cmdline_u64("iters", 100000), i, t0, t1, t2, hz;
	uint32_t sum = 0;

	hz = rt_tsc_hz();
	rt_printf("mmiobench: iters %lu testdev 0x%llx tsc %lu kHz\n", n, CV_MMIO_TESTDEV,
		  hz / 1000);
	rt_mark(1);
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		sum += mmio_read32(CV_MMIO_TESTDEV);
	t1 = rdtsc();
	rt_mark(2);
	for (i = 0; i < n; i++)
		mmio_write32(CV_MMIO_TESTDEV, (uint32_t)i);
	t2 = rdtsc();
	rt_mark(3);
	rt_printf("mmiobench: reads %lu cycles %lu (%lu per op)\n", n, t1 - t0,
		  n ? (t1 - t0) / n : 0);
	rt_printf("mmiobench: writes %lu cycles %lu (%lu per op)\n", n, t2 - t1,
		  n ? (t2 - t1) / n : 0);
	if (hz && n)
		rt_printf("mmiobench: read %lu ns/op, write %lu ns/op\n",
			  (t1 - t0) / n * 1000000000 / hz, (t2 - t1) / n * 1000000000 / hz);
	rt_printf("mmiobench: read checksum 0x%x\n", sum);
	return 0;
}
