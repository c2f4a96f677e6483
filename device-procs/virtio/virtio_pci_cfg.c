/* SPDX-License-Identifier: MIT */
/*
 * The PCI configuration header of a virtio-pci modern device. Pure: the
 * vcpu-worker links it to answer config cycles for a device process.
 */
#include "virtio_pci_regs.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

/* struct virtio_pci_cap (16 bytes, or more for notify/pci_cfg). */
static void vendor_cap(uint8_t *cfg, unsigned at, unsigned next, unsigned len, uint8_t type,
		       uint32_t off, uint32_t length)
{
	uint8_t *c = cfg + at;
	c[0] = 0x09; /* PCI_CAP_ID_VNDR */
	c[1] = next;
	c[2] = len;
	c[3] = type;
	c[4] = 0; /* bar */
	c[5] = 0; /* id */
	put32(c + 8, off);
	put32(c + 12, length);
}

void virtio_pci__config_space(uint8_t cfg[256], uint16_t virtio_device_id, uint16_t subsystem,
			      uint32_t class_code, unsigned nvectors, uint32_t *bar0_size)
{
	memset(cfg, 0, 256);
	if (nvectors < 1)
		nvectors = 1;
	if (nvectors > VIRTIO_PCI_MAX_VECTORS)
		nvectors = VIRTIO_PCI_MAX_VECTORS;

	put16(cfg + 0x00, 0x1af4);		      /* vendor: Red Hat (virtio) */
	put16(cfg + 0x02, 0x1040 + virtio_device_id); /* modern device id */
	put16(cfg + 0x06, 0x0010);		      /* status: capability list */
	cfg[0x08] = 1;				      /* revision: modern only */
	cfg[0x09] = class_code;
	cfg[0x0a] = class_code >> 8;
	cfg[0x0b] = class_code >> 16;
	cfg[0x0e] = 0x00;	       /* header type 0 */
	put32(cfg + 0x10, 0x00000000); /* BAR0: 32-bit memory, non-prefetchable */
	put16(cfg + 0x2c, 0x1af4);     /* subsystem vendor */
	put16(cfg + 0x2e, subsystem);
	cfg[0x34] = VIRTIO_PCI_CAP_COMMON_AT; /* capabilities pointer */
	cfg[0x3d] = 1;			      /* INTA#, unused with MSI-X */

	vendor_cap(cfg, VIRTIO_PCI_CAP_COMMON_AT, VIRTIO_PCI_CAP_NOTIFY_AT, 16,
		   VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN);
	vendor_cap(cfg, VIRTIO_PCI_CAP_NOTIFY_AT, VIRTIO_PCI_CAP_ISR_AT, 20,
		   VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_LEN);
	put32(cfg + VIRTIO_PCI_CAP_NOTIFY_AT + 16, VIRTIO_PCI_NOTIFY_MULT);
	vendor_cap(cfg, VIRTIO_PCI_CAP_ISR_AT, VIRTIO_PCI_CAP_DEVICE_AT, 16, VIRTIO_PCI_CAP_ISR_CFG,
		   VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN);
	vendor_cap(cfg, VIRTIO_PCI_CAP_DEVICE_AT, VIRTIO_PCI_CAP_PCICFG_AT, 16,
		   VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF, VIRTIO_PCI_DEVICE_LEN);
	/* pci_cfg window: bar/offset/length are driver-written, start zero. */
	vendor_cap(cfg, VIRTIO_PCI_CAP_PCICFG_AT, VIRTIO_PCI_CAP_MSIX_AT, 20,
		   VIRTIO_PCI_CAP_PCI_CFG, 0, 0);

	uint8_t *m = cfg + VIRTIO_PCI_CAP_MSIX_AT;
	m[0] = 0x11;				     /* PCI_CAP_ID_MSIX */
	m[1] = 0;				     /* end of list */
	put16(m + 2, nvectors - 1);		     /* table size - 1; enable and mask clear */
	put32(m + 4, VIRTIO_PCI_MSIX_TABLE_OFF | 0); /* BIR 0 */
	put32(m + 8, VIRTIO_PCI_MSIX_PBA_OFF | 0);

	if (bar0_size)
		*bar0_size = VIRTIO_PCI_BAR0_SIZE;
}
