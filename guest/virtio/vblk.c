/* SPDX-License-Identifier: MIT */
/* virtio-blk over virtio-pci modern, polled. */
#include "rt.h"
#include "pci.h"
#include "vblk.h"

#define VIRTIO_BLK_F_FLUSH 9
#define HDR_LEN		   16

int vblk_init(struct vblk *b, int from)
{
	static const uint16_t ids[] = {0x1042, 0x1001}; /* modern, transitional */
	int idx = pci_find(0x1af4, ids, 2, from);

	memset(b, 0, sizeof(*b));
	if (idx < 0) {
		rt_printf("vblk: no virtio-blk PCI function\n");
		return -1;
	}
	if (virtio_pci_init(&b->pci, (uint32_t)idx, 1ULL << VIRTIO_BLK_F_FLUSH, &b->features))
		return -1;
	if (b->pci.device_len < 8) {
		rt_printf("vblk: device config too small\n");
		return -1;
	}
	b->capacity = mmio_read32(b->pci.device) | (uint64_t)mmio_read32(b->pci.device + 4) << 32;
	if (virtio_queue_init(&b->pci, 0, &b->q, VQ_MAX_SIZE) ||
	    b->q.size < 3 * VBLK_MAX_INFLIGHT) {
		rt_printf("vblk: queue 0 unusable\n");
		return -1;
	}
	virtio_driver_ok(&b->pci);
	return 0;
}

int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct vblk_req *r;
	struct vring_desc *d;
	int slot;
	uint16_t h;

	if (b->broken || (len & 511) || (type != VBLK_T_FLUSH && !len))
		return -1;
	if (type != VBLK_T_FLUSH && (sector > b->capacity || len / 512 > b->capacity - sector))
		return -1;
	for (slot = 0; slot < VBLK_MAX_INFLIGHT && b->req[slot].busy; slot++)
		;
	if (slot == VBLK_MAX_INFLIGHT)
		return -1;
	r = &b->req[slot];
	r->type = type;
	r->reserved = 0;
	r->sector = type == VBLK_T_FLUSH ? 0 : sector;
	r->status = VBLK_S_PENDING;
	r->busy = 1;
	r->len = len;
	h = (uint16_t)(3 * slot);
	d = &b->q.desc[h];
	d[0] = (struct vring_desc){(uint64_t)r, HDR_LEN, VRING_DESC_F_NEXT, (uint16_t)(h + 1)};
	if (type == VBLK_T_FLUSH || !len) {
		d[0].next = (uint16_t)(h + 2);
	} else {
		d[1] = (struct vring_desc){
		    (uint64_t)buf, len,
		    (uint16_t)(VRING_DESC_F_NEXT | (type == VBLK_T_IN ? VRING_DESC_F_WRITE : 0)),
		    (uint16_t)(h + 2)};
	}
	d[2] = (struct vring_desc){(uint64_t)&r->status, 1, VRING_DESC_F_WRITE, 0};
	virtq_push(&b->q, h);
	b->inflight++;
	return slot;
}

void vblk_kick(struct vblk *b)
{
	virtq_kick(&b->q);
}

int vblk_poll(struct vblk *b)
{
	uint32_t id, len;
	int n = 0, r;

	if (b->broken)
		return -1;
	while ((r = virtq_pop(&b->q, &id, &len)) != 0) {
		if (r < 0 || id % 3 || id / 3 >= VBLK_MAX_INFLIGHT || !b->req[id / 3].busy ||
		    b->req[id / 3].busy == 2) {
			rt_printf("vblk: device returned bad id %u\n", id);
			b->broken = 1;
			return -1;
		}
		b->req[id / 3].busy = 2; /* completed, not yet taken */
		b->inflight--;
		n++;
	}
	return n;
}

uint8_t vblk_take(struct vblk *b, int slot)
{
	struct vblk_req *r;

	if (slot < 0 || slot >= VBLK_MAX_INFLIGHT)
		return VBLK_S_PENDING;
	r = &b->req[slot];
	if (r->busy != 2)
		return VBLK_S_PENDING;
	r->busy = 0;
	return r->status;
}

int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	int slot = vblk_submit(b, type, sector, buf, len);
	uint8_t st;

	if (slot < 0)
		return -1;
	vblk_kick(b);
	while ((st = vblk_take(b, slot)) == VBLK_S_PENDING)
		if (vblk_poll(b) < 0)
			return -1;
	return st;
}
