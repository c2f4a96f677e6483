/* SPDX-License-Identifier: MIT */
/*
 * blkevil: a hostile virtio-blk driver. Each scenario (case=NAME, or
 * case=all for every one in turn) breaks a rule of the split virtqueue, the
 * virtio-blk request format or the virtio-pci transport, then checks that
 * the device answered cleanly: a status byte of IOERR/UNSUPP, NEEDS_RESET
 * (0x40) in device_status, or no completion at all. After every scenario
 * the device is reset and re-initialised and a write/read round trip in
 * sectors SCRATCH..SCRATCH+7 must succeed. Hostile requests that name a
 * sector use PROTECTED, which no valid request ever writes: the host checks
 * the image outside the scratch sectors is unchanged.
 *
 * case=A,B,C runs several, in the table's order. wait_ms=N (2000) bounds
 * the wait before a request counts as unanswered; race (a second vCPU
 * rewriting the chain) needs cpus=2 and runs race_iters=N (500) rounds.
 * Output: "blkevil: CASE ok (how)" per scenario, then "blkevil: PASS" (exit
 * 0), or "blkevil: FAIL CASE why (step N)" (exit 1; 2 for no such case).
 */
#include "rt.h"
#include "virtio/pci.h"
#include "virtio/vblk.h"
#include "abi.h"
#include "smp.h"

#define SCRATCH	  64
#define PROTECTED 128

#define F_INDIRECT  28
#define F_FLUSH	    9
#define T_GET_ID    8
#define NEEDS_RESET 0x40
#define D_INDIRECT  4

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT 0x00
#define C_DF	   0x04
#define C_GFSELECT 0x08
#define C_GF	   0x0c
#define C_MSIX	   0x10
#define C_NUMQ	   0x12
#define C_STATUS   0x14
#define C_CFGGEN   0x15
#define C_Q_SELECT 0x16
#define C_Q_SIZE   0x18
#define C_Q_MSIX   0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF   0x1e
#define C_Q_DESC   0x20
#define C_Q_AVAIL  0x28
#define C_Q_USED   0x30

/* Where the hostile chains live: vblk uses descriptors 0..95. */
#define EVIL 100

enum outcome { O_OK, O_ERR, O_NR, O_HANG, O_BAD };

static struct vblk blk;
static const char *cur = "?";
static uint8_t data[2][8192] __attribute__((aligned(4096)));
static struct vring_desc itab[2][VQ_MAX_SIZE + 8] __attribute__((aligned(16)));
static struct {
	uint32_t type, ioprio;
	uint64_t sector;
} hdr __attribute__((aligned(16)));
static volatile uint8_t status[64] __attribute__((aligned(64)));
static char how[96];

/* Add an outcome to this scenario's "(how)", once. */
static void note(const char *what)
{
	size_t n = strlen(how), l = strlen(what), i;

	for (i = 0; i + l <= n; i++)
		if (!strncmp(how + i, what, l) && (i == 0 || how[i - 1] == ' ') &&
		    (i + l == n || how[i + l] == ','))
			return;
	if (n + l + 3 > sizeof(how))
		return;
	if (n) {
		how[n++] = ',';
		how[n++] = ' ';
	}
	memcpy(how + n, what, l + 1);
}

static unsigned step; /* chains submitted in this scenario, for FAIL messages */

static int fail(const char *why)
{
	rt_printf("blkevil: FAIL %s %s (step %u)\n", cur, why, step);
	return -1;
}

/* Reset and re-initialise: FLUSH, INDIRECT_DESC and the `extra` features. */
static int evil_init_with(uint64_t extra)
{
	static const uint16_t ids[] = {0x1042, 0x1001};
	int idx = pci_find(0x1af4, ids, 2, 0);

	memset(&blk, 0, sizeof(blk));
	if (idx < 0)
		return fail("no virtio-blk function");
	if (virtio_pci_init(&blk.pci, (uint32_t)idx, 1ULL << F_FLUSH | 1ULL << F_INDIRECT | extra,
			    &blk.features))
		return fail("virtio_pci_init");
	blk.capacity = mmio_read32(blk.pci.device) | (uint64_t)mmio_read32(blk.pci.device + 4)
							 << 32;
	if (virtio_queue_init(&blk.pci, 0, &blk.q, VQ_MAX_SIZE) || blk.q.size != VQ_MAX_SIZE)
		return fail("queue 0 unusable (want 128 entries)");
	virtio_driver_ok(&blk.pci);
	if (virtio_status(&blk.pci) != 15)
		return fail("device_status after DRIVER_OK is not 15");
	return 0;
}

static int evil_init(void)
{
	return evil_init_with(0);
}

static uint8_t pattern(unsigned k, unsigned i)
{
	return (uint8_t)(i * 13 + k * 31 + (i >> 9));
}

/* A normal write then read of 4 KiB at SCRATCH. */
static int roundtrip(unsigned k)
{
	static uint8_t w[4096] __attribute__((aligned(4096))),
	    r[4096] __attribute__((aligned(4096)));
	unsigned i;
	int st;

	for (i = 0; i < sizeof(w); i++)
		w[i] = pattern(k, i);
	st = vblk_rw(&blk, VBLK_T_OUT, SCRATCH, w, sizeof(w));
	if (st != VBLK_S_OK)
		return fail("round trip: write failed after reset");
	memset(r, 0, sizeof(r));
	st = vblk_rw(&blk, VBLK_T_IN, SCRATCH, r, sizeof(r));
	if (st != VBLK_S_OK)
		return fail("round trip: read failed after reset");
	if (memcmp(w, r, sizeof(w)))
		return fail("round trip: data mismatch after reset");
	return 0;
}

static struct vring_desc D(uint64_t a, uint32_t l, uint16_t f, uint16_t n) {
	return (struct vring_desc){a, l, f, n};
}

static void
set_hdr(uint32_t type, uint64_t sector)
{
	hdr.type = type;
	hdr.ioprio = 0;
	hdr.sector = sector;
}

/* Publish head (or any avail ring value) and kick. */
static void submit(uint16_t head)
{
	status[0] = 0xff;
	virtq_push(&blk.q, head);
	virtq_kick(&blk.q);
}

/*
 * How long a request may take before it counts as "never completed"
 * (wait_ms=, default 2000). Only a device that swallows requests ever waits
 * this long; cellvm answers every scenario, so this is a bound, not a
 * measurement.
 */
static uint64_t wait_ticks(void)
{
	return rt_tsc_hz() / 1000 * rt_cmdline_u64("wait_ms", 2000);
}

/*
 * Wait for the device's answer: a used element (O_OK or O_ERR by the status
 * byte; *len gets the used length), NEEDS_RESET, or nothing within wait_ms.
 */
static enum outcome wait(uint32_t *len)
{
	uint64_t end = rdtsc() + wait_ticks();
	uint32_t id, l;
	int r;

	while (rdtsc() < end) {
		r = virtq_pop(&blk.q, &id, &l);
		if (r < 0)
			return O_BAD;
		if (r > 0) {
			if (len)
				*len = l;
			if (status[0] == VBLK_S_OK)
				return O_OK;
			if (status[0] == VBLK_S_IOERR || status[0] == VBLK_S_UNSUPP)
				return O_ERR;
			return O_BAD;
		}
		if (virtio_status(&blk.pci) & NEEDS_RESET)
			return O_NR;
		cpu_relax();
	}
	return O_HANG;
}

