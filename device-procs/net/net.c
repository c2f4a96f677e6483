/* SPDX-License-Identifier: MIT */
/*
 * cellvm-net: virtio-net (virtio 1.2 section 5.1) between guest RAM and TAP
 * queue fds the broker opened (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, vnet
 * header NET_HDR_LEN bytes, non-blocking). Queues: rx i = 2i, tx i = 2i + 1
 * for each pair i, then the control queue. Region 0 is BAR0, kickfd[q] is
 * queue q's ioeventfd, irqfd[v] MSI-X vector v.
 *
 * Multiqueue: TAP queue fd i feeds rx queue i. Until the driver asks for
 * more pairs (VQ_PAIRS_SET) only pair 0 receives (5.1.6.5.5): the other TAP
 * queues are detached (TUNSETQUEUE), so the kernel steers nothing to them.
 * Tx queue i sends through TAP queue i while attached (else queue 0, which
 * always is), so the kernel steers a flow's answers back to its pair.
 *
 * Every descriptor is hostile: a frame from the TAP is read into a bounce
 * buffer and copied into the guest's buffers; a frame for the TAP is sent
 * with a header the device checked against the negotiated features. A frame
 * either side refuses is dropped and counted, never fatal. Offloads the
 * guest accepts are applied to the TAP (TUNSETOFFLOAD) once it is driving.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "device-procs/virtio/virtio_pci.h"
#include "log.h"
#include "net_cfg.h"

/* Feature bits (5.1.3) */
#define NET_F_CSUM	    0
#define NET_F_GUEST_CSUM    1
#define NET_F_MTU	    3
#define NET_F_MAC	    5
#define NET_F_GUEST_TSO4    7
#define NET_F_GUEST_TSO6    8
#define NET_F_HOST_TSO4	    11
#define NET_F_HOST_TSO6	    12
#define NET_F_MRG_RXBUF	    15
#define NET_F_STATUS	    16
#define NET_F_CTRL_VQ	    17
#define NET_F_CTRL_RX	    18
#define NET_F_MQ	    22
#define NET_F_CTRL_MAC_ADDR 23

/* struct virtio_net_hdr */
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_NONE	 0
#define GSO_TCPV4	 1
#define GSO_TCPV6	 4
#define GSO_ECN		 0x80

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
_Static_assert(sizeof(struct net_hdr) == NET_HDR_LEN, "virtio_net_hdr v1 is 12 bytes");

/* Config space (5.1.4) */
#define CFG_MAC	      0
#define CFG_STATUS    6
#define CFG_MAX_PAIRS 8
#define CFG_MTU	      10
#define CFG_SIZE      12
#define S_LINK_UP     1

/* Control queue (5.1.6.5) */
#define CTRL_RX		   0
#define CTRL_MAC	   1
#define CTRL_MAC_TABLE_SET 0
#define CTRL_MAC_ADDR_SET  1
#define CTRL_MQ		   4
#define CTRL_MQ_PAIRS_SET  0
#define CTRL_OK		   0
#define CTRL_ERR	   1
#define CTRL_MAX_CMD	   64 /* bytes of command we look at; longer ones are refused */

#define QUEUE_SIZE 256
#define RX_BUDGET  64  /* frames from one TAP before the main loop looks elsewhere */
#define TX_BUDGET  128 /* frames of one tx queue per kick, same reason */

/* Frames dropped, by kind (drop_why[] below says each one's reason). */
enum { DROP_TX_BAD, DROP_TX_TAP, DROP_RX_SHORT, DROP_RX_BAD, DROP_RX_NOROOM, DROP_COUNT };

struct net_dev {
	struct virtio_pci vp;
	struct net_cfg c;
	uint8_t mac0[6]; /* the broker's address, which a reset restores */
	unsigned npairs, ctrlq;
	unsigned active; /* pairs the driver uses: TAP queues 0..active-1 are attached */
	int tap[NET_MAX_PAIRS];
	bool attached[NET_MAX_PAIRS];
	uint64_t applied; /* driver features the TAP offloads were set for; ~0: not yet */
	/* rx: one frame (vnet header first) read from TAP i, waiting for buffers */
	uint8_t *frame[NET_MAX_PAIRS];
	size_t frame_len[NET_MAX_PAIRS];
	struct virtq_req first, cur; /* rx: the frame's first chain, and the next one */
	uint16_t heads[VIRTQ_MAX_SIZE];
	uint32_t lens[VIRTQ_MAX_SIZE];
	struct virtq_req req; /* tx and control */
	struct iovec txiov[VIRTQ_MAX_SIZE + 1];
	uint64_t drops[DROP_COUNT];
};
VIRTIO_PCI_DEV_STATE(struct net_dev, vp);

