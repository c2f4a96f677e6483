/* SPDX-License-Identifier: MIT */
#include "pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi.h"
#include "device-procs/vga/display.h"
#include "record.h"
#include "device-procs/virtio/virtio_pci_regs.h"
#include "iobus.h"
#include "log.h"
#include "msix.h"
#include "remote.h"

#define PCI_COMMAND   0x04
#define PCI_CMD_MEM   0x2
#define PCI_BAR0      0x10
#define PCI_MSIX_CTRL (VIRTIO_PCI_CAP_MSIX_AT + 2)

enum bar_kind { BAR_NONE, BAR_FORWARD, BAR_MEMSLOT };

/* A 32-bit memory BAR: forwarded to the device, or guest-visible memory. */
struct pci_bar {
	enum bar_kind kind;
	uint32_t addr, size; /* size: power of two */
	unsigned region;     /* BAR_FORWARD: the device's region index */
	void *host;	     /* BAR_MEMSLOT: what the guest sees there */
	unsigned slot;	     /* BAR_MEMSLOT: KVM memory slot */
	bool mapped;
};

struct pci_fn {
	uint8_t cfg[256];
	struct pci_bar bar[6];
	struct remote *remote;
	struct msix msix; /* virtio: table and PBA in BAR0 */
	bool virtio;
	const struct vm_dev *plan;
	unsigned index;
	bool kicks_on; /* ioeventfds registered at BAR0 */
};

static struct vm *the_vm;
static unsigned next_slot = 2; /* 0, 1: guest RAM */
static struct pci_fn *slots[VM_PCI_SLOTS];
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

/* A BAR is live when memory decoding is on and it lies in the PCI window. */
static bool decoding(const struct pci_fn *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	return b->kind != BAR_NONE && (f->cfg[PCI_COMMAND] & PCI_CMD_MEM) && b->addr &&
	       b->addr >= CV_PCI_MMIO_BASE &&
	       (uint64_t)b->addr + b->size <= CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE;
}

/* Memory-slot BARs (a framebuffer): the guest's accesses never exit. */
static void memslot(struct pci_fn *f, unsigned i, bool on)
{
	struct pci_bar *b = &f->bar[i];
	if (b->kind != BAR_MEMSLOT || b->mapped == on)
		return;
	int r = kvm__set_slot(the_vm, b->slot, on ? b->addr : 0, on ? b->size : 0, b->host);
	if (r < 0)
		log__err("pci %u: BAR%u memory slot: %s", f->index, i, strerror(errno));
	else
		b->mapped = on;
}

/* Stop, then (if decoding) restart everything tied to BAR addresses. */
static void unmap_all(struct pci_fn *f);
static void map_all(struct pci_fn *f);

/* Queue notifications: one ioeventfd per queue, at the current BAR0. */
static void kicks(struct pci_fn *f, bool on)
{
	if (!f->plan || f->kicks_on == on)
		return;
	for (unsigned q = 0; q < f->plan->pci.nkicks; q++) {
		uint64_t a =
		    (uint64_t)f->bar[0].addr + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;
		int r = on ? kvm__ioeventfd(the_vm, f->plan->pci.fd_kick[q], a, 2, 0)
			   : kvm__ioeventfd_del(the_vm, f->plan->pci.fd_kick[q], a, 2, 0);
		if (r < 0)
			log__err("pci %u: ioeventfd queue %u: %s", f->index, q, strerror(-r));
	}
	f->kicks_on = on;
}

static void unmap_all(struct pci_fn *f)
{
	kicks(f, false);
	for (unsigned i = 0; i < 6; i++)
		memslot(f, i, false);
}

static void map_all(struct pci_fn *f)
{
	/* --record: notifications exit, to be recorded on their way to the device */
	if (f->virtio && decoding(f, 0) && !record__on())
		kicks(f, true);
	for (unsigned i = 0; i < 6; i++)
		if (decoding(f, i))
			memslot(f, i, true);
}

