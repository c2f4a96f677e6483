/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci modern register model: common configuration, ISR, device
 * configuration delegation and the notify area (for notifications that did
 * not go through an ioeventfd). Register accesses come from the device's
 * main loop only; I/O threads touch a queue's used ring under its lock.
 */
#include "virtio_pci.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void virtio_pci__init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *priv,
		      uint64_t features, unsigned nqueues, uint16_t queue_max)
{
	memset(vp, 0, sizeof(*vp));
	vp->ops = ops;
	vp->priv = priv;
	if (nqueues > VIRTIO_MAX_QUEUES)
		nqueues = VIRTIO_MAX_QUEUES;
	vp->nqueues = nqueues;
	vp->device_features = features | 1ull << VIRTIO_F_VERSION_1 |
			      1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &vp->q[i];
		pthread_mutex_init(&q->lock, NULL);
		q->max_size = i < nqueues ? queue_max : 0;
		q->size = q->max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
}

void virtio_pci__attach(struct virtio_pci *vp, struct dev_env *env)
{
	vp->env = env;
}

bool virtio_pci__has_feature(const struct virtio_pci *vp, unsigned bit)
{
	return bit < 64 && (vp->driver_features >> bit & 1);
}

static void raise_vector(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	__atomic_fetch_or(&vp->isr, isr_bit, __ATOMIC_SEQ_CST);
	if (vector != VIRTIO_MSI_NO_VECTOR && vp->env && vector < vp->env->nirqfd)
		dev__irq(vp->env, vector);
}

bool virtio_pci__queue_live(const struct virtio_pci *vp, unsigned q)
{
	return q < vp->nqueues && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & VIRTIO_STATUS_NEEDS_RESET) && vp->q[q].enabled && !vp->q[q].broken;
}

void virtio_pci__needs_reset(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->nqueues)
		vp->q[q].broken = true;
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log__info("virtio %u: driver error on queue %u, device needs reset", vp->ops->device_id, q);
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	raise_vector(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

void virtio_pci__complete(struct virtio_pci *vp, unsigned q, uint16_t head, uint32_t written)
{
	struct virtio_queue *vq = &vp->q[q];
	pthread_mutex_lock(&vq->lock);
	/* A reset waits for in-flight requests, so the ring is still set up. */
	virtq__push(&vq->vq, head, written);
	bool notify = virtq__should_notify(&vq->vq);
	uint16_t vector = vq->msix_vector;
	pthread_mutex_unlock(&vq->lock);
	if (notify)
		raise_vector(vp, vector, VIRTIO_ISR_QUEUE);
}

static void device_reset(struct virtio_pci *vp)
{
	if (vp->ops->reset)
		vp->ops->reset(vp->priv);
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	vp->status = 0;
	__atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_queue *q = &vp->q[i];
		pthread_mutex_lock(&q->lock);
		memset(&q->vq, 0, sizeof(q->vq));
		q->size = q->max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = q->broken = false;
		q->desc = q->driver = q->device = 0;
		pthread_mutex_unlock(&q->lock);
	}
}

/* A vector with no irqfd reads back as NO_VECTOR (4.1.5.1.2). */
static uint16_t usable_vector(const struct virtio_pci *vp, uint64_t val)
{
	if (!vp->env || val >= vp->env->nirqfd)
		return VIRTIO_MSI_NO_VECTOR;
	return val;
}

static struct virtio_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->nqueues ? &vp->q[vp->queue_select] : NULL;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void common_image(struct virtio_pci *vp, uint8_t *c)
{
	struct virtio_queue *q = selected(vp);
	memset(c, 0, VIRTIO_PCI_COMMON_LEN);
	put_le(c + VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect, 4);
	put_le(c + VIRTIO_PCI_COMMON_DF,
	       vp->dfselect < 2 ? (uint32_t)(vp->device_features >> (32 * vp->dfselect)) : 0, 4);
	put_le(c + VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect, 4);
	put_le(c + VIRTIO_PCI_COMMON_GF,
	       vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0, 4);
	put_le(c + VIRTIO_PCI_COMMON_MSIX, vp->config_vector, 2);
	put_le(c + VIRTIO_PCI_COMMON_NUMQ, vp->nqueues, 2);
	c[VIRTIO_PCI_COMMON_STATUS] = vp->status;
	c[VIRTIO_PCI_COMMON_CFGGEN] = vp->config_generation;
	put_le(c + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select, 2);
	if (!q)
		return; /* queue_size 0: no such queue */
	put_le(c + VIRTIO_PCI_COMMON_Q_SIZE, q->size, 2);
	put_le(c + VIRTIO_PCI_COMMON_Q_MSIX, q->msix_vector, 2);
	put_le(c + VIRTIO_PCI_COMMON_Q_ENABLE, q->enabled, 2);
	put_le(c + VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select, 2);
	put_le(c + VIRTIO_PCI_COMMON_Q_DESC, q->desc, 8);
	put_le(c + VIRTIO_PCI_COMMON_Q_DRIVER, q->driver, 8);
	put_le(c + VIRTIO_PCI_COMMON_Q_DEVICE, q->device, 8);
}

