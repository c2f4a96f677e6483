/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism #1 (0xcf8/0xcfc) on bus 0, from CPL3. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_BDF(bus, dev, fn) (((bus) << 8) | ((dev) << 3) | (fn))

uint32_t pci_read32(uint32_t bdf, uint32_t off);
uint16_t pci_read16(uint32_t bdf, uint32_t off);
uint8_t pci_read8(uint32_t bdf, uint32_t off);
void pci_write32(uint32_t bdf, uint32_t off, uint32_t v);
void pci_write16(uint32_t bdf, uint32_t off, uint16_t v);

/* First function on bus 0 with this vendor and one of the device ids, from index `from`; -1 if
 * none. */
int pci_find(uint16_t vendor, const uint16_t *devices, unsigned int ndevices, int from);
/*
 * Address of memory BAR idx (64-bit BARs take two slots). If firmware left
 * it unassigned, places it in the 32-bit window [CV_PCI_MMIO_BASE, +SIZE)
 * above what earlier calls handed out. 0 for I/O BARs, BARs above 4 GiB
 * (not identity-mapped by the runtime) or no space.
 */
uint64_t pci_bar(uint32_t bdf, unsigned int idx, uint64_t *size);
/* Enables memory decoding and bus mastering. */
void pci_enable(uint32_t bdf);

#endif
