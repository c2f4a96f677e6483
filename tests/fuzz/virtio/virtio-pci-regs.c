/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci-regs: arbitrary BAR0 accesses and kicks against a virtio-blk
 * device (2 queues, inline I/O). Input: 4 KiB copied to guest RAM at GPA 0,
 * then 12-byte records {op, size code, le16 offset, le64 value}: op&3 0 read,
 * 1 write, 2 kick queue value&3, 3 write status 0 (reset).
 * Oracle: status invariants (DRIVER_OK needs FEATURES_OK; enabled queues have
 * a checked ring) hold after every access.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "device-procs/blk/blk.h"
#include "device-procs/blk/raw.h"
#include "vdrv.h"

static struct vdrv drv;
static struct blk_backend be;
static struct blk_dev *dev;

static void init(void)
{
	log__set_level(0);
	vdrv__init_ram(&drv);
	int fd = memfd_create("fuzz-disk", 0);
	if (fd < 0 || ftruncate(fd, 0x10000) < 0 || raw__open(&be, fd, false) < 0)
		abort();
	struct blk_params p = {.nqueues = 2, .queue_size = 16, .nthreads = 0};
	dev = blk__new(&be, &p);
	if (!dev || blk_dev_ops.init(dev, &drv.env) < 0)
		abort();
}

static void check(const struct virtio_pci *vp)
{
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	if ((vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vp->driver_features & ~vp->device_features) ||
	     !(vp->driver_features >> VIRTIO_F_VERSION_1 & 1)))
		abort();
	for (unsigned q = 0; q < vp->nqueues; q++) {
		const struct virtio_queue *vq = &vp->q[q];
		if (!vq->enabled)
			continue;
		uint16_t s = vq->vq.size;
		if (!s || (s & (s - 1)) || s > vq->max_size || !vq->vq.desc || !vq->vq.used)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		init();
	struct virtio_pci *vp = blk__transport(dev);
	blk_dev_ops.write(dev, 0, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	memset(drv.mem, 0, 0x10000);
	size_t ram = size < 4096 ? size : 4096;
	memcpy(drv.mem, data, ram);
	for (size_t at = ram; at + 12 <= size; at += 12) {
		const uint8_t *r = data + at;
		unsigned sz = 1u << (r[1] & 3);
		uint64_t off = r[2] | r[3] << 8, val;
		memcpy(&val, r + 4, 8);
		switch (r[0] & 3) {
		case 0:
			blk_dev_ops.read(dev, r[0] >> 7, off, sz);
			break;
		case 1:
			blk_dev_ops.write(dev, r[0] >> 7, off, sz, val);
			break;
		case 2:
			blk_dev_ops.kick(dev, val & 3);
			break;
		case 3:
			blk_dev_ops.write(dev, 0, VIRTIO_PCI_COMMON_STATUS, 1, 0);
			break;
		}
		check(vp);
	}
	return 0;
}
