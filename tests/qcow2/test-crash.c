/* SPDX-License-Identifier: MIT */
/*
 * Crash consistency: the library's pwrite/pwritev/fallocate/fdatasync calls
 * are intercepted (ld --wrap) and logged while a seeded workload runs. Then,
 * for crash points after every fdatasync, images are rebuilt from the log
 * with the writes since that sync dropped, kept, or kept in random subsets
 * (the disk may persist any of them). Every such image must pass
 * `qemu-img check` with at most leaked clusters, open, and hold exactly the
 * data of the last completed flush wherever the guest wrote nothing since.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "device-procs/qcow2/qcow2.h"

ssize_t __real_pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off);
int __real_fdatasync(int fd);
int __real_fallocate64(int fd, int mode, off_t off, off_t len);
ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off);
int __wrap_fdatasync(int fd);
int __wrap_fallocate64(int fd, int mode, off_t off, off_t len);

enum { EV_WRITE, EV_SYNC, EV_FLUSHED };
struct ev {
	int kind;
	uint64_t off;
	size_t len;
	uint8_t *data;
};
struct op {
	size_t ev; /* events logged before the op started */
	uint64_t off, len;
};

static struct ev *evs;
static size_t nev, cev;
static struct op *ops;
static size_t nops, cops;
static int rec_fd = -1;
static char dir[64];

static void log_ev(int kind, uint64_t off, size_t len, const void *data)
{
	if (nev == cev) {
		cev = cev ? cev * 2 : 1024;
		evs = realloc(evs, cev * sizeof(*evs));
		assert_non_null(evs);
	}
	struct ev *e = &evs[nev++];
	*e = (struct ev){kind, off, len, NULL};
	if (kind == EV_WRITE) {
		e->data = malloc(len ? len : 1);
		assert_non_null(e->data);
		if (data)
			memcpy(e->data, data, len);
		else
			memset(e->data, 0, len);
	}
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = __real_pwrite64(fd, buf, n, off);
	if (fd == rec_fd && r > 0)
		log_ev(EV_WRITE, (uint64_t)off, (size_t)r, buf);
	return r;
}

ssize_t __wrap_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t r = __real_pwritev64(fd, iov, cnt, off);
	if (fd == rec_fd && r > 0) {
		uint8_t *flat = malloc((size_t)r);
		size_t done = 0;
		for (int i = 0; i < cnt && done < (size_t)r; i++) {
			size_t m =
			    iov[i].iov_len < (size_t)r - done ? iov[i].iov_len : (size_t)r - done;
			memcpy(flat + done, iov[i].iov_base, m);
			done += m;
		}
		log_ev(EV_WRITE, (uint64_t)off, (size_t)r, flat);
		free(flat);
	}
	return r;
}

int __wrap_fdatasync(int fd)
{
	if (fd == rec_fd)
		log_ev(EV_SYNC, 0, 0, NULL);
	return __real_fdatasync(fd);
}

int __wrap_fallocate64(int fd, int mode, off_t off, off_t len)
{
	int r = __real_fallocate64(fd, mode, off, len);
	if (fd == rec_fd && r == 0)
		log_ev(EV_WRITE, (uint64_t)off, (size_t)len, NULL); /* a punched hole reads 0 */
	return r;
}

static void note_op(uint64_t off, uint64_t len)
{
	if (nops == cops) {
		cops = cops ? cops * 2 : 256;
		ops = realloc(ops, cops * sizeof(*ops));
	}
	ops[nops++] = (struct op){nev, off, len};
}

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return rnd_state >> 33;
}

/* Eviction mode: many small writes, no flushes or discards between pieces. */
static bool small_ops;
static int pieces = 24;

/* The seeded workload; cur tracks what the guest expects to read. */
static void workload(struct blk_backend *b, uint8_t *cur, uint64_t size, unsigned cs, int nops_)
{
	uint8_t *buf = malloc(4 * cs + 4096);
	for (int i = 0; i < nops_; i++) {
		unsigned kind = (unsigned)(rnd() % 10);
		uint64_t off = (rnd() % (size / 512)) * 512 + (rnd() % 3 == 0 ? rnd() % 512 : 0);
		uint64_t len = 1 + rnd() % (small_ops ? 600 : 4 * cs + 4096);
		if (small_ops)
			kind = 0;
		if (len > size - off)
			len = size - off;
		if (kind == 9) {
			note_op(0, 0);
			assert_int_equal(b->ops->flush(b), 0);
			log_ev(EV_FLUSHED, 0, 0, NULL);
			continue;
		}
		note_op(off, len);
		if (kind == 8) {
			/* whole clusters: discard or zero (with and without unmap) */
			off &= ~(uint64_t)(cs - 1);
			len = ((len + cs - 1) & ~(uint64_t)(cs - 1));
			if (len > size - off)
				len = size - off;
			ops[nops - 1] = (struct op){ops[nops - 1].ev, off, len};
			int r = rnd() % 2 ? b->ops->discard(b, off, len)
					  : b->ops->write_zeroes(b, off, len, rnd() % 2);
			assert_int_equal(r, 0);
			memset(cur + off, 0, len);
			continue;
		}
		for (uint64_t k = 0; k < len; k++)
			buf[k] = (uint8_t)(i * 13 + k);
		struct iovec v = {buf, len};
		assert_int_equal(b->ops->pwritev(b, &v, 1, off), (ssize_t)len);
		memcpy(cur + off, buf, len);
	}
	free(buf);
}

