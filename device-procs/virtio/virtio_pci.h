/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, modern (virtio 1.2 section 4.1), device side: the
 * register model of BAR0 (layout in virtio_pci_regs.h, shared with the
 * vcpu-worker) and the glue every virtio device process shares.
 */
#ifndef CELLVM_VIRTIO_PCI_H
#define CELLVM_VIRTIO_PCI_H

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "device-procs/device.h"
#include "virtio_pci_regs.h"
#include "virtq.h"

struct virtio_pci;

/* What a device type (blk, net, ...) plugs into the transport. */
struct virtio_dev_ops {
	uint16_t device_id;
	uint32_t cfg_size; /* <= VIRTIO_MAX_CFG */
	/* Fill the whole device config (cfg_size bytes, little endian). */
	void (*cfg_get)(void *priv, uint8_t *cfg);
	/* May be NULL (read-only config). */
	void (*cfg_write)(void *priv, uint32_t off, unsigned size, uint64_t val);
	/* Queue q was notified; the transport checked it is live. */
	void (*kick)(void *priv, unsigned q);
	/* Stop and wait for all in-flight requests; queues are torn down next. */
	void (*reset)(void *priv);
};

struct virtio_queue {
	pthread_mutex_t lock; /* serialises push + notify (I/O threads) */
	struct virtq vq;
	uint16_t size, max_size;
	uint16_t msix_vector;
	bool enabled;
	bool broken; /* driver broke the rules: no more processing */
	uint64_t desc, driver, device;
};

struct virtio_pci {
	const struct virtio_dev_ops *ops;
	void *priv;
	struct dev_env *env; /* RAM and irqfds; NULL until attached */
	unsigned nqueues;
	uint64_t device_features, driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr; /* accessed atomically */
	struct virtio_queue q[VIRTIO_MAX_QUEUES];
};

/*
 * Set up the transport. `features` are the device-type bits; VERSION_1,
 * INDIRECT_DESC and EVENT_IDX are added here. Queue sizes start at
 * queue_max (power of two <= VIRTQ_MAX_SIZE).
 */
void virtio_pci__init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *priv,
		      uint64_t features, unsigned nqueues, uint16_t queue_max);
void virtio_pci__attach(struct virtio_pci *vp, struct dev_env *env);

/* BAR0 accesses (offsets relative to BAR0; size 1, 2, 4 or 8). */
uint64_t virtio_pci__read(struct virtio_pci *vp, uint64_t off, unsigned size);
void virtio_pci__write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val);
/* Queue q's ioeventfd fired. */
void virtio_pci__kick(struct virtio_pci *vp, unsigned q);

bool virtio_pci__has_feature(const struct virtio_pci *vp, unsigned bit);
/* Is queue q enabled, not broken, with DRIVER_OK set? */
bool virtio_pci__queue_live(const struct virtio_pci *vp, unsigned q);
/*
 * The driver broke a MUST on queue q: stop the queue, set NEEDS_RESET and
 * send a configuration change notification.
 */
void virtio_pci__needs_reset(struct virtio_pci *vp, unsigned q);
/* Push one used element on queue q and interrupt if the driver wants it. */
void virtio_pci__complete(struct virtio_pci *vp, unsigned q, uint16_t head, uint32_t written);

/*
 * Hand every available chain of queue q to fn(vp->priv, q, req), one at a
 * time through `req`, with notifications off while draining and one more
 * look after turning them back on. A ring that breaks the rules marks the
 * device NEEDS_RESET and stops the queue.
 */
void virtio_pci__drain(struct virtio_pci *vp, unsigned q, struct virtq_req *req,
		       void (*fn)(void *priv, unsigned q, const struct virtq_req *req));
/*
 * The same, handling at most `budget` chains (0: no bound); with more left
 * it kicks the queue's own eventfd, so the device's loop comes back to it
 * after its other fds (a flood on one queue cannot starve the rest).
 */
void virtio_pci__drain_budget(struct virtio_pci *vp, unsigned q, struct virtq_req *req,
			      unsigned budget,
			      void (*fn)(void *priv, unsigned q, const struct virtq_req *req));

/*
 * The dev_ops glue every virtio device process shares (device.h): its state
 * starts with its struct virtio_pci (checked by VIRTIO_PCI_DEV_STATE),
 * region 0 is BAR0 and kickfd[q] is queue q's ioeventfd. Its dev_ops are
 * VIRTIO_PCI_DEV_OPS plus its own .init (which calls virtio_pci__attach)
 * and backend hooks; a device whose IPC_OP_CTRL_RESET does more takes
 * VIRTIO_PCI_DEV_IO and a .reset that calls virtio_pci__dev_reset.
 */
uint64_t virtio_pci__dev_read(void *dev, unsigned region, uint64_t off, unsigned size);
void virtio_pci__dev_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val);
void virtio_pci__dev_kick(void *dev, unsigned i);
/* IPC_OP_CTRL_RESET: the driver's own reset, a status write of 0 (the
 * device's virtio_dev_ops.reset drains its in-flight requests). */
void virtio_pci__dev_reset(void *dev);
#define VIRTIO_PCI_DEV_IO                                                                          \
	.read = virtio_pci__dev_read, .write = virtio_pci__dev_write, .kick = virtio_pci__dev_kick
#define VIRTIO_PCI_DEV_OPS VIRTIO_PCI_DEV_IO, .reset = virtio_pci__dev_reset
#define VIRTIO_PCI_DEV_STATE(type, member)                                                         \
	_Static_assert(offsetof(type, member) == 0, #type " must start with its virtio_pci")

#endif