static const char *const drop_why[DROP_COUNT] = {
    [DROP_TX_BAD] = "tx frames with a bad header or length",
    [DROP_TX_TAP] = "tx frames the TAP refused",
    [DROP_RX_SHORT] = "rx frames shorter than a vnet and an Ethernet header",
    [DROP_RX_BAD] = "rx frames with offloads the guest did not accept",
    [DROP_RX_NOROOM] = "rx frames larger than the guest's buffers",
};

/* Count a dropped frame; say so at 1, 2, 4, 8, ... of a kind. */
static void drop(struct net_dev *d, unsigned why)
{
	uint64_t n = ++d->drops[why];
	if (!(n & (n - 1)))
		log__info("dropped %llu %s", (unsigned long long)n, drop_why[why]);
}

static bool has(const struct net_dev *d, unsigned bit)
{
	return virtio_pci__has_feature(&d->vp, bit);
}

static void net_cfg_get(void *priv, uint8_t *c)
{
	struct net_dev *d = priv;
	memcpy(c + CFG_MAC, d->c.mac, 6);
	uint16_t v = S_LINK_UP;
	memcpy(c + CFG_STATUS, &v, 2);
	v = (uint16_t)d->npairs;
	memcpy(c + CFG_MAX_PAIRS, &v, 2);
	memcpy(c + CFG_MTU, &d->c.mtu, 2);
}

