/* SPDX-License-Identifier: MIT */
/*
 * virtio 1.x over PCI (modern interface only) with split virtqueues, driven
 * by polling the used ring. The device is treated as untrusted: every index
 * and id it writes is range-checked before use.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdint.h>

#define VIRTIO_F_VERSION_1 32
#define VQ_MAX_SIZE	   128

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VQ_MAX_SIZE];
	uint16_t used_event;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[VQ_MAX_SIZE];
	uint16_t avail_event;
};

struct virtq {
	struct vring_desc desc[VQ_MAX_SIZE] __attribute__((aligned(16)));
	struct vring_avail avail __attribute__((aligned(2)));
	struct vring_used used __attribute__((aligned(4)));
	uint16_t size;	    /* negotiated, power of two <= VQ_MAX_SIZE */
	uint16_t last_used; /* next used-ring index to consume */
	uint16_t index;	    /* queue number */
	uint64_t notify;    /* address of this queue's notify register */
};

struct virtio_pci {
	uint32_t bdf;
	uint64_t common; /* struct virtio_pci_common_cfg */
	uint64_t notify_base;
	uint32_t notify_len;
	uint32_t notify_mult;
	uint64_t isr;
	uint64_t device; /* device-specific config */
	uint32_t device_len;
};

/*
 * Resets the device, finds its capabilities, acknowledges it and negotiates
 * VIRTIO_F_VERSION_1 plus the subset of `wanted` it offers (returned in
 * *features). 0 on success, -1 with a message printed otherwise.
 */
int virtio_pci_init(struct virtio_pci *d, uint32_t bdf, uint64_t wanted, uint64_t *features);
/* Sets up queue qi with at most want entries. 0 or -1. */
int virtio_queue_init(struct virtio_pci *d, unsigned int qi, struct virtq *q, uint16_t want);
/* Sets DRIVER_OK. */
void virtio_driver_ok(struct virtio_pci *d);
uint8_t virtio_status(struct virtio_pci *d);

/* Publishes descriptor chain `head` in the avail ring (no notification). */
void virtq_push(struct virtq *q, uint16_t head);
/* Notifies the device of new avail entries. */
void virtq_kick(struct virtq *q);
/*
 * Takes one used element: 1 with *id and *len set, 0 if none is pending,
 * -1 if the device wrote an id outside the ring (the caller must stop).
 */
int virtq_pop(struct virtq *q, uint32_t *id, uint32_t *len);

#endif
