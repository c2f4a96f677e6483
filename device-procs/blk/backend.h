/* SPDX-License-Identifier: MIT */
/*
 * A disk image as the virtio-blk device sees it: byte offsets on a virtual
 * disk of `size` bytes. Implemented by raw.c (the fd itself) and qcow2.c.
 * The broker opens every file; a backend only ever uses the fds it is given.
 *
 * All calls return 0 (or bytes done for read/write) on success and -errno on
 * failure; callers have already checked that [off, off+len) is inside `size`.
 * Backends may be called from several I/O threads at once unless
 * `single_threaded` is set.
 */
#ifndef CELLVM_BLK_BACKEND_H
#define CELLVM_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct blk_backend;

struct blk_backend_ops {
	const char *name;
	ssize_t (*preadv)(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off);
	ssize_t (*pwritev)(struct blk_backend *b, const struct iovec *iov, int iovcnt,
			   uint64_t off);
	/*
	 * May be NULL. Like preadv/pwritev, but never waits for a disk: -EAGAIN
	 * (or a short count) when the data is not at hand without blocking,
	 * e.g. not in the page cache; -EOPNOTSUPP when the kernel or file
	 * system cannot tell. The device calls these on its main loop to finish
	 * cached requests without a hand-off to an I/O thread.
	 */
	ssize_t (*preadv_nowait)(struct blk_backend *b, const struct iovec *iov, int iovcnt,
				 uint64_t off);
	ssize_t (*pwritev_nowait)(struct blk_backend *b, const struct iovec *iov, int iovcnt,
				  uint64_t off);
	/* Make every completed write durable (fdatasync plus metadata order). */
	int (*flush)(struct blk_backend *b);
	/* May be NULL: then the device does not offer the feature. */
	int (*discard)(struct blk_backend *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk_backend *b, uint64_t off, uint64_t len, bool may_unmap);
	void (*close)(struct blk_backend *b);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	uint64_t size; /* virtual disk size in bytes (multiple of 512) */
	bool readonly;
	bool single_threaded;
	void *priv;
};

#endif
