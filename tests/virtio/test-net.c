/* SPDX-License-Identifier: MIT */
/*
 * virtio-net device model (device-procs/net/net.c) driven through its
 * register model by vdrv, with a SEQPACKET socketpair standing in for the
 * TAP (one message = one frame with its vnet header). Hostile chains on
 * every queue: the device drops and counts, or marks NEEDS_RESET, and keeps
 * running.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "device-procs/net/net_cfg.h"
#include "log.h"
#include "vdrv.h"

#define QSIZE 64
#define RXQ   0
#define TXQ   1
#define CTRLQ 2

#define F_CSUM		0
#define F_GUEST_CSUM	1
#define F_MAC		5
#define F_GUEST_TSO4	7
#define F_MRG_RXBUF	15
#define F_CTRL_VQ	17
#define F_CTRL_RX	18
#define F_MQ		22
#define F_MTU		3
#define F_CTRL_MAC_ADDR 23

static uint16_t cfg_mtu; /* the TAP's MTU in the next fixture's plan (0: none) */

struct fx {
	struct vdrv d;
	void *dev;
	int host; /* our end of the "TAP" */
	int tap;
};

static uint64_t feat(unsigned bit)
{
	return 1ull << bit;
}

static struct fx *make_q(uint64_t features, uint16_t qsize)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->host = sv[0];
	f->tap = sv[1];
	assert_int_equal(fcntl(f->tap, F_SETFL, O_NONBLOCK), 0);
	int big = 1 << 20;
	setsockopt(f->host, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(f->tap, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	vdrv__init_ram(&f->d);
	struct net_cfg c = {.mac = {0x52, 0x54, 0, 1, 2, 3}, .npairs = 1, .mtu = cfg_mtu};
	static uint8_t cfg[DEV_PLAN_CFG];
	memcpy(cfg, &c, sizeof(c));
	f->d.env.cfg = cfg;
	f->d.env.nkickfd = 3;
	f->d.env.nirqfd = 4;
	f->d.env.nbackend = 1;
	f->d.env.backend_fd[0] = f->tap;
	for (unsigned q = 0; q < 3; q++)
		f->d.env.kickfd[q] = eventfd(0, EFD_NONBLOCK);
	char err[200];
	f->dev = dev__desc.create(&f->d.env, err, sizeof(err));
	assert_non_null(f->dev);
	assert_int_equal(dev__desc.ops->init(f->dev, &f->d.env), 0);
	uint8_t st = vdrv__start(&f->d, f->dev, feat(VIRTIO_F_VERSION_1) | features, 3, qsize);
	assert_true(st & VIRTIO_STATUS_DRIVER_OK);
	return f;
}

static struct fx *make(uint64_t features)
{
	return make_q(features, QSIZE);
}

static void done(struct fx *f)
{
	for (unsigned q = 0; q < 3; q++)
		close(f->d.env.kickfd[q]);
	close(f->host);
	close(f->tap);
	vdrv__free_ram(&f->d);
	free(f->dev);
	free(f);
}

static uint8_t status(struct fx *f)
{
	return (uint8_t)vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void kick(struct fx *f, unsigned q)
{
	dev__desc.ops->kick(f->dev, q);
}

/* The main loop's view: poll the TAP now? then its readiness. */
static void tap_ready(struct fx *f)
{
	if (dev__desc.ops->backend_wanted(f->dev, 0))
		dev__desc.ops->backend_ready(f->dev, 0);
}

static void frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Host -> device: one vnet header + frame. */
static void host_send(struct fx *f, const void *hdr, const uint8_t *data, size_t len)
{
	struct iovec iov[2] = {{(void *)hdr, NET_HDR_LEN}, {(void *)data, len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	assert_int_equal(sendmsg(f->host, &m, 0), (ssize_t)(NET_HDR_LEN + len));
}

static ssize_t host_recv(struct fx *f, uint8_t *buf, size_t n)
{
	return recv(f->host, buf, n, MSG_DONTWAIT);
}

/* ---- tx ---------------------------------------------------------------- */

static void test_tx_split_chain(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC));
	uint8_t *m = vdrv__ptr(&f->d, VDRV_DATA);
	memset(m, 0, NET_HDR_LEN);
	m[0] = 0x40; /* a flag nobody negotiated: cleared, not passed on */
	frame(m + NET_HDR_LEN, 60, 1);
	/* header split 5 + 7, then the frame in two pieces */
	struct vbuf b[4] = {{VDRV_DATA, 5, false},
			    {VDRV_DATA + 5, 7, false},
			    {VDRV_DATA + 12, 20, false},
			    {VDRV_DATA + 32, 40, false}};
	vdrv__add(&f->d, TXQ, b, 4, false);
	kick(f, TXQ);
	uint8_t got[256];
	assert_int_equal(host_recv(f, got, sizeof(got)), NET_HDR_LEN + 60);
	for (unsigned i = 0; i < NET_HDR_LEN; i++)
		assert_int_equal(got[i], 0);
	assert_memory_equal(got + NET_HDR_LEN, m + NET_HDR_LEN, 60);
	uint32_t id, len;
	assert_true(vdrv__used(&f->d, TXQ, &id, &len));
	assert_int_equal(len, 0);
	done(f);
}

static void test_tx_bad_frames_dropped(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC));
	uint8_t *m = vdrv__ptr(&f->d, VDRV_DATA);
	memset(m, 0, 0x30000);
	/* too short (header + 13 bytes), header only, NEEDS_CSUM without CSUM, TSO4
	 * without HOST_TSO4, larger than any frame, zero-length descriptors only */
	struct vbuf shortf = {VDRV_DATA, NET_HDR_LEN + 13, false};
	vdrv__add(&f->d, TXQ, &shortf, 1, false);
	struct vbuf hdronly = {VDRV_DATA, NET_HDR_LEN, false};
	vdrv__add(&f->d, TXQ, &hdronly, 1, false);
	m[0x1000] = 1; /* NEEDS_CSUM */
	struct vbuf csum = {VDRV_DATA + 0x1000, NET_HDR_LEN + 60, false};
	vdrv__add(&f->d, TXQ, &csum, 1, false);
	m[0x2001] = 1; /* gso TCPV4 */
	struct vbuf tso = {VDRV_DATA + 0x2000, NET_HDR_LEN + 60, false};
	vdrv__add(&f->d, TXQ, &tso, 1, false);
	struct vbuf huge[2] = {{VDRV_DATA + 0x10000, 0x10000, false},
			       {VDRV_DATA + 0x20000, 0x10000, false}};
	vdrv__add(&f->d, TXQ, huge, 2, false);
	struct vbuf zero[2] = {{VDRV_DATA, 0, false}, {VDRV_DATA, 0, false}};
	vdrv__add(&f->d, TXQ, zero, 2, false);
	/* and a writable-only chain */
	struct vbuf wr = {VDRV_DATA + 0x3000, 100, true};
	vdrv__add(&f->d, TXQ, &wr, 1, false);
	kick(f, TXQ);
	uint8_t got[256];
	assert_int_equal(host_recv(f, got, sizeof(got)), -1);
	uint32_t id, len;
	for (unsigned i = 0; i < 7; i++) {
		assert_true(vdrv__used(&f->d, TXQ, &id, &len));
		assert_int_equal(len, 0);
	}
	assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	/* still sending */
	frame(m + 0x4000 + NET_HDR_LEN, 60, 9);
	struct vbuf ok = {VDRV_DATA + 0x4000, NET_HDR_LEN + 60, false};
	vdrv__add(&f->d, TXQ, &ok, 1, false);
	kick(f, TXQ);
	assert_int_equal(host_recv(f, got, sizeof(got)), NET_HDR_LEN + 60);
	done(f);
}