/* A bad request must end in a clean error; say which. */
static int expect_error(enum outcome o)
{
	switch (o) {
	case O_ERR:
		note(status[0] == VBLK_S_IOERR ? "status IOERR" : "status UNSUPP");
		return 0;
	case O_NR:
		note("NEEDS_RESET");
		return 0;
	case O_HANG:
		note("never completed");
		return 0;
	case O_OK:
		return fail("device completed the bad request with status OK");
	default:
		return fail("device returned a bad used element or status byte");
	}
}

static int chain(struct vring_desc *ds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		blk.q.desc[EVIL + i] = ds[i];
	step++;
	submit(EVIL);
	return expect_error(wait(NULL));
}

/* ---- descriptor-level scenarios ---- */

#define HDR(n)	    D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, EVIL + (n))
#define STATUS	    D((uint64_t)status, 1, VRING_DESC_F_WRITE, 0)
#define WR(a, l, n) D((uint64_t)(a), (l), VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, EVIL + (n))

static int c_loop(void)
{
	/* OUT: header -> data -> header ...: all readable, so only the loop is wrong. */
	struct vring_desc d[] = {HDR(1), D((uint64_t)data[0], 512, VRING_DESC_F_NEXT, EVIL)};
	set_hdr(VBLK_T_OUT, PROTECTED);
	return chain(d, 2);
}

static int c_longchain(void)
{
	unsigned i;

	/*
	 * OUT: 127 readable direct descriptors, then an indirect one with
	 * readable data and the status: 129 in all > 128, in a valid order.
	 */
	set_hdr(VBLK_T_OUT, PROTECTED);
	blk.q.desc[0] = D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, 1);
	for (i = 1; i < VQ_MAX_SIZE - 1; i++)
		blk.q.desc[i] =
		    D((uint64_t)data[0] + 8 * i, 8, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	blk.q.desc[VQ_MAX_SIZE - 1] = D((uint64_t)itab[0], 32, D_INDIRECT, 0);
	itab[0][0] = D((uint64_t)data[1], 504, VRING_DESC_F_NEXT, 1);
	itab[0][1] = D((uint64_t)status, 1, VRING_DESC_F_WRITE, 0);
	submit(0);
	return expect_error(wait(NULL));
}

static int c_next_range(void)
{
	struct vring_desc d[] = {D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, 200)};
	set_hdr(VBLK_T_IN, PROTECTED);
	return chain(d, 1);
}

static int c_head_range(void)
{
	submit(0x4000);
	return expect_error(wait(NULL));
}

static int indirect(uint32_t len, uint64_t table)
{
	struct vring_desc d[] = {D(table, len, D_INDIRECT, 0)};
	set_hdr(VBLK_T_IN, PROTECTED);
	itab[0][0] = D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, 1);
	itab[0][1] = D((uint64_t)data[0], 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	itab[0][2] = D((uint64_t)status, 1, VRING_DESC_F_WRITE, 0);
	return chain(d, 1);
}

static int c_ind_len(void)
{
	return indirect(40, (uint64_t)itab[0]);
}

static int c_ind_big(void)
{
	struct vring_desc d[] = {D((uint64_t)itab[0], 16 * (VQ_MAX_SIZE + 1), D_INDIRECT, 0)};
	unsigned i;

	/* A table of 129 entries, all chained: longer than the queue. */
	set_hdr(VBLK_T_IN, PROTECTED);
	itab[0][0] = D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, 1);
	for (i = 1; i < VQ_MAX_SIZE; i++)
		itab[0][i] = D((uint64_t)data[0] + 16 * i, 16,
			       VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	itab[0][VQ_MAX_SIZE] = D((uint64_t)status, 1, VRING_DESC_F_WRITE, 0);
	return chain(d, 1);
}

