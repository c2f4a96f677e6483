/* SPDX-License-Identifier: MIT */
/*
 * blkbench: 4 KiB random-offset reads through the virtio-blk driver, first
 * one at a time (queue depth 1), then 32 in flight. ops=N (default 2000)
 * requests each. Marks 1..2 bracket the QD1 run and 3..4 the QD32 run; the
 * guest prints TSC totals and converted figures.
 */
#include "rt.h"
#include "virtio/vblk.h"

static struct vblk blk;
static uint8_t buf[VBLK_MAX_INFLIGHT][4096] __attribute__((aligned(4096)));

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void report(const char *what, uint64_t ops, uint64_t cycles, uint64_t hz)
{
	rt_printf("blkbench: %s ops %lu cycles %lu", what, ops, cycles);
	if (hz && ops && cycles)
		rt_printf(" (%lu ns/op, %lu IOPS)", cycles / ops * 1000000000 / hz,
			  ops * hz / cycles);
	rt_printf("\n");
}

int main(void)
{
	uint64_t ops = rt_cmdline_u64("ops", 2000), hz = rt_tsc_hz(), seed = 88172645463325252ULL;
	uint64_t blocks, i, t0, t1, submitted = 0, done = 0;
	int n, st;

	if (vblk_init(&blk, 0))
		return 1;
	blocks = blk.capacity / 8;
	if (!blocks) {
		rt_printf("blkbench: disk smaller than 4 KiB\n");
		return 1;
	}
	rt_printf("blkbench: %lu sectors, %lu ops per run\n", blk.capacity, ops);

	rt_mark(1);
	t0 = rdtsc();
	for (i = 0; i < ops; i++) {
		st = vblk_rw(&blk, VBLK_T_IN, rnd(&seed) % blocks * 8, buf[0], 4096);
		if (st != VBLK_S_OK) {
			rt_printf("blkbench: read failed: %d\n", st);
			return 1;
		}
	}
	t1 = rdtsc();
	rt_mark(2);
	report("qd1 read4k", ops, t1 - t0, hz);

	rt_mark(3);
	t0 = rdtsc();
	while (done < ops) {
		int kicked = 0, s;

		while (submitted < ops &&
		       (s = vblk_submit(&blk, VBLK_T_IN, rnd(&seed) % blocks * 8,
					buf[submitted % VBLK_MAX_INFLIGHT], 4096)) >= 0) {
			submitted++;
			kicked = 1;
		}
		if (kicked)
			vblk_kick(&blk);
		n = vblk_poll(&blk);
		if (n < 0)
			return 1;
		for (s = 0; n && s < VBLK_MAX_INFLIGHT; s++) {
			if (blk.req[s].busy != 2)
				continue;
			st = vblk_take(&blk, s);
			if (st != VBLK_S_OK) {
				rt_printf("blkbench: read failed: %d\n", st);
				return 1;
			}
			done++;
		}
	}
	t1 = rdtsc();
	rt_mark(4);
	report("qd32 read4k", ops, t1 - t0, hz);
	return 0;
}