static void test_tx_loop_needs_reset(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC));
	/* 0 -> 1 -> 0 ... */
	vdrv__desc(&f->d, TXQ, 0, VDRV_DATA, 64, VIRTQ_DESC_F_NEXT, 1);
	vdrv__desc(&f->d, TXQ, 1, VDRV_DATA, 64, VIRTQ_DESC_F_NEXT, 0);
	vdrv__publish(&f->d, TXQ, 0);
	kick(f, TXQ);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	/* the other queues still answer; a reset brings tx back */
	uint8_t st = vdrv__start(&f->d, f->dev, feat(VIRTIO_F_VERSION_1) | feat(F_MAC), 3, QSIZE);
	assert_true(st & VIRTIO_STATUS_DRIVER_OK);
	uint8_t *m = vdrv__ptr(&f->d, VDRV_DATA);
	memset(m, 0, NET_HDR_LEN);
	struct vbuf ok = {VDRV_DATA, NET_HDR_LEN + 60, false};
	vdrv__add(&f->d, TXQ, &ok, 1, false);
	kick(f, TXQ);
	uint8_t got[256];
	assert_int_equal(host_recv(f, got, sizeof(got)), NET_HDR_LEN + 60);
	done(f);
}

/* A tx flood does not keep the main loop: the device stops after its budget
 * (fewer than a full ring of 256) and rings its own kick to come back. */