static int check_image(const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "qemu-img check -q -f qcow2 %s >/dev/null 2>&1", path);
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : 255;
}

/*
 * Build the image for a crash right after sync event `sync_ev` with
 * `keep` deciding which writes of the following epoch (up to `end`) made it.
 */
static void build(const char *path, const uint8_t *base, size_t blen, size_t sync_ev, size_t end,
		  uint64_t mask)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(__real_pwrite64(fd, base, blen, 0), (ssize_t)blen);
	unsigned k = 0;
	for (size_t i = 0; i < end; i++) {
		if (evs[i].kind != EV_WRITE)
			continue;
		if (i > sync_ev && !((mask >> (k++ % 64)) & 1))
			continue;
		assert_int_equal(__real_pwrite64(fd, evs[i].data, evs[i].len, (off_t)evs[i].off),
				 (ssize_t)evs[i].len);
	}
	close(fd);
}

static void verify(const char *path, uint8_t **snaps, size_t *snap_ev, int nsnaps, size_t crash,
		   size_t end, uint64_t size, const char *what)
{
	int rc = check_image(path);
	if (rc != 0 && rc != 3)
		fail_msg("%s: qemu-img check says %d (corruption)", what, rc);
	/* the last flush that completed before the crash */
	int f = 0;
	while (f + 1 < nsnaps && snap_ev[f + 1] <= crash)
		f++;
	uint8_t *touched = calloc(1, size), *got = malloc(size);
	for (size_t i = 0; i < nops; i++)
		if (ops[i].ev >= snap_ev[f] && ops[i].ev < end)
			memset(touched + ops[i].off, 1, ops[i].len);
	char err[256];
	struct blk_backend *b;
	int fd = open(path, O_RDONLY);
	if (qcow2__open(fd, true, NULL, &b, err, sizeof(err)) < 0)
		fail_msg("%s: reopen: %s", what, err);
	struct iovec v = {got, size};
	assert_int_equal(b->ops->preadv(b, &v, 1, 0), (ssize_t)size);
	b->ops->close(b);
	for (uint64_t i = 0; i < size; i++)
		if (!touched[i] && got[i] != snaps[f][i])
			fail_msg("%s: byte %llu is %#x, flushed data was %#x", what,
				 (unsigned long long)i, got[i], snaps[f][i]);
	free(touched);
	free(got);
}

static void modes(bool small, int npieces)
{
	small_ops = small;
	pieces = npieces;
}

