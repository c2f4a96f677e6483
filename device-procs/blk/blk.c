/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk device: configuration, features, queue kicks and the dev_ops
 * table. Requests are checked and run in blk_req.c.
 */
#include "blk_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_io.h"
#include "log.h"
#include "device-procs/virtio/virtio_pci.h"

static void blk_cfg_get(void *priv, uint8_t *c)
{
	struct blk_dev *d = priv;
	uint64_t cap = d->be->size / 512;
	for (int i = 0; i < 8; i++)
		c[VIRTIO_BLK_CFG_CAPACITY + i] = cap >> (8 * i);
	uint32_t seg_max = d->p.queue_size - 2;
	memcpy(c + VIRTIO_BLK_CFG_SEG_MAX, &seg_max, 4);
	uint32_t bs = 512;
	memcpy(c + VIRTIO_BLK_CFG_BLK_SIZE, &bs, 4);
	uint16_t nq = d->p.nqueues;
	memcpy(c + VIRTIO_BLK_CFG_NUM_QUEUES, &nq, 2);
	uint32_t v = BLK_MAX_DISCARD_SECTORS;
	memcpy(c + VIRTIO_BLK_CFG_MAX_DISCARD, &v, 4);
	v = BLK_MAX_DISCARD_SEG;
	memcpy(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, &v, 4);
	v = 1;
	memcpy(c + VIRTIO_BLK_CFG_DISCARD_ALIGN, &v, 4);
	v = BLK_MAX_WZ_SECTORS;
	memcpy(c + VIRTIO_BLK_CFG_MAX_WZ, &v, 4);
	v = BLK_MAX_DISCARD_SEG;
	memcpy(c + VIRTIO_BLK_CFG_MAX_WZ_SEG, &v, 4);
	c[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
}

static void blk_handle(void *priv, unsigned q, const struct virtq_req *req)
{
	blk__handle(priv, q, req);
}

static void blk_kick(void *priv, unsigned q)
{
	struct blk_dev *d = priv;
	virtio_pci__drain(&d->vp, q, &d->scratch, blk_handle);
}

/* The guest's reset (status 0): in-flight requests finish. No flush: that
 * may take longer than the vcpu-worker's ring bound (5 s), and the guest
 * asks for one with a FLUSH request. */
static void blk_reset(void *priv)
{
	struct blk_dev *d = priv;
	if (d->io)
		blk_io__drain(d->io);
}

static const struct virtio_dev_ops blk_virtio_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .cfg_size = VIRTIO_BLK_CFG_SIZE,
    .cfg_get = blk_cfg_get,
    .cfg_write = NULL,
    .kick = blk_kick,
    .reset = blk_reset,
};

VIRTIO_PCI_DEV_STATE(struct blk_dev, vp);

struct blk_dev *blk__new(struct blk_backend *be, const struct blk_params *p)
{
	if (!be || !be->ops || !p || p->nqueues < 1 || p->nqueues > VIRTIO_MAX_QUEUES)
		return NULL;
	uint16_t qs = p->queue_size ? p->queue_size : 128;
	if (qs < 4 || qs > VIRTQ_MAX_SIZE || (qs & (qs - 1)))
		return NULL;
	struct blk_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->be = be;
	d->p = *p;
	d->p.queue_size = qs;
	for (unsigned i = 0; i < p->nqueues; i++) {
		d->reqs[i] = calloc(qs, sizeof(struct blk_req));
		if (!d->reqs[i])
			goto fail;
	}
	uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;
	if (be->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	if (p->nqueues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	if (!be->readonly && be->ops->discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (!be->readonly && be->ops->write_zeroes)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	virtio_pci__init(&d->vp, &blk_virtio_ops, d, f, p->nqueues, qs);
	return d;
fail:
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		free(d->reqs[i]);
	free(d);
	return NULL;
}

void blk__free(struct blk_dev *d)
{
	if (!d)
		return;
	blk_io__free(d->io);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		free(d->reqs[i]);
	free(d);
}

struct virtio_pci *blk__transport(struct blk_dev *d)
{
	return &d->vp;
}

/*
 * After confinement: the I/O threads are started here, not in blk__new,
 * because unshare(CLONE_NEWUSER) refuses a multi-threaded process and
 * Landlock only confines the calling thread and its later children.
 */
static int blk_init(void *dev, struct dev_env *env)
{
	struct blk_dev *d = dev;
	if (!env->ram.host || d->io)
		return -EINVAL;
	/* One thread does every job of a single-threaded backend, in order. */
	unsigned nthreads = d->be->single_threaded && d->p.nthreads > 1 ? 1 : d->p.nthreads;
	d->io = blk_io__new(nthreads);
	if (!d->io)
		return -ENOMEM;
	virtio_pci__attach(&d->vp, env);
	return 0;
}

/* The image fds are used with positioned I/O only, never polled. */
static bool blk_backend_wanted(void *dev, unsigned i)
{
	(void)dev;
	(void)i;
	return false;
}

/*
 * IPC_OP_CTRL_RESET (the device-process fuzzer's, between inputs): the
 * guest's reset, then a flush, so the image the fuzzer reads next shows
 * every completed write (qcow2 writes back the metadata it caches). A
 * failed flush leaves the image as a FLUSH request's failure would.
 */
static void blk_ctrl_reset(void *dev)
{
	struct blk_dev *d = dev;
	virtio_pci__dev_reset(dev);
	(void)d->be->ops->flush(d->be);
}

const struct dev_ops blk_dev_ops = {
    .name = "virtio-blk",
    .init = blk_init,
    VIRTIO_PCI_DEV_IO,
    .reset = blk_ctrl_reset,
    .backend_ready = NULL,
    .backend_wanted = blk_backend_wanted,
};
