/* SPDX-License-Identifier: MIT */
/*
 * rngtest: virtio-rng driver test. Finds the virtio-rng function, sets up
 * its request queue and checks: one 4 KiB buffer comes back full of bytes
 * that look random (most byte values present), a chain of three writable
 * buffers is filled in full, two requests never return the same bytes, a
 * chain with no writable buffer comes back with nothing written (and the
 * device keeps working), a 128 KiB buffer gets at most the device's 64 KiB
 * per request and nothing past what it reports, and a full ring of small
 * requests all complete. Prints "rngtest: PASS" and exits 0.
 */
#include "rt.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define DEV_MAX_REQ (64 * 1024) /* cellvm-rng fills at most this much per request */

static struct virtio_pci rng;
static struct virtq q __attribute__((aligned(4096)));
static uint8_t a[4096] __attribute__((aligned(4096)));
static uint8_t b[4096] __attribute__((aligned(4096)));
static uint8_t big[128 * 1024] __attribute__((aligned(4096)));
static uint8_t small[VQ_MAX_SIZE][64];

static int fail(const char *what)
{
	rt_printf("rngtest: FAIL %s\n", what);
	return -1;
}

/* Wait for one used element; its id and length. */
static int wait_used(uint32_t *id, uint32_t *len)
{
	for (unsigned long spin = 0; spin < 2000000000ul; spin++) {
		int r = virtq_pop(&q, id, len);
		if (r < 0)
			return fail("device wrote a used id outside the ring");
		if (r > 0)
			return 0;
		if (virtio_status(&rng) & 0x40)
			return fail("device set NEEDS_RESET");
		__asm__ volatile("pause");
	}
	return fail("no answer from the device");
}

/* One chain of n buffers (writable unless ro), submitted and awaited; bytes written. */
static long request(uint8_t *const *bufs, const uint32_t *lens, unsigned n, int ro)
{
	uint32_t id, len;
	for (unsigned i = 0; i < n; i++)
		q.desc[i] = (struct vring_desc){
		    (uint64_t)bufs[i], lens[i],
		    (uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) | (ro ? 0 : VRING_DESC_F_WRITE)),
		    (uint16_t)(i + 1)};
	virtq_push(&q, 0);
	virtq_kick(&q);
	if (wait_used(&id, &len))
		return -1;
	if (id != 0)
		return fail("used id is not the chain's head");
	return len;
}

/* Random-looking: at least 200 of the 256 byte values in 4 KiB (expect ~255). */
static int looks_random(const uint8_t *p, unsigned n)
{
	static uint8_t seen[256];
	unsigned distinct = 0;
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < n; i++)
		if (!seen[p[i]]++)
			distinct++;
	return distinct >= 200;
}

static int nonzero(const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

int main(void)
{
	static const uint16_t ids[] = {0x1044}; /* modern virtio-rng */
	uint64_t features;
	int idx = pci_find(0x1af4, ids, 1, 0);

	if (idx < 0)
		return fail("no virtio-rng PCI function"), 1;
	if (virtio_pci_init(&rng, (uint32_t)idx, 0, &features) ||
	    virtio_queue_init(&rng, 0, &q, VQ_MAX_SIZE))
		return fail("device setup"), 1;
	virtio_driver_ok(&rng);
	rt_printf("rngtest: virtio-rng at %02x.%x, queue size %u\n", (idx >> 3) & 0x1f, idx & 7,
		  q.size);

	/* One 4 KiB buffer. */
	uint8_t *bufs[3] = {a};
	uint32_t lens[3] = {sizeof(a)};
	if (request(bufs, lens, 1, 0) != (long)sizeof(a))
		return fail("4 KiB request not filled"), 1;
	if (!looks_random(a, sizeof(a)))
		return fail("4 KiB of entropy has too few distinct byte values"), 1;

	/* Two requests: never the same bytes. */
	bufs[0] = b;
	if (request(bufs, lens, 1, 0) != (long)sizeof(b))
		return fail("second 4 KiB request not filled"), 1;
	if (!memcmp(a, b, sizeof(a)))
		return fail("two requests returned the same bytes"), 1;

	/* A chain of three writable buffers: 100, 1 and 3000 bytes. */
	memset(a, 0, sizeof(a));
	bufs[0] = a, bufs[1] = a + 200, bufs[2] = a + 1000;
	lens[0] = 100, lens[1] = 1, lens[2] = 3000;
	if (request(bufs, lens, 3, 0) != 3101)
		return fail("three-buffer chain: wrong length"), 1;
	if (!nonzero(a, 100) || !nonzero(a + 1000, 3000) || nonzero(a + 100, 100) ||
	    nonzero(a + 201, 799))
		return fail("three-buffer chain: filled outside or not inside its buffers"), 1;

	/* No writable buffer: nothing written, and the device goes on. */
	memset(b, 0, sizeof(b));
	bufs[0] = b, lens[0] = 512;
	if (request(bufs, lens, 1, 1) != 0 || nonzero(b, 512))
		return fail("read-only chain was written to"), 1;

	/* 128 KiB: at most the device's per-request bound, nothing past what it reports. */
	bufs[0] = big, lens[0] = sizeof(big);
	long got = request(bufs, lens, 1, 0);
	if (got <= 0 || got > DEV_MAX_REQ || got > (long)sizeof(big))
		return fail("128 KiB request: bad length"), 1;
	if (nonzero(big + got, (unsigned)(sizeof(big) - (unsigned long)got)))
		return fail("128 KiB request: written past the reported length"), 1;
	rt_printf("rngtest: 128 KiB request got %ld bytes\n", got);

	/* A full ring of 64-byte requests, one kick. */
	memset(small, 0, sizeof(small));
	for (unsigned i = 0; i < q.size; i++) {
		q.desc[i] = (struct vring_desc){(uint64_t)small[i], 64, VRING_DESC_F_WRITE, 0};
		virtq_push(&q, (uint16_t)i);
	}
	virtq_kick(&q);
	static uint8_t done[VQ_MAX_SIZE];
	for (unsigned n = 0; n < q.size; n++) {
		uint32_t id, len;
		if (wait_used(&id, &len))
			return 1;
		if (id >= q.size || done[id]++ || len != 64)
			return fail("full ring: bad or repeated used element"), 1;
	}
	for (unsigned i = 0; i < q.size; i++)
		if (!nonzero(small[i], 64))
			return fail("full ring: a request came back empty"), 1;

	rt_printf("rngtest: PASS\n");
	return 0;
}