static void test_tx_flood_budget(void **state)
{
	(void)state;
	struct fx *f = make_q(feat(F_MAC), 256);
	uint8_t *m = vdrv__ptr(&f->d, VDRV_DATA);
	memset(m, 0, NET_HDR_LEN + 60);
	for (unsigned i = 0; i < 256; i++) {
		struct vbuf b = {VDRV_DATA, NET_HDR_LEN + 60, false};
		vdrv__add(&f->d, TXQ, &b, 1, false);
	}
	kick(f, TXQ);
	unsigned sent = 0, kicks = 1;
	uint8_t got[256];
	while (host_recv(f, got, sizeof(got)) == NET_HDR_LEN + 60)
		sent++;
	assert_true(sent > 0 && sent < 256);
	uint64_t v;
	while (read(f->d.env.kickfd[TXQ], &v, sizeof(v)) == sizeof(v)) {
		kick(f, TXQ);
		kicks++;
		while (host_recv(f, got, sizeof(got)) == NET_HDR_LEN + 60)
			sent++;
	}
	assert_int_equal(sent, 256);
	assert_true(kicks > 1);
	uint32_t id, len;
	unsigned used = 0;
	while (vdrv__used(&f->d, TXQ, &id, &len))
		used++;
	assert_int_equal(used, 256);
	done(f);
}

/* ---- rx ---------------------------------------------------------------- */

static void add_rx(struct fx *f, unsigned n, uint32_t size, uint64_t base)
{
	for (unsigned i = 0; i < n; i++) {
		struct vbuf b = {base + i * (uint64_t)size, size, true};
		vdrv__add(&f->d, RXQ, &b, 1, false);
	}
}

static void test_rx_waits_for_buffers(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	uint8_t hdr[NET_HDR_LEN] = {0}, data[1000];
	frame(data, sizeof(data), 3);
	host_send(f, hdr, data, sizeof(data));
	tap_ready(f); /* no buffers: the frame waits, the TAP is not polled */
	assert_false(dev__desc.ops->backend_wanted(f->dev, 0));
	uint32_t id, len;
	assert_false(vdrv__used(&f->d, RXQ, &id, &len));
	add_rx(f, 4, 2048, VDRV_DATA);
	kick(f, RXQ);
	assert_true(vdrv__used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, NET_HDR_LEN + sizeof(data));
	uint8_t *b = vdrv__ptr(&f->d, VDRV_DATA + id * 2048ull);
	uint16_t nb;
	memcpy(&nb, b + 10, 2);
	assert_int_equal(nb, 1);
	assert_memory_equal(b + NET_HDR_LEN, data, sizeof(data));
	assert_true(dev__desc.ops->backend_wanted(f->dev, 0));
	done(f);
}

static void test_rx_mergeable_64k(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	static uint8_t data[NET_MAX_FRAME];
	uint8_t hdr[NET_HDR_LEN] = {0};
	frame(data, sizeof(data), 5);
	add_rx(f, QSIZE, 2048, VDRV_DATA);
	kick(f, RXQ);
	host_send(f, hdr, data, sizeof(data));
	tap_ready(f);
	static uint8_t got[NET_HDR_LEN + NET_MAX_FRAME];
	size_t off = 0;
	uint32_t id, len, n = 0;
	while (vdrv__used(&f->d, RXQ, &id, &len)) {
		memcpy(got + off, vdrv__ptr(&f->d, VDRV_DATA + id * 2048ull), len);
		off += len;
		n++;
	}
	uint16_t nb;
	memcpy(&nb, got + 10, 2);
	assert_int_equal(off, NET_HDR_LEN + sizeof(data));
	assert_int_equal(nb, n);
	assert_int_equal(n, (NET_HDR_LEN + sizeof(data) + 2047) / 2048);
	assert_memory_equal(got + NET_HDR_LEN, data, sizeof(data));
	done(f);
}

/* Without MRG_RXBUF a frame must fit one chain: else it is dropped, the
 * chain kept for a smaller one. A ring too small for a mergeable frame
 * drops it too. */
