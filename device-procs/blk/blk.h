/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2) over virtio-pci, on any blk_backend.
 *
 * Use from a device process:
 *   struct blk_dev *d = blk__new(&backend, &params);
 *   ... confinement ...
 *   blk_dev_ops.init(d, env);   // starts the I/O threads
 *   ... read/write/kick from the main loop ...
 *   blk__free(d);
 * Region 0 is BAR0 (virtio_pci.h layout); kickfd[q] is queue q's ioeventfd;
 * irqfd[v] is MSI-X vector v; dev__irq() is called from the I/O threads
 * too, so it must be thread-safe (an eventfd write is).
 */
#ifndef CELLVM_BLK_H
#define CELLVM_BLK_H

#include <stdint.h>

#include "backend.h"
#include "device-procs/device.h"
#include "device-procs/virtio/virtio_pci_regs.h"

#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_WZ_F_UNMAP 1
#define VIRTIO_BLK_ID_BYTES   20

/* Limits the device advertises. */
#define BLK_MAX_DISCARD_SEG	16
#define BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per segment */
#define BLK_MAX_WZ_SECTORS	(1u << 22)

/* Device config offsets (struct virtio_blk_config). */
#define VIRTIO_BLK_CFG_CAPACITY	       0
#define VIRTIO_BLK_CFG_SEG_MAX	       12
#define VIRTIO_BLK_CFG_BLK_SIZE	       20
#define VIRTIO_BLK_CFG_NUM_QUEUES      34
#define VIRTIO_BLK_CFG_MAX_DISCARD     36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define VIRTIO_BLK_CFG_DISCARD_ALIGN   44
#define VIRTIO_BLK_CFG_MAX_WZ	       48
#define VIRTIO_BLK_CFG_MAX_WZ_SEG      52
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP    56
#define VIRTIO_BLK_CFG_SIZE	       60

struct blk_params {
	unsigned nqueues;		  /* 1..VIRTIO_MAX_QUEUES; MQ offered when > 1 */
	uint16_t queue_size;		  /* power of two <= VIRTQ_MAX_SIZE; 0 = 128 */
	unsigned nthreads;		  /* I/O threads; 0 = complete inline (tests) */
	char serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID answer, NUL-padded */
};

struct blk_dev;
struct virtio_pci;

/* The backend must stay valid until blk__free. Returns NULL on failure. */
struct blk_dev *blk__new(struct blk_backend *be, const struct blk_params *p);
/* Waits for in-flight I/O, stops the threads; does not close the backend. */
void blk__free(struct blk_dev *d);
/* The transport, for tests and for the vcpu-worker plan (queue count). */
struct virtio_pci *blk__transport(struct blk_dev *d);

/* dev = the struct blk_dev *. */
extern const struct dev_ops blk_dev_ops;

#endif