static void cfg_write(struct pci_fn *f, unsigned off, unsigned size, uint32_t val)
{
	if (f == &host_bridge)
		return;
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		unsigned i = (off - PCI_BAR0) / 4;
		struct pci_bar *b = &f->bar[i];
		if ((off & 3) || size != 4 || b->kind == BAR_NONE)
			return; /* unimplemented BARs read as 0 and ignore writes */
		unmap_all(f);
		/* Sizing writes all ones; the low 4 bits are read-only type bits. */
		uint32_t type = cfg_get(f, off, 4) & 0xfu;
		b->addr = (val & ~(b->size - 1)) & ~0xfu;
		uint32_t reg = b->addr | type;
		memcpy(f->cfg + off, &reg, 4);
		map_all(f);
		return;
	}
	if (off == PCI_COMMAND && size >= 2) {
		uint16_t cmd = (uint16_t)val & 0x0406; /* MEM, BUS MASTER, INTx disable */
		unmap_all(f);
		memcpy(f->cfg + PCI_COMMAND, &cmd, 2);
		map_all(f);
		return;
	}
	if (f->virtio && off == PCI_MSIX_CTRL && size >= 2) {
		uint16_t ctl = cfg_get(f, PCI_MSIX_CTRL, 2);
		ctl = (uint16_t)((ctl & 0x07ff) | (val & 0xc000));
		memcpy(f->cfg + PCI_MSIX_CTRL, &ctl, 2);
		msix__control(&f->msix, ctl & 0x8000, ctl & 0x4000);
		return;
	}
	/* Writable virtio PCI_CFG window fields (bar, offset, length). */
	if (f->virtio && off >= VIRTIO_PCI_CAP_PCICFG_AT + 4 &&
	    off + size <= VIRTIO_PCI_CAP_PCICFG_AT + 16) {
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
	unsigned bi = 0, region = 0;
	uint64_t off = 0;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < VM_PCI_SLOTS && !f; i++) {
		if (!slots[i] || slots[i] == &host_bridge)
			continue;
		for (unsigned k = 0; k < 6 && !f; k++) {
			const struct pci_bar *b = &slots[i]->bar[k];
			if (b->kind == BAR_FORWARD && decoding(slots[i], k) && addr >= b->addr &&
			    addr + size <= (uint64_t)b->addr + b->size) {
				f = slots[i];
				bi = k;
				/* Under the lock: another vCPU may move the BAR right after. */
				off = addr - b->addr;
				region = b->region;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	if (!f) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	uint64_t tab = VIRTIO_PCI_MSIX_TABLE_OFF, pba = VIRTIO_PCI_MSIX_PBA_OFF;
	if (f->virtio && bi == 0 && off >= tab && off < tab + 16ull * f->msix.nvec) {
		if (write)
			msix__table_write(&f->msix, off - tab, size, *val);
		else
			*val = msix__table_read(&f->msix, off - tab, size);
		return 0;
	}
	if (f->virtio && bi == 0 && off >= pba && off < pba + 0x1000) {
		if (!write)
			*val = 0; /* pending interrupts wait in their irqfd counters */
		return 0;
	}
	return remote__access(f->remote, false, region, off, size, write, val);
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
		r = iobus__register(IOBUS_MMIO, CV_PCI_MMIO_BASE, CV_PCI_MMIO_SIZE, &win_ops, NULL,
				    0, "pci-window");
	return r;
}

/* Place the BARs as firmware would, naturally aligned, and enable decoding. */
static int place(struct pci_fn *f, unsigned slot)
{
	for (unsigned i = 0; i < 6; i++) {
		struct pci_bar *b = &f->bar[i];
		if (b->kind == BAR_NONE)
			continue;
		next_bar = (next_bar + b->size - 1) & ~(b->size - 1);
		if ((uint64_t)next_bar + b->size > CV_PCI_MMIO_BASE + CV_PCI_MMIO_SIZE)
			return -ENOSPC;
		b->addr = next_bar;
		next_bar += b->size;
		uint32_t reg = b->addr | (cfg_get(f, PCI_BAR0 + 4 * i, 4) & 0xfu);
		memcpy(f->cfg + PCI_BAR0 + 4 * i, &reg, 4);
	}
	f->cfg[PCI_COMMAND] = PCI_CMD_MEM | 0x4;
	slots[slot] = f;
	map_all(f);
	return 0;
}

int pci__add_virtio(struct vm *vm, const struct vm_dev *d, struct remote *r, unsigned index,
		    char *err, size_t n)
{
	const struct vm_pci *p = &d->pci;
	if (p->slot == 0 || p->slot >= VM_PCI_SLOTS || slots[p->slot] ||
	    p->nvectors > MSIX_MAX_VECTORS || p->nvectors != d->nirqfd ||
	    p->nkicks > VM_DEV_MAX_EVENTFDS) {
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
	f->virtio = true;
	uint32_t size;
	virtio_pci__config_space(f->cfg, p->virtio_id, p->subsystem, p->class_code, p->nvectors,
				 &size);
	if (size < 0x1000 || (size & (size - 1))) {
		snprintf(err, n, "device %u: bad BAR0 size", index);
		return -EINVAL;
	}
	if (msix__init(&f->msix, vm, p->nvectors, d->fd_irq) < 0) {
		snprintf(err, n, "device %u: MSI-X", index);
		return -EINVAL;
	}
	f->bar[0] = (struct pci_bar){.kind = BAR_FORWARD, .size = size, .region = 0};
	return place(f, p->slot);
}

/* bochs-display (QEMU's 1234:1111): BAR0 video memory, BAR2 DISPI registers. */
int pci__add_vga(struct vm *vm, const struct vm_dev *d, struct remote *r, unsigned index, char *err,
		 size_t n)
{
	const struct vm_pci *p = &d->pci;
	(void)vm;
	if (p->slot == 0 || p->slot >= VM_PCI_SLOTS || slots[p->slot] || !p->mem_size ||
	    (p->mem_size & (p->mem_size - 1)) || p->mem_size < (1u << 20)) {
		snprintf(err, n, "device %u: bad display plan", index);
		return -EINVAL;
	}
	/* Map the video memory now (before lockdown); KVM maps it at BAR0. */
	uint8_t *m = mmap(NULL, DISPLAY_STATE_SIZE + (size_t)p->mem_size, PROT_READ | PROT_WRITE,
			  MAP_SHARED, p->fd_mem, 0);
	if (m == MAP_FAILED) {
		snprintf(err, n, "device %u: map video memory: %s", index, strerror(errno));
		return -errno;
	}
	struct pci_fn *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, n, "device %u: out of memory", index);
		return -ENOMEM;
	}
	f->remote = r;
	f->plan = d;
	f->index = index;
	static const uint8_t hdr[] = {
	    0x34, 0x12, 0x11, 0x11, /* vendor 1234, device 1111 */
	    0,	  0,	0x10, 0,    /* command, status: capability list off */
	    0x02, 0x00, 0x80, 0x03, /* revision 2, class 03 80 00: display, other */
	};
	memcpy(f->cfg, hdr, sizeof(hdr));
	uint32_t bar0 = 0x8; /* 32-bit, prefetchable memory */
	memcpy(f->cfg + PCI_BAR0, &bar0, 4);
	uint16_t sub[2] = {0x1af4, 0x1100}; /* as QEMU's bochs-display */
	memcpy(f->cfg + 0x2c, sub, 4);
	f->cfg[0x06] = 0;
	f->bar[0] = (struct pci_bar){.kind = BAR_MEMSLOT,
				     .size = p->mem_size,
				     .host = m + DISPLAY_STATE_SIZE,
				     .slot = next_slot++};
	f->bar[2] = (struct pci_bar){.kind = BAR_FORWARD, .size = 0x1000, .region = 1};
	return place(f, p->slot);
}
