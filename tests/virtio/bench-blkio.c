/* SPDX-License-Identifier: MIT */
/*
 * Host-side micro-benchmark for the virtio-blk I/O path: 4 KiB random
 * requests at queue depth 32 through (a) blk_io, the I/O thread pool the
 * device uses, completing through an eventfd as an irqfd would, and (b)
 * io_uring (liburing), the alternative. One JSON line per case, median of
 * 5 runs; "ratio" is pool / io_uring in IOPS (> 1: the pool is faster).
 *
 *   bench-blkio [DIR...]   (default: /dev/shm and the current directory)
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "device-procs/blk/blk_io.h"

#define FILE_SIZE (64u << 20)
#define BS	  4096u
#define QD	  32u
#define OPS	  20000u
#define RUNS	  5
static unsigned THREADS = 8; /* BLKIO_THREADS overrides */

struct job {
	struct blk_io_job j;
	int fd;
	bool write;
	uint64_t off;
	void *buf;
	int efd;
	ssize_t ret;
	unsigned idx;
};

static unsigned done_ring[QD], done_head, done_tail;
static int done_lock;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void job_fn(struct blk_io_job *jj)
{
	struct job *j = (struct job *)jj;
	struct iovec iov = {j->buf, BS};
	j->ret = j->write ? pwritev(j->fd, &iov, 1, j->off) : preadv(j->fd, &iov, 1, j->off);
	while (__atomic_exchange_n(&done_lock, 1, __ATOMIC_ACQUIRE))
		;
	done_ring[done_tail++ % QD] = j->idx;
	__atomic_store_n(&done_lock, 0, __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(j->efd, &one, 8) != 8)
		abort();
}

static double run_pool(int fd, bool wr, void **bufs)
{
	struct blk_io *io = blk_io__new(THREADS);
	int efd = eventfd(0, 0);
	struct job jobs[QD];
	uint64_t seed = 88172645463325252ull;
	unsigned submitted = 0, completed = 0;
	done_head = done_tail = 0;
	double t0 = now();
	for (unsigned i = 0; i < QD; i++) {
		jobs[i] = (struct job){
		    .j.fn = job_fn, .fd = fd, .write = wr, .buf = bufs[i], .efd = efd, .idx = i};
		jobs[i].off = rnd(&seed) % (FILE_SIZE / BS) * BS;
		blk_io__submit(io, &jobs[i].j);
		submitted++;
	}
	while (completed < OPS) {
		uint64_t n;
		if (read(efd, &n, 8) != 8)
			abort();
		for (;;) {
			while (__atomic_exchange_n(&done_lock, 1, __ATOMIC_ACQUIRE))
				;
			bool any = done_head != done_tail;
			unsigned i = any ? done_ring[done_head++ % QD] : 0;
			__atomic_store_n(&done_lock, 0, __ATOMIC_RELEASE);
			if (!any)
				break;
			if (jobs[i].ret != BS)
				abort();
			completed++;
			if (submitted < OPS) {
				jobs[i].off = rnd(&seed) % (FILE_SIZE / BS) * BS;
				blk_io__submit(io, &jobs[i].j);
				submitted++;
			}
		}
	}
	double t = now() - t0;
	blk_io__free(io);
	close(efd);
	return OPS / t;
}

static double run_uring(int fd, bool wr, void **bufs)
{
	struct io_uring ring;
	if (io_uring_queue_init(QD, &ring, 0) < 0)
		return 0;
	uint64_t seed = 88172645463325252ull;
	unsigned submitted = 0, completed = 0;
	struct iovec iov[QD];
	double t0 = now();
	for (unsigned i = 0; i < QD; i++) {
		iov[i] = (struct iovec){bufs[i], BS};
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		uint64_t off = rnd(&seed) % (FILE_SIZE / BS) * BS;
		if (wr)
			io_uring_prep_writev(sqe, fd, &iov[i], 1, off);
		else
			io_uring_prep_readv(sqe, fd, &iov[i], 1, off);
		io_uring_sqe_set_data64(sqe, i);
		submitted++;
	}
	io_uring_submit(&ring);
	while (completed < OPS) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			abort();
		unsigned i = io_uring_cqe_get_data64(cqe);
		if (cqe->res != (int)BS)
			abort();
		io_uring_cqe_seen(&ring, cqe);
		completed++;
		if (submitted < OPS) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			uint64_t off = rnd(&seed) % (FILE_SIZE / BS) * BS;
			if (wr)
				io_uring_prep_writev(sqe, fd, &iov[i], 1, off);
			else
				io_uring_prep_readv(sqe, fd, &iov[i], 1, off);
			io_uring_sqe_set_data64(sqe, i);
			io_uring_submit(&ring);
			submitted++;
		}
	}
	double t = now() - t0;
	io_uring_queue_exit(&ring);
	return OPS / t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double (*fn)(int, bool, void **), int fd, bool wr, void **bufs)
{
	double v[RUNS];
	for (int r = 0; r < RUNS; r++)
		v[r] = fn(fd, wr, bufs);
	qsort(v, RUNS, sizeof(double), cmp);
	return v[RUNS / 2];
}

static void bench_dir(const char *dir, void **bufs)
{
	char path[4096];
	struct statfs sf;
	snprintf(path, sizeof(path), "%s/cellvm-bench-blkio-XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0 || fstatfs(fd, &sf) < 0) {
		perror(path);
		return;
	}
	const char *fs = sf.f_type == 0x01021994 ? "tmpfs" : sf.f_type == 0xef53 ? "ext4" : "fs";
	for (unsigned off = 0; off < FILE_SIZE; off += BS)
		if (pwrite(fd, bufs[0], BS, off) != BS)
			abort();
	fsync(fd);
	/* O_DIRECT where the file system has it: the disk, not the page cache. */
	int dfd = open(path, O_RDWR | O_DIRECT);
	unlink(path);
	const char *mode = dfd >= 0 ? "direct" : "cached";
	int use = dfd >= 0 ? dfd : fd;
	for (int wr = 0; wr < 2; wr++) {
		double pool = median(run_pool, use, wr, bufs);
		double uring = median(run_uring, use, wr, bufs);
		printf("{\"metric\": \"blk.io.rand%s_4k_qd32_%s_%s_iops\", \"value\": %.0f, "
		       "\"unit\": \"iops\", \"vs\": \"io_uring\", \"vs_value\": %.0f, "
		       "\"ratio\": %.3f}\n",
		       wr ? "write" : "read", fs, mode, pool, uring, uring ? pool / uring : 0);
		fflush(stdout);
	}
	if (dfd >= 0)
		close(dfd);
	close(fd);
}

int main(int argc, char **argv)
{
	void *bufs[QD];
	if (getenv("BLKIO_THREADS"))
		THREADS = atoi(getenv("BLKIO_THREADS"));
	for (unsigned i = 0; i < QD; i++) {
		if (posix_memalign(&bufs[i], 4096, BS))
			return 1;
		memset(bufs[i], (int)i, BS);
	}
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bench_dir(argv[i], bufs);
	} else {
		bench_dir("/dev/shm", bufs);
		bench_dir(".", bufs);
	}
	return 0;
}
