/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk requests: the main loop checks every header field and sector
 * range (blk__handle); the I/O threads only run backend calls on ranges
 * already proven inside the disk, then write the status byte and return the
 * chain (blk_job).
 */
#include "blk_priv.h"

#include <errno.h>
#include <string.h>

#include "log.h"

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

/* Consume `got` (<= r->len) bytes: move the offset and the iovec window. */
static void blk_advance(struct blk_req *r, uint64_t got)
{
	r->off += got;
	r->len -= got;
	while (r->niov && got >= r->iov[r->iov0].iov_len) {
		got -= r->iov[r->iov0].iov_len;
		r->iov0++;
		r->niov--;
	}
	if (r->niov && got) {
		r->iov[r->iov0].iov_base = (uint8_t *)r->iov[r->iov0].iov_base + got;
		r->iov[r->iov0].iov_len -= got;
	}
}

/* Full transfer of what is left, resuming after short reads/writes. */
static int blk_rw(struct blk_req *r, bool write)
{
	struct blk_backend *be = r->dev->be;
	while (r->len) {
		struct iovec *iov = r->iov + r->iov0;
		ssize_t got = write ? be->ops->pwritev(be, iov, r->niov, r->off)
				    : be->ops->preadv(be, iov, r->niov, r->off);
		if (got == -EINTR)
			continue;
		if (got <= 0 || (uint64_t)got > r->len)
			return got < 0 ? (int)got : -EIO;
		blk_advance(r, (uint64_t)got);
	}
	return 0;
}

/*
 * Larger requests always go to the I/O threads: a 1 MiB copy holds the main
 * loop for 100+ us, and inline 1 MiB reads halved sequential throughput at
 * queue depth 4 in A/B runs (docs/virtio.md).
 */
#define BLK_INLINE_MAX (64u << 10)

/*
 * On the main loop: move what the backend can move without waiting (page
 * cache hits). True when the whole transfer is done; otherwise what is left
 * goes to an I/O thread, which also reports any error.
 */
static bool blk_rw_inline(struct blk_dev *d, struct blk_req *r, bool write)
{
	struct blk_backend *be = d->be;
	ssize_t (*fn)(struct blk_backend *, const struct iovec *, int, uint64_t) =
	    write ? be->ops->pwritev_nowait : be->ops->preadv_nowait;
	if (!fn || d->no_nowait[write] || r->len > BLK_INLINE_MAX)
		return false;
	while (r->len) {
		ssize_t got = fn(be, r->iov + r->iov0, r->niov, r->off);
		if (got == -EINTR)
			continue;
		if (got == -EOPNOTSUPP)
			d->no_nowait[write] = true;
		if (got <= 0 || (uint64_t)got > r->len)
			return false;
		blk_advance(r, (uint64_t)got);
	}
	return true;
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
	if ((hdr.type == VIRTIO_BLK_T_IN || hdr.type == VIRTIO_BLK_T_OUT) &&
	    blk_rw_inline(d, r, hdr.type == VIRTIO_BLK_T_OUT))
		return VIRTIO_BLK_S_OK;
	blk_io__submit(d->io, &r->job);
	return -1;
}

void blk__handle(struct blk_dev *d, unsigned q, const struct virtq_req *vr)
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
	r->iov0 = 0;
	r->job.fn = blk_job;
	__atomic_store_n(&r->busy, true, __ATOMIC_RELAXED);
	int st = blk_prepare(d, r, vr);
	if (st >= 0) {
		if (st != VIRTIO_BLK_S_OK)
			r->written = 1;
		blk_finish(r, st);
	}
}
