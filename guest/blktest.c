/* SPDX-License-Identifier: MIT */
/*
 * blktest: virtio-blk driver test. Needs a disk of at least 4 MiB whose
 * sector 1 the host filled with "cellvm-host-sector-1" followed by bytes
 * (i * 7) & 0xff. Reads that, writes patterns at several offsets and sizes
 * (single requests and 32 in flight), reads them back, flushes, checks
 * out-of-range requests are refused, and leaves in sector 2048 + k
 * (k < 32) the bytes of pattern(seed, 2048 + k) for the host to check.
 * seed=N on the command line (default 1). "blktest: PASS", exit 0.
 */
#include "rt.h"
#include "virtio/vblk.h"

#define BIG (64 * 1024)

static struct vblk blk;
static uint8_t buf[VBLK_MAX_INFLIGHT][4096] __attribute__((aligned(4096)));
static uint8_t big[BIG] __attribute__((aligned(4096)));
static uint8_t big2[BIG] __attribute__((aligned(4096)));

/* Byte i of sector s: the host's checker uses the same formula. */
static uint8_t pat(uint64_t seed, uint64_t s, unsigned int i)
{
	uint64_t x = (s * 0x9e3779b97f4a7c15ULL) ^ (seed << 32) ^ (i / 8);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static void fill(uint8_t *p, uint64_t seed, uint64_t sector, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(seed, sector + i / 512, i % 512);
}

static int check(const uint8_t *p, uint64_t seed, uint64_t sector, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(seed, sector + i / 512, i % 512)) {
			rt_printf("blktest: FAIL data at sector %lu byte %u: 0x%02x\n",
				  sector + i / 512, i % 512, p[i]);
			return -1;
		}
	return 0;
}

static int rw_check(uint64_t seed, uint64_t sector, uint32_t len)
{
	int st;

	fill(big, seed, sector, len);
	st = vblk_rw(&blk, VBLK_T_OUT, sector, big, len);
	if (st != VBLK_S_OK) {
		rt_printf("blktest: FAIL write %u bytes at sector %lu: status %d\n", len, sector,
			  st);
		return -1;
	}
	memset(big2, 0xee, len);
	st = vblk_rw(&blk, VBLK_T_IN, sector, big2, len);
	if (st != VBLK_S_OK) {
		rt_printf("blktest: FAIL read %u bytes at sector %lu: status %d\n", len, sector,
			  st);
		return -1;
	}
	return check(big2, seed, sector, len);
}

static int queue_depth(uint64_t seed, uint64_t base, uint32_t type)
{
	int slot[VBLK_MAX_INFLIGHT], k, done = 0, n;

	for (k = 0; k < VBLK_MAX_INFLIGHT; k++) {
		if (type == VBLK_T_OUT)
			fill(buf[k], seed, base + 8 * (uint64_t)k, 4096);
		else
			memset(buf[k], 0, 4096);
		slot[k] = vblk_submit(&blk, type, base + 8 * (uint64_t)k, buf[k], 4096);
		if (slot[k] < 0) {
			rt_printf("blktest: FAIL submit %d of %d\n", k, VBLK_MAX_INFLIGHT);
			return -1;
		}
	}
	if (blk.inflight != VBLK_MAX_INFLIGHT ||
	    vblk_submit(&blk, type, base, buf[0], 4096) != -1) {
		rt_printf("blktest: FAIL queue accepted more than %d\n", VBLK_MAX_INFLIGHT);
		return -1;
	}
	vblk_kick(&blk);
	while (done < VBLK_MAX_INFLIGHT) {
		n = vblk_poll(&blk);
		if (n < 0)
			return -1;
		done += n;
	}
	for (k = 0; k < VBLK_MAX_INFLIGHT; k++) {
		uint8_t st = vblk_take(&blk, slot[k]);

		if (st != VBLK_S_OK) {
			rt_printf("blktest: FAIL qd32 request %d status %u\n", k, st);
			return -1;
		}
		if (type == VBLK_T_IN && check(buf[k], seed, base + 8 * (uint64_t)k, 4096))
			return -1;
	}
	return 0;
}

int main(void)
{
	uint64_t seed = rt_cmdline_u64("seed", 1), last;
	static const char host_tag[] = "cellvm-host-sector-1";
	unsigned int i;
	int st;

	if (vblk_init(&blk, 0))
		return 1;
	rt_printf("blktest: %lu sectors, features 0x%lx, queue %u\n", blk.capacity, blk.features,
		  blk.q.size);
	if (blk.capacity < 8192) {
		rt_printf("blktest: FAIL disk smaller than 4 MiB\n");
		return 1;
	}
	last = blk.capacity - 1;

	/* what the host wrote */
	st = vblk_rw(&blk, VBLK_T_IN, 1, big, 512);
	if (st != VBLK_S_OK || memcmp(big, host_tag, sizeof(host_tag) - 1)) {
		rt_printf("blktest: FAIL host pattern in sector 1 (status %d)\n", st);
		return 1;
	}
	for (i = sizeof(host_tag) - 1; i < 512; i++)
		if (big[i] != (uint8_t)(i * 7)) {
			rt_printf("blktest: FAIL host pattern byte %u\n", i);
			return 1;
		}
	rt_printf("blktest: host data ok\n");

	/* single requests: sizes and offsets, first and last sectors */
	if (rw_check(seed, 0, 512) || rw_check(seed, 100, 4096) || rw_check(seed, 1001, BIG) ||
	    rw_check(seed, last, 512) || rw_check(seed, last - 127, BIG))
		return 1;
	rt_printf("blktest: single requests ok\n");

	/* out of range: refused by the driver, and by the device */
	if (vblk_submit(&blk, VBLK_T_IN, last, big, 1024) != -1 ||
	    vblk_submit(&blk, VBLK_T_IN, 0, big, 100) != -1) {
		rt_printf("blktest: FAIL driver accepted a bad request\n");
		return 1;
	}
	blk.capacity += 8; /* lie to the driver so the device sees it */
	st = vblk_rw(&blk, VBLK_T_IN, last + 1, big, 512);
	blk.capacity -= 8;
	if (st != VBLK_S_IOERR) {
		rt_printf("blktest: FAIL read past the end: status %d, want IOERR\n", st);
		return 1;
	}
	rt_printf("blktest: out-of-range refused\n");

	/* 32 in flight, for the host to check afterwards */
	if (queue_depth(seed, 2048, VBLK_T_OUT) || queue_depth(seed, 2048, VBLK_T_IN))
		return 1;
	rt_printf("blktest: queue depth %d ok\n", VBLK_MAX_INFLIGHT);

	if (blk.features & (1ULL << 9)) {
		st = vblk_rw(&blk, VBLK_T_FLUSH, 0, NULL, 0);
		if (st != VBLK_S_OK) {
			rt_printf("blktest: FAIL flush status %d\n", st);
			return 1;
		}
		rt_printf("blktest: flush ok\n");
	}
	rt_printf("blktest: PASS\n");
	return 0;
}
