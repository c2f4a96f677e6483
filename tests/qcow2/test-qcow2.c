/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the qcow2 backend on images built in memfds: refcount
 * encodings, chain checks, the backing probe, backing contracts, reads and
 * writes through iovecs, refcount table growth, read-only mode, backing
 * reads with copy-on-write and concurrent use from several threads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include "device-procs/qcow2/qcow2-priv.h"

/* An empty version 3 image: header, refcount table, one refcount block, L1. */
static int mkimage(unsigned cb, uint64_t size, const char *backing, const char *fmt)
{
	uint64_t cs = 1ull << cb, span = cs * (cs / 8);
	uint32_t l1_size = (uint32_t)((size + span - 1) / span);
	uint64_t l1c = ((uint64_t)l1_size * 8 + cs - 1) / cs, nclusters = 3 + (l1c ? l1c : 1);
	uint8_t *img = calloc(nclusters, cs);
	int fd = memfd_create("qcow2-test", 0);
	assert_true(fd >= 0 && img);
	qcow2__put32(img, QCOW2_MAGIC);
	qcow2__put32(img + 4, 3);
	qcow2__put32(img + 20, cb);
	qcow2__put64(img + 24, size);
	qcow2__put32(img + 36, l1_size);
	qcow2__put64(img + 40, 3 * cs);
	qcow2__put64(img + 48, cs);
	qcow2__put32(img + 56, 1);
	qcow2__put32(img + 96, 4);
	qcow2__put32(img + 100, 104);
	size_t p = 104;
	if (fmt) {
		qcow2__put32(img + p, QCOW2_EXT_BACKING_FMT);
		qcow2__put32(img + p + 4, (uint32_t)strlen(fmt));
		memcpy(img + p + 8, fmt, strlen(fmt));
		p += 8 + ((strlen(fmt) + 7) & ~7ul);
	}
	p += 8; /* end of extensions */
	if (backing) {
		qcow2__put64(img + 8, p);
		qcow2__put32(img + 16, (uint32_t)strlen(backing));
		memcpy(img + p, backing, strlen(backing));
	}
	qcow2__put64(img + cs, 2 * cs);
	for (uint64_t c = 0; c < nclusters; c++)
		qcow2__rb_set(img + 2 * cs, 4, c, 1);
	assert_int_equal(pwrite(fd, img, nclusters * cs, 0), (ssize_t)(nclusters * cs));
	free(img);
	return fd;
}

static struct blk_backend *open_ok(int fd, bool ro, struct blk_backend *backing)
{
	struct blk_backend *b = NULL;
	char err[256] = "";
	int r = qcow2__open(fd, ro, backing, &b, err, sizeof(err));
	if (r < 0)
		fail_msg("open: %s", err);
	return b;
}

static void fill(uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((off + i) * 31 + seed + ((off + i) >> 9));
}

static void test_refcount_widths(void **state)
{
	(void)state;
	for (unsigned order = 0; order <= 6; order++) {
		uint8_t blk[128] = {0};
		uint64_t max = order == 6 ? UINT64_MAX : (1ull << (1u << order)) - 1;
		qcow2__rb_set(blk, order, 5, max);
		assert_true(qcow2__rb_get(blk, order, 5) == max);
		assert_true(qcow2__rb_get(blk, order, 4) == 0);
		assert_true(qcow2__rb_get(blk, order, 6) == 0);
		qcow2__rb_set(blk, order, 6, 1);
		qcow2__rb_set(blk, order, 5, 0);
		assert_true(qcow2__rb_get(blk, order, 5) == 0);
		assert_true(qcow2__rb_get(blk, order, 6) == 1);
	}
	/* the byte layouts QEMU uses: 16-bit big endian, 1-bit LSB first */
	uint8_t b[8] = {0};
	qcow2__rb_set(b, 4, 1, 0x1234);
	assert_int_equal(b[2], 0x12);
	assert_int_equal(b[3], 0x34);
	memset(b, 0, sizeof(b));
	qcow2__rb_set(b, 0, 9, 1);
	assert_int_equal(b[1], 0x02);
}

