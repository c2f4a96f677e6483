/* SPDX-License-Identifier: MIT */
/* virtio-blk on a raw image in a temporary file, driven through BAR0 and kicks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "device-procs/blk/blk.h"
#include "device-procs/blk/raw.h"
#include "vdrv.h"

#define DISK_SECTORS 2048u
#define QSIZE	     16
#define HDR(q)	     (VDRV_SCRATCH(q))	       /* request headers */
#define SEGS(q)	     (VDRV_SCRATCH(q) + 0x100) /* discard segments */
#define STATUS(q)    (VDRV_SCRATCH(q) + 0x800) /* status bytes, one per head */

struct fx {
	struct vdrv d;
	char path[64];
	int fd;
	struct blk_backend be;
	const struct blk_backend_ops *raw_ops;
	struct blk_backend_ops ops; /* raw, with failure injection and a gate */
	struct blk_dev *dev;
	bool fail_io;
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	bool gate_closed;
	unsigned at_gate;
	/* the non-blocking path (main loop): mode, and calls seen */
	enum { NW_OFF, NW_RAW, NW_EAGAIN, NW_SHORT, NW_UNSUPP } nowait;
	unsigned nowait_calls;
	unsigned flushes; /* backend flushes, failed ones included */
};

static struct fx *cur;

static void gate(void)
{
	pthread_mutex_lock(&cur->gate_lock);
	cur->at_gate++;
	pthread_cond_broadcast(&cur->gate_cond);
	while (cur->gate_closed)
		pthread_cond_wait(&cur->gate_cond, &cur->gate_lock);
	pthread_mutex_unlock(&cur->gate_lock);
}

static ssize_t t_preadv(struct blk_backend *b, const struct iovec *iov, int n, uint64_t off)
{
	gate();
	return cur->fail_io ? -EIO : cur->raw_ops->preadv(b, iov, n, off);
}

static ssize_t t_pwritev(struct blk_backend *b, const struct iovec *iov, int n, uint64_t off)
{
	return cur->fail_io ? -EIO : cur->raw_ops->pwritev(b, iov, n, off);
}

/* NW_SHORT moves 512 bytes at most per call, splitting buffers mid-way. */
static ssize_t t_nowait(struct blk_backend *b, const struct iovec *iov, int n, uint64_t off,
			bool write)
{
	cur->nowait_calls++;
	switch (cur->nowait) {
	case NW_EAGAIN:
		return -EAGAIN;
	case NW_UNSUPP:
		return -EOPNOTSUPP;
	case NW_SHORT: {
		struct iovec one = {iov[0].iov_base, iov[0].iov_len < 512 ? iov[0].iov_len : 512};
		return write ? cur->raw_ops->pwritev(b, &one, 1, off)
			     : cur->raw_ops->preadv(b, &one, 1, off);
	}
	default:
		return write ? cur->raw_ops->pwritev_nowait(b, iov, n, off)
			     : cur->raw_ops->preadv_nowait(b, iov, n, off);
	}
}

static ssize_t t_preadv_nowait(struct blk_backend *b, const struct iovec *iov, int n, uint64_t off)
{
	return t_nowait(b, iov, n, off, false);
}

static ssize_t t_pwritev_nowait(struct blk_backend *b, const struct iovec *iov, int n, uint64_t off)
{
	return t_nowait(b, iov, n, off, true);
}

static int t_flush(struct blk_backend *b)
{
	cur->flushes++;
	return cur->fail_io ? -EIO : cur->raw_ops->flush(b);
}

static void fill_pattern(int fd)
{
	uint8_t buf[512];
	for (unsigned s = 0; s < DISK_SECTORS; s++) {
		for (unsigned i = 0; i < 512; i++)
			buf[i] = (uint8_t)(s * 7 + i);
		assert_int_equal(pwrite(fd, buf, 512, (off_t)s * 512), 512);
	}
}

