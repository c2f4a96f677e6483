/* SPDX-License-Identifier: MIT */
/*
 * net: a small virtio-net driver and IPv4 responder. On the address of its
 * command line (ip=A.B.C.D, default 10.0.2.15, netmask /24) it answers ARP
 * requests and ICMP echo requests, and sends every UDP datagram for port 7
 * back to its sender (addresses and ports swapped, payload untouched, so
 * the checksums stay right, partial ones included). Frames arrive through
 * mergeable receive buffers (mrg=0: one buffer per frame) and may be up to
 * 64 KiB; offload=1 also negotiates the checksum and TSO offloads and passes
 * a partial checksum of a received datagram on to its echo. Prints "net:
 * ready" once the device runs, then serves until the host stops the VM.
 *
 * pairs=N uses N queue pairs (MQ, VQ_PAIRS_SET), polling every rx queue.
 * UDP port 9 discards (counting), port 10 answers "rx DATAGRAMS BYTES" of
 * the discard port plus the frames of each rx queue (and resets the
 * counts), port 19 sends back COUNT datagrams of SIZE bytes for a request
 * "COUNT SIZE" (the benchmark's guest-to-host direction).
 *
 * evil=1 first misbehaves: tx chains that are empty, header-only, larger
 * than any frame, or claim an offload it did not negotiate (each must come
 * back unsent), a looping chain (the device must ask for a reset, which the
 * driver then does), and a second of no receive buffers while the host
 * floods it ("net: starving"). Then it serves as usual.
 */
#include "rt.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define F_CSUM	     0
#define F_GUEST_CSUM 1
#define F_MTU	     3
#define F_MAC	     5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_HOST_TSO4  11
#define F_HOST_TSO6  12
#define F_MRG_RXBUF  15
#define F_CTRL_VQ    17
#define F_MQ	     22

#define HDR	 12
#define MAXFRAME (65535 + 14 + 4)
#define RXBUF	 2048		  /* mergeable buffers */
#define BIGBUF	 (HDR + MAXFRAME) /* one frame per buffer (mrg=0) */
#define NBIG	 16

struct hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};

static struct virtio_pci dev;
#define MAXPAIRS 4
static struct virtq rxqs[MAXPAIRS] __attribute__((aligned(4096)));
static struct virtq ctrlq __attribute__((aligned(4096)));
static struct virtq txq __attribute__((aligned(4096)));
static uint8_t rxbuf[MAXPAIRS][VQ_MAX_SIZE][RXBUF] __attribute__((aligned(4096)));
static uint8_t bigbuf[NBIG][BIGBUF] __attribute__((aligned(4096)));
static uint8_t frame[HDR + MAXFRAME] __attribute__((aligned(64))); /* one reassembled frame */
static uint8_t tx[HDR + MAXFRAME] __attribute__((aligned(64)));
static uint8_t mac[6];
static uint8_t myip[4];
static int mrg, offload;
static uint64_t features;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int parse_ip(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4)
			v = v * 10 + (unsigned)(*s++ - '0'), digits++;
		if (!digits || v > 255 || (i < 3 && *s++ != '.'))
			return -1;
		out[i] = (uint8_t)v;
	}
	return *s && *s != ' ' ? -1 : 0;
}

/* One's complement sum, folded (RFC 1071). */
static uint16_t csum(const uint8_t *p, uint32_t n)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint64_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static unsigned pairs = 1;		/* queue pairs in use (pairs=N; needs MQ) */
static unsigned long rxcount[MAXPAIRS]; /* frames per rx queue */

static void post_rx(unsigned qi, uint16_t id)
{
	struct virtq *q = &rxqs[qi];
	uint8_t *b = mrg ? rxbuf[qi][id] : bigbuf[id];
	q->desc[id] = (struct vring_desc){(uint64_t)b, mrg ? RXBUF : BIGBUF, VRING_DESC_F_WRITE, 0};
	virtq_push(q, id);
}

/* Send tx[0 .. HDR + len) and wait until the device is done with it. */
static void send(uint32_t len)
{
	uint32_t id, l;
	int r;
	txq.desc[0] = (struct vring_desc){(uint64_t)tx, HDR + len, 0, 0};
	virtq_push(&txq, 0);
	virtq_kick(&txq);
	while ((r = virtq_pop(&txq, &id, &l)) == 0)
		cpu_relax();
	if (r < 0 || id != 0) {
		rt_printf("net: FAIL device returned tx id %u\n", id);
		rt_exit(1);
	}
}