static uint64_t read_bytes(const uint8_t *img, uint64_t len, uint64_t off, unsigned size)
{
	if (off >= len || size > len - off)
		return 0;
	return get_le(img + off, size);
}

uint64_t virtio_pci__read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return 0;
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		uint8_t c[VIRTIO_PCI_COMMON_LEN];
		common_image(vp, c);
		return read_bytes(c, sizeof(c), off - VIRTIO_PCI_COMMON_OFF, size);
	}
	if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
		/* Read to clear. */
		if (off != VIRTIO_PCI_ISR_OFF)
			return 0;
		return __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_LEN) {
		uint8_t cfg[VIRTIO_MAX_CFG] = {0};
		uint32_t n = vp->ops->cfg_size;
		if (n > VIRTIO_MAX_CFG)
			n = VIRTIO_MAX_CFG;
		if (vp->ops->cfg_get)
			vp->ops->cfg_get(vp->priv, cfg);
		return read_bytes(cfg, n, off - VIRTIO_PCI_DEVICE_OFF, size);
	}
	return 0; /* notify area and holes read as zero */
}

static bool features_ok(struct virtio_pci *vp)
{
	if (vp->driver_features & ~vp->device_features) {
		log__info("virtio: driver accepted unoffered features %#llx",
			  (unsigned long long)(vp->driver_features & ~vp->device_features));
		return false;
	}
	if (!virtio_pci__has_feature(vp, VIRTIO_F_VERSION_1)) {
		log__info("virtio: driver did not accept VIRTIO_F_VERSION_1");
		return false;
	}
	return true;
}