static struct fx *make(bool readonly, unsigned nthreads, unsigned nqueues)
{
	struct fx *f = calloc(1, sizeof(*f));
	cur = f;
	vdrv__init_ram(&f->d);
	strcpy(f->path, "/tmp/cellvm-blk-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	fill_pattern(f->fd);
	if (readonly) {
		int ro = open(f->path, O_RDONLY);
		close(f->fd);
		f->fd = ro;
	}
	pthread_mutex_init(&f->gate_lock, NULL);
	pthread_cond_init(&f->gate_cond, NULL);
	assert_int_equal(raw__open(&f->be, f->fd, readonly), 0);
	assert_int_equal(f->be.size, DISK_SECTORS * 512ull);
	f->raw_ops = f->be.ops;
	f->ops = *f->be.ops;
	f->ops.preadv = t_preadv;
	f->ops.pwritev = t_pwritev;
	f->ops.flush = t_flush;
	/* Most tests exercise the I/O threads: no main-loop path unless asked. */
	f->ops.preadv_nowait = NULL;
	f->ops.pwritev_nowait = NULL;
	f->be.ops = &f->ops;
	struct blk_params p = {.nqueues = nqueues, .queue_size = QSIZE, .nthreads = nthreads};
	memcpy(p.serial, "cellvm-disk-0", 13);
	f->dev = blk__new(&f->be, &p);
	assert_non_null(f->dev);
	assert_int_equal(blk_dev_ops.init(f->dev, &f->d.env), 0);
	f->d.vp = blk__transport(f->dev);
	return f;
}

static uint64_t all_features(struct fx *f)
{
	uint64_t lo, hi;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	lo = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_DF, 4);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	hi = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_DF, 4);
	return lo | hi << 32;
}

static void start(struct fx *f, uint64_t features, unsigned nq)
{
	uint8_t st = vdrv__start(&f->d, blk__transport(f->dev), features, nq, QSIZE);
	assert_true(st & VIRTIO_STATUS_DRIVER_OK);
}

static int setup(void **state)
{
	struct fx *f = make(false, 2, 2);
	start(f, all_features(f), 2);
	*state = f;
	return 0;
}

static int setup_inline(void **state)
{
	struct fx *f = make(false, 0, 2);
	start(f, all_features(f), 2);
	*state = f;
	return 0;
}

/* Threads, plus the non-blocking path on the "main loop" (the caller). */
static int setup_nowait(void **state)
{
	struct fx *f = make(false, 2, 1);
	f->ops.preadv_nowait = t_preadv_nowait;
	f->ops.pwritev_nowait = t_pwritev_nowait;
	start(f, all_features(f), 1);
	*state = f;
	return 0;
}

static int setup_ro(void **state)
{
	struct fx *f = make(true, 1, 1);
	start(f, all_features(f), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	blk__free(f->dev);
	close(f->fd);
	unlink(f->path);
	vdrv__free_ram(&f->d);
	free(f);
	return 0;
}

/* Wait (bounded) for the next used element of queue q. */
static void wait_used(struct fx *f, unsigned q, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 10000; i++) {
		if (vdrv__used(&f->d, q, id, len))
			return;
		usleep(1000);
	}
	fail_msg("no completion on queue %u", q);
}

/* Interrupts are raised just after the used index moves: wait (bounded). */
static unsigned wait_irqs(unsigned v, unsigned n)
{
	for (int i = 0; i < 10000; i++) {
		unsigned c = __atomic_load_n(&vdrv_irqs[v], __ATOMIC_SEQ_CST);
		if (c >= n)
			return c;
		usleep(1000);
	}
	fail_msg("no interrupt on vector %u", v);
	return 0;
}

static void put_hdr(struct fx *f, unsigned q, uint32_t type, uint64_t sector)
{
	uint8_t *h = vdrv__ptr(&f->d, HDR(q));
	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
}

/*
 * One request: header, `data` buffers, then a 1-byte status. Returns the
 * status byte; *used gets the used length.
 */
static int submit(struct fx *f, unsigned q, uint32_t type, uint64_t sector, const struct vbuf *data,
		  unsigned ndata, uint32_t *used)
{
	struct vbuf b[8];
	put_hdr(f, q, type, sector);
	b[0] = (struct vbuf){HDR(q), 16, false};
	if (ndata)
		memcpy(b + 1, data, ndata * sizeof(*data));
	b[ndata + 1] = (struct vbuf){STATUS(q), 1, true};
	*(uint8_t *)vdrv__ptr(&f->d, STATUS(q)) = 0xee;
	uint16_t head = vdrv__add(&f->d, q, b, ndata + 2, false);
	blk_dev_ops.kick(f->dev, q);
	uint32_t id, len;
	wait_used(f, q, &id, &len);
	assert_int_equal(id, head);
	if (used)
		*used = len;
	return *(uint8_t *)vdrv__ptr(&f->d, STATUS(q));
}

