/* SPDX-License-Identifier: MIT */
#include "pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "device-procs/virtio/virtio_pci.h"
#include "iobus.h"
#include "log.h"
#include "msix.h"
#include "remote.h"

#define PCI_SLOTS	32
#define PCI_COMMAND	0x04
#define PCI_CMD_MEM	0x2
#define PCI_BAR0	0x10
#define PCI_MSIX_CTRL	(VIRTIO_PCI_CAP_MSIX_AT + 2)

struct pci_fn {
	uint8_t cfg[256];
	uint32_t bar0, bar0_size; /* current address, size (power of two) */
	struct remote *remote;
	struct msix msix;
	const struct vm_dev *plan;
	unsigned index;
	bool kicks_on; /* ioeventfds registered at bar0 */
};

static struct vm *the_vm;
static struct pci_fn *slots[PCI_SLOTS];
static uint32_t cf8;
static uint32_t next_bar = (uint32_t)CV_PCI_MMIO_BASE;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The host bridge at 00:00.0: identification only. */
static struct pci_fn host_bridge;

static uint32_t cfg_get(const struct pci_fn *f, unsigned off, unsigned size)
{
	uint32_t v = 0;
	memcpy(&v, f->cfg + off, size);
	return v;
}

static bool decoding(const struct pci_fn *f)
{
	return (f->cfg[PCI_COMMAND] & PCI_CMD_MEM) && f->bar0 &&
	       f->bar0 >= CV_PCI_MMIO_BASE &&
	       (uint64_t)f->bar0 + f->bar0_size <= CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE;
}

/* Queue notifications: one ioeventfd per queue, at the current BAR0. */
static void kicks(struct pci_fn *f, bool on)
{
	if (!f->plan || f->kicks_on == on)
		return;
	for (unsigned q = 0; q < f->plan->pci.nkicks; q++) {
		uint64_t a = (uint64_t)f->bar0 + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;
		int r = on ? kvm__ioeventfd(the_vm, f->plan->pci.fd_kick[q], a, 2, 0)
			   : kvm__ioeventfd_del(the_vm, f->plan->pci.fd_kick[q], a, 2, 0);
		if (r < 0)
			log__err("pci %u: ioeventfd queue %u: %s", f->index, q, strerror(-r));
	}
	f->kicks_on = on;
}

static void cfg_write(struct pci_fn *f, unsigned off, unsigned size, uint32_t val)
{
	if (f == &host_bridge)
		return;
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 4) {
		if (off != PCI_BAR0 || size != 4)
			return;
		kicks(f, false);
		/* Sizing writes all ones; the low 4 bits are read-only (32-bit memory BAR). */
		f->bar0 = val & ~(f->bar0_size - 1) & ~0xfu;
		memcpy(f->cfg + PCI_BAR0, &f->bar0, 4);
		if (decoding(f))
			kicks(f, true);
		return;
	}
	if (off == PCI_COMMAND && size >= 2) {
		uint16_t cmd = (uint16_t)val & 0x0406; /* MEM, BUS MASTER, INTx disable */
		kicks(f, false);
		memcpy(f->cfg + PCI_COMMAND, &cmd, 2);
		if (decoding(f))
			kicks(f, true);
		return;
	}
	if (off == PCI_MSIX_CTRL && size >= 2) {
		uint16_t ctl = cfg_get(f, PCI_MSIX_CTRL, 2);
		ctl = (uint16_t)((ctl & 0x07ff) | (val & 0xc000));
		memcpy(f->cfg + PCI_MSIX_CTRL, &ctl, 2);
		msix__control(&f->msix, ctl & 0x8000, ctl & 0x4000);
		return;
	}
	/* Writable virtio PCI_CFG window fields (bar, offset, length). */
	if (off >= VIRTIO_PCI_CAP_PCICFG_AT + 4 && off + size <= VIRTIO_PCI_CAP_PCICFG_AT + 16) {
		memcpy(f->cfg + off, &val, size);
		return;
	}
	/* Everything else (IDs, capabilities, interrupt line) is read-only here. */
	if (off == 0x3c && size == 1)
		f->cfg[0x3c] = (uint8_t)val;
}

static struct pci_fn *selected(unsigned *off)
{
	if (!(cf8 & 0x80000000u))
		return NULL;
	unsigned bus = (cf8 >> 16) & 0xff, dev = (cf8 >> 11) & 0x1f, fn = (cf8 >> 8) & 7;
	*off = cf8 & 0xfc;
	if (bus || fn)
		return NULL;
	return slots[dev];
}