/* Reply to frame[HDR..HDR+len): same shape, addresses swapped. */
static void reply(uint32_t len, const struct hdr *in)
{
	struct hdr h = {0};
	uint8_t *f = tx + HDR;
	if (offload && (in->flags & 1)) {
		/* Its checksum is still partial: the host completes it. */
		h.flags = 1;
		h.csum_start = in->csum_start;
		h.csum_offset = in->csum_offset;
	}
	memcpy(tx, &h, sizeof(h));
	memcpy(f, frame + HDR, len);
	memcpy(f, frame + HDR + 6, 6); /* to the sender */
	memcpy(f + 6, mac, 6);
	send(len);
}

static void on_arp(uint32_t len, const struct hdr *h)
{
	uint8_t *a = frame + HDR + 14;
	if (len < 14 + 28 || be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
	    be16(a + 6) != 1 || memcmp(a + 24, myip, 4))
		return;
	uint8_t sha[6], spa[4];
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	put16(a + 6, 2); /* reply */
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, myip, 4);
	memcpy(a + 18, sha, 6);
	memcpy(a + 24, spa, 4);
	reply(14 + 28, h);
}

/*
 * IPv4 reassembly of one datagram at a time (a 65507-byte datagram does not
 * fit one frame at MTU 65521): fragments of the same source and id are
 * copied into place; once the last one is in and every byte has come, the
 * whole datagram is put in `frame` and handled like any other.
 */
static uint8_t reasm[14 + 20 + 65535];
static uint8_t r_key[8]; /* source address, id, protocol */
static uint32_t r_have, r_total;
static int r_first;

/* 1 when a whole datagram now sits in frame (its new length in *len). */
static int reassemble(uint32_t *len)
{
	uint8_t *ip = frame + HDR + 14, key[8];
	uint32_t ihl = (ip[0] & 15) * 4u, tot = be16(ip + 2), dlen = tot - ihl;
	uint32_t off = (be16(ip + 6) & 0x1fff) * 8u;
	int more = !!(be16(ip + 6) & 0x2000);
	memcpy(key, ip + 12, 4);
	memcpy(key + 4, ip + 4, 2);
	key[6] = ip[9];
	key[7] = 1;
	if (ihl != 20 || off + dlen > sizeof(reasm) - 34 || (more && (dlen & 7)))
		return 0;
	if (memcmp(key, r_key, sizeof(key))) {
		memcpy(r_key, key, sizeof(key));
		r_have = r_total = 0;
		r_first = 0;
	}
	memcpy(reasm + 34 + off, ip + 20, dlen);
	r_have += dlen; /* the host sends each fragment once */
	if (!more)
		r_total = off + dlen;
	if (off == 0) {
		memcpy(reasm, frame + HDR, 34);
		r_first = 1;
	}
	if (!r_first || !r_total || r_have != r_total)
		return 0;
	memcpy(frame + HDR, reasm, 34 + r_total);
	put16(ip + 2, (uint16_t)(20 + r_total));
	put16(ip + 6, 0);
	ip[10] = ip[11] = 0;
	put16(ip + 10, csum(ip, 20));
	memset(r_key, 0, sizeof(r_key));
	*len = 34 + r_total;
	return 1;
}

static unsigned long sink_n, sink_bytes; /* datagrams and bytes to the discard port */

/* A UDP datagram from port sport to the sender of the request at ip/l4 (whose
 * addresses are already swapped), payload at tx + HDR + 42; no checksum. */
static void udp_to_sender(const uint8_t *ip, const uint8_t *l4, uint16_t sport, uint32_t n)
{
	static uint16_t ipid;
	uint8_t *f = tx + HDR, *o = f + 14, *u = o + 20;
	memset(tx, 0, HDR);
	memcpy(f, frame + HDR + 6, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0800);
	o[0] = 0x45;
	o[1] = 0;
	put16(o + 2, (uint16_t)(28 + n));
	put16(o + 4, ipid++);
	put16(o + 6, 0x4000);
	o[8] = 64;
	o[9] = 17;
	o[10] = o[11] = 0;
	memcpy(o + 12, myip, 4);
	memcpy(o + 16, ip + 16, 4); /* the sender (swapped in) */
	put16(o + 10, csum(o, 20));
	put16(u, sport);
	memcpy(u + 2, l4, 2); /* to the sender's port */
	put16(u + 4, (uint16_t)(8 + n));
	u[6] = u[7] = 0;
	send(42 + n);
}