static int rw(struct fx *f, uint32_t type, uint64_t sector, uint64_t gpa, uint32_t len)
{
	struct vbuf d = {gpa, len, type == VIRTIO_BLK_T_IN};
	return submit(f, 0, type, sector, &d, 1, NULL);
}

static uint8_t status_flags(struct fx *f)
{
	return vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint64_t feat = all_features(f);
	assert_true(feat & 1ull << VIRTIO_BLK_F_FLUSH);
	assert_true(feat & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_true(feat & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_true(feat & 1ull << VIRTIO_BLK_F_MQ);
	assert_false(feat & 1ull << VIRTIO_BLK_F_RO);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_CAPACITY, 8),
			 DISK_SECTORS);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_CAPACITY + 4, 4),
			 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_NUM_QUEUES, 2), 2);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_SEG_MAX, 4),
			 QSIZE - 2);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4),
			 BLK_MAX_DISCARD_SEG);
	/* the device config is read-only */
	vdrv__wr(&f->d, VIRTIO_PCI_DEVICE_OFF, 4, 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF, 4), DISK_SECTORS);
}

static void test_write_then_read(void **state)
{
	struct fx *f = *state;
	uint8_t *src = vdrv__ptr(&f->d, VDRV_DATA), *dst = vdrv__ptr(&f->d, VDRV_DATA + 0x10000);
	for (unsigned i = 0; i < 3 * 512; i++)
		src[i] = (uint8_t)(i * 13 + 1);
	/* the data in two descriptors, split off a sector boundary */
	struct vbuf w[2] = {{VDRV_DATA, 700, false}, {VDRV_DATA + 700, 3 * 512 - 700, false}};
	uint32_t used;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_OUT, 10, w, 2, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	uint8_t file[3 * 512];
	assert_int_equal(pread(f->fd, file, sizeof(file), 10 * 512), sizeof(file));
	assert_memory_equal(file, src, sizeof(file));
	/* the sectors around are untouched */
	uint8_t s9[512];
	assert_int_equal(pread(f->fd, s9, 512, 9 * 512), 512);
	assert_int_equal(s9[5], (uint8_t)(9 * 7 + 5));

	struct vbuf r[3] = {{VDRV_DATA + 0x10000, 512, true},
			    {VDRV_DATA + 0x10000 + 512, 100, true},
			    {VDRV_DATA + 0x10000 + 612, 1024 - 100, true}};
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_IN, 10, r, 3, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 3 * 512 + 1);
	assert_memory_equal(dst, src, 3 * 512);
}

static void test_read_pattern_and_last_sector(void **state)
{
	struct fx *f = *state;
	uint8_t *dst = vdrv__ptr(&f->d, VDRV_DATA);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, VDRV_DATA, 512), 0);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(dst[i], (uint8_t)((DISK_SECTORS - 1) * 7 + i));
}

static void test_out_of_range(void **state)
{
	struct fx *f = *state;
	memset(vdrv__ptr(&f->d, VDRV_DATA), 0x5a, 4096);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, VDRV_DATA, 1024),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, VDRV_DATA, 1024),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 overflows 64 bits */
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0x0080000000000001ull, VDRV_DATA, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, UINT64_MAX, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
	/* not a whole number of sectors */
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, VDRV_DATA, 100), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 513), VIRTIO_BLK_S_IOERR);
	/* nothing was written anywhere */
	uint8_t s[512];
	assert_int_equal(pread(f->fd, s, 512, (DISK_SECTORS - 1) * 512ull), 512);
	assert_int_equal(s[0], (uint8_t)((DISK_SECTORS - 1) * 7));
	assert_int_equal(pread(f->fd, s, 512, 0), 512);
	assert_int_equal(s[1], 1);
	assert_int_equal(status_flags(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	uint32_t used;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	f->fail_io = true;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used), VIRTIO_BLK_S_IOERR);
}

static void test_backend_error(void **state)
{
	struct fx *f = *state;
	f->fail_io = true;
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	uint8_t *id = vdrv__ptr(&f->d, VDRV_DATA);
	memset(id, 0xff, 32);
	struct vbuf b = {VDRV_DATA, 20, true};
	uint32_t used;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_GET_ID, 0, &b, 1, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(id, "cellvm-disk-0\0\0\0\0\0\0\0", 20);
	assert_int_equal(id[20], 0xff);
	b.len = 19;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_GET_ID, 0, &b, 1, &used), VIRTIO_BLK_S_IOERR);
}