static int c_ind_nested(void)
{
	struct vring_desc d[] = {D((uint64_t)itab[0], 32, D_INDIRECT, 0)};
	set_hdr(VBLK_T_IN, PROTECTED);
	itab[0][0] = D((uint64_t)&hdr, 16, VRING_DESC_F_NEXT, 1);
	itab[0][1] = D((uint64_t)itab[1], 32, D_INDIRECT, 0);
	itab[1][0] = D((uint64_t)data[0], 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	itab[1][1] = D((uint64_t)status, 1, VRING_DESC_F_WRITE, 0);
	return chain(d, 1);
}

static int c_ind_outside(void)
{
	return indirect(48, 0xd0000000ULL) || indirect(48, 0xfffffffffffffff0ULL);
}

/* An IN request whose data buffer is (addr, len). */
static int bad_buffer(uint64_t addr, uint32_t len)
{
	struct vring_desc d[] = {HDR(1), WR(addr, len, 2), STATUS};
	set_hdr(VBLK_T_IN, PROTECTED);
	return chain(d, 3);
}

/* An OUT request whose data buffer is (addr, len). */
static int bad_out_buffer(uint64_t addr, uint32_t len)
{
	struct vring_desc d[] = {HDR(1), D(addr, len, VRING_DESC_F_NEXT, EVIL + 2), STATUS};
	set_hdr(VBLK_T_OUT, PROTECTED);
	return chain(d, 3);
}

/* Each step needs a fresh device: the first bad chain may stop the queue. */
#define STEP(x)                                                                                    \
	do {                                                                                       \
		if (evil_init() || (x))                                                            \
			return -1;                                                                 \
	} while (0)

static int c_buf_hole(void)
{
	STEP(bad_buffer(0xd0000000ULL, 512));
	STEP(bad_out_buffer(0xd0000000ULL, 512));
	return 0;
}

/* End of the highest RAM entry below 4 GiB (below_4g) or anywhere. */
static uint64_t ram_end(int below_4g)
{
	const struct rt_memmap_entry *m;
	uint64_t top = 0, end;
	unsigned n, i;

	m = rt_memmap(&n);
	for (i = 0; i < n; i++) {
		end = m[i].addr + m[i].size;
		if (m[i].type == RT_MEM_RAM && end > top && (!below_4g || end <= (1ULL << 32)))
			top = end;
	}
	return top;
}

static uint64_t ram_top(void)
{
	return ram_end(1);
}

static int c_buf_high(void)
{
	uint64_t top = ram_top(), high = ram_end(0);

	/* Straddling the end of (low) RAM: into the PCI hole when RAM is 3 GiB+. */
	STEP(bad_buffer(top - 256, 512));
	STEP(bad_out_buffer(top - 256, 512));
	/* Straddling the end of high RAM, when there is some. */
	if (high > (1ULL << 32))
		STEP(bad_buffer(high - 256, 512));
	/* Far beyond RAM. */
	STEP(bad_buffer(high + (64ULL << 30), 512));
	STEP(bad_out_buffer(high + (64ULL << 30), 512));
	return 0;
}

static int c_buf_wrap(void)
{
	STEP(bad_buffer(0xfffffffffffffe00ULL, 1024));
	STEP(bad_out_buffer(0xffffffffffffff00ULL, 512));
	return 0;
}

static int c_buf_ring(void)
{
	/* Disk data over the used ring, the descriptor table, the avail ring. */
	STEP(bad_buffer((uint64_t)&blk.q.used, 512));
	STEP(bad_buffer((uint64_t)blk.q.desc, 512));
	STEP(bad_buffer((uint64_t)&blk.q.avail, 512));
	/* The status byte inside the used ring. */
	STEP(({
		struct vring_desc d[] = {
		    HDR(1), WR(data[0], 512, 2),
		    D((uint64_t)&blk.q.used.ring[5], 1, VRING_DESC_F_WRITE, 0)};
		set_hdr(VBLK_T_IN, PROTECTED);
		chain(d, 3);
	}));
	return 0;
}

static int c_order(void)
{
	/* OUT: header, a writable descriptor, then readable data. */
	struct vring_desc d[] = {HDR(1), WR(data[1], 512, 2),
				 D((uint64_t)data[0], 512, VRING_DESC_F_NEXT, EVIL + 3), STATUS};
	set_hdr(VBLK_T_OUT, PROTECTED);
	return chain(d, 4);
}

static int c_huge_len(void)
{
	STEP(bad_buffer((uint64_t)data[0], 0xffffffffu));
	STEP(bad_out_buffer((uint64_t)data[0], 0xffffffffu));
	STEP(({
		struct vring_desc d[] = {
		    D((uint64_t)&hdr, 0xffffffffu, VRING_DESC_F_NEXT, EVIL + 1), STATUS};
		set_hdr(VBLK_T_IN, PROTECTED);
		chain(d, 2);
	}));
	return 0;
}

static int c_no_status(void)
{
	/* Only readable descriptors: nowhere to put the status byte. */
	STEP(({
		struct vring_desc d[] = {HDR(1), D((uint64_t)data[0], 512, 0, 0)};
		set_hdr(VBLK_T_OUT, PROTECTED);
		chain(d, 2);
	}));
	/* Status descriptor of length 0. */
	STEP(({
		struct vring_desc d[] = {HDR(1), D((uint64_t)status, 0, VRING_DESC_F_WRITE, 0)};
		set_hdr(VBLK_T_FLUSH, 0);
		chain(d, 2);
	}));
	return 0;
}

static int c_ro_status(void)
{
	/* IN: data writable, status read-only (after a writable one). */
	struct vring_desc d[] = {HDR(1), WR(data[0], 512, 2), D((uint64_t)status, 1, 0, 0)};
	set_hdr(VBLK_T_IN, PROTECTED);
	return chain(d, 3);
}

static int c_avail_jump(void)
{
	struct vring_desc d[] = {HDR(1), WR(data[0], 512, 2), STATUS};
	unsigned i;

	for (i = 0; i < 3; i++)
		blk.q.desc[EVIL + i] = d[i];
	set_hdr(VBLK_T_IN, PROTECTED);
	status[0] = 0xff;
	blk.q.avail.ring[0] = EVIL;
	__atomic_store_n(&blk.q.avail.idx, (uint16_t)(blk.q.avail.idx + VQ_MAX_SIZE + 7),
			 __ATOMIC_RELEASE);
	virtq_kick(&blk.q);
	return expect_error(wait(NULL));
}

/* A well-formed chain the device must refuse by its content. */
static int req(uint32_t type, uint64_t sector, uint32_t len)
{
	struct vring_desc d[] = {HDR(1), WR(data[0], len, 2), STATUS};
	set_hdr(type, sector);
	return chain(d, 3);
}

static int req_out(uint32_t type, uint64_t sector, uint32_t len)
{
	struct vring_desc d[] = {HDR(1), D((uint64_t)data[0], len, VRING_DESC_F_NEXT, EVIL + 2),
				 STATUS};
	set_hdr(type, sector);
	return chain(d, 3);
}

static int c_sector(void)
{
	uint64_t cap = blk.capacity;

	STEP(req(VBLK_T_IN, cap, 512));
	STEP(req(VBLK_T_IN, cap - 1, 1024));
	STEP(req_out(VBLK_T_OUT, cap, 512));
	/* sector * 512 overflows 2^64 and lands inside the disk if unchecked. */
	STEP(req(VBLK_T_IN, (1ULL << 55) + PROTECTED, 512));
	STEP(req_out(VBLK_T_OUT, (1ULL << 55) + PROTECTED, 512));
	STEP(req_out(VBLK_T_OUT, ~0ULL, 512));
	/* not a whole sector */
	STEP(req(VBLK_T_IN, PROTECTED, 100));
	STEP(req_out(VBLK_T_OUT, PROTECTED, 100));
	return 0;
}

static int c_bad_type(void)
{
	STEP(req(0x1234, PROTECTED, 512));
	STEP(req_out(0x80000001u, PROTECTED, 512));
	/* DISCARD and WRITE_ZEROES were not negotiated. */
	STEP(req_out(11, PROTECTED, 16));
	STEP(req_out(13, PROTECTED, 16));
	return 0;
}

static int c_short_hdr(void)
{
	struct vring_desc d[] = {D((uint64_t)&hdr, 8, VRING_DESC_F_NEXT, EVIL + 1),
				 WR(data[0], 512, 2), STATUS};
	set_hdr(VBLK_T_IN, PROTECTED);
	return chain(d, 3);
}

static int c_flush_data(void)
{
	uint32_t len = 0;
	enum outcome o;
	unsigned i;
	struct vring_desc d[] = {HDR(1), D((uint64_t)data[1], 512, VRING_DESC_F_NEXT, EVIL + 2),
				 WR(data[0], 512, 3), STATUS};

	for (i = 0; i < 512; i++) {
		data[0][i] = 0x5a;
		data[1][i] = 0xa5;
	}
	set_hdr(VBLK_T_FLUSH, PROTECTED);
	for (i = 0; i < 4; i++)
		blk.q.desc[EVIL + i] = d[i];
	submit(EVIL);
	o = wait(&len);
	/* The data is meaningless: it must be neither written to disk nor overwritten. */
	for (i = 0; i < 512; i++)
		if (data[0][i] != 0x5a)
			return fail("flush wrote into its data buffer");
	if (o == O_OK) {
		if (len != 1)
			return fail("flush with data: used length is not 1");
		rt_snprintf(how, sizeof(how), "status OK, data ignored");
		return 0;
	}
	return expect_error(o);
}

static int c_getid_small(void)
{
	unsigned i;
	int r;

	memset(data[0], 0x77, 64);
	STEP(req(T_GET_ID, 0, 8));
	for (i = 8; i < 64; i++)
		if (data[0][i] != 0x77)
			return fail("GET_ID wrote past an 8-byte buffer");
	/* no data buffer at all */
	r = evil_init();
	if (r)
		return r;
	{
		struct vring_desc d[] = {HDR(1), STATUS};
		set_hdr(T_GET_ID, 0);
		return chain(d, 2);
	}
}

static int c_inflight_dup(void)
{
	/* The same head twice in the avail ring while its write may be in flight. */
	struct vring_desc d[] = {HDR(1), D((uint64_t)data[0], 4096, VRING_DESC_F_NEXT, EVIL + 2),
				 STATUS};
	uint32_t id, len;
	uint64_t end;
	unsigned i, n = 0;
	int r;

	for (i = 0; i < 3; i++)
		blk.q.desc[EVIL + i] = d[i];
	set_hdr(VBLK_T_OUT, SCRATCH);
	for (i = 0; i < 4096; i++)
		data[0][i] = pattern(99, i);
	status[0] = 0xff;
	virtq_push(&blk.q, EVIL);
	virtq_push(&blk.q, EVIL);
	virtq_kick(&blk.q);
	/* Either both complete (the first finished before the second was seen) or NEEDS_RESET. */
	end = rdtsc() + wait_ticks();
	while (rdtsc() < end && n < 2) {
		r = virtq_pop(&blk.q, &id, &len);
		if (r < 0 || (r > 0 && id != EVIL))
			return fail("bad used element");
		n += (unsigned)r;
		if (virtio_status(&blk.pci) & NEEDS_RESET) {
			rt_snprintf(how, sizeof(how), "NEEDS_RESET after %u completions", n);
			return 0;
		}
	}
	rt_snprintf(how, sizeof(how), "%u completions", n);
	return 0;
}

static uint64_t common_cfg(void)
{
	return blk.pci.common;
}

/* DISCARD / WRITE_ZEROES with bad segments (16 bytes each after the header). */
static int segs(uint32_t type, unsigned nseg, uint32_t bytes, uint64_t sector, uint32_t num,
		uint32_t flags)
{
	unsigned i;

	for (i = 0; i < nseg; i++) {
		memcpy(data[1] + 16 * i, &sector, 8);
		memcpy(data[1] + 16 * i + 8, &num, 4);
		memcpy(data[1] + 16 * i + 12, &flags, 4);
	}
	{
		struct vring_desc d[] = {
		    HDR(1), D((uint64_t)data[1], bytes, VRING_DESC_F_NEXT, EVIL + 2), STATUS};
		set_hdr(type, 0);
		if (!bytes)
			d[1] = d[2];
		return chain(d, bytes ? 3 : 2) ? -1 : 0;
	}
}

#define F_DISCARD 13
#define F_WZ	  14
#define SEGSTEP(...)                                                                               \
	do {                                                                                       \
		if (evil_init_with(1ULL << F_DISCARD | 1ULL << F_WZ) || segs(__VA_ARGS__))         \
			return -1;                                                                 \
	} while (0)

static int c_discard(void)
{
	uint64_t cap = blk.capacity;
	unsigned k;

	if (evil_init_with(1ULL << F_DISCARD | 1ULL << F_WZ))
		return -1;
	if (!(blk.features & (1ULL << F_DISCARD | 1ULL << F_WZ))) {
		note("not offered");
		return 0;
	}
	for (k = 0; k < 2; k++) {
		uint32_t t = k ? 13 : 11;

		if (!(blk.features & (1ULL << (k ? F_WZ : F_DISCARD))))
			continue;
		/* no segment, a partial one, more than max_discard_seg (16) */
		SEGSTEP(t, 0, 0, PROTECTED, 1, 0);
		SEGSTEP(t, 1, 17, PROTECTED, 1, 0);
		SEGSTEP(t, 17, 17 * 16, PROTECTED, 1, 0);
		/* beyond capacity, sector * 512 overflowing, too many sectors */
		SEGSTEP(t, 1, 16, cap, 1, 0);
		SEGSTEP(t, 1, 16, cap - 1, 2, 0);
		SEGSTEP(t, 1, 16, (1ULL << 55) + PROTECTED, 1, 0);
		SEGSTEP(t, 1, 16, ~0ULL, 1, 0);
		SEGSTEP(t, 1, 16, PROTECTED, 0xffffffffu, 0);
		/* unknown flags (UNMAP is only for WRITE_ZEROES) */
		SEGSTEP(t, 1, 16, PROTECTED, 1, k ? 2 : 1);
		/* one good segment, then a bad one: nothing may be done */
		if (evil_init_with(1ULL << F_DISCARD | 1ULL << F_WZ))
			return -1;
		{
			uint64_t sec[2] = {PROTECTED, cap};
			uint32_t num = 8, fl = 0;
			memcpy(data[1], &sec[0], 8);
			memcpy(data[1] + 8, &num, 4);
			memcpy(data[1] + 12, &fl, 4);
			memcpy(data[1] + 16, &sec[1], 8);
			memcpy(data[1] + 24, &num, 4);
			memcpy(data[1] + 28, &fl, 4);
			struct vring_desc d[] = {
			    HDR(1), D((uint64_t)data[1], 32, VRING_DESC_F_NEXT, EVIL + 2), STATUS};
			set_hdr(t, 0);
			if (chain(d, 3))
				return -1;
		}
	}
	return 0;
}

/* DRIVER_OK not set yet: the device must not consume the ring. */
static int c_kick_early(void)
{
	static const uint16_t ids[] = {0x1042, 0x1001};
	int idx = pci_find(0x1af4, ids, 2, 0), slot;
	uint64_t end;
	uint8_t st;

	memset(&blk, 0, sizeof(blk));
	if (idx < 0 || virtio_pci_init(&blk.pci, (uint32_t)idx, 1ULL << F_FLUSH, &blk.features) ||
	    virtio_queue_init(&blk.pci, 0, &blk.q, VQ_MAX_SIZE))
		return fail("init");
	blk.capacity = 1024;
	slot = vblk_submit(&blk, VBLK_T_IN, SCRATCH, data[0], 512);
	if (slot < 0)
		return fail("submit");
	vblk_kick(&blk);
	mmio_write8(blk.pci.common + C_STATUS, 1 | 2 | 4); /* DRIVER_OK without FEATURES_OK */
	vblk_kick(&blk);
	end = rdtsc() + rt_tsc_hz() / 10;
	while (rdtsc() < end)
		if (blk.q.used.idx != 0)
			return fail("request consumed before DRIVER_OK");
	if (virtio_status(&blk.pci) != (1 | 2 | 8))
		return fail("DRIVER_OK without FEATURES_OK was accepted");
	/* Now properly: the queued request is served. */
	virtio_driver_ok(&blk.pci);
	vblk_kick(&blk);
	end = rdtsc() + rt_tsc_hz();
	while ((st = vblk_take(&blk, slot)) == VBLK_S_PENDING && rdtsc() < end)
		if (vblk_poll(&blk) < 0)
			return fail("poll");
	if (st != VBLK_S_OK)
		return fail("queued request not served after DRIVER_OK");
	note("not consumed before DRIVER_OK");
	return 0;
}

/* Features the device did not offer, or no VERSION_1: FEATURES_OK must not stick. */
static int c_bad_features(void)
{
	static const uint32_t lo[] = {0xffffffffu, 1u << 9, 0};
	static const uint32_t hi[] = {0x1, 0x0, 0x80000001u};
	uint64_t c = common_cfg();
	unsigned i;

	for (i = 0; i < 3; i++) {
		mmio_write8(c + C_STATUS, 0);
		while (virtio_status(&blk.pci))
			cpu_relax();
		mmio_write8(c + C_STATUS, 1 | 2);
		mmio_write32(c + C_GFSELECT, 0);
		mmio_write32(c + C_GF, lo[i]);
		mmio_write32(c + C_GFSELECT, 1);
		mmio_write32(c + C_GF, hi[i]);
		mmio_write8(c + C_STATUS, 1 | 2 | 8);
		if (virtio_status(&blk.pci) & 8)
			return fail("FEATURES_OK stuck with bad features");
		mmio_write8(c + C_STATUS, 1 | 2 | 8 | 4);
		if (virtio_status(&blk.pci) & 4)
			return fail("DRIVER_OK stuck without FEATURES_OK");
	}
	note("FEATURES_OK refused");
	return 0;
}

/* Reset with 32 reads in flight: afterwards the device leaves the old rings alone. */
static int c_reset_inflight(void)
{
	static uint8_t bufs[VBLK_MAX_INFLIGHT][16384] __attribute__((aligned(4096)));
	uint16_t used;
	uint64_t end;
	int k;

	for (k = 0; k < VBLK_MAX_INFLIGHT; k++)
		if (vblk_submit(&blk, VBLK_T_IN, (uint64_t)k * 32, bufs[k], 16384) < 0)
			return fail("submit");
	vblk_kick(&blk);
	/* Reset once the device has started (or after 100 ms). */
	end = rdtsc() + rt_tsc_hz() / 10;
	while (!blk.q.used.idx && rdtsc() < end)
		cpu_relax();
	mmio_write8(blk.pci.common + C_STATUS, 0);
	while (virtio_status(&blk.pci))
		cpu_relax();
	used = blk.q.used.idx;
	for (k = 0; k < VBLK_MAX_INFLIGHT; k++)
		memset(bufs[k], 0x3c, 16384);
	end = rdtsc() + rt_tsc_hz() / 10;
	while (rdtsc() < end)
		cpu_relax();
	if (blk.q.used.idx != used)
		return fail("device wrote the used ring after the reset finished");
	for (k = 0; k < VBLK_MAX_INFLIGHT; k++)
		if (bufs[k][0] != 0x3c || bufs[k][16383] != 0x3c)
			return fail("device wrote a buffer after the reset finished");
	rt_snprintf(how, sizeof(how), "%u of %d completed before the reset, none after", used,
		    VBLK_MAX_INFLIGHT);
	return 0;
}

/* ---- transport scenarios ---- */

static int c_ro_config(void)
{
	uint64_t c = common_cfg();
	uint64_t cap = blk.capacity;
	uint32_t df0, df1;
	uint16_t numq = mmio_read16(c + C_NUMQ), noff = mmio_read16(c + C_Q_NOFF);

	mmio_write32(c + C_DFSELECT, 0);
	df0 = mmio_read32(c + C_DF);
	mmio_write32(c + C_DF, ~df0);
	mmio_write16(c + C_NUMQ, 0x55);
	mmio_write8(c + C_CFGGEN, 0x99);
	mmio_write16(c + C_Q_NOFF, 0x3333);
	mmio_write32(blk.pci.device, 0xffffffffu);
	mmio_write32(blk.pci.device + 4, 0x7fffffffu);
	mmio_write8(blk.pci.device + 20, 0xff); /* blk_size */
	mmio_write32(blk.pci.isr, 0xffffffffu);
	mmio_write32(c + C_DFSELECT, 1);
	df1 = mmio_read32(c + C_DF);
	mmio_write32(c + C_DFSELECT, 0);
	if (mmio_read32(c + C_DF) != df0 || !(df1 & 1))
		return fail("device features changed");
	if (mmio_read16(c + C_NUMQ) != numq || mmio_read16(c + C_Q_NOFF) != noff)
		return fail("num_queues or queue_notify_off changed");
	if ((mmio_read32(blk.pci.device) | (uint64_t)mmio_read32(blk.pci.device + 4) << 32) != cap)
		return fail("capacity changed");
	if (virtio_status(&blk.pci) != 15)
		return fail("device_status changed");
	rt_snprintf(how, sizeof(how), "writes ignored");
	return roundtrip(1);
}

static int c_qsel(void)
{
	uint64_t c = common_cfg();
	static const uint16_t sel[] = {1, 15, 16, 0x7fff, 0xffff};
	unsigned i;

	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		mmio_write16(c + C_Q_SELECT, sel[i]);
		if (mmio_read16(c + C_Q_SIZE) != 0 && sel[i] >= mmio_read16(c + C_NUMQ))
			return fail("queue_size of a missing queue is not 0");
		mmio_write16(c + C_Q_SIZE, 64);
		mmio_write16(c + C_Q_MSIX, 0);
		mmio_write32(c + C_Q_DESC, 0x1000);
		mmio_write32(c + C_Q_AVAIL, 0x2000);
		mmio_write32(c + C_Q_USED, 0x3000);
		mmio_write16(c + C_Q_ENABLE, 1);
		/* notify a queue that does not exist */
		mmio_write16(blk.pci.notify_base + (uint64_t)(sel[i] & 0x3ff) * blk.pci.notify_mult,
			     sel[i]);
	}
	mmio_write16(c + C_Q_SELECT, 0);
	if (mmio_read16(c + C_Q_SIZE) != blk.q.size || mmio_read16(c + C_Q_ENABLE) != 1)
		return fail("queue 0 changed");
	rt_snprintf(how, sizeof(how), "ignored, queue 0 intact");
	return roundtrip(2);
}

