/* SPDX-License-Identifier: MIT */
/* virtio-pci modern transport and split virtqueues. */
#include "rt.h"
#include "pci.h"
#include "virtio.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR	   3
#define CAP_DEVICE 4

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT 0x00
#define C_DF	   0x04
#define C_GFSELECT 0x08
#define C_GF	   0x0c
#define C_NUMQ	   0x12
#define C_STATUS   0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE   0x18
#define C_Q_MSIX   0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF   0x1e
#define C_Q_DESC   0x20
#define C_Q_AVAIL  0x28
#define C_Q_USED   0x30

#define S_ACK	      1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_FAILED      128

static void w64(uint64_t a, uint64_t v)
{
	mmio_write32(a, (uint32_t)v);
	mmio_write32(a + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_status(struct virtio_pci *d)
{
	return mmio_read8(d->common + C_STATUS);
}

static int find_caps(struct virtio_pci *d)
{
	uint8_t p;
	int guard = 48, have = 0;

	if (!(pci_read16(d->bdf, 0x06) & 0x10))
		return -1; /* no capability list */
	for (p = pci_read8(d->bdf, 0x34) & 0xfc; p && guard--;
	     p = pci_read8(d->bdf, p + 1) & 0xfc) {
		uint8_t type, bar;
		uint32_t off, len;
		uint64_t base, size;

		if (p < 0x40)
			return -1;
		if (pci_read8(d->bdf, p) != 0x09)
			continue; /* not vendor-specific */
		type = pci_read8(d->bdf, p + 3);
		bar = pci_read8(d->bdf, p + 4);
		off = pci_read32(d->bdf, p + 8);
		len = pci_read32(d->bdf, p + 12);
		if (type < CAP_COMMON || type > CAP_DEVICE || bar > 5 || (have & (1 << type)))
			continue;
		base = pci_bar(d->bdf, bar, &size);
		if (!base || off > size || len > size - off)
			continue;
		switch (type) {
		case CAP_COMMON:
			if (len < 0x38)
				continue;
			d->common = base + off;
			break;
		case CAP_NOTIFY:
			d->notify_base = base + off;
			d->notify_len = len;
			d->notify_mult = pci_read32(d->bdf, p + 16);
			break;
		case CAP_ISR:
			d->isr = base + off;
			break;
		case CAP_DEVICE:
			d->device = base + off;
			d->device_len = len;
			break;
		}
		have |= 1 << type;
	}
	return (have & 0x1e) == 0x1e ? 0 : -1;
}

int virtio_pci_init(struct virtio_pci *d, uint32_t bdf, uint64_t wanted, uint64_t *features)
{
	uint64_t offered, accept;

	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	pci_enable(bdf);
	if (find_caps(d)) {
		rt_printf("virtio: %02x:%02x.%x: missing modern capabilities\n", bdf >> 8,
			  (bdf >> 3) & 31, bdf & 7);
		return -1;
	}
	mmio_write8(d->common + C_STATUS, 0);
	while (virtio_status(d) != 0)
		cpu_relax();
	mmio_write8(d->common + C_STATUS, S_ACK);
	mmio_write8(d->common + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(d->common + C_DFSELECT, 0);
	offered = mmio_read32(d->common + C_DF);
	mmio_write32(d->common + C_DFSELECT, 1);
	offered |= (uint64_t)mmio_read32(d->common + C_DF) << 32;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
		rt_printf("virtio: device does not offer VERSION_1\n");
		mmio_write8(d->common + C_STATUS, S_FAILED);
		return -1;
	}
	accept = offered & (wanted | (1ULL << VIRTIO_F_VERSION_1));
	mmio_write32(d->common + C_GFSELECT, 0);
	mmio_write32(d->common + C_GF, (uint32_t)accept);
	mmio_write32(d->common + C_GFSELECT, 1);
	mmio_write32(d->common + C_GF, (uint32_t)(accept >> 32));
	mmio_write8(d->common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(virtio_status(d) & S_FEATURES_OK)) {
		rt_printf("virtio: device refused features 0x%lx\n", accept);
		mmio_write8(d->common + C_STATUS, S_FAILED);
		return -1;
	}
	*features = accept;
	return 0;
}

int virtio_queue_init(struct virtio_pci *d, unsigned int qi, struct virtq *q, uint16_t want)
{
	uint16_t max, size = VQ_MAX_SIZE, noff;

	if (qi >= mmio_read16(d->common + C_NUMQ))
		return -1;
	mmio_write16(d->common + C_Q_SELECT, (uint16_t)qi);
	max = mmio_read16(d->common + C_Q_SIZE);
	if (want < size)
		size = want;
	while (size > max)
		size >>= 1;
	if (size < 2 || (size & (size - 1)))
		return -1;
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->index = (uint16_t)qi;
	noff = mmio_read16(d->common + C_Q_NOFF);
	if ((uint64_t)noff * d->notify_mult + 2 > d->notify_len)
		return -1; /* notify register outside the notify capability */
	q->notify = d->notify_base + (uint64_t)noff * d->notify_mult;
	mmio_write16(d->common + C_Q_SIZE, size);
	mmio_write16(d->common + C_Q_MSIX, 0xffff); /* no interrupts: polled */
	w64(d->common + C_Q_DESC, (uint64_t)q->desc);
	w64(d->common + C_Q_AVAIL, (uint64_t)&q->avail);
	w64(d->common + C_Q_USED, (uint64_t)&q->used);
	mmio_write16(d->common + C_Q_ENABLE, 1);
	q->avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT */
	return 0;
}

void virtio_driver_ok(struct virtio_pci *d)
{
	mmio_write8(d->common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

void virtq_push(struct virtq *q, uint16_t head)
{
	uint16_t i = q->avail.idx;

	q->avail.ring[i & (q->size - 1)] = head;
	__atomic_store_n(&q->avail.idx, (uint16_t)(i + 1), __ATOMIC_RELEASE);
}

void virtq_kick(struct virtq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	mmio_write16(q->notify, q->index);
}

int virtq_pop(struct virtq *q, uint32_t *id, uint32_t *len)
{
	uint16_t idx = __atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE);
	const volatile struct vring_used_elem *e;

	if (idx == q->last_used)
		return 0;
	e = &q->used.ring[q->last_used & (q->size - 1)];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return *id < q->size ? 1 : -1;
}