static void put_seg(struct fx *f, unsigned i, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint8_t *s = vdrv__ptr(&f->d, SEGS(0) + 16 * i);
	memcpy(s, &sector, 8);
	memcpy(s + 8, &n, 4);
	memcpy(s + 12, &flags, 4);
}

static bool sectors_zero(struct fx *f, unsigned first, unsigned n)
{
	uint8_t s[512];
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pread(f->fd, s, 512, (off_t)(first + i) * 512), 512);
		for (unsigned j = 0; j < 512; j++)
			if (s[j])
				return false;
	}
	return true;
}

static void test_discard(void **state)
{
	struct fx *f = *state;
	/* two segments; 4 KiB-aligned so that a hole can really be punched */
	put_seg(f, 0, 8, 8, 0);
	put_seg(f, 1, 64, 16, 0);
	struct vbuf seg = {SEGS(0), 32, false};
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_OK);
	/* discard may keep data; what it must not do is touch other sectors */
	assert_false(sectors_zero(f, 7, 1));
	assert_false(sectors_zero(f, 16, 1));
	assert_false(sectors_zero(f, 80, 1));
	/* UNMAP is not a discard flag; unknown flags are UNSUPP */
	put_seg(f, 0, 8, 8, VIRTIO_BLK_WZ_F_UNMAP);
	seg.len = 16;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_UNSUPP);
	/* out of range, oversized, bad segment list length */
	put_seg(f, 0, DISK_SECTORS - 4, 8, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_IOERR);
	put_seg(f, 0, UINT64_MAX - 2, 8, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_IOERR);
	put_seg(f, 0, 0, BLK_MAX_DISCARD_SECTORS + 1, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_IOERR);
	seg.len = 24;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_IOERR);
	seg.len = 16 * (BLK_MAX_DISCARD_SEG + 1);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, NULL, 0, NULL), VIRTIO_BLK_S_IOERR);
}

static void test_write_zeroes(void **state)
{
	struct fx *f = *state;
	struct vbuf seg = {SEGS(0), 32, false};
	put_seg(f, 0, 3, 5, 0);
	put_seg(f, 1, 100, 9, VIRTIO_BLK_WZ_F_UNMAP);
	assert_false(sectors_zero(f, 3, 5));
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL),
			 VIRTIO_BLK_S_OK);
	assert_true(sectors_zero(f, 3, 5));
	assert_true(sectors_zero(f, 100, 9));
	assert_false(sectors_zero(f, 2, 1));
	assert_false(sectors_zero(f, 8, 1));
	assert_false(sectors_zero(f, 99, 1));
	assert_false(sectors_zero(f, 109, 1));
	seg.len = 16;
	put_seg(f, 0, 0, 1, 2);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	put_seg(f, 0, DISK_SECTORS, 1, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_false(sectors_zero(f, 0, 1));
}

static void test_not_negotiated(void **state)
{
	struct fx *f = *state;
	start(f, 1ull << VIRTIO_F_VERSION_1, 1);
	struct vbuf seg = {SEGS(0), 16, false};
	put_seg(f, 0, 0, 1, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_DISCARD, 0, &seg, 1, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_false(sectors_zero(f, 0, 1));
}

static void test_unknown_type(void **state)
{
	struct fx *f = *state;
	assert_int_equal(submit(f, 0, 0xdeadbeef, 0, NULL, 0, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(submit(f, 0, 2, 0, NULL, 0, NULL), VIRTIO_BLK_S_UNSUPP);
}

static void test_readonly(void **state)
{
	struct fx *f = *state;
	uint64_t feat = all_features(f);
	assert_true(feat & 1ull << VIRTIO_BLK_F_RO);
	assert_false(feat & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_false(feat & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	memset(vdrv__ptr(&f->d, VDRV_DATA), 0, 512);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
	assert_false(sectors_zero(f, 0, 1));
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + 3), 10);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL), VIRTIO_BLK_S_OK);
	struct vbuf seg = {SEGS(0), 16, false};
	put_seg(f, 0, 0, 1, 0);
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 1, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	assert_false(sectors_zero(f, 0, 1));
}

static void test_short_header(void **state)
{
	struct fx *f = *state;
	struct vbuf b[2] = {{HDR(0), 8, false}, {STATUS(0), 1, true}};
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	*(uint8_t *)vdrv__ptr(&f->d, STATUS(0)) = 0xee;
	vdrv__add(&f->d, 0, b, 2, false);
	blk_dev_ops.kick(f->dev, 0);
	uint32_t id, len;
	wait_used(f, 0, &id, &len);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, STATUS(0)), VIRTIO_BLK_S_IOERR);
	assert_int_equal(len, 1);
}