/* The TAP may hand us what the guest accepted, nothing more. */
static void apply_offloads(struct net_dev *d)
{
	uint64_t f = d->vp.driver_features;
	if (d->applied == f)
		return;
	unsigned off = 0;
	if (has(d, NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (has(d, NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (has(d, NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	/* Offloads belong to the interface: one queue sets them for all. */
	if (ioctl(d->tap[0], TUNSETOFFLOAD, off) < 0)
		log__err("TUNSETOFFLOAD %#x: %s", off, strerror(errno));
	d->applied = f;
}

/* Use pairs 0..k-1: attach their TAP queues, detach the others'. */
static bool set_active(struct net_dev *d, unsigned k)
{
	bool ok = true;
	for (unsigned p = 1; p < d->npairs; p++) {
		bool want = p < k;
		if (d->attached[p] == want)
			continue;
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(d->tap[p], TUNSETQUEUE, &ifr) < 0) {
			log__err("TAP queue %u: TUNSETQUEUE: %s", p, strerror(errno));
			ok = false;
			continue;
		}
		d->attached[p] = want;
		if (!want)
			d->frame_len[p] = 0; /* no rx queue for it any more */
	}
	d->active = k;
	return ok;
}

/* ---- rx: TAP -> guest --------------------------------------------------- */

/* Is the header of a frame from the TAP one the guest agreed to? Fix it up. */
static bool rx_header_ok(struct net_dev *d, struct net_hdr *h)
{
	if ((h->flags & HDR_F_NEEDS_CSUM) && !has(d, NET_F_GUEST_CSUM))
		return false;
	if (!has(d, NET_F_GUEST_CSUM))
		h->flags &= (uint8_t)~HDR_F_DATA_VALID;
	switch (h->gso_type & (uint8_t)~GSO_ECN) {
	case GSO_NONE:
		break;
	case GSO_TCPV4:
		if (!has(d, NET_F_GUEST_TSO4))
			return false;
		break;
	case GSO_TCPV6:
		if (!has(d, NET_F_GUEST_TSO6))
			return false;
		break;
	default:
		return false;
	}
	if (h->gso_type & GSO_ECN)
		return false; /* GUEST_ECN is not offered */
	h->num_buffers = 1;
	return true;
}

/*
 * Copy pair p's waiting frame into rx queue 2p's buffers. Returns true when
 * the frame is gone (delivered or dropped), false when it waits for buffers.
 */
static bool rx_deliver(struct net_dev *d, unsigned p)
{
	unsigned q = 2 * p;
	struct virtq *vq = &d->vp.q[q].vq;
	const size_t total = d->frame_len[p];
	const bool mrg = has(d, NET_F_MRG_RXBUF);
	uint64_t off = 0;
	unsigned n = 0;
	bool retried = false;

	if (!virtio_pci__queue_live(&d->vp, q))
		return false;
	while (off < total) {
		struct virtq_req *r = n == 0 ? &d->first : &d->cur;
		int k = virtq__pop(vq, r);
		if (k < 0) {
			virtio_pci__needs_reset(&d->vp, q);
			return true;
		}
		if (k == 0) {
			/* Not enough buffers yet: give back what we took, ask for a kick
			 * on the next one, and look once more (it may have come). */
			virtq__unpop(vq, (uint16_t)n);
			virtq__notify_on_more(vq);
			if (retried || virtq__avail_empty(vq))
				return false;
			retried = true;
			if (n) {
				n = 0;
				off = 0;
			}
			continue;
		}
		/* Receive buffers are device-writable only (5.1.6.3), each holds a header. */
		if (r->nread || r->write_len < NET_HDR_LEN) {
			virtio_pci__needs_reset(&d->vp, q);
			return true;
		}
		uint64_t c = total - off < r->write_len ? total - off : r->write_len;
		if (!mrg && c < total) {
			virtq__unpop(vq, 1); /* kept for a smaller frame */
			drop(d, DROP_RX_NOROOM);
			return true;
		}
		iov__from_buf(r->iov, r->nwrite, 0, d->frame[p] + off, c);
		d->heads[n] = r->head;
		d->lens[n] = (uint32_t)c;
		n++;
		off += c;
		if (off < total && n == vq->size) {
			/* The whole ring cannot hold it. */
			virtq__unpop(vq, (uint16_t)n);
			drop(d, DROP_RX_NOROOM);
			return true;
		}
	}
	uint16_t nb = (uint16_t)n;
	iov__from_buf(d->first.iov, d->first.nwrite, offsetof(struct net_hdr, num_buffers), &nb,
		      sizeof(nb));
	for (unsigned i = 0; i < n; i++)
		virtio_pci__complete(&d->vp, q, d->heads[i], d->lens[i]);
	return true;
}

static void rx_pair(struct net_dev *d, unsigned p)
{
	apply_offloads(d);
	for (unsigned budget = RX_BUDGET; budget; budget--) {
		if (d->frame_len[p]) {
			if (!rx_deliver(d, p))
				return;
			d->frame_len[p] = 0;
		}
		ssize_t n = read(d->tap[p], d->frame[p], NET_HDR_LEN + NET_MAX_FRAME);
		if (n < 0)
			return; /* EAGAIN: drained */
		struct net_hdr h;
		if ((size_t)n < NET_HDR_LEN + 14) {
			drop(d, DROP_RX_SHORT);
			continue;
		}
		memcpy(&h, d->frame[p], sizeof(h));
		if (!rx_header_ok(d, &h)) {
			drop(d, DROP_RX_BAD);
			continue;
		}
		memcpy(d->frame[p], &h, sizeof(h));
		d->frame_len[p] = (size_t)n;
	}
}

/* TAP fd p is readable. */
static void net_backend_ready(void *dev, unsigned p)
{
	rx_pair(dev, p);
}

/* Poll TAP p while its rx queue runs and no frame of it waits for buffers. */
static bool net_backend_wanted(void *dev, unsigned p)
{
	struct net_dev *d = dev;
	return p < d->active && d->frame_len[p] == 0 && virtio_pci__queue_live(&d->vp, 2 * p);
}

/* ---- tx: guest -> TAP --------------------------------------------------- */

static bool tx_header_ok(struct net_dev *d, struct net_hdr *h)
{
	if ((h->flags & HDR_F_NEEDS_CSUM) && !has(d, NET_F_CSUM))
		return false;
	h->flags &= HDR_F_NEEDS_CSUM;
	switch (h->gso_type) {
	case GSO_NONE:
		break;
	case GSO_TCPV4:
		if (!has(d, NET_F_HOST_TSO4))
			return false;
		break;
	case GSO_TCPV6:
		if (!has(d, NET_F_HOST_TSO6))
			return false;
		break;
	default:
		return false; /* ECN and UFO are not offered */
	}
	h->num_buffers = 0;
	return true;
}

static void tx_one(struct net_dev *d, unsigned q, const struct virtq_req *r)
{
	struct net_hdr h;
	uint64_t len = r->read_len;
	if (len < NET_HDR_LEN + 14 || len > NET_HDR_LEN + NET_MAX_FRAME) {
		drop(d, DROP_TX_BAD);
		goto done;
	}
	/* Our own copy of the header: the guest can rewrite its buffer under us. */
	iov__to_buf(r->iov, r->nread, 0, &h, sizeof(h));
	if (!tx_header_ok(d, &h)) {
		drop(d, DROP_TX_BAD);
		goto done;
	}
	d->txiov[0] = (struct iovec){&h, sizeof(h)};
	int k = iov__slice(r->iov, r->nread, NET_HDR_LEN, len - NET_HDR_LEN, d->txiov + 1,
			   VIRTQ_MAX_SIZE);
	/* Its pair's TAP queue while attached (the kernel learns the flow's queue), else queue 0.
	 */
	unsigned p = q / 2 < d->active && d->attached[q / 2] ? q / 2 : 0;
	if (k < 0 || writev(d->tap[p], d->txiov, k + 1) < 0)
		drop(d, DROP_TX_TAP);
done:
	virtio_pci__complete(&d->vp, q, r->head, 0);
}

static void tx_cb(void *priv, unsigned q, const struct virtq_req *r)
{
	tx_one(priv, q, r);
}

static void tx_queue(struct net_dev *d, unsigned q)
{
	virtio_pci__drain_budget(&d->vp, q, &d->req, TX_BUDGET, tx_cb);
}

/* ---- control queue -------------------------------------------------------- */

static uint8_t ctrl_cmd(struct net_dev *d, const uint8_t *cmd, uint64_t len)
{
	if (len < 2)
		return CTRL_ERR;
	switch (cmd[0]) {
	case CTRL_RX:
		/* Promiscuous and all-multicast: the TAP delivers every frame anyway. */
		return has(d, NET_F_CTRL_RX) && len == 3 && cmd[2] <= 1 ? CTRL_OK : CTRL_ERR;
	case CTRL_MAC:
		/* MAC table: no filtering, every frame is delivered. */
		if (cmd[1] == CTRL_MAC_TABLE_SET)
			return has(d, NET_F_CTRL_RX) ? CTRL_OK : CTRL_ERR;
		/* The guest's new address, shown in config space from now on; the
		 * TAP never filtered by it (a guest could always send from any). */
		if (cmd[1] != CTRL_MAC_ADDR_SET || !has(d, NET_F_CTRL_MAC_ADDR) || len != 8 ||
		    (cmd[2] & 1) || !(cmd[2] | cmd[3] | cmd[4] | cmd[5] | cmd[6] | cmd[7]))
			return CTRL_ERR;
		memcpy(d->c.mac, cmd + 2, 6);
		return CTRL_OK;
	case CTRL_MQ: {
		uint16_t pairs;
		if (!has(d, NET_F_MQ) || cmd[1] != CTRL_MQ_PAIRS_SET || len != 4)
			return CTRL_ERR;
		memcpy(&pairs, cmd + 2, 2);
		if (pairs < 1 || pairs > d->npairs)
			return CTRL_ERR;
		return set_active(d, pairs) ? CTRL_OK : CTRL_ERR;
	}
	default:
		return CTRL_ERR;
	}
}

static void ctrl_one(void *priv, unsigned q, const struct virtq_req *r)
{
	struct net_dev *d = priv;
	uint8_t cmd[CTRL_MAX_CMD], ack = CTRL_ERR;
	uint32_t written = 0;
	/* class, command, data (readable); ack (the last writable byte) */
	if (r->write_len >= 1) {
		if (r->read_len <= sizeof(cmd)) {
			iov__to_buf(r->iov, r->nread, 0, cmd, r->read_len);
			ack = ctrl_cmd(d, cmd, r->read_len);
		}
		iov__from_buf(r->iov + r->nread, r->nwrite, r->write_len - 1, &ack, 1);
		written = 1;
	}
	virtio_pci__complete(&d->vp, q, r->head, written);
}

/* ---- the transport's hooks ----------------------------------------------- */

static void net_kick(void *priv, unsigned q)
{
	struct net_dev *d = priv;
	if (q == d->ctrlq)
		virtio_pci__drain(&d->vp, q, &d->req, ctrl_one);
	else if (q & 1)
		tx_queue(d, q);
	else if (q / 2 < d->active)
		rx_pair(d, q / 2); /* new buffers: the waiting frame, then the TAP */
}

static void net_reset(void *priv)
{
	struct net_dev *d = priv;
	for (unsigned p = 0; p < d->npairs; p++)
		d->frame_len[p] = 0;
	set_active(d, 1);
	memcpy(d->c.mac, d->mac0, 6); /* a reset forgets CTRL_MAC_ADDR_SET */
}

static const struct virtio_dev_ops net_virtio_ops = {
    .device_id = VIRTIO_ID_NET,
    .cfg_size = CFG_SIZE,
    .cfg_get = net_cfg_get,
    .kick = net_kick,
    .reset = net_reset,
};

static void *net_create(struct dev_env *env, char *err, size_t n)
{
	struct net_cfg c;
	memcpy(&c, env->cfg, sizeof(c));
	unsigned nq = 2u * c.npairs + 1;
	if (c.npairs < 1 || c.npairs > NET_MAX_PAIRS || env->nbackend != c.npairs ||
	    env->nkickfd != nq || env->nirqfd != nq + 1 || nq > VIRTIO_MAX_QUEUES) {
		snprintf(err, n,
			 "net: %u queue pairs need as many TAP fds, %u kick and %u interrupt "
			 "fds (got %u, %u, %u)",
			 c.npairs, nq, nq + 1, env->nbackend, env->nkickfd, env->nirqfd);
		return NULL;
	}
	if ((c.mac[0] & 1) || !(c.mac[0] | c.mac[1] | c.mac[2] | c.mac[3] | c.mac[4] | c.mac[5])) {
		snprintf(err, n, "net: bad MAC address");
		return NULL;
	}
	struct net_dev *d = calloc(1, sizeof(*d));
	if (!d)
		goto oom;
	d->c = c;
	memcpy(d->mac0, c.mac, 6);
	d->npairs = c.npairs;
	d->ctrlq = 2 * c.npairs;
	d->applied = ~0ull;
	for (unsigned p = 0; p < d->npairs; p++) {
		d->tap[p] = env->backend_fd[p];
		d->attached[p] = true; /* as the broker attached them */
		if (!(d->frame[p] = malloc(NET_HDR_LEN + NET_MAX_FRAME)))
			goto oom;
	}
	uint64_t f = 1ull << NET_F_MAC | 1ull << NET_F_STATUS | 1ull << NET_F_MRG_RXBUF |
		     1ull << NET_F_CSUM | 1ull << NET_F_GUEST_CSUM | 1ull << NET_F_HOST_TSO4 |
		     1ull << NET_F_HOST_TSO6 | 1ull << NET_F_GUEST_TSO4 | 1ull << NET_F_GUEST_TSO6 |
		     1ull << NET_F_CTRL_VQ | 1ull << NET_F_CTRL_RX | 1ull << NET_F_CTRL_MAC_ADDR;
	if (d->npairs > 1)
		f |= 1ull << NET_F_MQ;
	/* 68: the IPv4 minimum (RFC 791); any u16 MTU fits NET_MAX_FRAME */
	if (c.mtu >= 68)
		f |= 1ull << NET_F_MTU;
	virtio_pci__init(&d->vp, &net_virtio_ops, d, f, nq, QUEUE_SIZE);
	return d;
oom:
	if (d)
		for (unsigned p = 0; p < NET_MAX_PAIRS; p++)
			free(d->frame[p]);
	free(d);
	snprintf(err, n, "net: out of memory");
	return NULL;
}

static int net_init(void *dev, struct dev_env *env)
{
	struct net_dev *d = dev;
	if (!env->ram.host)
		return -EINVAL;
	/* Only pair 0 receives until the driver asks for more. */
	if (!set_active(d, 1))
		return -EIO;
	virtio_pci__attach(&d->vp, env);
	return 0;
}

static const struct dev_ops net_dev_ops = {
    .name = "virtio-net",
    .init = net_init,
    VIRTIO_PCI_DEV_OPS,
    .backend_ready = net_backend_ready,
    .backend_wanted = net_backend_wanted,
};

const struct dev_desc dev__desc = {
    .type = "net",
    .ops = &net_dev_ops,
    .limits = {.nregions = 1, .pio_mask = 0, .size = {VIRTIO_PCI_BAR0_SIZE}},
    .create = net_create,
};
