/* SPDX-License-Identifier: MIT */
/*
 * A tiny virtio driver for tests and fuzzers: guest RAM is a calloc'd
 * buffer, rings are laid out in it at fixed addresses, and the device is
 * driven through its BAR0 register model exactly as a guest would.
 */
#ifndef CELLVM_TESTS_VDRV_H
#define CELLVM_TESTS_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "device-procs/device.h"
#include "device-procs/virtio/virtio_pci.h"

#define VDRV_RAM_SIZE	(8u << 20)
#define VDRV_Q_STRIDE	0x8000u /* per-queue area: desc, avail, used, scratch */
#define VDRV_DESC(q)	((uint64_t)(q)*VDRV_Q_STRIDE)
#define VDRV_AVAIL(q)	(VDRV_DESC(q) + 0x1000)
#define VDRV_USED(q)	(VDRV_DESC(q) + 0x2000)
#define VDRV_SCRATCH(q) (VDRV_DESC(q) + 0x3000) /* 20 KiB: headers, indirect tables */
#define VDRV_DATA	0x100000u		/* data buffers from 1 MiB up */

struct vbuf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct vdrv {
	uint8_t *mem;
	struct dev_env env;
	struct virtio_pci *vp;
	uint16_t qsize;
	uint16_t avail_idx[VIRTIO_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_MAX_QUEUES];
	uint16_t used_seen[VIRTIO_MAX_QUEUES];
};

/* Interrupts raised through dev__irq(), per vector (vdrv.c defines dev__irq). */
extern unsigned vdrv_irqs[DEV_MAX_EVENTFDS];

void vdrv__init_ram(struct vdrv *d);
void vdrv__free_ram(struct vdrv *d);
void *vdrv__ptr(struct vdrv *d, uint64_t gpa);

uint64_t vdrv__rd(struct vdrv *d, uint64_t off, unsigned size);
void vdrv__wr(struct vdrv *d, uint64_t off, unsigned size, uint64_t val);

/*
 * Negotiate `features` (must include VERSION_1 to succeed), set up and
 * enable queues 0..nq-1 of size qsize with vector q, DRIVER_OK. Returns the
 * final device status.
 */
uint8_t vdrv__start(struct vdrv *d, struct virtio_pci *vp, uint64_t features, unsigned nq,
		    uint16_t qsize);

/* Write descriptors for bufs (direct, or one indirect table in scratch) and publish. */
uint16_t vdrv__add(struct vdrv *d, unsigned q, const struct vbuf *bufs, unsigned n, bool indirect);
/* Publish `head` in the avail ring without writing descriptors. */
void vdrv__publish(struct vdrv *d, unsigned q, uint16_t head);
/* Next used element if there is one: returns true and fills id/len. */
bool vdrv__used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len);
/* Raw descriptor write at index i of queue q's table. */
void vdrv__desc(struct vdrv *d, unsigned q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next);

#endif