static void write_status(struct virtio_pci *vp, uint8_t val)
{
	if (val == 0) {
		device_reset(vp);
		return;
	}
	uint8_t old = vp->status & ~VIRTIO_STATUS_NEEDS_RESET;
	if (old & ~val)
		return; /* only a reset clears bits */
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_ok(vp))
		val &= ~VIRTIO_STATUS_FEATURES_OK; /* the driver sees it did not stick */
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK))
		val &= ~VIRTIO_STATUS_DRIVER_OK;
	vp->status = (val & ~VIRTIO_STATUS_NEEDS_RESET) | (vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void enable_queue(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_queue *q = &vp->q[qi];
	if (q->enabled || !(vp->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (vp->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (!vp->env || !vp->env->ram.host) {
		virtio_pci__needs_reset(vp, qi);
		return;
	}
	pthread_mutex_lock(&q->lock);
	int r = virtq__init(&q->vq, &vp->env->ram, q->size, q->desc, q->driver, q->device,
			    virtio_pci__has_feature(vp, VIRTIO_F_EVENT_IDX),
			    virtio_pci__has_feature(vp, VIRTIO_F_INDIRECT_DESC));
	pthread_mutex_unlock(&q->lock);
	if (r < 0) {
		log__info("virtio: queue %u: bad size or ring addresses", qi);
		virtio_pci__needs_reset(vp, qi);
		return;
	}
	q->enabled = true;
}

/* 64-bit queue address written whole or as two 32-bit halves. */
static void write_addr(uint64_t *field, uint64_t off, unsigned size, uint64_t val)
{
	if (size == 8 && off == 0)
		*field = val;
	else if (size == 4 && off == 0)
		*field = (*field & ~0xffffffffull) | (uint32_t)val;
	else if (size == 4 && off == 4)
		*field = (*field & 0xffffffffull) | (uint64_t)(uint32_t)val << 32;
}

static void common_write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_queue *q = selected(vp);
	/* Queue fields are frozen once the queue is enabled or the driver is live. */
	bool q_writable = q && !q->enabled && !(vp->status & VIRTIO_STATUS_DRIVER_OK);

	if (off >= VIRTIO_PCI_COMMON_Q_DESC && off < VIRTIO_PCI_COMMON_LEN) {
		uint64_t base = off >= VIRTIO_PCI_COMMON_Q_DEVICE   ? VIRTIO_PCI_COMMON_Q_DEVICE
				: off >= VIRTIO_PCI_COMMON_Q_DRIVER ? VIRTIO_PCI_COMMON_Q_DRIVER
								    : VIRTIO_PCI_COMMON_Q_DESC;
		if (!q_writable)
			return;
		uint64_t *f = base == VIRTIO_PCI_COMMON_Q_DESC	   ? &q->desc
			      : base == VIRTIO_PCI_COMMON_Q_DRIVER ? &q->driver
								   : &q->device;
		write_addr(f, off - base, size, val);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (size == 4)
			vp->dfselect = val;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (size == 4)
			vp->gfselect = val;
		break;
	case VIRTIO_PCI_COMMON_GF:
		if (size != 4 || vp->gfselect > 1 || (vp->status & VIRTIO_STATUS_FEATURES_OK))
			break;
		if (vp->gfselect)
			vp->driver_features =
			    (vp->driver_features & 0xffffffffull) | (uint64_t)(uint32_t)val << 32;
		else
			vp->driver_features =
			    (vp->driver_features & ~0xffffffffull) | (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		if (size == 2)
			vp->config_vector = usable_vector(vp, val);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (size == 1)
			write_status(vp, val);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (size == 2)
			vp->queue_select = val;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		/* Checked (power of two, <= max) when the queue is enabled. */
		if (size == 2 && q_writable)
			q->size = val <= q->max_size ? val : 0;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (size == 2 && q) {
			pthread_mutex_lock(&q->lock);
			q->msix_vector = usable_vector(vp, val);
			pthread_mutex_unlock(&q->lock);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* Writing 0 is forbidden to the driver (4.1.4.3.2); ignore it. */
		if (size == 2 && val == 1 && q)
			enable_queue(vp, vp->queue_select);
		break;
	default:
		break; /* read-only or not a field boundary */
	}
}

void virtio_pci__kick(struct virtio_pci *vp, unsigned q)
{
	if (!virtio_pci__queue_live(vp, q))
		return;
	vp->ops->kick(vp->priv, q);
}

void virtio_pci__write(struct virtio_pci *vp, uint64_t off, unsigned size, uint64_t val)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return;
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		common_write(vp, off - VIRTIO_PCI_COMMON_OFF, size, val);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_LEN) {
		uint64_t o = off - VIRTIO_PCI_DEVICE_OFF;
		if (vp->ops->cfg_write && o < vp->ops->cfg_size && size <= vp->ops->cfg_size - o)
			vp->ops->cfg_write(vp->priv, o, size, val);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_LEN) {
		/* A notification that missed the ioeventfd (e.g. odd width). */
		uint64_t o = off - VIRTIO_PCI_NOTIFY_OFF;
		if (o % VIRTIO_PCI_NOTIFY_MULT == 0)
			virtio_pci__kick(vp, o / VIRTIO_PCI_NOTIFY_MULT);
	}
	/* ISR is read-only; the MSI-X pages belong to the vcpu-worker. */
}

void virtio_pci__drain_budget(struct virtio_pci *vp, unsigned q, struct virtq_req *req,
			      unsigned budget,
			      void (*fn)(void *priv, unsigned q, const struct virtq_req *req))
{
	struct virtq *vq = &vp->q[q].vq;
	bool rechecked = false, bounded = budget != 0;

	/* No kicks needed while we drain the ring. */
	virtq__disable_notify(vq);
	while (virtio_pci__queue_live(vp, q)) {
		if (bounded && !budget--) {
			/* More to do: come back after the other fds had their turn. */
			uint64_t one = 1;
			if (write(vp->env->kickfd[q], &one, sizeof(one)) < 0)
				virtq__enable_notify(vq);
			return;
		}
		int r = virtq__pop(vq, req);
		if (r < 0) {
			virtio_pci__needs_reset(vp, q);
			return;
		}
		if (r == 0) {
			/* Ask for kicks again, then look once more. */
			if (rechecked)
				return;
			virtq__enable_notify(vq);
			rechecked = true;
			continue;
		}
		if (rechecked) {
			virtq__disable_notify(vq);
			rechecked = false;
		}
		fn(vp->priv, q, req);
	}
}

void virtio_pci__drain(struct virtio_pci *vp, unsigned q, struct virtq_req *req,
		       void (*fn)(void *priv, unsigned q, const struct virtq_req *req))
{
	virtio_pci__drain_budget(vp, q, req, 0, fn);
}

/* ---- dev_ops glue: a virtio device's state starts with its virtio_pci ---- */

uint64_t virtio_pci__dev_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	return region == 0 ? virtio_pci__read(dev, off, size) : 0;
}

void virtio_pci__dev_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	if (region == 0)
		virtio_pci__write(dev, off, size, val);
}

void virtio_pci__dev_kick(void *dev, unsigned i)
{
	virtio_pci__kick(dev, i);
}

void virtio_pci__dev_reset(void *dev)
{
	write_status(dev, 0);
}