static int cfg_read_port(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	pthread_mutex_lock(&lock);
	if (region == 0) {
		*val = off == 0 && size == 4 ? cf8 : ~0ULL;
	} else {
		unsigned reg;
		struct pci_fn *f = selected(&reg);
		reg += (unsigned)off;
		*val = f && reg + size <= 256 ? cfg_get(f, reg, size) : (1ULL << (size * 8)) - 1;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static int cfg_write_port(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	pthread_mutex_lock(&lock);
	if (region == 0) {
		if (off == 0 && size == 4)
			cf8 = (uint32_t)val;
	} else {
		unsigned reg;
		struct pci_fn *f = selected(&reg);
		reg += (unsigned)off;
		if (f && reg + size <= 256)
			cfg_write(f, reg, size, (uint32_t)val);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static const struct iodev_ops cfg_ops = {cfg_read_port, cfg_write_port};

/* Any access in the 32-bit PCI window: find the BAR, then MSI-X or forward. */
static int bar_access(uint64_t addr, unsigned size, bool write, uint64_t *val)
{
	struct pci_fn *f = NULL;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < PCI_SLOTS && !f; i++)
		if (slots[i] && slots[i] != &host_bridge && decoding(slots[i]) &&
		    addr >= slots[i]->bar0 && addr + size <= (uint64_t)slots[i]->bar0 + slots[i]->bar0_size)
			f = slots[i];
	pthread_mutex_unlock(&lock);
	if (!f) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	uint64_t off = addr - f->bar0;
	uint64_t tab = VIRTIO_PCI_MSIX_TABLE_OFF, pba = VIRTIO_PCI_MSIX_PBA_OFF;
	if (off >= tab && off < tab + 16ull * f->msix.nvec) {
		if (write)
			msix__table_write(&f->msix, off - tab, size, *val);
		else
			*val = msix__table_read(&f->msix, off - tab, size);
		return 0;
	}
	if (off >= pba && off < pba + 0x1000) {
		if (!write)
			*val = 0; /* pending interrupts wait in their irqfd counters */
		return 0;
	}
	return remote__access(f->remote, false, 0, off, size, write, val);
}

static int win_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	return bar_access(CV_PCI_MMIO_BASE + off, size, false, val);
}

static int win_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	return bar_access(CV_PCI_MMIO_BASE + off, size, true, &val);
}

static const struct iodev_ops win_ops = {win_read, win_write};

int pci__init(struct vm *vm)
{
	the_vm = vm;
	uint16_t id[2] = {0x1b36, 0x0008}; /* Red Hat, generic PCIe host bridge */
	memcpy(host_bridge.cfg, id, 4);
	host_bridge.cfg[0x0b] = 0x06; /* class: bridge, host */
	slots[0] = &host_bridge;
	int r = iobus__register(IOBUS_PIO, CV_PORT_PCI_ADDR, 4, &cfg_ops, NULL, 0, "pci-addr");
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_PCI_DATA, 4, &cfg_ops, NULL, 1, "pci-data");
	if (!r)
		r = iobus__register(IOBUS_MMIO, CV_PCI_MMIO_BASE, CV_PCI_MMIO_SIZE, &win_ops, NULL, 0,
				    "pci-window");
	return r;
}

int pci__add_virtio(struct vm *vm, const struct vm_dev *d, struct remote *r, unsigned index,
		    char *err, size_t n)
{
	const struct vm_pci *p = &d->pci;
	if (p->slot == 0 || p->slot >= PCI_SLOTS || slots[p->slot] || p->nvectors > MSIX_MAX_VECTORS ||
	    p->nvectors != d->nirqfd || p->nkicks > VM_DEV_MAX_EVENTFDS) {
		snprintf(err, n, "device %u: bad PCI plan", index);
		return -EINVAL;
	}
	struct pci_fn *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, n, "device %u: out of memory", index);
		return -ENOMEM;
	}
	f->remote = r;
	f->plan = d;
	f->index = index;
	virtio_pci__config_space(f->cfg, p->virtio_id, p->subsystem, p->class_code, p->nvectors,
				 &f->bar0_size);
	if (f->bar0_size < 0x1000 || (f->bar0_size & (f->bar0_size - 1))) {
		snprintf(err, n, "device %u: bad BAR0 size", index);
		return -EINVAL;
	}
	if (msix__init(&f->msix, vm, p->nvectors, d->fd_irq) < 0) {
		snprintf(err, n, "device %u: MSI-X", index);
		return -EINVAL;
	}
	/* Place BAR0 as firmware would, naturally aligned, and enable decoding. */
	next_bar = (next_bar + f->bar0_size - 1) & ~(f->bar0_size - 1);
	f->bar0 = next_bar;
	next_bar += f->bar0_size;
	memcpy(f->cfg + PCI_BAR0, &f->bar0, 4);
	f->cfg[PCI_COMMAND] = PCI_CMD_MEM | 0x4;
	slots[p->slot] = f;
	kicks(f, true);
	return 0;
}
