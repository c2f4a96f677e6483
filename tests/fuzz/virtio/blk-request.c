/* SPDX-License-Identifier: MIT */
/*
 * blk-request: arbitrary requests and chains for virtio-blk. Byte 0 picks
 * the negotiated features (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 DISCARD,
 * 3 WRITE_ZEROES, 4 MQ), byte 1 the number of kicks; the rest is written
 * over queue 0's area (descriptors at 0, avail at 0x1000, used at 0x2000,
 * scratch at 0x3000) and, past 0x8000 bytes, at 1 MiB (data). The disk is
 * a 64 KiB memfd; I/O runs inline.
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

#define DISK  0x10000u
#define QSIZE 16

static struct vdrv drv;
static struct blk_backend be;
static struct blk_dev *dev;

static void init(void)
{
	log__set_level(0);
	vdrv__init_ram(&drv);
	int fd = memfd_create("fuzz-disk", 0);
	if (fd < 0 || ftruncate(fd, DISK) < 0 || raw__open(&be, fd, false) < 0)
		abort();
	struct blk_params p = {.nqueues = 2, .queue_size = QSIZE, .nthreads = 0};
	memcpy(p.serial, "fuzz", 4);
	dev = blk__new(&be, &p);
	if (!dev || blk_dev_ops.init(dev, &drv.env) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (!dev)
		init();
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH;
	static const unsigned bits[] = {VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC,
					VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES,
					VIRTIO_BLK_F_MQ};
	for (unsigned i = 0; i < 5; i++)
		if (data[0] & 1u << i)
			f |= 1ull << bits[i];
	/* status 0 first: resets the device and its queues */
	if (!(vdrv__start(&drv, blk__transport(dev), f, 2, QSIZE) & VIRTIO_STATUS_DRIVER_OK))
		abort();
	size_t n = size - 2, head = n < VDRV_Q_STRIDE ? n : VDRV_Q_STRIDE;
	memcpy(drv.mem + VDRV_DESC(0), data + 2, head);
	if (n > head) {
		size_t rest = n - head;
		if (rest > VDRV_RAM_SIZE - VDRV_DATA)
			rest = VDRV_RAM_SIZE - VDRV_DATA;
		memcpy(drv.mem + VDRV_DATA, data + 2 + head, rest);
	}
	unsigned kicks = 1 + (data[1] & 3);
	for (unsigned k = 0; k < kicks; k++)
		blk_dev_ops.kick(dev, k & 1);
	/*
	 * I/O is inline, so every chain taken from the ring was answered,
	 * except the one that broke the queue (NEEDS_RESET).
	 */
	struct virtq *vq = &blk__transport(dev)->q[0].vq;
	if ((uint16_t)(vq->last_avail - vq->used_idx) > 1)
		abort();
	if (vq->last_avail != vq->used_idx &&
	    !(blk__transport(dev)->status & VIRTIO_STATUS_NEEDS_RESET))
		abort();
	return 0;
}