static void test_chain(void **state)
{
	(void)state;
	struct qcow2_chain c;
	char err[128];
	int fds[QCOW2_CHAIN_MAX + 1];
	qcow2__chain_init(&c);
	for (int i = 0; i <= QCOW2_CHAIN_MAX; i++)
		fds[i] = memfd_create("chain", 0);
	assert_int_equal(qcow2__chain_add(&c, fds[0], err, sizeof(err)), 0);
	assert_int_equal(qcow2__chain_add(&c, fds[1], err, sizeof(err)), 0);
	int dup_fd = dup(fds[0]);
	assert_int_equal(qcow2__chain_add(&c, dup_fd, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "loop"));
	for (int i = 2; i < QCOW2_CHAIN_MAX; i++)
		assert_int_equal(qcow2__chain_add(&c, fds[i], err, sizeof(err)), 0);
	assert_int_equal(qcow2__chain_add(&c, fds[QCOW2_CHAIN_MAX], err, sizeof(err)), -EMLINK);
	for (int i = 0; i <= QCOW2_CHAIN_MAX; i++)
		close(fds[i]);
	close(dup_fd);
}

static void test_probe(void **state)
{
	(void)state;
	char name[64], fmt[16], err[128];
	int fd = mkimage(16, 1 << 20, "../base image.raw", "raw");
	assert_int_equal(
	    qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err, sizeof(err)), 1);
	assert_string_equal(name, "../base image.raw");
	assert_string_equal(fmt, "raw");
	assert_int_equal(qcow2__probe_backing(fd, name, 5, fmt, sizeof(fmt), err, sizeof(err)),
			 -ENAMETOOLONG);
	close(fd);
	fd = mkimage(16, 1 << 20, "base.qcow2", NULL);
	assert_int_equal(
	    qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err, sizeof(err)), 1);
	assert_string_equal(fmt, "");
	close(fd);
	fd = mkimage(16, 1 << 20, NULL, NULL);
	assert_int_equal(
	    qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err, sizeof(err)), 0);
	assert_string_equal(name, "");
	close(fd);
	fd = memfd_create("junk", 0);
	assert_int_equal(write(fd, "not an image at all, certainly not qcow2", 40), 40);
	assert_true(
	    qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "qcow2:"));
	close(fd);
}

/* A read-only backing disk whose byte at offset o is (o * 7 + 3) & 0xff. */
static bool stub_closed;
static ssize_t stub_preadv(struct blk_backend *b, const struct iovec *iov, int cnt, uint64_t off)
{
	ssize_t n = 0;
	assert_true(b->readonly);
	for (int i = 0; i < cnt; i++)
		for (size_t k = 0; k < iov[i].iov_len; k++, n++)
			((uint8_t *)iov[i].iov_base)[k] = (uint8_t)((off + (uint64_t)n) * 7 + 3);
	assert_true(off + (uint64_t)n <= b->size);
	return n;
}
static void stub_close(struct blk_backend *b)
{
	(void)b;
	stub_closed = true;
}
static const struct blk_backend_ops stub_ops = {
    .name = "stub", .preadv = stub_preadv, .close = stub_close};

static void test_backing_contract(void **state)
{
	(void)state;
	struct blk_backend stub = {.ops = &stub_ops, .size = 1 << 20, .readonly = true};
	struct blk_backend *b;
	char err[256];
	int fd = mkimage(16, 4 << 20, "base", NULL);
	assert_int_equal(qcow2__open(fd, false, NULL, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "backing"));
	close(fd);
	fd = mkimage(16, 4 << 20, NULL, NULL);
	assert_int_equal(qcow2__open(fd, false, &stub, &b, err, sizeof(err)), -EINVAL);
	assert_false(stub_closed); /* still the caller's on failure */
	close(fd);
}

static void test_backing_cow(void **state)
{
	(void)state;
	struct blk_backend stub = {.ops = &stub_ops, .size = 1 << 20, .readonly = true};
	int fd = mkimage(12, 2 << 20, "base", NULL);
	struct blk_backend *b = open_ok(fd, false, &stub);
	uint8_t buf[8192], want[8192];
	struct iovec v = {buf, sizeof(buf)};
	/* unallocated: the backing file, then zeros past its end */
	assert_int_equal(b->ops->preadv(b, &v, 1, (1 << 20) - 4096), 8192);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(buf[i], (uint8_t)(((1 << 20) - 4096 + i) * 7 + 3));
	for (size_t i = 4096; i < 8192; i++)
		assert_int_equal(buf[i], 0);
	/* a partial write keeps the rest of the cluster from the backing file */
	memset(buf, 0xee, 100);
	v.iov_len = 100;
	assert_int_equal(b->ops->pwritev(b, &v, 1, 5000), 100);
	v.iov_len = 8192;
	assert_int_equal(b->ops->preadv(b, &v, 1, 4096), 8192);
	for (size_t i = 0; i < 8192; i++)
		want[i] = (uint8_t)((4096 + i) * 7 + 3);
	memset(want + 904, 0xee, 100);
	assert_memory_equal(buf, want, 8192);
	/* write-zeroes hides the backing data */
	assert_int_equal(b->ops->write_zeroes(b, 8192, 4096, true), 0);
	assert_int_equal(b->ops->preadv(b, &v, 1, 8192), 8192);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[4096], (uint8_t)((12288) * 7 + 3));
	stub_closed = false;
	b->ops->close(b);
	assert_true(stub_closed);
}