/* Stop after FEATURES_OK and try to enable queue 0 with (size, desc). */
static int bad_queue(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	static const uint16_t ids[] = {0x1042, 0x1001};
	int idx = pci_find(0x1af4, ids, 2, 0);
	uint64_t c, f;

	memset(&blk, 0, sizeof(blk));
	if (idx < 0 || virtio_pci_init(&blk.pci, (uint32_t)idx, 1ULL << F_FLUSH, &f))
		return fail("init");
	c = common_cfg();
	mmio_write16(c + C_Q_SELECT, 0);
	mmio_write16(c + C_Q_SIZE, size);
	mmio_write32(c + C_Q_DESC, (uint32_t)desc);
	mmio_write32(c + C_Q_DESC + 4, (uint32_t)(desc >> 32));
	mmio_write32(c + C_Q_AVAIL, (uint32_t)avail);
	mmio_write32(c + C_Q_AVAIL + 4, (uint32_t)(avail >> 32));
	mmio_write32(c + C_Q_USED, (uint32_t)used);
	mmio_write32(c + C_Q_USED + 4, (uint32_t)(used >> 32));
	mmio_write16(c + C_Q_ENABLE, 1);
	if (virtio_status(&blk.pci) & NEEDS_RESET) {
		note("NEEDS_RESET");
		return 0;
	}
	if (mmio_read16(c + C_Q_ENABLE) == 0) {
		note("queue_enable stays 0");
		return 0;
	}
	/* Enabled anyway: the device must not use it. Kick it and look. */
	mmio_write8(c + C_STATUS, 15);
	mmio_write16(blk.pci.notify_base, 0);
	rt_sleep_us(50000);
	if (virtio_status(&blk.pci) & NEEDS_RESET) {
		note("NEEDS_RESET on kick");
		return 0;
	}
	note("accepted, never used");
	return 0;
}