static void test_rx_no_room(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC));
	uint8_t hdr[NET_HDR_LEN] = {0}, data[3000];
	frame(data, sizeof(data), 7);
	add_rx(f, 1, 2048, VDRV_DATA);
	kick(f, RXQ);
	host_send(f, hdr, data, sizeof(data)); /* too big for the chain */
	host_send(f, hdr, data, 100);
	tap_ready(f);
	uint32_t id, len;
	assert_true(vdrv__used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 100);
	assert_false(vdrv__used(&f->d, RXQ, &id, &len));
	done(f);

	f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	static uint8_t big[NET_MAX_FRAME];
	add_rx(f, QSIZE, 64, VDRV_DATA); /* 64 * 64 bytes: never enough */
	kick(f, RXQ);
	host_send(f, hdr, big, sizeof(big));
	host_send(f, hdr, data, 20);
	tap_ready(f);
	assert_true(vdrv__used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 20);
	assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	done(f);
}

static void test_rx_bad_chains(void **state)
{
	(void)state;
	uint8_t hdr[NET_HDR_LEN] = {0}, data[100] = {0};
	/* a readable rx buffer */
	struct fx *f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	struct vbuf ro = {VDRV_DATA, 2048, false};
	vdrv__add(&f->d, RXQ, &ro, 1, false);
	kick(f, RXQ);
	host_send(f, hdr, data, sizeof(data));
	tap_ready(f);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	done(f);
	/* a buffer smaller than the header */
	f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	struct vbuf tiny = {VDRV_DATA, 4, true};
	vdrv__add(&f->d, RXQ, &tiny, 1, false);
	kick(f, RXQ);
	host_send(f, hdr, data, sizeof(data));
	tap_ready(f);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	done(f);
	/* an avail index far ahead */
	f = make(feat(F_MAC));
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(RXQ));
	avail[1] = 1000;
	host_send(f, hdr, data, sizeof(data));
	kick(f, RXQ);
	tap_ready(f);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	done(f);
}

/* Offloads the guest did not accept never reach it. */
static void test_rx_offload_checks(void **state)
{
	(void)state;
	uint8_t data[100] = {0};
	uint8_t csum[NET_HDR_LEN] = {1}, tso[NET_HDR_LEN] = {0, 1}, ok[NET_HDR_LEN] = {0};
	struct fx *f = make(feat(F_MAC) | feat(F_MRG_RXBUF));
	add_rx(f, 8, 2048, VDRV_DATA);
	kick(f, RXQ);
	host_send(f, csum, data, sizeof(data));
	host_send(f, tso, data, sizeof(data));
	host_send(f, ok, data, 50);
	tap_ready(f);
	uint32_t id, len;
	assert_true(vdrv__used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 50);
	assert_false(vdrv__used(&f->d, RXQ, &id, &len));
	done(f);
	/* accepted: passed through */
	f = make(feat(F_MAC) | feat(F_MRG_RXBUF) | feat(F_GUEST_CSUM) | feat(F_GUEST_TSO4) |
		 feat(F_CSUM));
	add_rx(f, 8, 2048, VDRV_DATA);
	kick(f, RXQ);
	host_send(f, csum, data, sizeof(data));
	tap_ready(f);
	assert_true(vdrv__used(&f->d, RXQ, &id, &len));
	assert_int_equal(len, NET_HDR_LEN + sizeof(data));
	assert_int_equal(*(uint8_t *)vdrv__ptr(&f->d, VDRV_DATA + id * 2048ull), 1);
	done(f);
}

/* ---- control queue ------------------------------------------------------ */

static uint8_t ctrl(struct fx *f, const uint8_t *cmd, uint32_t len, uint32_t *used_len)
{
	uint8_t *m = vdrv__ptr(&f->d, VDRV_DATA);
	memcpy(m, cmd, len);
	m[0x100] = 0xee;
	struct vbuf b[2] = {{VDRV_DATA, len, false}, {VDRV_DATA + 0x100, 1, true}};
	vdrv__add(&f->d, CTRLQ, b, 2, false);
	kick(f, CTRLQ);
	uint32_t id;
	assert_true(vdrv__used(&f->d, CTRLQ, &id, used_len));
	return m[0x100];
}

