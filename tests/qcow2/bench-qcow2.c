/* SPDX-License-Identifier: MIT */
/*
 * Host-side micro benchmark of the qcow2 backend against the same operation
 * on a raw file in the same directory (page cache, no fdatasync): median
 * per-request latency of allocating 64 KiB writes, 4 KiB random reads and
 * 4 KiB random overwrites. One JSON object per line.
 *
 *   bench-qcow2 [DIR]   (default /tmp)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device-procs/qcow2/qcow2.h"

#define SPAN  (64u << 20)
#define NOPS  4000
#define BUFSZ 65536

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

enum { SEQ_ALLOC, RAND_READ, RAND_WRITE };

static double run(struct blk_backend *b, int rawfd, int kind, uint8_t *buf)
{
	static double t[NOPS];
	uint64_t x = 88172645463325252ull;
	int n = kind == SEQ_ALLOC ? (int)(SPAN / BUFSZ) : NOPS;
	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = kind == SEQ_ALLOC ? (uint64_t)i * BUFSZ : (x % (SPAN / 4096)) * 4096;
		size_t len = kind == SEQ_ALLOC ? BUFSZ : 4096;
		struct iovec v = {buf, len};
		double t0 = now_us();
		ssize_t r;
		if (b)
			r = kind == RAND_READ ? b->ops->preadv(b, &v, 1, off)
					      : b->ops->pwritev(b, &v, 1, off);
		else
			r = kind == RAND_READ ? pread(rawfd, buf, len, (off_t)off)
					      : pwrite(rawfd, buf, len, (off_t)off);
		t[i] = now_us() - t0;
		if (r != (ssize_t)len) {
			fprintf(stderr, "I/O failed at %llu\n", (unsigned long long)off);
			exit(1);
		}
	}
	return median(t, n);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char img[256], raw[256], cmd[600], err[256];
	snprintf(img, sizeof(img), "%s/bench-qcow2-%d.qcow2", dir, (int)getpid());
	snprintf(raw, sizeof(raw), "%s/bench-qcow2-%d.raw", dir, (int)getpid());
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 %s 1G", img);
	if (system(cmd) != 0)
		return 1;
	int fd = open(img, O_RDWR), rawfd = open(raw, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct blk_backend *b;
	if (fd < 0 || rawfd < 0 || qcow2__open(fd, false, NULL, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	uint8_t *buf = aligned_alloc(4096, BUFSZ);
	memset(buf, 0x5a, BUFSZ);
	static const struct {
		int kind;
		const char *name;
	} cases[] = {{SEQ_ALLOC, "qcow2.alloc_write_64k_us"},
		     {RAND_READ, "qcow2.rand_read_4k_us"},
		     {RAND_WRITE, "qcow2.rand_overwrite_4k_us"}};
	for (unsigned i = 0; i < 3; i++) {
		double q = run(b, -1, cases[i].kind, buf);
		double r = run(NULL, rawfd, cases[i].kind, buf);
		printf(
		    "{\"metric\": \"%s\", \"value\": %.2f, \"unit\": \"us\", \"vs\": \"raw file\", "
		    "\"vs_value\": %.2f, \"ratio\": %.2f}\n",
		    cases[i].name, q, r, q / r);
	}
	b->ops->close(b);
	close(rawfd);
	unlink(img);
	unlink(raw);
	free(buf);
	return 0;
}