/* Port 10: "rx DATAGRAMS BYTES Q0 Q1 ..." of the discard port and rx queues; resets them. */
static void stats(const uint8_t *ip, const uint8_t *l4)
{
	char *p = (char *)tx + HDR + 42;
	int n = rt_snprintf(p, 200, "rx %lu %lu", sink_n, sink_bytes);
	for (unsigned i = 0; i < pairs && n < 180; i++)
		n += rt_snprintf(p + n, 200 - (unsigned)n, " %lu", rxcount[i]);
	sink_n = sink_bytes = 0;
	udp_to_sender(ip, l4, 10, (uint32_t)n);
}

/* Port 19: "COUNT SIZE" -> COUNT datagrams of SIZE bytes back (throughput from the guest). */
static void blast(const uint8_t *ip, const uint8_t *l4, uint32_t l4len)
{
	char req[32];
	uint32_t n = l4len - 8 < sizeof(req) - 1 ? l4len - 8 : sizeof(req) - 1;
	memcpy(req, l4 + 8, n);
	req[n] = 0;
	unsigned long count = 0, size = 0;
	const char *c = req;
	while (*c >= '0' && *c <= '9')
		count = count * 10 + (unsigned long)(*c++ - '0');
	while (*c == ' ')
		c++;
	while (*c >= '0' && *c <= '9')
		size = size * 10 + (unsigned long)(*c++ - '0');
	if (size > 65507 - 20 || count > 10000000)
		return;
	memset(tx + HDR + 42, 0x5a, size);
	for (unsigned long i = 0; i < count; i++)
		udp_to_sender(ip, l4, 19, (uint32_t)size); /* frame stays put meanwhile */
}

static void on_ipv4(uint32_t len, const struct hdr *h)
{
	uint8_t *ip = frame + HDR + 14, t[4];
	uint32_t ihl = (ip[0] & 15) * 4u, tot;
	if (len < 14 + 20 || (ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl)
		return;
	tot = be16(ip + 2);
	if (tot < ihl || tot > len - 14 || memcmp(ip + 16, myip, 4))
		return; /* not ours or truncated */
	if (be16(ip + 6) & 0x3fff) {
		if (!reassemble(&len))
			return;
		tot = len - 14;
	}
	memcpy(t, ip + 12, 4); /* swap the addresses: the header checksum stays right */
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, t, 4);
	uint8_t *l4 = ip + ihl;
	uint32_t l4len = tot - ihl;
	if (ip[9] == 1 && l4len >= 8 && l4[0] == 8) {
		l4[0] = 0; /* echo reply */
		l4[2] = l4[3] = 0;
		put16(l4 + 2, csum(l4, l4len));
		reply(14 + tot, h);
	} else if (ip[9] == 17 && l4len >= 8 && be16(l4 + 2) == 9) {
		/* discard: counted */
		sink_n++;
		sink_bytes += l4len - 8;
	} else if (ip[9] == 17 && l4len >= 8 && be16(l4 + 2) == 10) {
		stats(ip, l4);
	} else if (ip[9] == 17 && l4len >= 8 && be16(l4 + 2) == 19) {
		blast(ip, l4, l4len);
	} else if (ip[9] == 17 && l4len >= 8 && be16(l4 + 2) == 7) {
		uint8_t p[2];
		memcpy(p, l4, 2); /* swap the ports */
		memcpy(l4, l4 + 2, 2);
		memcpy(l4 + 2, p, 2);
		reply(14 + tot, h);
	}
}

static void on_frame(uint32_t len)
{
	struct hdr h;
	memcpy(&h, frame, sizeof(h));
	if (len < 14)
		return;
	uint16_t type = be16(frame + HDR + 12);
	if (type == 0x0806)
		on_arp(len, &h);
	else if (type == 0x0800)
		on_ipv4(len, &h);
}

