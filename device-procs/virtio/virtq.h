/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (virtio 1.2 section 2.7). Everything in the
 * rings is guest-controlled: indices, descriptors and flags are copied out
 * once and checked before use, and every buffer is turned into a host
 * pointer through gmem__ptr().
 *
 * Threading: virtq__pop() is called by one thread (the device's main loop);
 * virtq__push()/virtq__should_notify() may be called from I/O threads and
 * are serialised by the caller (struct virtio_queue's lock).
 */
#ifndef CELLVM_VIRTQ_H
#define CELLVM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmem.h"

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Largest queue any device here offers; also the iovec capacity. */
#define VIRTQ_MAX_SIZE 256

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq {
	const struct gmem *ram;
	uint16_t size;	/* power of two, <= VIRTQ_MAX_SIZE */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the three areas, checked once by virtq__init. */
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;  /* flags, idx, then elems, avail_event */
	uint16_t last_avail;	  /* next avail entry to consume */
	uint16_t avail_shadow;	  /* snapshot of avail->idx */
	uint16_t used_idx;	  /* next used entry to fill */
	uint16_t signalled_used;  /* used_idx at the last notification */
	bool signalled_valid;
};

/*
 * One request: its head and its buffers as host pointers, the device-
 * readable ones first (iov[0..nread)), then the device-writable ones
 * (iov[nread..nread+nwrite)). Zero-length descriptors add no iovec.
 */
struct virtq_req {
	uint16_t head;
	unsigned nread, nwrite;
	uint64_t read_len, write_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/*
 * Check the three areas (alignment, inside RAM, no wrap-around) and set up
 * the queue. Returns 0 or -EINVAL.
 */
int virtq__init(struct virtq *vq, const struct gmem *ram, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/*
 * Take the next available chain. Returns 1 with *req filled, 0 when the
 * queue is empty, or -EPROTO when the driver broke the ring rules (bad avail
 * idx, bad head or descriptor index, loop, chain too long, bad indirect
 * table, writable before readable, buffer outside RAM or over the rings):
 * the caller must then mark the device NEEDS_RESET and stop using the queue.
 */
int virtq__pop(struct virtq *vq, struct virtq_req *req);

/*
 * Give back the last n chains taken by virtq__pop, unused: the next pops
 * read (and check) them again from the avail ring.
 */
void virtq__unpop(struct virtq *vq, uint16_t n);
/*
 * Ask for a kick when the driver makes more chains available than it has
 * now, taken or not (a device waiting for enough buffers for one frame).
 */
void virtq__notify_on_more(struct virtq *vq);
/* Has the driver made no chain available beyond those already taken? */
bool virtq__avail_empty(struct virtq *vq);

/* Return chain `head` to the driver with `written` bytes written. */
void virtq__push(struct virtq *vq, uint16_t head, uint32_t written);

/* After pushes: does the driver want an interrupt (EVENT_IDX / NO_INTERRUPT)? */
bool virtq__should_notify(struct virtq *vq);

/*
 * Driver notifications (kicks) while the device works through the ring:
 * disable_notify sets VIRTQ_USED_F_NO_NOTIFY (without EVENT_IDX; with it, a
 * stale avail_event already stops kicks); enable_notify clears the flag or
 * sets avail_event to last_avail, then fences. After enable_notify the
 * caller must pop once more: a request may have arrived in between.
 */
void virtq__disable_notify(struct virtq *vq);
void virtq__enable_notify(struct virtq *vq);

/* Copy helpers over an iovec range; return bytes copied. */
uint64_t iov__to_buf(const struct iovec *iov, unsigned n, uint64_t skip, void *buf, uint64_t len);
uint64_t iov__from_buf(const struct iovec *iov, unsigned n, uint64_t skip, const void *buf,
		       uint64_t len);
/*
 * Build in dst (max entries) the sub-range [skip, skip+len) of iov. Returns
 * the number of entries, or -1 if the range is not wholly present or more
 * than max entries would be needed.
 */
int iov__slice(const struct iovec *iov, unsigned n, uint64_t skip, uint64_t len, struct iovec *dst,
	       unsigned max);

#endif
