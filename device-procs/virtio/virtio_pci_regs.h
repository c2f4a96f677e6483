/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, modern (virtio 1.2 section 4.1): the register layout the
 * vcpu-worker and the virtio device processes share, and nothing else.
 *
 * The worker owns PCI config space, BAR placement and the MSI-X table/PBA;
 * it registers one ioeventfd per queue q at BAR0 + VIRTIO_PCI_NOTIFY_OFF +
 * q * VIRTIO_PCI_NOTIFY_MULT (2-byte writes, any value) and one irqfd per
 * MSI-X vector. Every other BAR0 access reaches the device process.
 */
#ifndef CELLVM_VIRTIO_PCI_REGS_H
#define CELLVM_VIRTIO_PCI_REGS_H

#include <stdint.h>

/* virtio device types (virtio 1.2 section 5): PCI device id 0x1040 + type */
#define VIRTIO_ID_NET	1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG	4

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

#endif
