/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver (one request queue, polled, up to VBLK_MAX_INFLIGHT
 * requests in flight). Buffers are guest-physical = virtual (identity map).
 */
#ifndef GUEST_VBLK_H
#define GUEST_VBLK_H

#include <stdint.h>

#include "virtio.h"

#define VBLK_MAX_INFLIGHT 32
#define VBLK_T_IN	  0
#define VBLK_T_OUT	  1
#define VBLK_T_FLUSH	  4
#define VBLK_S_OK	  0
#define VBLK_S_IOERR	  1
#define VBLK_S_UNSUPP	  2
#define VBLK_S_PENDING	  0xff

struct vblk_req {
	/* device-visible part first */
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	volatile uint8_t status;
	/* driver bookkeeping */
	uint8_t busy;
	uint32_t len;
};

struct vblk {
	struct virtio_pci pci;
	struct virtq q;
	uint64_t features;
	uint64_t capacity; /* 512-byte sectors */
	struct vblk_req req[VBLK_MAX_INFLIGHT];
	unsigned int inflight;
	int broken; /* the device misbehaved: stop using it */
};

/* Finds the first virtio-blk PCI function (from PCI index `from`) and initialises it. */
int vblk_init(struct vblk *b, int from);
/*
 * Queues a request (type IN/OUT/FLUSH) without kicking; returns its slot
 * (0..VBLK_MAX_INFLIGHT-1) or -1 if none is free, the range is outside the
 * disk, or len is not a multiple of 512.
 */
int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len);
void vblk_kick(struct vblk *b);
/* Reaps completions; returns how many completed, -1 if the device is broken. */
int vblk_poll(struct vblk *b);
/* Status of a completed slot (VBLK_S_PENDING while in flight); frees the slot. */
uint8_t vblk_take(struct vblk *b, int slot);
/* Submit, kick and poll one request to completion; returns its status (or -1). */
int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len);

#endif