static void test_header_split_and_status_in_data(void **state)
{
	struct fx *f = *state;
	/* header over three descriptors; status = last byte of the data buffer */
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 2);
	uint8_t *buf = vdrv__ptr(&f->d, VDRV_DATA);
	memset(buf, 0xee, 513);
	struct vbuf b[4] = {{HDR(0), 3, false},
			    {HDR(0) + 3, 9, false},
			    {HDR(0) + 12, 4, false},
			    {VDRV_DATA, 513, true}};
	vdrv__add(&f->d, 0, b, 4, false);
	blk_dev_ops.kick(f->dev, 0);
	uint32_t id, len;
	wait_used(f, 0, &id, &len);
	assert_int_equal(len, 513);
	assert_int_equal(buf[512], VIRTIO_BLK_S_OK);
	assert_int_equal(buf[0], (uint8_t)(2 * 7));
	assert_int_equal(buf[511], (uint8_t)(2 * 7 + 511));
}

static void test_indirect_request(void **state)
{
	struct fx *f = *state;
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 5);
	struct vbuf b[3] = {{HDR(0), 16, false}, {VDRV_DATA, 1024, true}, {STATUS(0), 1, true}};
	vdrv__add(&f->d, 0, b, 3, true);
	blk_dev_ops.kick(f->dev, 0);
	uint32_t id, len;
	wait_used(f, 0, &id, &len);
	assert_int_equal(len, 1025);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, STATUS(0)), 0);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + 512), (uint8_t)(6 * 7));
}

static void expect_needs_reset(struct fx *f)
{
	blk_dev_ops.kick(f->dev, 0);
	assert_true(status_flags(f) & VIRTIO_STATUS_NEEDS_RESET);
	/* the queue is stopped: a good request now gets no answer */
	struct vbuf b[3] = {{HDR(0), 16, false}, {VDRV_DATA, 512, true}, {STATUS(0), 1, true}};
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	vdrv__add(&f->d, 0, b, 3, false);
	blk_dev_ops.kick(f->dev, 0);
	blk_dev_ops.write(f->dev, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	uint32_t id, len;
	assert_false(vdrv__used(&f->d, 0, &id, &len));
	/* a reset brings it back */
	start(f, all_features(f), 2);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
}

static void test_no_status_byte(void **state)
{
	struct fx *f = *state;
	struct vbuf b[2] = {{HDR(0), 16, false}, {VDRV_DATA, 512, false}};
	put_hdr(f, 0, VIRTIO_BLK_T_OUT, 0);
	vdrv__add(&f->d, 0, b, 2, false);
	expect_needs_reset(f);
	assert_false(sectors_zero(f, 0, 1));
}

static void test_zero_length_buffers(void **state)
{
	struct fx *f = *state;
	/* zero-length descriptors carry nothing: a 0-byte read is fine */
	struct vbuf z[2] = {{VDRV_DATA, 0, true}, {0xfffffffff000ull, 0, true}};
	uint32_t used;
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_IN, 0, z, 2, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	/* but a zero-length "status" leaves no byte for the status */
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	struct vbuf b[2] = {{HDR(0), 16, false}, {STATUS(0), 0, true}};
	vdrv__add(&f->d, 0, b, 2, false);
	expect_needs_reset(f);
}

static void test_chain_loop(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, HDR(0), 16, VIRTQ_DESC_F_NEXT, 1);
	vdrv__desc(&f->d, 0, 1, STATUS(0), 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	vdrv__publish(&f->d, 0, 0);
	f->d.next_desc[0] = 2;
	expect_needs_reset(f);
}

static void test_chain_outside_ram(void **state)
{
	struct fx *f = *state;
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	struct vbuf b[3] = {
	    {HDR(0), 16, false}, {VDRV_RAM_SIZE - 256, 512, true}, {STATUS(0), 1, true}};
	vdrv__add(&f->d, 0, b, 3, false);
	expect_needs_reset(f);
}

static void test_status_over_ring(void **state)
{
	struct fx *f = *state;
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	/* a "status byte" inside the used ring */
	struct vbuf b[2] = {{HDR(0), 16, false}, {VDRV_USED(0) + 2, 1, true}};
	vdrv__add(&f->d, 0, b, 2, false);
	expect_needs_reset(f);
}

static void test_huge_lengths(void **state)
{
	struct fx *f = *state;
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	struct vbuf b[3] = {
	    {HDR(0), 16, false}, {VDRV_DATA, 0xfffffe00u, true}, {STATUS(0), 1, true}};
	vdrv__add(&f->d, 0, b, 3, false);
	expect_needs_reset(f);
}

static void test_avail_idx_garbage(void **state)
{
	struct fx *f = *state;
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(0));
	avail[1] = 0x8000;
	expect_needs_reset(f);
}