static struct virtq spare __attribute__((aligned(4096)));

static int c_qsize(void)
{
	uint64_t d = (uint64_t)spare.desc, a = (uint64_t)&spare.avail, u = (uint64_t)&spare.used;
	static const uint16_t sizes[] = {0, 3, 100, 127, 0x8000};
	unsigned i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (bad_queue(sizes[i], d, a, u))
			return -1;
	return 0;
}

static int c_qaddr(void)
{
	uint64_t d = (uint64_t)spare.desc, a = (uint64_t)&spare.avail, u = (uint64_t)&spare.used;
	uint64_t top = ram_top();

	if (bad_queue(64, 0xd0000000ULL, a, u) || bad_queue(64, d, 0x100000000ULL << 4, u) ||
	    bad_queue(64, d, a, 0xfffffffffffff000ULL) || bad_queue(64, d, a, d + 8) ||
	    bad_queue(64, d, a, top - 16) || bad_queue(64, d + 1, a, u) ||
	    bad_queue(64, d, a + 1, u))
		return -1;
	return 0;
}

static int c_features(void)
{
	uint64_t c = common_cfg();
	uint32_t g0, g1;

	mmio_write32(c + C_GFSELECT, 0);
	g0 = mmio_read32(c + C_GF);
	mmio_write32(c + C_GF, 0xffffffffu);
	mmio_write32(c + C_GFSELECT, 1);
	g1 = mmio_read32(c + C_GF);
	mmio_write32(c + C_GF, 0);
	mmio_write8(c + C_STATUS, 1 | 2 | 8); /* clear DRIVER_OK without reset */
	mmio_write8(c + C_STATUS, 15 | 0x40); /* try to set NEEDS_RESET ourselves */
	mmio_write8(c + C_STATUS, 15);
	mmio_write32(c + C_GFSELECT, 0);
	if (mmio_read32(c + C_GF) != g0)
		return fail("driver features changed after FEATURES_OK");
	mmio_write32(c + C_GFSELECT, 1);
	if (mmio_read32(c + C_GF) != g1)
		return fail("driver features (high) changed after FEATURES_OK");
	if (virtio_status(&blk.pci) & NEEDS_RESET) {
		note("NEEDS_RESET");
		return 0;
	}
	rt_snprintf(how, sizeof(how), "features frozen");
	return roundtrip(3);
}

