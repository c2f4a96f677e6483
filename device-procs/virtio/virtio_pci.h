/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, modern (virtio 1.2 section 4.1), device side.
 *
 * BAR0 layout shared with the vcpu-worker. The worker owns PCI config space,
 * BAR placement and the MSI-X table/PBA; it registers one ioeventfd per
 * queue q at BAR0 + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT
 * (2-byte writes, any value) and one irqfd per MSI-X vector. Every other
 * BAR0 access reaches virtio_pci__read/write.
 */
#ifndef CELLVM_VIRTIO_PCI_H
#define CELLVM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device-procs/device.h"
#include "virtq.h"

/* ---- BAR0 layout ---------------------------------------------------- */
#define VIRTIO_PCI_COMMON_OFF	  0x0000
#define VIRTIO_PCI_COMMON_LEN	  0x0038
#define VIRTIO_PCI_ISR_OFF	  0x1000
#define VIRTIO_PCI_ISR_LEN	  0x0004
#define VIRTIO_PCI_DEVICE_OFF	  0x2000
#define VIRTIO_PCI_DEVICE_LEN	  0x1000
#define VIRTIO_PCI_NOTIFY_OFF	  0x3000
#define VIRTIO_PCI_NOTIFY_LEN	  0x1000
#define VIRTIO_PCI_NOTIFY_MULT	  4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000 /* handled by the vcpu-worker */
#define VIRTIO_PCI_MSIX_PBA_OFF	  0x5000 /* handled by the vcpu-worker */
#define VIRTIO_PCI_BAR0_SIZE	  0x8000
#define VIRTIO_PCI_MAX_VECTORS	  256 /* 16-byte entries in one 4 KiB page */

/* Config-space offsets of the capabilities virtio_pci__config_space writes. */
#define VIRTIO_PCI_CAP_COMMON_AT 0x40
#define VIRTIO_PCI_CAP_NOTIFY_AT 0x50
#define VIRTIO_PCI_CAP_ISR_AT	 0x64
#define VIRTIO_PCI_CAP_DEVICE_AT 0x74
/*
 * VIRTIO_PCI_CAP_PCI_CFG: the worker implements the window if it wants to
 * (bar/offset/length at +4/+8/+12 are plain config writes; pci_cfg_data at
 * +16 becomes a BAR0 access of `length` bytes at `offset`).
 */
#define VIRTIO_PCI_CAP_PCICFG_AT 0x84
#define VIRTIO_PCI_CAP_MSIX_AT	 0x98

/* cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

/* Common configuration offsets (struct virtio_pci_common_cfg). */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF	   0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF	   0x0c
#define VIRTIO_PCI_COMMON_MSIX	   0x10
#define VIRTIO_PCI_COMMON_NUMQ	   0x12
#define VIRTIO_PCI_COMMON_STATUS   0x14
#define VIRTIO_PCI_COMMON_CFGGEN   0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE   0x18
#define VIRTIO_PCI_COMMON_Q_MSIX   0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF   0x1e
#define VIRTIO_PCI_COMMON_Q_DESC   0x20
#define VIRTIO_PCI_COMMON_Q_DRIVER 0x28
#define VIRTIO_PCI_COMMON_Q_DEVICE 0x30

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* Reserved feature bits */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_ISR_QUEUE     0x1
#define VIRTIO_ISR_CONFIG    0x2

#define VIRTIO_MAX_QUEUES 16
#define VIRTIO_MAX_CFG	  256

/*
 * Build the PCI configuration header of a virtio device (pure; used by the
 * vcpu-worker): vendor 0x1af4, device 0x1040 + virtio_device_id, revision
 * 1, a 32-bit memory BAR0 of *bar0_size bytes (the layout above), the
 * virtio vendor capabilities and an MSI-X capability with `nvectors`
 * (1..VIRTIO_PCI_MAX_VECTORS, clamped) entries in BAR0.
 * class_code is 24 bits: class << 16 | subclass << 8 | prog-if.
 */
void virtio_pci__config_space(uint8_t cfg[256], uint16_t virtio_device_id, uint16_t subsystem,
			      uint32_t class_code, unsigned nvectors, uint32_t *bar0_size);

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

#endif
