/* SPDX-License-Identifier: MIT */
/*
 * blkbench: disk throughput through the polled virtio-blk driver.
 *
 * Default (no mode=): 4 KiB random-offset reads, first one at a time (queue
 * depth 1), then 32 in flight, ops=N (default 2000) requests each. Marks 1..2
 * bracket the QD1 run and 3..4 the QD32 run.
 *
 * mode=randread|randwrite|seqread|seqwrite bs=BYTES qd=1..32 ops=N: one run
 * of N requests of BS bytes (a multiple of 512, at most 1 MiB; each request
 * is one data descriptor) with up to QD in flight, bracketed by marks 1..2.
 * Random offsets are BS-aligned; sequential ones advance by BS and wrap.
 *
 * Either way the guest prints its own TSC-based figures, so the same
 * measurement can be taken under any VMM. The TSC rate is calibrated on the
 * LAPIC timer over 10 ms (coarse under PVM) unless tsc_hz=HZ is given; the
 * raw cycle count is printed so the host can convert it itself:
 *   blkbench: MODE bs BS qd QD ops N cycles C (NS ns/op, IOPS IOPS, MBPS MB/s)
 */
#include "rt.h"
#include "virtio/vblk.h"

#define MAX_BS (1u << 20)

static struct vblk blk;
static uint8_t small[VBLK_MAX_INFLIGHT][4096] __attribute__((aligned(4096)));

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void report(const char *what, uint64_t ops, uint64_t bs, uint64_t cycles, uint64_t hz)
{
	rt_printf("blkbench: %s ops %lu cycles %lu", what, ops, cycles);
	if (hz && ops && cycles)
		rt_printf(" (%lu ns/op, %lu IOPS, %lu MB/s)", cycles / ops * 1000000000 / hz,
			  ops * hz / cycles, ops * bs / 1000 * (hz / 1000) / cycles);
	rt_printf("\n");
}

struct run {
	uint32_t type;	 /* VBLK_T_IN or VBLK_T_OUT */
	int seq;	 /* sequential offsets instead of random ones */
	uint32_t bs;	 /* bytes per request */
	unsigned int qd; /* requests in flight, 1..VBLK_MAX_INFLIGHT */
	uint64_t ops;
	uint8_t *bufs; /* qd buffers of bs bytes */
};

/* First free request slot: vblk_submit() takes the same one. */
static int free_slot(void)
{
	int s;

	for (s = 0; s < VBLK_MAX_INFLIGHT && blk.req[s].busy; s++)
		;
	return s;
}

/* Issues r->ops requests keeping up to r->qd in flight; TSC cycles, or 0 on error. */
static uint64_t run(const struct run *r, uint64_t *seed)
{
	uint64_t units = blk.capacity / (r->bs / 512), next = 0, submitted = 0, done = 0, t0;
	int n, s, st;

	t0 = rdtsc();
	while (done < r->ops) {
		int kicked = 0;

		while (submitted < r->ops && blk.inflight < r->qd) {
			uint64_t unit = r->seq ? next++ % units : rnd(seed) % units;
			/* fewer than qd busy: the first free slot is < qd, so its buffer exists */
			int want = free_slot();

			s = vblk_submit(&blk, r->type, unit * (r->bs / 512),
					r->bufs + (uint64_t)want * r->bs, r->bs);
			if (s != want) {
				rt_printf("blkbench: submit failed (%d)\n", s);
				return 0;
			}
			submitted++;
			kicked = 1;
		}
		if (kicked)
			vblk_kick(&blk);
		n = vblk_poll(&blk);
		if (n < 0)
			return 0;
		for (s = 0; n && s < VBLK_MAX_INFLIGHT; s++) {
			if (blk.req[s].busy != 2)
				continue;
			st = vblk_take(&blk, s);
			if (st != VBLK_S_OK) {
				rt_printf("blkbench: request failed: status %d\n", st);
				return 0;
			}
			done++;
		}
	}
	return rdtsc() - t0;
}

