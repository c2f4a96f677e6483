/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk request handling. The main loop pops chains and checks every
 * header field and sector range; the I/O threads only run backend calls on
 * ranges already proven inside the disk, then write the status byte and
 * return the chain.
 */
#include "blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_io.h"
#include "log.h"
#include "device-procs/virtio/virtio_pci.h"

struct blk_discard_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req {
	struct blk_io_job job; /* first */
	struct blk_dev *dev;
	unsigned q;
	uint16_t head;
	bool busy; /* accessed atomically: head in flight */
	uint32_t type;
	uint64_t off, len;
	uint8_t *status;
	uint32_t written;
	unsigned nseg;
	struct blk_discard_seg seg[BLK_MAX_DISCARD_SEG];
	int niov;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

struct blk_dev {
	struct virtio_pci vp;
	struct blk_backend *be;
	struct blk_io *io;
	struct blk_params p;
	struct virtq_req scratch;		 /* popped chain, before it gets a slot */
	struct blk_req *reqs[VIRTIO_MAX_QUEUES]; /* [queue_size] per queue, by head */
};

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

/* Runs in an I/O thread (or inline): finish and hand the chain back. */
static void blk_finish(struct blk_req *r, uint8_t status)
{
	struct blk_dev *d = r->dev;
	unsigned q = r->q;
	uint16_t head = r->head;
	uint32_t written = r->written;
	*r->status = status;
	/* Free the slot before the used entry makes the head reusable. */
	__atomic_store_n(&r->busy, false, __ATOMIC_RELEASE);
	virtio_pci__complete(&d->vp, q, head, written);
}

/* Full transfer, resuming after short reads/writes. */
static int blk_rw(struct blk_req *r, bool write)
{
	struct blk_backend *be = r->dev->be;
	struct iovec *iov = r->iov;
	int n = r->niov;
	uint64_t off = r->off, left = r->len;
	while (left) {
		ssize_t got =
		    write ? be->ops->pwritev(be, iov, n, off) : be->ops->preadv(be, iov, n, off);
		if (got == -EINTR)
			continue;
		if (got <= 0 || (uint64_t)got > left)
			return got < 0 ? (int)got : -EIO;
		off += got;
		left -= got;
		while (n && (uint64_t)got >= iov->iov_len) {
			got -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + got;
			iov->iov_len -= got;
		}
	}
	return 0;
}

static void blk_job(struct blk_io_job *job)
{
	struct blk_req *r = (struct blk_req *)job;
	struct blk_backend *be = r->dev->be;
	int err = 0;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		err = blk_rw(r, false);
		break;
	case VIRTIO_BLK_T_OUT:
		err = blk_rw(r, true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		err = be->ops->flush(be);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		for (unsigned i = 0; i < r->nseg && !err; i++) {
			uint64_t off = r->seg[i].sector * 512,
				 len = (uint64_t)r->seg[i].num_sectors * 512;
			if (r->type == VIRTIO_BLK_T_DISCARD)
				err = be->ops->discard(be, off, len);
			else
				err = be->ops->write_zeroes(
				    be, off, len, r->seg[i].flags & VIRTIO_BLK_WZ_F_UNMAP);
		}
		break;
	}
	if (err)
		log__debug("blk: request type %u failed: %s", r->type, strerror(-err));
	blk_finish(r, err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* [sector, sector + bytes/512) inside the disk, without overflow. */
static bool range_ok(const struct blk_dev *d, uint64_t sector, uint64_t bytes)
{
	uint64_t cap = d->be->size / 512;
	if (bytes % 512)
		return false;
	return sector <= cap && bytes / 512 <= cap - sector;
}

static bool negotiated(const struct blk_dev *d, unsigned bit)
{
	return virtio_pci__has_feature(&d->vp, bit);
}

/* Check the segments of a DISCARD/WRITE_ZEROES; return a status or -1 if fine. */
static int parse_segments(struct blk_dev *d, struct blk_req *r, const struct virtq_req *vr)
{
	uint64_t bytes = vr->read_len - 16;
	if (bytes == 0 || bytes % 16 || bytes / 16 > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	r->nseg = bytes / 16;
	uint8_t raw[BLK_MAX_DISCARD_SEG * 16];
	iov__to_buf(vr->iov, vr->nread, 16, raw, bytes);
	for (unsigned i = 0; i < r->nseg; i++) {
		struct blk_discard_seg *s = &r->seg[i];
		memcpy(&s->sector, raw + 16 * i, 8);
		memcpy(&s->num_sectors, raw + 16 * i + 8, 4);
		memcpy(&s->flags, raw + 16 * i + 12, 4);
		uint32_t allowed = r->type == VIRTIO_BLK_T_WRITE_ZEROES ? VIRTIO_BLK_WZ_F_UNMAP : 0;
		if (s->flags & ~allowed)
			return VIRTIO_BLK_S_UNSUPP;
		uint32_t max =
		    r->type == VIRTIO_BLK_T_DISCARD ? BLK_MAX_DISCARD_SECTORS : BLK_MAX_WZ_SECTORS;
		if (s->num_sectors > max || !range_ok(d, s->sector, (uint64_t)s->num_sectors * 512))
			return VIRTIO_BLK_S_IOERR;
	}
	return -1;
}

/*
 * Turn a popped chain into a job. Returns a status to complete with at
 * once, or -1 when the job was submitted.
 */
static int blk_prepare(struct blk_dev *d, struct blk_req *r, const struct virtq_req *vr)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} hdr;
	uint64_t data;

	if (vr->read_len < sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	iov__to_buf(vr->iov, vr->nread, 0, &hdr, sizeof(hdr));
	r->type = hdr.type;
	const struct iovec *wiov = vr->iov + vr->nread;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		data = vr->write_len - 1;
		if (!range_ok(d, hdr.sector, data))
			return VIRTIO_BLK_S_IOERR;
		r->niov = iov__slice(wiov, vr->nwrite, 0, data, r->iov, VIRTQ_MAX_SIZE);
		if (r->niov < 0)
			return VIRTIO_BLK_S_IOERR;
		r->off = hdr.sector * 512;
		r->len = data;
		r->written = data + 1;
		break;
	case VIRTIO_BLK_T_OUT:
		if (d->be->readonly)
			return VIRTIO_BLK_S_IOERR;
		data = vr->read_len - sizeof(hdr);
		if (!range_ok(d, hdr.sector, data))
			return VIRTIO_BLK_S_IOERR;
		r->niov = iov__slice(vr->iov, vr->nread, sizeof(hdr), data, r->iov, VIRTQ_MAX_SIZE);
		if (r->niov < 0)
			return VIRTIO_BLK_S_IOERR;
		r->off = hdr.sector * 512;
		r->len = data;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (d->be->readonly)
			return VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (vr->write_len - 1 < VIRTIO_BLK_ID_BYTES)
			return VIRTIO_BLK_S_IOERR;
		iov__from_buf(wiov, vr->nwrite, 0, d->p.serial, VIRTIO_BLK_ID_BYTES);
		r->written = VIRTIO_BLK_ID_BYTES + 1;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		unsigned f = hdr.type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD
							      : VIRTIO_BLK_F_WRITE_ZEROES;
		bool have = hdr.type == VIRTIO_BLK_T_DISCARD ? d->be->ops->discard != NULL
							     : d->be->ops->write_zeroes != NULL;
		if (!negotiated(d, f) || !have)
			return VIRTIO_BLK_S_UNSUPP;
		if (d->be->readonly)
			return VIRTIO_BLK_S_IOERR;
		int st = parse_segments(d, r, vr);
		if (st >= 0)
			return st;
		break;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (!d->io)
		return VIRTIO_BLK_S_IOERR; /* not initialised */
	blk_io__submit(d->io, &r->job);
	return -1;
}

static void blk_handle(struct blk_dev *d, unsigned q, const struct virtq_req *vr)
{
	struct blk_req *r = &d->reqs[q][vr->head];

	/* The status byte is the last device-writable byte of the chain. */
	if (vr->write_len == 0) {
		log__info("blk: request without a status byte");
		virtio_pci__needs_reset(&d->vp, q);
		return;
	}
	if (__atomic_load_n(&r->busy, __ATOMIC_ACQUIRE)) {
		log__info("blk: head %u resubmitted while in flight", vr->head);
		virtio_pci__needs_reset(&d->vp, q);
		return;
	}
	const struct iovec *last = &vr->iov[vr->nread + vr->nwrite - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	r->dev = d;
	r->q = q;
	r->head = vr->head;
	r->written = 1;
	r->nseg = 0;
	r->niov = 0;
	r->job.fn = blk_job;
	__atomic_store_n(&r->busy, true, __ATOMIC_RELAXED);
	int st = blk_prepare(d, r, vr);
	if (st >= 0) {
		if (st != VIRTIO_BLK_S_OK)
			r->written = 1;
		blk_finish(r, st);
	}
}

static void blk_kick(void *priv, unsigned q)
{
	struct blk_dev *d = priv;
	struct virtq *vq = &d->vp.q[q].vq;
	bool rechecked = false;

	while (virtio_pci__queue_live(&d->vp, q)) {
		int r = virtq__pop(vq, &d->scratch);
		if (r < 0) {
			virtio_pci__needs_reset(&d->vp, q);
			return;
		}
		if (r == 0) {
			/* EVENT_IDX: publish where we are, then look once more. */
			if (!vq->event_idx || rechecked)
				return;
			virtq__update_avail_event(vq);
			rechecked = true;
			continue;
		}
		rechecked = false;
		blk_handle(d, q, &d->scratch);
	}
}

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

static uint64_t blk_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	struct blk_dev *d = dev;
	return region == 0 ? virtio_pci__read(&d->vp, off, size) : 0;
}

static void blk_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	struct blk_dev *d = dev;
	if (region == 0)
		virtio_pci__write(&d->vp, off, size, val);
}

static void blk_dev_kick(void *dev, unsigned i)
{
	struct blk_dev *d = dev;
	virtio_pci__kick(&d->vp, i);
}

const struct dev_ops blk_dev_ops = {
    .name = "virtio-blk",
    .init = blk_init,
    .read = blk_read,
    .write = blk_write,
    .kick = blk_dev_kick,
    .backend_ready = NULL,
};