static void test_ctrl(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC) | feat(F_CTRL_VQ) | feat(F_CTRL_RX));
	uint32_t ul;
	static const uint8_t promisc[] = {0, 0, 1}, bad_onoff[] = {0, 0, 7}, mq[] = {4, 0, 1, 0},
			     unknown[] = {99, 0}, shortc[] = {0};
	assert_int_equal(ctrl(f, promisc, 3, &ul), 0);
	assert_int_equal(ul, 1);
	assert_int_equal(ctrl(f, bad_onoff, 3, &ul), 1);
	assert_int_equal(ctrl(f, mq, 4, &ul), 1); /* MQ not negotiated */
	assert_int_equal(ctrl(f, unknown, 2, &ul), 1);
	assert_int_equal(ctrl(f, shortc, 1, &ul), 1);
	static uint8_t longc[200];
	assert_int_equal(ctrl(f, longc, sizeof(longc), &ul), 1);
	/* no writable byte for the ack: nothing written */
	struct vbuf b = {VDRV_DATA, 3, false};
	vdrv__add(&f->d, CTRLQ, &b, 1, false);
	kick(f, CTRLQ);
	uint32_t id;
	assert_true(vdrv__used(&f->d, CTRLQ, &id, &ul));
	assert_int_equal(ul, 0);
	assert_false(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	done(f);
}

static void read_mac(struct fx *f, uint8_t mac[6])
{
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + i, 1);
}

static void test_ctrl_mac_addr(void **state)
{
	(void)state;
	static const uint8_t want0[6] = {0x52, 0x54, 0, 1, 2, 3};
	static const uint8_t set[] = {1, 1, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
			     multicast[] = {1, 1, 0x03, 0, 0, 0, 0, 1},
			     zero[] = {1, 1, 0, 0, 0, 0, 0, 0};
	uint8_t mac[6];
	uint32_t ul;
	/* not negotiated: refused */
	struct fx *f = make(feat(F_MAC) | feat(F_CTRL_VQ));
	assert_int_equal(ctrl(f, set, sizeof(set), &ul), 1);
	done(f);
	f = make(feat(F_MAC) | feat(F_CTRL_VQ) | feat(F_CTRL_MAC_ADDR));
	assert_int_equal(ctrl(f, multicast, sizeof(multicast), &ul), 1);
	assert_int_equal(ctrl(f, zero, sizeof(zero), &ul), 1);
	assert_int_equal(ctrl(f, set, sizeof(set) - 1, &ul), 1); /* short */
	read_mac(f, mac);
	assert_memory_equal(mac, want0, 6);
	assert_int_equal(ctrl(f, set, sizeof(set), &ul), 0);
	read_mac(f, mac);
	assert_memory_equal(mac, set + 2, 6);
	/* a reset brings back the broker's address */
	uint8_t st = vdrv__start(&f->d, f->dev, feat(VIRTIO_F_VERSION_1) | feat(F_MAC), 3, QSIZE);
	assert_true(st & VIRTIO_STATUS_DRIVER_OK);
	read_mac(f, mac);
	assert_memory_equal(mac, want0, 6);
	done(f);
}

static void test_mtu(void **state)
{
	(void)state;
	/* no MTU in the plan: VIRTIO_NET_F_MTU is not offered */
	struct fx *f = make(feat(F_MAC));
	uint8_t st = vdrv__start(&f->d, f->dev, feat(VIRTIO_F_VERSION_1) | feat(F_MTU), 3, QSIZE);
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	done(f);
	cfg_mtu = 65521;
	f = make(feat(F_MAC) | feat(F_MTU));
	cfg_mtu = 0;
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 10, 2), 65521);
	done(f);
}

static void test_config(void **state)
{
	(void)state;
	struct fx *f = make(feat(F_MAC));
	uint8_t mac[6];
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + i, 1);
	static const uint8_t want[6] = {0x52, 0x54, 0, 1, 2, 3};
	assert_memory_equal(mac, want, 6);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 6, 2), 1); /* link up */
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 8, 2), 1); /* one pair */
	done(f);
}

int main(void)
{
	log__set_level(0);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_tx_split_chain),
	    cmocka_unit_test(test_tx_bad_frames_dropped),
	    cmocka_unit_test(test_tx_loop_needs_reset),
	    cmocka_unit_test(test_tx_flood_budget),
	    cmocka_unit_test(test_rx_waits_for_buffers),
	    cmocka_unit_test(test_rx_mergeable_64k),
	    cmocka_unit_test(test_rx_no_room),
	    cmocka_unit_test(test_rx_bad_chains),
	    cmocka_unit_test(test_rx_offload_checks),
	    cmocka_unit_test(test_ctrl),
	    cmocka_unit_test(test_ctrl_mac_addr),
	    cmocka_unit_test(test_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
