/* SPDX-License-Identifier: MIT */
/*
 * virtq-walk: arbitrary bytes as the guest's descriptor table, avail ring,
 * used ring and buffers. Byte 0: bits 0-2 log2(queue size), bit 3
 * INDIRECT_DESC, bit 4 EVENT_IDX; the rest is guest RAM from GPA 0
 * (descriptors at 0, avail ring at 0x1000, used ring at 0x2000).
 * Oracle: every buffer handed out lies inside RAM and off the rings.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "device-procs/virtio/virtq.h"

#define RAM   0x10000u
#define DESC  0x0000u
#define AVAIL 0x1000u
#define USED  0x2000u

static uint8_t *ram;
static struct virtq_req req;

static void check(const struct virtq *vq, const struct iovec *iov)
{
	uint8_t *p = iov->iov_base;
	if (p < ram || iov->iov_len > RAM || p + iov->iov_len > ram + RAM)
		abort();
	uint64_t gpa = p - ram, end = gpa + iov->iov_len;
	uint64_t ring[3][2] = {
	    {DESC, 16u * vq->size}, {AVAIL, 6 + 2u * vq->size}, {USED, 6 + 8u * vq->size}};
	for (int i = 0; i < 3; i++)
		if (gpa < ring[i][0] + ring[i][1] && ring[i][0] < end)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem gm;
	struct virtq vq;

	if (size < 1)
		return 0;
	if (!ram) {
		log__set_level(0);
		ram = malloc(RAM);
		if (!ram)
			abort();
	}
	memset(ram, 0, RAM);
	memcpy(ram, data + 1, size - 1 < RAM ? size - 1 : RAM);
	gmem__init(&gm, ram, RAM);
	uint16_t qsize = 1u << (data[0] & 7);
	if (virtq__init(&vq, &gm, qsize, DESC, AVAIL, USED, data[0] & 8, data[0] & 16) < 0)
		abort(); /* the fixed layout is valid for every size */
	for (unsigned n = 0; n < 2u * qsize + 2; n++) {
		int r = virtq__pop(&vq, &req);
		if (r <= 0)
			break;
		if (req.head >= qsize || req.nread + req.nwrite > VIRTQ_MAX_SIZE)
			abort();
		uint64_t rl = 0, wl = 0;
		for (unsigned i = 0; i < req.nread + req.nwrite; i++) {
			check(&vq, &req.iov[i]);
			if (!req.iov[i].iov_len)
				abort();
			*(i < req.nread ? &rl : &wl) += req.iov[i].iov_len;
		}
		if (rl != req.read_len || wl != req.write_len)
			abort();
		if (req.write_len)
			memset(req.iov[req.nread].iov_base, 0xa5, req.iov[req.nread].iov_len);
		virtq__push(&vq, req.head, (uint32_t)req.write_len);
		virtq__should_notify(&vq);
		if (n & 1)
			virtq__disable_notify(&vq);
		else
			virtq__enable_notify(&vq);
	}
	return 0;
}