static int c_msix(void)
{
	uint64_t c = common_cfg(), bar, size, t;
	uint32_t tab, pba;
	uint16_t v;
	unsigned i, cap, guard;

	mmio_write16(c + C_MSIX, 300);
	v = mmio_read16(c + C_MSIX);
	if (v != 300 && v != 0xffff)
		return fail("config_msix_vector reads back garbage");
	mmio_write16(c + C_MSIX, 0xfffe);
	mmio_write16(c + C_Q_SELECT, 0);
	mmio_write16(c + C_Q_MSIX, 0x7fff);
	v = mmio_read16(c + C_Q_MSIX);
	if (v != 0x7fff && v != 0xffff)
		return fail("queue_msix_vector reads back garbage");
	if (v != 0xffff) {
		/* Accepted: spec 4.1.4.3 wants NO_VECTOR for a vector it cannot map. */
		return fail("out-of-range queue vector not refused (reads back 0x7fff)");
	}
	/* The MSI-X capability says where the table and the PBA are. */
	for (cap = pci_read8(blk.pci.bdf, 0x34) & 0xfc, guard = 48; cap && guard--;
	     cap = pci_read8(blk.pci.bdf, cap + 1) & 0xfc)
		if (pci_read8(blk.pci.bdf, cap) == 0x11)
			break;
	if (!cap || !guard)
		return fail("no MSI-X capability");
	tab = pci_read32(blk.pci.bdf, cap + 4);
	pba = pci_read32(blk.pci.bdf, cap + 8);
	bar = pci_bar(blk.pci.bdf, tab & 7, &size);
	/* Every slot of the table's page, past the table size too, and the PBA. */
	if (bar && (tab & ~7u) + 0x1000 <= size) {
		for (i = 0; i < 256; i += 7) {
			t = bar + (tab & ~7u) + 16 * i;
			mmio_write32(t, 0xfee00000u);
			mmio_write32(t + 8, 0x40);
			mmio_write32(t + 12, 0);
			(void)mmio_read32(t + 12);
			mmio_write64(t, ~0ULL);
		}
	}
	bar = pci_bar(blk.pci.bdf, pba & 7, &size);
	if (bar && (pba & ~7u) + 8 <= size) {
		mmio_write64(bar + (pba & ~7u), ~0ULL);
		(void)mmio_read64(bar + (pba & ~7u));
	}
	/* MSI-X enable with the function mask, then off again. */
	pci_write16(blk.pci.bdf, cap + 2, 0xffff);
	pci_write16(blk.pci.bdf, cap + 2, 0);
	rt_snprintf(how, sizeof(how), "vectors refused, table writes contained");
	return roundtrip(4);
}

static int c_odd(void)
{
	uint64_t bar, size, c = common_cfg();
	static const uint32_t offs[] = {0x13,	0x15,	0x17,	0x1b,	0x1f,	0x21,	0x27,
					0x2f,	0x37,	0x1001, 0x1003, 0x2001, 0x2007, 0x2ffd,
					0x3001, 0x3fff, 0x4003, 0x4ffd, 0x5001, 0x7ff9, 0x7fff};
	uint64_t st, nb, ne;
	unsigned i;

	bar = pci_bar(blk.pci.bdf, 0, &size);
	if (!bar || size < 0x1000)
		return fail("BAR0");
	st = c + C_STATUS - bar;
	nb = blk.pci.notify_base - bar;
	ne = nb + blk.pci.notify_len;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t a = bar + offs[i];

		if (offs[i] >= size)
			continue;
		(void)mmio_read8(a);
		if (offs[i] + 2 <= size)
			(void)mmio_read16(a);
		if (offs[i] + 4 <= size)
			(void)mmio_read32(a);
		if (offs[i] + 8 <= size)
			(void)mmio_read64(a);
		/* Writes of junk, except onto device_status (a reset) and the notify area. */
		if ((offs[i] <= st && st < offs[i] + 2) || (offs[i] + 2 > nb && offs[i] < ne))
			continue;
		mmio_write8(a, 0xa5);
		if (offs[i] + 2 <= size)
			mmio_write16(a, 0xa5a5);
	}
	/* 16-byte SSE and string accesses (the emulator splits them). */
	{
		uint8_t tmp[32] __attribute__((aligned(16)));
		uint64_t src = c, dst = (uint64_t)tmp, cnt = 24;

		__asm__ volatile("movdqu (%0), %%xmm0; movdqu %%xmm0, (%1)" ::"r"(c), "r"(tmp)
				 : "xmm0", "memory");
		__asm__ volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(cnt)::"memory");
		/* a string write of junk onto the ISR and device config */
		src = (uint64_t)tmp;
		dst = blk.pci.isr;
		cnt = 4;
		__asm__ volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(cnt)::"memory");
	}
	/* Accesses crossing the end of BAR0. */
	(void)mmio_read32(bar + size - 2);
	(void)mmio_read64(bar + size - 4);
	mmio_write32(bar + size - 2, 0x5a5a5a5a);
	mmio_write64(bar + size - 4, ~0ULL);
	if (virtio_status(&blk.pci) & NEEDS_RESET) {
		note("NEEDS_RESET");
		return 0;
	}
	if (mmio_read16(c + C_NUMQ) == 0 || mmio_read16(c + C_NUMQ) > 16)
		return fail("num_queues reads back wrong");
	if (virtio_status(&blk.pci) != 15)
		return fail("device_status changed");
	rt_snprintf(how, sizeof(how), "odd accesses absorbed");
	/* The live queue still works, without a reset. */
	return roundtrip(5);
}

/* Moves BAR0 to addr (decoding off while it changes). */
static void bar0_set(uint32_t addr)
{
	uint16_t cmd = pci_read16(blk.pci.bdf, 0x04);

	pci_write16(blk.pci.bdf, 0x04, (uint16_t)(cmd & ~3u));
	pci_write32(blk.pci.bdf, 0x10, addr);
	pci_write16(blk.pci.bdf, 0x04, (uint16_t)(cmd | 6));
}

/*
 * Relocate BAR0: to a new place in the PCI window (the device, kicks
 * included, must follow), onto addresses outside the window (RAM, the
 * LAPIC, the top of memory: the BAR must not decode there), and back.
 */