static void test_rw_reopen_growth(void **state)
{
	(void)state;
	/* 512-byte clusters: the one-cluster refcount table covers 8 MiB of file */
	uint64_t size = 16 << 20;
	int fd = mkimage(9, size, NULL, NULL);
	struct blk_backend *b = open_ok(dup(fd), false, NULL);
	assert_true(b->size == size);
	uint8_t *buf = malloc(1 << 20), *got = malloc(1 << 20);
	for (uint64_t off = 0; off < size; off += (1 << 20) + 512) {
		size_t n = off + (1 << 20) <= size ? (1 << 20) - 1536 : (size_t)(size - off);
		fill(buf, n, off, 1);
		struct iovec v[3] = {{buf, 1}, {buf + 1, 700}, {buf + 701, n - 701}};
		assert_int_equal(b->ops->pwritev(b, v, 3, off), (ssize_t)n);
	}
	assert_int_equal(b->ops->flush(b), 0);
	b->ops->close(b);
	/* the image grew its refcount table: reopen and read everything back */
	b = open_ok(dup(fd), true, NULL);
	for (uint64_t off = 0; off < size; off += (1 << 20) + 512) {
		size_t n = off + (1 << 20) <= size ? (1 << 20) - 1536 : (size_t)(size - off);
		fill(buf, n, off, 1);
		struct iovec v = {got, n};
		assert_int_equal(b->ops->preadv(b, &v, 1, off), (ssize_t)n);
		assert_memory_equal(got, buf, n);
		if (off + n + 1536 <= size) {
			v.iov_len = 1536;
			assert_int_equal(b->ops->preadv(b, &v, 1, off + n), 1536);
			for (int i = 0; i < 1536; i++)
				assert_int_equal(got[i], 0);
		}
	}
	/* QEMU agrees the image is consistent */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "qemu-img check -q -f qcow2 /proc/%d/fd/%d", (int)getpid(), fd);
	assert_int_equal(system(cmd), 0);
	uint8_t hdr[60];
	assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), 60);
	assert_true(qcow2__be32(hdr + 56) > 1); /* refcount table clusters */
	/* read-only: every modifying call is refused */
	struct iovec v = {buf, 512};
	assert_int_equal(b->ops->pwritev(b, &v, 1, 0), -EROFS);
	assert_int_equal(b->ops->discard(b, 0, 512), -EROFS);
	assert_int_equal(b->ops->write_zeroes(b, 0, 512, false), -EROFS);
	b->ops->close(b);
	close(fd);
	free(buf);
	free(got);
}

