/* SPDX-License-Identifier: MIT */
/*
 * net-queues: arbitrary chains on virtio-net's tx, control and rx queues.
 * Byte 0 picks the negotiated features (bit 0 MRG_RXBUF, 1 CSUM, 2
 * GUEST_CSUM, 3 HOST_TSO4, 4 CTRL_RX, 5 EVENT_IDX, 6 INDIRECT_DESC), byte 1
 * what runs (bit 0 a tx kick, 1 a control kick, 2 a 1500-byte and a 64 KiB
 * frame from the host then an rx kick). The rest is written over the tx
 * queue's area, then the control queue's, then rx's (descriptors at 0,
 * avail at 0x1000, used at 0x2000, scratch at 0x3000 of each 0x8000 bytes),
 * and past those at 1 MiB (data). A socketpair stands in for the TAP.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device-procs/net/net_cfg.h"
#include "fuzz.h"
#include "log.h"
#include "vdrv.h"

#define QSIZE 16

static struct vdrv drv;
static void *dev;
static int host;
static uint8_t cfg[DEV_PLAN_CFG];

static void init(void)
{
	int sv[2];
	log__set_level(0);
	vdrv__init_ram(&drv);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		abort();
	int big = 1 << 21;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	host = sv[0];
	struct net_cfg c = {.mac = {0x52, 0x54, 0, 0, 0, 1}, .npairs = 1};
	memcpy(cfg, &c, sizeof(c));
	drv.env.cfg = cfg;
	drv.env.nkickfd = 3;
	drv.env.nirqfd = 4;
	drv.env.nbackend = 1;
	drv.env.backend_fd[0] = sv[1];
	char err[200];
	dev = dev__desc.create(&drv.env, err, sizeof(err));
	if (!dev || dev__desc.ops->init(dev, &drv.env) < 0)
		abort();
}

static void host_frame(size_t len)
{
	static uint8_t f[NET_HDR_LEN + NET_MAX_FRAME];
	memset(f, 0x5a, NET_HDR_LEN + len);
	memset(f, 0, NET_HDR_LEN);
	send(host, f, NET_HDR_LEN + len, MSG_DONTWAIT);
}

/* Every chain taken from queue q was answered, unless the queue broke. */
static void check(unsigned q)
{
	struct virtio_pci *vp = dev;
	struct virtq *vq = &vp->q[q].vq;
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	if (q != 0 && vq->last_avail != vq->used_idx)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (!dev)
		init();
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << 5 /* MAC */ | 1ull << 17 /* CTRL_VQ */;
	static const unsigned bits[] = {
	    15, 0, 1, 11, 18, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC};
	for (unsigned i = 0; i < 7; i++)
		if (data[0] & 1u << i)
			f |= 1ull << bits[i];
	/* status 0 first: resets the device and its queues */
	if (!(vdrv__start(&drv, dev, f, 3, QSIZE) & VIRTIO_STATUS_DRIVER_OK))
		abort();
	size_t n = size - 2, off = 2;
	static const unsigned order[] = {1, 2, 0};
	for (unsigned i = 0; i < 3 && n; i++) {
		size_t c = n < VDRV_Q_STRIDE ? n : VDRV_Q_STRIDE;
		memcpy(drv.mem + VDRV_DESC(order[i]), data + off, c);
		off += c, n -= c;
	}
	if (n) {
		size_t c = n < VDRV_RAM_SIZE - VDRV_DATA ? n : VDRV_RAM_SIZE - VDRV_DATA;
		memcpy(drv.mem + VDRV_DATA, data + off, c);
	}
	if (data[1] & 1) {
		dev__desc.ops->kick(dev, 1);
		check(1);
	}
	if (data[1] & 2) {
		dev__desc.ops->kick(dev, 2);
		check(2);
	}
	if (data[1] & 4) {
		host_frame(1500);
		host_frame(65535);
		dev__desc.ops->kick(dev, 0);
		if (dev__desc.ops->backend_wanted(dev, 0))
			dev__desc.ops->backend_ready(dev, 0);
	}
	/* Drain what the device sent and what it left unread. */
	static uint8_t sink[NET_HDR_LEN + NET_MAX_FRAME];
	while (recv(host, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	while (recv(drv.env.backend_fd[0], sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	return 0;
}