static void run_case(const char *create, const char *post, const char *raw, uint64_t size,
		     unsigned cs, int n, uint64_t seed)
{
	char base_path[128], work[128], crash[128], cmd[512];
	snprintf(base_path, sizeof(base_path), "%s/base.qcow2", dir);
	snprintf(work, sizeof(work), "%s/work.qcow2", dir);
	snprintf(crash, sizeof(crash), "%s/crash.qcow2", dir);
	snprintf(cmd, sizeof(cmd), "%s %s %s", create, base_path, post);
	assert_int_equal(system(cmd), 0);
	size_t blen, rlen = 0;
	uint8_t *base = read_file(base_path, &blen);
	uint8_t *cur = calloc(1, size);
	if (raw) {
		uint8_t *r = read_file(raw, &rlen);
		memcpy(cur, r, rlen < size ? rlen : size);
		free(r);
	}
	snprintf(cmd, sizeof(cmd), "cp %s %s", base_path, work);
	assert_int_equal(system(cmd), 0);

	nev = nops = 0;
	rnd_state = seed;
	uint8_t *snaps[256];
	size_t snap_ev[256];
	int nsnaps = 1;
	snaps[0] = malloc(size);
	memcpy(snaps[0], cur, size);
	snap_ev[0] = 0;
	int fd = open(work, O_RDWR);
	struct blk_backend *b;
	char err[256];
	rec_fd = fd;
	assert_int_equal(qcow2__open(fd, false, NULL, &b, err, sizeof(err)), 0);
	/* workload in pieces so that each flush records a snapshot */
	for (int piece = 0; piece < pieces; piece++) {
		workload(b, cur, size, cs, n / pieces);
		note_op(0, 0);
		assert_int_equal(b->ops->flush(b), 0);
		log_ev(EV_FLUSHED, 0, 0, NULL);
		snaps[nsnaps] = malloc(size);
		memcpy(snaps[nsnaps], cur, size);
		snap_ev[nsnaps++] = nev;
	}
	b->ops->close(b);
	rec_fd = -1;
	assert_int_equal(check_image(work), 0);

	/* debugging aid: QCOW2_TRACE=HOSTOFFSET lists the log around that byte */
	if (getenv("QCOW2_TRACE")) {
		uint64_t t = strtoull(getenv("QCOW2_TRACE"), NULL, 0);
		for (size_t i = 0; i < nev; i++) {
			if (evs[i].kind == EV_SYNC)
				printf("%zu sync\n", i);
			else if (evs[i].kind == EV_FLUSHED)
				printf("%zu flushed\n", i);
			else if (evs[i].off <= t && t < evs[i].off + evs[i].len)
				printf("%zu write %llu+%zu byte %#x\n", i,
				       (unsigned long long)evs[i].off, evs[i].len,
				       evs[i].data[t - evs[i].off]);
			else if (evs[i].len == 8 && evs[i].off < 4096)
				printf("%zu write hdr %llu\n", i, (unsigned long long)evs[i].off);
		}
		for (size_t i = 0; i < nops; i++)
			printf("op ev %zu off %llu len %llu\n", ops[i].ev,
			       (unsigned long long)ops[i].off, (unsigned long long)ops[i].len);
	}
	/* crash points: after every sync; the next epoch's writes in 4 variants */
	int images = 0;
	size_t nsync = 0;
	for (size_t i = 0; i < nev; i++)
		nsync += evs[i].kind == EV_SYNC;
	size_t stride = nsync > 30 ? nsync / 30 : 1, si = 0;
	for (size_t i = 0; i < nev; i++) {
		if (evs[i].kind != EV_SYNC || si++ % stride)
			continue;
		size_t end = i + 1;
		while (end < nev && evs[end].kind != EV_SYNC)
			end++;
		uint64_t masks[4] = {0, ~0ull, rnd() << 31 ^ rnd(), rnd() << 31 ^ rnd()};
		for (int m = 0; m < 4; m++) {
			char what[96];
			snprintf(what, sizeof(what), "crash after event %zu/%zu variant %d", i, nev,
				 m);
			build(crash, base, blen, i, end, masks[m]);
			verify(crash, snaps, snap_ev, nsnaps, i, end, size, what);
			images++;
		}
	}
	printf("%d crash images checked (%zu events, %zu syncs)\n", images, nev, nsync);
	assert_true(images > 20);
	for (int i = 0; i < nsnaps; i++)
		free(snaps[i]);
	for (size_t i = 0; i < nev; i++)
		free(evs[i].data);
	free(base);
	free(cur);
}

static void test_crash_small_clusters(void **state)
{
	(void)state;
	/* 512-byte clusters, 64-bit refcounts: new refcount blocks and table growth */
	modes(false, 24);
	run_case("qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64", "4M", NULL,
		 4 << 20, 512, 480, 1);
}

static void test_crash_l2_eviction(void **state)
{
	(void)state;
	/* 512 L2 tables of 32 KiB each, a 256-entry cache: dirty tables get evicted */
	modes(true, 6);
	run_case("qemu-img create -q -f qcow2 -o cluster_size=512", "16M", NULL, 16 << 20, 512,
		 3000, 3);
}

static void test_crash_compressed(void **state)
{
	(void)state;
	modes(false, 24);
	char raw[128], cmd[512];
	snprintf(raw, sizeof(raw), "%s/src.raw", dir);
	int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < 2048; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "sector %d of a compressible disk.\n", i);
		assert_int_equal(write(fd, line, (size_t)n), n);
	}
	assert_int_equal(ftruncate(fd, 2 << 20), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 %s",
		 raw);
	run_case(cmd, "", raw, 2 << 20, 4096, 360, 2);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/qcow2-crash-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_small_clusters),
	    cmocka_unit_test(test_crash_l2_eviction),
	    cmocka_unit_test(test_crash_compressed),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