#define NREQ (QSIZE / 3)
static void test_many_in_flight(void **state)
{
	struct fx *f = *state;
	/* QSIZE/2 writes of 2 sectors each, all published before one kick */
	uint16_t heads[NREQ];
	for (unsigned i = 0; i < NREQ; i++) {
		uint64_t hdr = VDRV_SCRATCH(0) + 32 * i, st = STATUS(0) + i;
		uint64_t data = VDRV_DATA + 1024 * i;
		uint32_t type = VIRTIO_BLK_T_OUT;
		uint64_t sector = 200 + 2 * i;
		memcpy(vdrv__ptr(&f->d, hdr), &type, 4);
		memcpy(vdrv__ptr(&f->d, hdr + 8), &sector, 8);
		memset(vdrv__ptr(&f->d, data), 0x30 + i, 1024);
		*(uint8_t *)vdrv__ptr(&f->d, st) = 0xee;
		struct vbuf b[3] = {{hdr, 16, false}, {data, 1024, false}, {st, 1, true}};
		heads[i] = vdrv__add(&f->d, 0, b, 3, false);
	}
	blk_dev_ops.kick(f->dev, 0);
	bool done[QSIZE] = {0};
	for (unsigned n = 0; n < NREQ; n++) {
		uint32_t id, len;
		wait_used(f, 0, &id, &len);
		assert_true(id < QSIZE);
		assert_false(done[id]);
		done[id] = true;
	}
	for (unsigned i = 0; i < NREQ; i++) {
		assert_true(done[heads[i]]);
		assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, STATUS(0) + i), 0);
		uint8_t s[1024];
		assert_int_equal(pread(f->fd, s, 1024, (200 + 2 * i) * 512), 1024);
		assert_int_equal(s[0], 0x30 + i);
		assert_int_equal(s[1023], 0x30 + i);
	}
	assert_true(wait_irqs(0, 1) >= 1);
}

static void test_second_queue(void **state)
{
	struct fx *f = *state;
	unsigned before = vdrv_irqs[1];
	struct vbuf d = {VDRV_DATA, 512, true};
	assert_int_equal(submit(f, 1, VIRTIO_BLK_T_IN, 4, &d, 1, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + 1), (uint8_t)(4 * 7 + 1));
	assert_int_equal(vdrv_irqs[1], before + 1);
}

static void test_resubmit_in_flight(void **state)
{
	struct fx *f = *state;
	f->gate_closed = true;
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 0);
	struct vbuf b[3] = {{HDR(0), 16, false}, {VDRV_DATA, 512, true}, {STATUS(0), 1, true}};
	uint16_t head = vdrv__add(&f->d, 0, b, 3, false);
	blk_dev_ops.kick(f->dev, 0);
	/* wait until the I/O thread holds the request */
	pthread_mutex_lock(&f->gate_lock);
	while (!f->at_gate)
		pthread_cond_wait(&f->gate_cond, &f->gate_lock);
	pthread_mutex_unlock(&f->gate_lock);
	vdrv__publish(&f->d, 0, head); /* same head again while in flight */
	blk_dev_ops.kick(f->dev, 0);
	assert_true(status_flags(f) & VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_lock(&f->gate_lock);
	f->gate_closed = false;
	pthread_cond_broadcast(&f->gate_cond);
	pthread_mutex_unlock(&f->gate_lock);
	uint32_t id, len;
	wait_used(f, 0, &id, &len); /* the first one still completes */
	assert_int_equal(id, head);
	assert_int_equal(len, 513);
}