/* Is [a, a + len) inside one RAM entry of the memory map? */
static int in_ram(uint64_t a, uint64_t len)
{
	const struct rt_memmap_entry *m;
	unsigned int i, cnt;

	m = rt_memmap(&cnt);
	for (i = 0; i < cnt; i++)
		if (m[i].type == RT_MEM_RAM && a >= m[i].addr && len <= m[i].size &&
		    a - m[i].addr <= m[i].size - len)
			return 1;
	return 0;
}

static const struct {
	const char *name;
	uint32_t type;
	int seq;
} modes[] = {
    {"randread", VBLK_T_IN, 0},
    {"randwrite", VBLK_T_OUT, 0},
    {"seqread", VBLK_T_IN, 1},
    {"seqwrite", VBLK_T_OUT, 1},
};

/* mode=... bs=... qd=... ops=...: one run bracketed by marks 1..2. */
static int one_mode(const char *mode, uint64_t ops, uint64_t hz, uint64_t *seed)
{
	uint64_t bs = rt_cmdline_u64("bs", 4096), qd = rt_cmdline_u64("qd", 1), base, i, cycles;
	struct run r;
	unsigned int m;
	char what[64];

	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (!strcmp(mode, modes[m].name))
			break;
	if (m == sizeof(modes) / sizeof(modes[0])) {
		rt_printf("blkbench: unknown mode '%s'\n", mode);
		return 1;
	}
	if (!bs || bs % 512 || bs > MAX_BS || !qd || qd > VBLK_MAX_INFLIGHT || !ops) {
		rt_printf(
		    "blkbench: need 512 <= bs <= %u (multiple of 512), 1 <= qd <= %u, ops > 0\n",
		    MAX_BS, VBLK_MAX_INFLIGHT);
		return 1;
	}
	if (blk.capacity < bs / 512) {
		rt_printf("blkbench: disk smaller than one request\n");
		return 1;
	}
	/* buffers: above the image, 1 MiB aligned, identity-mapped RAM */
	base = (rt_image_end() + MAX_BS - 1) & ~(uint64_t)(MAX_BS - 1);
	if (!in_ram(base, qd * bs)) {
		rt_printf("blkbench: %lu bytes of buffers do not fit in RAM at 0x%lx\n", qd * bs,
			  base);
		return 1;
	}
	r = (struct run){modes[m].type,	   modes[m].seq, (uint32_t)bs,
			 (unsigned int)qd, ops,		 (uint8_t *)base};
	for (i = 0; i < qd * bs; i += 8)
		*(volatile uint64_t *)(base + i) = i * 0x9e3779b97f4a7c15ULL;

	rt_mark(1);
	cycles = run(&r, seed);
	rt_mark(2);
	if (!cycles)
		return 1;
	rt_snprintf(what, sizeof(what), "%s bs %lu qd %lu", mode, bs, qd);
	report(what, ops, bs, cycles, hz);
	return 0;
}

int main(void)
{
	uint64_t ops = rt_cmdline_u64("ops", 2000), seed = 88172645463325252ULL;
	uint64_t hz = rt_cmdline_u64("tsc_hz", 0);
	const char *mode = rt_cmdline_get("mode");
	struct run r = {VBLK_T_IN, 0, 4096, 1, ops, &small[0][0]};
	uint64_t cycles;

	if (!hz)
		hz = rt_tsc_hz();
	if (vblk_init(&blk, 0))
		return 1;
	if (!(blk.capacity / 8)) {
		rt_printf("blkbench: disk smaller than 4 KiB\n");
		return 1;
	}
	rt_printf("blkbench: %lu sectors, %lu ops per run, TSC %lu Hz\n", blk.capacity, ops, hz);
	if (mode)
		return one_mode(mode, ops, hz, &seed);

	rt_mark(1);
	cycles = run(&r, &seed);
	rt_mark(2);
	if (!cycles)
		return 1;
	report("qd1 read4k", ops, 4096, cycles, hz);

	r.qd = VBLK_MAX_INFLIGHT;
	rt_mark(3);
	cycles = run(&r, &seed);
	rt_mark(4);
	if (!cycles)
		return 1;
	report("qd32 read4k", ops, 4096, cycles, hz);
	return 0;
}