static int c_bar_move(void)
{
	uint64_t size, old = pci_bar(blk.pci.bdf, 0, &size);
	static const uint32_t outside[] = {0x00000000u, 0x00100000u, 0xfee00000u, 0xfffff000u,
					   0xfe000000u};
	uint32_t there = 0xd0000000u;
	unsigned i;

	if (!old || size < 0x1000)
		return fail("BAR0");
	/* Sizing: all ones reads back the size mask. */
	bar0_set(0xffffffffu);
	if ((pci_read32(blk.pci.bdf, 0x10) & ~0xfu) != (uint32_t) ~(size - 1))
		return fail("BAR0 size mask");
	bar0_set(there);
	if (evil_init() || roundtrip(6))
		return -1;
	if (blk.pci.common != there)
		return fail("device not found at the moved BAR0");
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		bar0_set(outside[i]);
		/* Nothing decodes at the previous place any more. */
		if (mmio_read16(there + C_NUMQ) != 0xffff)
			return fail("BAR0 still decodes after moving out of the window");
	}
	/* A kick at the old address, now nothing's. */
	mmio_write16(there + 0x3000, 0);
	bar0_set((uint32_t)old);
	if (evil_init() || roundtrip(7))
		return -1;
	rt_snprintf(how, sizeof(how), "device followed BAR0, outside the window it stays off");
	return 0;
}

/*
 * Compare the capability chains of two config-space snapshots, skipping the
 * driver-writable parts: virtio_pci_cfg_cap's bar/offset/length/data and the
 * MSI-X message control.
 */
static int caps_changed(const uint8_t *a, const uint8_t *b)
{
	unsigned p = a[0x34] & 0xfc, guard = 48, i, len;

	if ((b[0x34] & 0xfc) != p)
		return 1;
	while (p && guard--) {
		if (p < 0x40 || p > 0xf0)
			return 1;
		len = a[p] == 0x09 ? a[p + 2] : a[p] == 0x11 ? 12 : 2;
		if (len > 256 - p)
			return 1;
		for (i = 0; i < len; i++) {
			if (a[p] == 0x09 && a[p + 3] == 5 && i >= 4)
				continue; /* PCI_CFG window */
			if (a[p] == 0x11 && (i == 2 || i == 3))
				continue; /* MSI-X control */
			if (a[p + i] != b[p + i])
				return 1;
		}
		p = a[p + 1] & 0xfc;
	}
	return 0;
}

/* Junk over the whole PCI configuration header and capabilities. */
static int c_pci_cfg(void)
{
	uint32_t before[64], after[64], bdf = blk.pci.bdf;
	unsigned off, port;

	for (off = 0; off < 256; off += 4)
		before[off / 4] = pci_read32(bdf, off);
	for (off = 0; off < 256; off += 4) {
		if (off == 0x10 || off == 0x04)
			continue; /* BAR0 and command: c_bar_move */
		pci_write32(bdf, off, 0xffffffffu);
		pci_write32(bdf, off, 0);
		/* odd widths and offsets through 0xcfc..0xcff */
		for (port = 0; port < 4; port++) {
			outl(CV_PORT_PCI_ADDR, 0x80000000u | (bdf << 8) | off);
			outb((uint16_t)(CV_PORT_PCI_DATA + port), 0x5a);
			outl(CV_PORT_PCI_ADDR, 0x80000000u | (bdf << 8) | off);
			if (port < 3)
				outw((uint16_t)(CV_PORT_PCI_DATA + port), 0x5a5a);
			outl(CV_PORT_PCI_ADDR, 0x80000000u | (bdf << 8) | off);
			(void)inl((uint16_t)(CV_PORT_PCI_DATA + port));
		}
	}
	/* Address register junk: disabled bit, other buses, functions, then reads. */
	outl(CV_PORT_PCI_ADDR, 0x7fffffffu);
	(void)inl(CV_PORT_PCI_DATA);
	outl(CV_PORT_PCI_ADDR, 0x80ff0000u | (bdf << 8));
	(void)inl(CV_PORT_PCI_DATA);
	outl(CV_PORT_PCI_DATA, 0xffffffffu);
	outl(CV_PORT_PCI_ADDR, 0x80000000u | ((bdf | 7) << 8));
	outl(CV_PORT_PCI_DATA, 0xffffffffu);
	outw(CV_PORT_PCI_ADDR + 2, 0xffff);
	for (off = 0; off < 256; off += 4)
		after[off / 4] = pci_read32(bdf, off);
	/* IDs, class, header type and capability pointers are read-only. */
	if (after[0] != before[0] || after[2] != before[2] ||
	    (after[3] ^ before[3]) & 0x00ff0000u || after[0x2c / 4] != before[0x2c / 4] ||
	    (after[0x34 / 4] & 0xff) != (before[0x34 / 4] & 0xff))
		return fail("read-only header fields changed");
	if (caps_changed((const uint8_t *)before, (const uint8_t *)after))
		return fail("capability list changed");
	if (evil_init() || roundtrip(8))
		return -1;
	rt_snprintf(how, sizeof(how), "read-only fields kept, device works");
	return 0;
}

/*
 * Race: a second cpu rewrites the chain (addresses, lengths, flags, next
 * indices, the header, an indirect table) while this one submits it again
 * and again. Every snapshot the device takes is either valid (an IN read or
 * GET_ID into data[]) or refused; whatever it answers, it must not crash.
 */
static volatile int race_run, race_started;

/* The second cpu is started once and then runs each case's job in turn. */
static void (*volatile ap_job)(unsigned int cpu);

__attribute__((force_align_arg_pointer)) static void ap_loop(unsigned int cpu)
{
	for (;;) {
		while (!ap_job)
			cpu_relax();
		ap_job(cpu);
		ap_job = 0;
	}
}

static int ap_run(void (*fn)(unsigned int cpu))
{
	while (ap_job)
		cpu_relax();
	ap_job = fn;
	if (rt_smp_online < 2 && rt_smp_start(ap_loop))
		return -1;
	return 0;
}

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

__attribute__((force_align_arg_pointer)) static void race_ap(unsigned int cpu)
{
	static const uint64_t addrs[] = {0, 0, 0, 0xd0000000ULL, 0xfffffffffffffe00ULL, 0};
	static const uint32_t lens[] = {512, 1024, 8192, 0xffffffffu, 0, 16, 1};
	static const uint64_t sectors[] = {SCRATCH, SCRATCH + 1, 0, ~0ULL, 1ULL << 55};
	static const uint32_t types[] = {VBLK_T_IN, T_GET_ID, 0x1234, VBLK_T_FLUSH};
	uint64_t x = 0x9e3779b97f4a7c15ULL * (cpu + 1), r;
	uint64_t a[6];
	volatile struct vring_desc *d;

	a[0] = (uint64_t)data[0];
	a[1] = (uint64_t)data[0] + 512;
	a[2] = (uint64_t)itab[0];
	a[3] = addrs[3];
	a[4] = addrs[4];
	a[5] = (uint64_t)&blk.q.used;
	race_started = 1;
	while (race_run) {
		r = rng(&x);
		switch (r % 8) {
		case 0:
		case 1:
			d = &blk.q.desc[EVIL + 1 + (r >> 8) % 2];
			if ((r >> 8) % 2) /* status: somewhere in status[] or gone */
				d->addr = (r >> 16) % 4 ? (uint64_t)status + (r >> 20) % 8 : a[3];
			else
				d->addr = a[(r >> 16) % 6];
			break;
		case 2:
			blk.q.desc[EVIL + 1 + (r >> 8) % 2].len = lens[(r >> 16) % 7];
			break;
		case 3:
			blk.q.desc[EVIL + (r >> 8) % 3].flags = (uint16_t)((r >> 16) & 7);
			break;
		case 4:
			blk.q.desc[EVIL + (r >> 8) % 3].next = (uint16_t)(EVIL + (r >> 16) % 4);
			break;
		case 5:
			hdr.sector = sectors[(r >> 8) % 5];
			break;
		case 6:
			hdr.type = types[(r >> 8) % 4];
			break;
		case 7:
			itab[0][(r >> 8) % 4] =
			    D(a[(r >> 16) % 6], lens[(r >> 24) % 7], (uint16_t)((r >> 32) & 7),
			      (uint16_t)((r >> 40) % 5));
			break;
		}
	}
	race_started = 0;
}