/* A cached request completes during the kick itself, with no I/O thread. */
static void test_nowait_inline(void **state)
{
	struct fx *f = *state;
	f->nowait = NW_RAW;
	f->gate_closed = true; /* an I/O thread would block here */
	put_hdr(f, 0, VIRTIO_BLK_T_IN, 3);
	struct vbuf b[3] = {{HDR(0), 16, false}, {VDRV_DATA, 512, true}, {STATUS(0), 1, true}};
	uint16_t head = vdrv__add(&f->d, 0, b, 3, false);
	blk_dev_ops.kick(f->dev, 0);
	uint32_t id, len;
	assert_true(vdrv__used(&f->d, 0, &id, &len)); /* already done: no waiting */
	assert_int_equal(id, head);
	assert_int_equal(len, 513);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, STATUS(0)), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + 1), (uint8_t)(3 * 7 + 1));
	assert_int_equal(f->at_gate, 0);
	assert_int_equal(f->nowait_calls, 1);
	/* a write, then read back through the thread path */
	memset(vdrv__ptr(&f->d, VDRV_DATA), 0x5a, 1024);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 10, VDRV_DATA, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(f->nowait_calls, 2);
	f->gate_closed = false;
	f->nowait = NW_EAGAIN;
	memset(vdrv__ptr(&f->d, VDRV_DATA), 0, 1024);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 10, VDRV_DATA, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + 1023), 0x5a);
	assert_true(f->at_gate >= 1);
}

/* Not at hand, or only partly: the I/O thread does exactly the rest. */
static void test_nowait_fallback(void **state)
{
	struct fx *f = *state;
	uint8_t *d = vdrv__ptr(&f->d, VDRV_DATA);
	f->nowait = NW_EAGAIN;
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 2, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(d[5], (uint8_t)(2 * 7 + 5));
	assert_int_equal(f->at_gate, 1);

	/* 512 bytes per non-blocking call over buffers of 700 + 836 bytes */
	f->nowait = NW_SHORT;
	f->nowait_calls = 0;
	memset(d, 0, 2048);
	struct vbuf two[2] = {{VDRV_DATA, 700, true}, {VDRV_DATA + 1024, 836, true}};
	assert_int_equal(submit(f, 0, VIRTIO_BLK_T_IN, 4, two, 2, NULL), VIRTIO_BLK_S_OK);
	assert_true(f->nowait_calls >= 2);
	for (unsigned i = 0; i < 1536; i++) {
		uint8_t *at = i < 700 ? d + i : d + 1024 + (i - 700);
		unsigned s = 4 + i / 512;
		assert_int_equal(*at, (uint8_t)(s * 7 + i % 512));
	}

	/* above the 64 KiB inline limit (blk_req.c): straight to a thread */
	f->nowait = NW_RAW;
	f->nowait_calls = 0;
	unsigned gated = f->at_gate;
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 128u << 10), VIRTIO_BLK_S_OK);
	assert_int_equal(f->nowait_calls, 0);
	assert_int_equal(f->at_gate, gated + 1);
	assert_int_equal(d[(128u << 10) - 1], (uint8_t)(255 * 7 + 511));
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 64u << 10), VIRTIO_BLK_S_OK);
	assert_int_equal(f->nowait_calls, 1);

	/* a backend that cannot tell is not asked again */
	f->nowait = NW_UNSUPP;
	f->nowait_calls = 0;
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(f->nowait_calls, 1);
	assert_int_equal(d[0], (uint8_t)(1 * 7));

	/* an I/O error on the thread path after the fallback still reports */
	f->nowait = NW_EAGAIN;
	f->fail_io = true;
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 1, VDRV_DATA, 512), VIRTIO_BLK_S_IOERR);
}

static void test_reset_waits_for_io(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < 4; i++) {
		put_hdr(f, 0, VIRTIO_BLK_T_IN, i);
		struct vbuf b[3] = {{HDR(0), 16, false},
				    {VDRV_DATA + 512 * i, 512, true},
				    {STATUS(0) + i, 1, true}};
		vdrv__add(&f->d, 0, b, 3, false);
	}
	blk_dev_ops.kick(f->dev, 0);
	/* reset returns only when nothing is in flight any more */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(status_flags(f), 0);
	start(f, all_features(f), 2);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
}

/* The guest's reset does not flush (it could outlast the ring's bound);
 * IPC_OP_CTRL_RESET (dev_ops.reset) resets and then flushes once, and a
 * failing flush does not stop that reset. */
static void test_ctrl_reset_flushes(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 3, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	unsigned before = f->flushes;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(f->flushes, before);
	start(f, all_features(f), 2);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 3, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	blk_dev_ops.reset(f->dev);
	assert_int_equal(f->flushes, before + 1);
	assert_int_equal(status_flags(f), 0);
	start(f, all_features(f), 2);
	f->fail_io = true;
	blk_dev_ops.reset(f->dev);
	assert_int_equal(f->flushes, before + 2);
	assert_int_equal(status_flags(f), 0);
	f->fail_io = false;
	start(f, all_features(f), 2);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 3, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
}

