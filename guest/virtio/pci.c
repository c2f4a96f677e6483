/* SPDX-License-Identifier: MIT */
/* PCI configuration access on bus 0 and BAR placement. */
#include "rt.h"
#include "abi.h"
#include "pci.h"

static uint64_t next_mmio = CV_PCI_MMIO_BASE;

static void pci_addr(uint32_t bdf, uint32_t off)
{
	outl(CV_PORT_PCI_ADDR, 0x80000000u | (bdf << 8) | (off & 0xfc));
}

uint32_t pci_read32(uint32_t bdf, uint32_t off)
{
	pci_addr(bdf, off);
	return inl(CV_PORT_PCI_DATA);
}

uint16_t pci_read16(uint32_t bdf, uint32_t off)
{
	pci_addr(bdf, off);
	return inw((uint16_t)(CV_PORT_PCI_DATA + (off & 2)));
}

uint8_t pci_read8(uint32_t bdf, uint32_t off)
{
	pci_addr(bdf, off);
	return inb((uint16_t)(CV_PORT_PCI_DATA + (off & 3)));
}

void pci_write32(uint32_t bdf, uint32_t off, uint32_t v)
{
	pci_addr(bdf, off);
	outl(CV_PORT_PCI_DATA, v);
}

void pci_write16(uint32_t bdf, uint32_t off, uint16_t v)
{
	pci_addr(bdf, off);
	outw((uint16_t)(CV_PORT_PCI_DATA + (off & 2)), v);
}

int pci_find(uint16_t vendor, const uint16_t *devices, unsigned int ndevices, int from)
{
	int i;

	for (i = from < 0 ? 0 : from; i < 32 * 8; i++) {
		uint32_t bdf = (uint32_t)i, id;
		unsigned int k;

		if ((i & 7) && !(pci_read8(bdf & ~7u, 0x0e) & 0x80))
			continue; /* not multi-function */
		id = pci_read32(bdf, 0);
		if ((id & 0xffff) != vendor)
			continue;
		for (k = 0; k < ndevices; k++)
			if ((id >> 16) == devices[k])
				return i;
	}
	return -1;
}

uint64_t pci_bar(uint32_t bdf, unsigned int idx, uint64_t *size)
{
	uint32_t off = 0x10 + 4 * idx, lo, hi = 0, mlo, mhi = 0xffffffff;
	uint16_t cmd;
	uint64_t addr, mask, sz;
	int is64;

	*size = 0;
	if (idx > 5)
		return 0;
	lo = pci_read32(bdf, off);
	if (lo & 1)
		return 0; /* I/O BAR */
	is64 = ((lo >> 1) & 3) == 2;
	if (is64 && idx == 5)
		return 0;
	if (is64)
		hi = pci_read32(bdf, off + 4);
	/* size probe with decoding off */
	cmd = pci_read16(bdf, 0x04);
	pci_write16(bdf, 0x04, (uint16_t)(cmd & ~3u));
	pci_write32(bdf, off, 0xffffffff);
	mlo = pci_read32(bdf, off) & ~0xfu;
	pci_write32(bdf, off, lo);
	if (is64) {
		pci_write32(bdf, off + 4, 0xffffffff);
		mhi = pci_read32(bdf, off + 4);
		pci_write32(bdf, off + 4, hi);
	}
	pci_write16(bdf, 0x04, cmd);
	mask = ((uint64_t)mhi << 32) | mlo;
	if (!mlo && !(is64 && mhi))
		return 0; /* not implemented */
	sz = ~mask + 1;
	if (sz & (sz - 1))
		return 0;
	addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
	if (addr == 0) {
		uint64_t a = (next_mmio + sz - 1) & ~(sz - 1);

		if (sz > CV_PCI_MMIO_SIZE || a + sz > CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE)
			return 0;
		next_mmio = a + sz;
		addr = a;
		pci_write16(bdf, 0x04, (uint16_t)(cmd & ~3u));
		pci_write32(bdf, off, (uint32_t)addr | (lo & 0xf));
		if (is64)
			pci_write32(bdf, off + 4, (uint32_t)(addr >> 32));
		pci_write16(bdf, 0x04, cmd);
	}
	if (addr + sz > 0x100000000ULL || addr + sz < addr)
		return 0;
	*size = sz;
	return addr;
}

void pci_enable(uint32_t bdf)
{
	pci_write16(bdf, 0x04, (uint16_t)(pci_read16(bdf, 0x04) | 0x6)); /* MEM | MASTER */
}