/* Take one whole frame (its buffers re-posted); its length without header, or -1. */
static long take_frame(unsigned qi)
{
	struct virtq *q = &rxqs[qi];
	uint32_t id, len, got = 0, nb = 1;
	int r = virtq_pop(q, &id, &len);
	if (r == 0)
		return -1;
	for (uint32_t k = 0;; k++) {
		uint32_t max = mrg ? RXBUF : BIGBUF;
		if (r < 0 || len > max || (!mrg && id >= NBIG) || got + len > sizeof(frame)) {
			rt_printf("net: FAIL bad rx element id %u len %u\n", id, len);
			rt_exit(1);
		}
		memcpy(frame + got, mrg ? rxbuf[qi][id] : bigbuf[id], len);
		got += len;
		if (k == 0) {
			struct hdr h;
			if (len < HDR) {
				rt_printf("net: FAIL rx buffer without a header (%u bytes)\n", len);
				rt_exit(1);
			}
			memcpy(&h, frame, sizeof(h));
			nb = h.num_buffers;
			if (nb < 1 || (!mrg && nb != 1) || nb > q->size) {
				rt_printf("net: FAIL num_buffers %u\n", nb);
				rt_exit(1);
			}
		}
		post_rx(qi, (uint16_t)id);
		if (k + 1 == nb)
			break;
		while ((r = virtq_pop(q, &id, &len)) == 0)
			cpu_relax(); /* the device pushes a frame's buffers together */
	}
	virtq_kick(q);
	rxcount[qi]++;
	return (long)got - HDR;
}

