/* SPDX-License-Identifier: MIT */
/*
 * Raw image backend: the disk is the fd. Safe to call from several I/O
 * threads (positioned I/O only, no shared offset).
 */
#include "raw.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int raw_fd(struct blk_backend *b)
{
	return (int)(intptr_t)b->priv;
}

static ssize_t raw_preadv(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	ssize_t r = preadv(raw_fd(b), iov, iovcnt, (off_t)off);
	return r < 0 ? -errno : r;
}

static ssize_t raw_pwritev(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
	if (b->readonly)
		return -EROFS;
	ssize_t r = pwritev(raw_fd(b), iov, iovcnt, (off_t)off);
	return r < 0 ? -errno : r;
}

static ssize_t raw_preadv_nowait(struct blk_backend *b, const struct iovec *iov, int iovcnt,
				 uint64_t off)
{
	ssize_t r = preadv2(raw_fd(b), iov, iovcnt, (off_t)off, RWF_NOWAIT);
	return r < 0 ? -errno : r;
}

static ssize_t raw_pwritev_nowait(struct blk_backend *b, const struct iovec *iov, int iovcnt,
				  uint64_t off)
{
	if (b->readonly)
		return -EROFS;
	ssize_t r = pwritev2(raw_fd(b), iov, iovcnt, (off_t)off, RWF_NOWAIT);
	return r < 0 ? -errno : r;
}

static int raw_flush(struct blk_backend *b)
{
	if (b->readonly)
		return 0;
	return fdatasync(raw_fd(b)) < 0 ? -errno : 0;
}

static int raw_discard(struct blk_backend *b, uint64_t off, uint64_t len)
{
	if (b->readonly)
		return -EROFS;
	if (fallocate(raw_fd(b), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) < 0) {
		/* Discard is a hint: a file system without holes just keeps the data. */
		if (errno == EOPNOTSUPP)
			return 0;
		return -errno;
	}
	return 0;
}

static int write_zero_buf(struct blk_backend *b, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		ssize_t r = pwrite(raw_fd(b), zeros, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		off += r;
		len -= r;
	}
	return 0;
}

static int raw_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len, bool may_unmap)
{
	if (b->readonly)
		return -EROFS;
	int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			     : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(raw_fd(b), mode, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENODEV)
		return -errno;
	return write_zero_buf(b, off, len);
}

static void raw_close(struct blk_backend *b)
{
	(void)b; /* the fd belongs to the device process's fd table */
}

static const struct blk_backend_ops raw_ops = {
    .name = "raw",
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .preadv_nowait = raw_preadv_nowait,
    .pwritev_nowait = raw_pwritev_nowait,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
};

int raw__open(struct blk_backend *b, int fd, bool readonly)
{
	struct stat st;
	uint64_t size;

	memset(b, 0, sizeof(*b));
	if (fd < 0 || fstat(fd, &st) < 0)
		return -EBADF;
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		/* st_size is 0 for a block device; lseek is what the blk profile allows. */
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return -errno;
		size = (uint64_t)end;
	} else {
		return -EINVAL;
	}
	b->ops = &raw_ops;
	b->size = size & ~511ull;
	b->readonly = readonly;
	b->single_threaded = false;
	b->priv = (void *)(intptr_t)fd;
	return 0;
}