static int c_race(void)
{
	unsigned i, n = (unsigned)rt_cmdline_u64("race_iters", 500), cnt[5] = {0};
	enum outcome o;
	uint64_t end;

	if (rt_smp_expected() < 2) {
		rt_snprintf(how, sizeof(how), "skipped: needs cpus=2");
		return 0;
	}
	race_run = 1;
	if (ap_run(race_ap))
		return fail("cannot start the second cpu");
	end = rdtsc() + 5 * rt_tsc_hz();
	while (!race_started && rdtsc() < end)
		cpu_relax();
	if (!race_started)
		return fail("second cpu did not start");
	for (i = 0; i < n; i++) {
		struct vring_desc d[] = {HDR(1), WR(data[0], 512, 2), STATUS};
		unsigned k;

		for (k = 0; k < 3; k++)
			blk.q.desc[EVIL + k] = d[k];
		set_hdr(VBLK_T_IN, SCRATCH);
		submit(EVIL);
		o = wait(NULL);
		cnt[o]++;
		if (o == O_NR || o == O_HANG || o == O_BAD) {
			if (evil_init())
				break;
		}
	}
	race_run = 0;
	while (race_started)
		cpu_relax();
	if (i < n)
		return -1;
	rt_snprintf(
	    how, sizeof(how),
	    "%u rounds: %u OK, %u error, %u NEEDS_RESET, %u status elsewhere, %u unanswered", n,
	    cnt[O_OK], cnt[O_ERR], cnt[O_NR], cnt[O_BAD], cnt[O_HANG]);
	return 0;
}

/*
 * Two vCPUs: one moves BAR0 back and forth (decoding on) while the other
 * reads a device register at both places. Each read hits the device at the
 * BAR's place at that moment or nothing (all ones); a read must never reach
 * the device at an offset computed from a BAR that moved meanwhile.
 */
static volatile int bar_run, bar_started;
static volatile uint32_t bar_moves;
static uint32_t bar_at[2];

__attribute__((force_align_arg_pointer)) static void bar_ap(unsigned int cpu)
{
	(void)cpu;
	bar_started = 1;
	while (bar_run) {
		pci_write32(blk.pci.bdf, 0x10, bar_at[bar_moves & 1]);
		bar_moves++;
	}
	bar_started = 0;
}

static int c_bar_race(void)
{
	unsigned i, n = (unsigned)rt_cmdline_u64("bar_race_iters", 20000), hits = 0, misses = 0;
	uint64_t size, end;

	if (rt_smp_expected() < 2) {
		rt_snprintf(how, sizeof(how), "skipped: needs cpus=2");
		return 0;
	}
	bar_at[0] = (uint32_t)pci_bar(blk.pci.bdf, 0, &size);
	bar_at[1] = 0xd0000000u;
	if (!bar_at[0] || size < 0x1000)
		return fail("BAR0");
	bar_run = 1;
	if (ap_run(bar_ap))
		return fail("cannot start the second cpu");
	end = rdtsc() + 5 * rt_tsc_hz();
	while (!bar_started && rdtsc() < end)
		cpu_relax();
	if (!bar_started)
		return fail("second cpu did not start");
	for (i = 0; i < n; i++) {
		uint16_t v = mmio_read16(bar_at[i & 1] + C_NUMQ);
		if (v == 0xffff)
			misses++;
		else if (v == 1)
			hits++;
		else
			break;
	}
	bar_run = 0;
	while (bar_started)
		cpu_relax();
	bar0_set(bar_at[0]);
	if (i < n)
		return fail("a read during BAR moves returned a wrong queue count");
	rt_snprintf(how, sizeof(how), "%u reads during %u BAR moves: %u answered, %u unmapped", n,
		    bar_moves, hits, misses);
	return 0;
}

/* Is name one of the comma-separated words of list? */
static int listed(const char *list, const char *name)
{
	size_t l = strlen(name);

	while (*list) {
		if (!strncmp(list, name, l) && (list[l] == ',' || list[l] == 0))
			return 1;
		while (*list && *list != ',')
			list++;
		if (*list == ',')
			list++;
	}
	return 0;
}

struct evcase {
	const char *name;
	int (*fn)(void);
};

static const struct evcase cases[] = {
    {"loop", c_loop},
    {"longchain", c_longchain},
    {"next_range", c_next_range},
    {"head_range", c_head_range},
    {"ind_len", c_ind_len},
    {"ind_big", c_ind_big},
    {"ind_nested", c_ind_nested},
    {"ind_outside", c_ind_outside},
    {"buf_hole", c_buf_hole},
    {"buf_high", c_buf_high},
    {"buf_wrap", c_buf_wrap},
    {"buf_ring", c_buf_ring},
    {"order", c_order},
    {"huge_len", c_huge_len},
    {"no_status", c_no_status},
    {"ro_status", c_ro_status},
    {"avail_jump", c_avail_jump},
    {"sector", c_sector},
    {"bad_type", c_bad_type},
    {"short_hdr", c_short_hdr},
    {"flush_data", c_flush_data},
    {"getid_small", c_getid_small},
    {"inflight_dup", c_inflight_dup},
    {"discard", c_discard},
    {"kick_early", c_kick_early},
    {"bad_features", c_bad_features},
    {"reset_inflight", c_reset_inflight},
    {"ro_config", c_ro_config},
    {"qsel", c_qsel},
    {"qsize", c_qsize},
    {"qaddr", c_qaddr},
    {"features", c_features},
    {"msix", c_msix},
    {"odd", c_odd},
    {"bar_move", c_bar_move},
    {"pci_cfg", c_pci_cfg},
    {"race", c_race},
    {"bar_race", c_bar_race},
};

static int run(unsigned k)
{
	cur = cases[k].name;
	how[0] = 0;
	step = 0;
	if (evil_init())
		return -1;
	if (cases[k].fn())
		return -1;
	/* Whatever happened, a reset must bring back a working device. */
	if (evil_init() || roundtrip(10 + k))
		return -1;
	rt_printf("blkevil: %s ok (%s)\n", cur, how);
	return 0;
}

/*
 * guest/rt enters rt_cpl3_entry() with a 16-byte aligned %rsp (iretq, no
 * return address), so every C frame is 8 bytes off the SysV alignment and
 * gcc's movdqa on stack temporaries faults (#GP). Realign here.
 */
__attribute__((force_align_arg_pointer)) int main(void)
{
	const char *want = rt_cmdline_get("case");
	unsigned k, n = sizeof(cases) / sizeof(cases[0]), done = 0;

	if (!want || !*want)
		want = "all";
	if (evil_init())
		return 1;
	rt_printf("blkevil: %lu sectors, features 0x%lx, ram top 0x%lx\n", blk.capacity,
		  blk.features, ram_top());
	if (blk.capacity < 1024) {
		cur = "setup";
		fail("disk smaller than 512 KiB");
		return 1;
	}
	for (k = 0; k < n; k++) {
		if (strcmp(want, "all") && !listed(want, cases[k].name))
			continue;
		if (run(k))
			return 1;
		done++;
	}
	if (!done) {
		cur = want;
		fail("no such case");
		return 2;
	}
	rt_printf("blkevil: PASS\n");
	return 0;
}
