/* SPDX-License-Identifier: MIT */
/* virtio-blk internals shared by blk.c (device) and blk_req.c (requests). */
#ifndef CELLVM_BLK_PRIV_H
#define CELLVM_BLK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "blk.h"
#include "blk_io.h"
#include "device-procs/virtio/virtio_pci.h"

struct blk_discard_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req {
	struct blk_io_job job; /* first */
	struct blk_dev *dev;
	unsigned q;
	uint16_t head;
	bool busy; /* accessed atomically: head in flight */
	uint32_t type;
	uint64_t off, len;
	uint8_t *status;
	uint32_t written;
	unsigned nseg;
	struct blk_discard_seg seg[BLK_MAX_DISCARD_SEG];
	int niov, iov0; /* iov[iov0 .. iov0 + niov): what is left to transfer */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

struct blk_dev {
	struct virtio_pci vp;
	struct blk_backend *be;
	struct blk_io *io;
	struct blk_params p;
	struct virtq_req scratch;		 /* popped chain, before it gets a slot */
	struct blk_req *reqs[VIRTIO_MAX_QUEUES]; /* [queue_size] per queue, by head */
	bool no_nowait[2]; /* [write]: the backend said -EOPNOTSUPP, stop trying */
};

/* Main loop: turn one popped chain of queue q into a job or a completion. */
void blk__handle(struct blk_dev *d, unsigned q, const struct virtq_req *vr);

#endif