static void test_event_idx_suppression(void **state)
{
	struct fx *f = *state;
	start(f, all_features(f) & ~(1ull << VIRTIO_BLK_F_MQ), 1);
	assert_true(virtio_pci__has_feature(f->d.vp, VIRTIO_F_EVENT_IDX));
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(0));
	uint16_t *used = vdrv__ptr(&f->d, VDRV_USED(0));
	unsigned before = vdrv_irqs[0];
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), 0);
	assert_int_equal(vdrv_irqs[0], before + 1); /* first always */
	/* avail_event tells the driver the device has consumed entry 1 */
	assert_int_equal(used[2 + 4 * QSIZE], 1);
	avail[2 + QSIZE] = 5; /* used_event: only after used idx passes 5 */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), 0);
	assert_int_equal(vdrv_irqs[0], before + 1);
	avail[2 + QSIZE] = 2; /* next completion (used idx 3) crosses it */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), 0);
	assert_int_equal(vdrv_irqs[0], before + 2);
}

static void test_init_once(void **state)
{
	struct fx *f = *state;
	/* already initialised by setup: a second init is refused */
	assert_int_equal(blk_dev_ops.init(f->dev, &f->d.env), -EINVAL);
	struct blk_params p = {.nqueues = 1, .queue_size = QSIZE, .nthreads = 1};
	struct blk_dev *d = blk__new(&f->be, &p);
	assert_non_null(d);
	struct dev_env noram = {0};
	assert_int_equal(blk_dev_ops.init(d, &noram), -EINVAL);
	blk__free(d);
	p.queue_size = 12; /* not a power of two */
	assert_null(blk__new(&f->be, &p));
	p.queue_size = QSIZE;
	p.nqueues = VIRTIO_MAX_QUEUES + 1;
	assert_null(blk__new(&f->be, &p));
}

static void test_kicks_reenabled(void **state)
{
	struct fx *f = *state;
	/* without EVENT_IDX, NO_NOTIFY is only set while the ring is drained */
	start(f, 1ull << VIRTIO_F_VERSION_1, 1);
	uint16_t *used = vdrv__ptr(&f->d, VDRV_USED(0));
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(used[0], 0);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 1, VDRV_DATA, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(used[0], 0);
}

static void test_raw_open_rejects(void **state)
{
	(void)state;
	struct blk_backend b;
	assert_int_equal(raw__open(&b, -1, false), -EBADF);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(raw__open(&b, p[0], false), -EINVAL);
	close(p[0]);
	close(p[1]);
	struct blk_params bad = {.nqueues = 0};
	assert_null(blk__new(NULL, &bad));
}

#define T(x)  cmocka_unit_test_setup_teardown(x, setup, teardown)
#define TI(x) cmocka_unit_test_setup_teardown(x, setup_inline, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_config),
	    T(test_write_then_read),
	    TI(test_write_then_read),
	    T(test_read_pattern_and_last_sector),
	    T(test_out_of_range),
	    TI(test_out_of_range),
	    T(test_flush),
	    T(test_backend_error),
	    T(test_get_id),
	    T(test_discard),
	    T(test_write_zeroes),
	    TI(test_write_zeroes),
	    T(test_not_negotiated),
	    T(test_unknown_type),
	    cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
	    T(test_short_header),
	    T(test_header_split_and_status_in_data),
	    T(test_indirect_request),
	    T(test_no_status_byte),
	    T(test_zero_length_buffers),
	    T(test_chain_loop),
	    T(test_chain_outside_ram),
	    T(test_status_over_ring),
	    T(test_huge_lengths),
	    T(test_avail_idx_garbage),
	    T(test_many_in_flight),
	    TI(test_second_queue),
	    T(test_resubmit_in_flight),
	    T(test_reset_waits_for_io),
	    T(test_ctrl_reset_flushes),
	    cmocka_unit_test_setup_teardown(test_nowait_inline, setup_nowait, teardown),
	    cmocka_unit_test_setup_teardown(test_nowait_fallback, setup_nowait, teardown),
	    TI(test_event_idx_suppression),
	    T(test_init_once),
	    TI(test_kicks_reenabled),
	    cmocka_unit_test(test_raw_open_rejects),
	};
	return cmocka_run_group_tests_name("blk", tests, NULL, NULL);
}