static int setup(int idx)
{
	uint64_t want = 1ULL << F_MAC | 1ULL << F_MTU;
	if (mrg)
		want |= 1ULL << F_MRG_RXBUF;
	if (offload) {
		want |= 1ULL << F_CSUM | 1ULL << F_GUEST_CSUM;
		if (mrg) /* 64 KiB frames need mergeable buffers here */
			want |= 1ULL << F_GUEST_TSO4 | 1ULL << F_GUEST_TSO6 | 1ULL << F_HOST_TSO4 |
				1ULL << F_HOST_TSO6;
	}
	if (pairs > 1)
		want |= 1ULL << F_MQ | 1ULL << F_CTRL_VQ;
	if (virtio_pci_init(&dev, (uint32_t)idx, want, &features) ||
	    !(features & (1ULL << F_MAC)) || virtio_queue_init(&dev, 1, &txq, VQ_MAX_SIZE)) {
		rt_printf("net: FAIL device setup\n");
		return 1;
	}
	unsigned maxp = 1;
	if (pairs > 1) {
		maxp = mmio_read16(dev.device + 8);
		if (!(features & (1ULL << F_MQ)) || maxp < pairs) {
			rt_printf("net: FAIL device offers %u queue pairs, not %u\n",
				  features & (1ULL << F_MQ) ? maxp : 1, pairs);
			return 1;
		}
		if (virtio_queue_init(&dev, 2 * maxp, &ctrlq, 8)) {
			rt_printf("net: FAIL control queue setup\n");
			return 1;
		}
	}
	for (unsigned i = 0; i < pairs; i++)
		if (virtio_queue_init(&dev, 2 * i, &rxqs[i], VQ_MAX_SIZE)) {
			rt_printf("net: FAIL rx queue %u setup\n", i);
			return 1;
		}
	if (mrg != !!(features & (1ULL << F_MRG_RXBUF))) {
		rt_printf("net: FAIL device does not offer MRG_RXBUF\n");
		return 1;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = mmio_read8(dev.device + (unsigned)i);
	if (features & (1ULL << F_MTU)) /* the host side's MTU (the test checks it) */
		rt_printf("net: mtu %u\n", mmio_read16(dev.device + 10));
	virtio_driver_ok(&dev);
	if (pairs > 1) {
		/* VIRTIO_NET_CTRL_MQ, VQ_PAIRS_SET: until then only pair 0 receives. */
		static uint8_t cmd[4], ack;
		uint32_t id, len;
		int r;
		cmd[0] = 4;
		cmd[1] = 0;
		cmd[2] = (uint8_t)pairs;
		cmd[3] = 0;
		ack = 0xff;
		ctrlq.desc[0] = (struct vring_desc){(uint64_t)cmd, 4, VRING_DESC_F_NEXT, 1};
		ctrlq.desc[1] = (struct vring_desc){(uint64_t)&ack, 1, VRING_DESC_F_WRITE, 0};
		virtq_push(&ctrlq, 0);
		virtq_kick(&ctrlq);
		while ((r = virtq_pop(&ctrlq, &id, &len)) == 0)
			cpu_relax();
		if (r < 0 || ack != 0) {
			rt_printf("net: FAIL VQ_PAIRS_SET %u: ack %u\n", pairs, ack);
			return 1;
		}
	}
	return 0;
}

/* One raw tx chain (already in txq.desc from 0), answered with nothing sent. */
static int evil_tx(const char *what)
{
	uint32_t id, len;
	int r;
	virtq_push(&txq, 0);
	virtq_kick(&txq);
	while ((r = virtq_pop(&txq, &id, &len)) == 0)
		cpu_relax();
	if (r < 0 || id != 0 || len != 0) {
		rt_printf("net: FAIL evil %s: used id %u len %u\n", what, id, len);
		return -1;
	}
	rt_printf("net: evil %s: returned unsent\n", what);
	return 0;
}

static void wait_ms(uint64_t ms)
{
	uint64_t end = rdtsc() + rt_tsc_hz() / 1000 * ms;
	while (rdtsc() < end)
		cpu_relax();
}

static int evil(int idx)
{
	struct hdr h = {0};
	memset(tx, 0, sizeof(tx));
	txq.desc[0] = (struct vring_desc){(uint64_t)tx, 0, 0, 0};
	if (evil_tx("empty chain"))
		return -1;
	txq.desc[0] = (struct vring_desc){(uint64_t)tx, HDR, 0, 0};
	if (evil_tx("header only"))
		return -1;
	txq.desc[0] = (struct vring_desc){(uint64_t)tx, HDR + MAXFRAME, VRING_DESC_F_NEXT, 1};
	txq.desc[1] = (struct vring_desc){(uint64_t)tx, 4096, 0, 0};
	if (evil_tx("frame over 64 KiB"))
		return -1;
	if (!offload) {
		h.flags = 1; /* NEEDS_CSUM, not negotiated */
		memcpy(tx, &h, sizeof(h));
		txq.desc[0] = (struct vring_desc){(uint64_t)tx, HDR + 60, 0, 0};
		if (evil_tx("checksum offload not negotiated"))
			return -1;
	}
	/* A looping chain: the device gives up on the queue and asks for a reset. */
	txq.desc[0] = (struct vring_desc){(uint64_t)tx, HDR + 60, VRING_DESC_F_NEXT, 1};
	txq.desc[1] = (struct vring_desc){(uint64_t)tx, 60, VRING_DESC_F_NEXT, 0};
	virtq_push(&txq, 0);
	virtq_kick(&txq);
	uint64_t end = rdtsc() + rt_tsc_hz() * 5;
	while (!(virtio_status(&dev) & 0x40) && rdtsc() < end)
		cpu_relax();
	if (!(virtio_status(&dev) & 0x40)) {
		rt_printf("net: FAIL looping chain: no NEEDS_RESET\n");
		return -1;
	}
	rt_printf("net: evil looping chain: device needs reset\n");
	if (setup(idx))
		return -1;
	/* No receive buffers for a second while the host floods us. */
	rt_printf("net: starving\n");
	wait_ms(1000);
	return 0;
}

int main(void)
{
	static const uint16_t ids[] = {0x1041};
	const char *ipstr = rt_cmdline_get("ip");
	mrg = (int)rt_cmdline_u64("mrg", 1);
	pairs = (unsigned)rt_cmdline_u64("pairs", 1);
	if (pairs < 1 || pairs > MAXPAIRS || (pairs > 1 && !mrg)) {
		rt_printf("net: FAIL pairs=%u: 1 to %u, and mergeable buffers\n", pairs, MAXPAIRS);
		return 1;
	}
	offload = (int)rt_cmdline_u64("offload", 0);
	if (parse_ip(ipstr ? ipstr : "10.0.2.15", myip)) {
		rt_printf("net: FAIL bad ip= on the command line\n");
		return 1;
	}
	int idx = pci_find(0x1af4, ids, 1, 0);
	if (idx < 0) {
		rt_printf("net: FAIL no virtio-net PCI function\n");
		return 1;
	}
	if (setup(idx))
		return 1;
	rt_printf("net: device up mac=%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2],
		  mac[3], mac[4], mac[5]);
	if (rt_cmdline_u64("evil", 0) && evil(idx))
		return 1;
	for (unsigned qi = 0; qi < pairs; qi++) {
		struct virtq *q = &rxqs[qi];
		unsigned nbuf = mrg ? q->size : (q->size < NBIG ? q->size : NBIG);
		for (unsigned i = 0; i < nbuf; i++)
			post_rx(qi, (uint16_t)i);
		virtq_kick(q);
	}
	rt_printf("net: ready ip=%u.%u.%u.%u mac=%02x:%02x:%02x:%02x:%02x:%02x features=0x%lx\n",
		  myip[0], myip[1], myip[2], myip[3], mac[0], mac[1], mac[2], mac[3], mac[4],
		  mac[5], features);
	for (unsigned qi = 0;; qi = (qi + 1) % pairs) {
		long len = take_frame(qi);
		if (len < 0) {
			cpu_relax();
			continue;
		}
		on_frame((uint32_t)len);
	}
}