struct worker {
	struct blk_backend *b;
	uint64_t base;
	int failures;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[6000], got[6000];
	for (unsigned i = 0; i < 200; i++) {
		uint64_t off = w->base + (i * 7919) % (1 << 20);
		fill(buf, sizeof(buf), off, i);
		struct iovec v = {buf, sizeof(buf)}, g = {got, sizeof(got)};
		if (w->b->ops->pwritev(w->b, &v, 1, off) != (ssize_t)sizeof(buf) ||
		    w->b->ops->preadv(w->b, &g, 1, off) != (ssize_t)sizeof(got) ||
		    memcmp(buf, got, sizeof(buf)))
			w->failures++;
		if (i % 50 == 0 && w->b->ops->flush(w->b) < 0)
			w->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	int fd = mkimage(12, 8 << 20, NULL, NULL);
	struct blk_backend *b = open_ok(fd, false, NULL);
	assert_false(b->single_threaded);
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){b, (uint64_t)i * (2 << 20), 0};
		pthread_create(&t[i], NULL, worker, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	b->ops->close(b);
}

/*
 * A 512-byte-cluster image with 1-bit refcounts whose refcount table names
 * nblocks refcount blocks, all 0xff (every cluster in use): block r at
 * cluster first_rb + r, or all at first_rb when dup. file_clusters sizes the
 * (sparse) file. Issue 10 #8.
 */
static int mkhostile(unsigned nblocks, bool dup, uint64_t file_clusters)
{
	const uint64_t cs = 512;
	uint32_t rt_clusters = (uint32_t)((nblocks + 2) * 8 / cs + 1);
	uint64_t l1 = 1 + rt_clusters, first_rb = l1 + 1;
	int fd = memfd_create("qcow2-hostile", 0);
	uint8_t h[512] = {0}, ones[512];
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(file_clusters * cs)), 0);
	qcow2__put32(h, QCOW2_MAGIC);
	qcow2__put32(h + 4, 3);
	qcow2__put32(h + 20, 9);
	qcow2__put64(h + 24, 1 << 20);
	qcow2__put32(h + 36, 32); /* L1 entries for 1 MiB */
	qcow2__put64(h + 40, l1 * cs);
	qcow2__put64(h + 48, cs);
	qcow2__put32(h + 56, rt_clusters);
	qcow2__put32(h + 96, 0); /* refcount_order 0: 1-bit refcounts */
	qcow2__put32(h + 100, 104);
	assert_int_equal(pwrite(fd, h, cs, 0), (ssize_t)cs);
	uint8_t *rt = calloc(rt_clusters, cs);
	memset(ones, 0xff, sizeof(ones));
	for (unsigned r = 0; r < nblocks; r++) {
		uint64_t at = dup ? first_rb : first_rb + r;
		qcow2__put64(rt + 8 * r, at * cs);
		assert_int_equal(pwrite(fd, ones, cs, (off_t)(at * cs)), (ssize_t)cs);
	}
	assert_int_equal(pwrite(fd, rt, rt_clusters * cs, (off_t)cs), (ssize_t)(rt_clusters * cs));
	free(rt);
	return fd;
}

/* Two refcount table entries naming one block: refused at open. */
static void test_duplicate_refblocks(void **state)
{
	(void)state;
	int fd = mkhostile(64, true, 256);
	struct blk_backend *b = NULL;
	char err[256] = "";
	assert_int_equal(qcow2__open(fd, false, NULL, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "named twice"));
	close(fd);
}

/*
 * Every cluster of the first 300 ranges in use (1.2 M refcounts, more than
 * one allocation may inspect), free ones after them, the file ending two
 * ranges later: the first allocating write goes to the end of the file
 * instead of scanning on to the free range.
 */
static void test_bounded_scan(void **state)
{
	(void)state;
	const unsigned nblocks = 300, per = 512 * 8;
	uint64_t end = (uint64_t)(nblocks + 2) * per;
	assert_true((uint64_t)nblocks * per > QCOW2_SCAN_MAX);
	int fd = mkhostile(nblocks, false, end);
	struct blk_backend *b = open_ok(fd, false, NULL);
	uint8_t buf[512];
	memset(buf, 0x5a, sizeof(buf));
	struct iovec iov = {buf, sizeof(buf)};
	assert_int_equal(b->ops->pwritev(b, &iov, 1, 0), (ssize_t)sizeof(buf));
	assert_int_equal(b->ops->flush(b), 0);
	uint8_t l1e[8];
	struct qcow2 *q = b->priv;
	assert_int_equal(pread(fd, l1e, 8, (off_t)q->l1_off), 8);
	uint64_t l2 = qcow2__be64(l1e) & QCOW2_OFFSET_MASK;
	assert_true(l2 >= end * 512);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(b->ops->preadv(b, &iov, 1, 0), (ssize_t)sizeof(buf));
	assert_int_equal(buf[0], 0x5a);
	b->ops->close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refcount_widths), cmocka_unit_test(test_chain),
	    cmocka_unit_test(test_probe),	    cmocka_unit_test(test_backing_contract),
	    cmocka_unit_test(test_backing_cow),	    cmocka_unit_test(test_rw_reopen_growth),
	    cmocka_unit_test(test_threads),	    cmocka_unit_test(test_duplicate_refblocks),
	    cmocka_unit_test(test_bounded_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
