/* SPDX-License-Identifier: MIT */
/* smp: start the APs, each reports in, the boot cpu counts them. */
#include "rt.h"
#include "smp.h"

static void ap_main(unsigned int cpu)
{
	rt_printf("cpu %u online (apic id %u)\n", cpu, rt_lapic_id());
}

int main(void)
{
	unsigned int expected = rt_smp_expected();
	uint64_t timeout_us = rt_cmdline_u64("timeout_ms", 5000) * 1000;
	uint64_t hz = rt_tsc_hz(), t0;

	rt_printf("smp: expecting %u cpus (cpus= %lu, MP table %d, MADT %d)\n", expected,
		  rt_cmdline_u64("cpus", 0), rt_smp_mp_cpus(), rt_smp_madt_cpus());
	rt_printf("cpu 0 online (apic id %u)\n", rt_lapic_id());
	if (expected > 1 && rt_smp_start(ap_main)) {
		rt_printf("smp: FAIL trampoline page 0x%x is not RAM\n", RT_TRAMPOLINE_PA);
		return 2;
	}
	t0 = rdtsc();
	while (rt_smp_online < expected) {
		if ((rdtsc() - t0) / (hz / 1000000) > timeout_us) {
			rt_printf("smp: FAIL %u of %u cpus online\n", rt_smp_online, expected);
			return 3;
		}
		rt_sleep_us(1000);
	}
	rt_sleep_us(1000); /* let the last AP finish its line */
	rt_printf("smp: %u cpus online\n", rt_smp_online);
	return 0;
}
