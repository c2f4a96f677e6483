/* SPDX-License-Identifier: MIT */
#include "vdrv.h"

#include <stdlib.h>
#include <string.h>

unsigned vdrv_irqs[DEV_MAX_EVENTFDS];

void dev__irq(struct dev_env *env, unsigned i)
{
	(void)env;
	if (i < DEV_MAX_EVENTFDS)
		__atomic_fetch_add(&vdrv_irqs[i], 1, __ATOMIC_SEQ_CST);
}

void vdrv__init_ram(struct vdrv *d)
{
	memset(d, 0, sizeof(*d));
	d->mem = calloc(1, VDRV_RAM_SIZE);
	if (!d->mem)
		abort();
	gmem__init(&d->env.ram, d->mem, VDRV_RAM_SIZE);
	for (unsigned i = 0; i < DEV_MAX_EVENTFDS; i++)
		d->env.irqfd[i] = d->env.kickfd[i] = -1;
	d->env.nirqfd = VIRTIO_MAX_QUEUES + 1;
	d->env.nkickfd = VIRTIO_MAX_QUEUES;
	memset(vdrv_irqs, 0, sizeof(vdrv_irqs));
}

void vdrv__free_ram(struct vdrv *d)
{
	free(d->mem);
	d->mem = NULL;
}

void *vdrv__ptr(struct vdrv *d, uint64_t gpa)
{
	return d->mem + gpa;
}

uint64_t vdrv__rd(struct vdrv *d, uint64_t off, unsigned size)
{
	return virtio_pci__read(d->vp, off, size);
}

void vdrv__wr(struct vdrv *d, uint64_t off, unsigned size, uint64_t val)
{
	virtio_pci__write(d->vp, off, size, val);
}

uint8_t vdrv__start(struct vdrv *d, struct virtio_pci *vp, uint64_t features, unsigned nq,
		    uint16_t qsize)
{
	d->vp = vp;
	d->qsize = qsize;
	vdrv__wr(d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	vdrv__wr(d, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv__wr(d, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vdrv__wr(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	vdrv__wr(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	vdrv__wr(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	vdrv__wr(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(features >> 32));
	vdrv__wr(d, VIRTIO_PCI_COMMON_STATUS, 1,
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(vdrv__rd(d, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK))
		return vdrv__rd(d, VIRTIO_PCI_COMMON_STATUS, 1);
	vdrv__wr(d, VIRTIO_PCI_COMMON_MSIX, 2, VIRTIO_MAX_QUEUES);
	for (unsigned q = 0; q < nq; q++) {
		memset(d->mem + VDRV_DESC(q), 0, VDRV_Q_STRIDE);
		d->avail_idx[q] = d->next_desc[q] = d->used_seen[q] = 0;
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_SIZE, 2, qsize);
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_MSIX, 2, q);
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_DESC, 8, VDRV_DESC(q));
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_DRIVER, 4, (uint32_t)VDRV_AVAIL(q));
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_DRIVER + 4, 4, VDRV_AVAIL(q) >> 32);
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_DEVICE, 8, VDRV_USED(q));
		vdrv__wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	vdrv__wr(d, VIRTIO_PCI_COMMON_STATUS, 1,
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		     VIRTIO_STATUS_DRIVER_OK);
	return vdrv__rd(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

void vdrv__desc(struct vdrv *d, unsigned q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next)
{
	struct virtq_desc desc = {addr, len, flags, next};
	memcpy(d->mem + VDRV_DESC(q) + 16u * i, &desc, 16);
}

void vdrv__publish(struct vdrv *d, unsigned q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(d->mem + VDRV_AVAIL(q));
	avail[2 + (d->avail_idx[q] % d->qsize)] = head;
	d->avail_idx[q]++;
	__atomic_store_n(&avail[1], d->avail_idx[q], __ATOMIC_RELEASE);
}

uint16_t vdrv__add(struct vdrv *d, unsigned q, const struct vbuf *bufs, unsigned n, bool indirect)
{
	uint16_t head = d->next_desc[q] % d->qsize;
	if (indirect) {
		/* The table goes at the end of the scratch area (tests' headers use the start). */
		uint64_t table = VDRV_SCRATCH(q) + 0x4000 - 16u * n;
		for (unsigned i = 0; i < n; i++) {
			struct virtq_desc desc = {
			    bufs[i].gpa, bufs[i].len,
			    (uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			    (uint16_t)(i + 1)};
			memcpy(d->mem + table + 16u * i, &desc, 16);
		}
		vdrv__desc(d, q, head, table, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
		d->next_desc[q]++;
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t idx = (head + i) % d->qsize;
			vdrv__desc(d, q, idx, bufs[i].gpa, bufs[i].len,
				   (bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
				   (idx + 1) % d->qsize);
		}
		d->next_desc[q] += n;
	}
	vdrv__publish(d, q, head);
	return head;
}

bool vdrv__used(struct vdrv *d, unsigned q, uint32_t *id, uint32_t *len)
{
	uint16_t *used = (uint16_t *)(d->mem + VDRV_USED(q));
	if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) == d->used_seen[q])
		return false;
	struct virtq_used_elem e;
	memcpy(&e, d->mem + VDRV_USED(q) + 4 + 8u * (d->used_seen[q] % d->qsize), 8);
	d->used_seen[q]++;
	*id = e.id;
	*len = e.len;
	return true;
}
