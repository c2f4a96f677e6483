/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary bytes as a qcow2 image in a memfd. Probe the
 * backing file, open (read-write, else read-only) over a zero backing disk
 * when one is named, read a few sectors, write one, discard, write-zeroes,
 * flush, close. Seeds: tests/fuzz/corpus/qcow2-open/ (made by qemu-img, see
 * docs/qcow2.md).
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-procs/qcow2/qcow2.h"
#include "tests/fuzz/fuzz.h"

static ssize_t zero_preadv(struct blk_backend *b, const struct iovec *iov, int cnt, uint64_t off)
{
	ssize_t n = 0;
	(void)b;
	(void)off;
	for (int i = 0; i < cnt; i++) {
		memset(iov[i].iov_base, 0, iov[i].iov_len);
		n += (ssize_t)iov[i].iov_len;
	}
	return n;
}

static void zero_close(struct blk_backend *b)
{
	(void)b;
}

static const struct blk_backend_ops zero_ops = {
    .name = "zero", .preadv = zero_preadv, .close = zero_close};

static uint8_t buf[65536];

static void rw(struct blk_backend *b, uint64_t off, size_t len, bool write)
{
	if (b->size < 512)
		return;
	off = (off % b->size) & ~511ull;
	if (len > b->size - off)
		len = (size_t)(b->size - off);
	struct iovec v[2] = {{buf, len / 3}, {buf + len / 3, len - len / 3}};
	if (write)
		b->ops->pwritev(b, v, 2, off);
	else
		b->ops->preadv(b, v, 2, off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (8u << 20))
		return 0;
	int fd = memfd_create("qcow2-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char name[1100], fmt[32], err[256];
	int has = qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err, sizeof(err));
	struct blk_backend zero = {.ops = &zero_ops, .size = 3u << 20, .readonly = true};
	struct blk_backend *b = NULL;
	bool ro = false;
	if (qcow2__open(fd, false, has == 1 ? &zero : NULL, &b, err, sizeof(err)) < 0) {
		ro = true;
		if (qcow2__open(fd, true, has == 1 ? &zero : NULL, &b, err, sizeof(err)) < 0) {
			close(fd);
			return 0;
		}
	}
	uint64_t seed = size ? data[size - 1] * 40503u + size : 0;
	rw(b, 0, 4096, false);
	rw(b, b->size / 2, 65536, false);
	rw(b, b->size - 512, 512, false);
	rw(b, seed * 4096, 8192, false);
	if (!ro) {
		memset(buf, 0xa5, sizeof(buf));
		rw(b, seed * 512 + 512, 4096, true);
		rw(b, seed * 512, 4096, false);
		if (b->size >= 65536) {
			b->ops->discard(b, (seed % (b->size / 65536)) * 65536, 65536);
			b->ops->write_zeroes(b, b->size - 65536, 65536, seed & 1);
		}
		b->ops->flush(b);
		rw(b, 0, 4096, false);
	}
	b->ops->close(b); /* closes fd */
	return 0;
}
