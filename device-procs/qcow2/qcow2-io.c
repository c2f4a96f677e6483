/* SPDX-License-Identifier: MIT */
/* The blk_backend operations: reads, writes, discard and write-zeroes. */
#include <errno.h>
#include <stdlib.h>

#include "qcow2-priv.h"

#define STACK_IOVS 32

struct req {
	struct qcow2 *s;
	const struct iovec *iov;
	int cnt;
	struct iovec *scratch;
	struct iovec stack[STACK_IOVS];
};

static int req_init(struct req *q, struct qcow2 *s, const struct iovec *iov, int cnt, uint64_t off,
		    size_t *total)
{
	q->s = s;
	q->iov = iov;
	q->cnt = cnt;
	q->scratch = q->stack;
	*total = 0;
	if (cnt < 0 || cnt > 1024)
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > SIZE_MAX / 2 - *total)
			return -EINVAL;
		*total += iov[i].iov_len;
	}
	if (off > s->be.size || *total > s->be.size - off)
		return -EINVAL;
	if (cnt > STACK_IOVS && !(q->scratch = malloc(sizeof(struct iovec) * (size_t)cnt)))
		return -ENOMEM;
	return 0;
}

static void req_done(struct req *q)
{
	if (q->scratch != q->stack)
		free(q->scratch);
}

/* Guest bytes [off, off+len) that this image does not hold: the backing file or zeros. */
static int backing_read(struct qcow2 *s, const struct iovec *iov, int cnt, size_t skip, size_t len,
			uint64_t off, struct iovec *scratch)
{
	struct blk_backend *b = s->backing;
	size_t m = 0;
	if (b && off < b->size)
		m = b->size - off < len ? (size_t)(b->size - off) : len;
	if (m) {
		int k = qcow2__iov_slice(iov, cnt, skip, m, scratch);
		ssize_t r = b->ops->preadv(b, scratch, k, off);
		if (r < 0)
			return (int)r;
		if ((size_t)r != m)
			return -EIO;
	}
	qcow2__iov_zero(iov, cnt, skip + m, len - m);
	return 0;
}

static int entry_check(const struct qcow2 *s, uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED)
		return 0;
	if ((e & QCOW2_L2_RESERVED) || (s->version < 3 && (e & QCOW2_OFLAG_ZERO)))
		return -EIO;
	uint64_t host = e & QCOW2_OFFSET_MASK;
	if (host % s->cs || (host && host < s->cs))
		return -EIO; /* unaligned, or points into the header */
	return 0;
}

static int read_chunk(struct req *q, size_t skip, uint64_t off, size_t len)
{
	struct qcow2 *s = q->s;
	struct qcow2_cache_ent *e;
	int r = qcow2__get_l2(s, off, false, &e);
	if (r < 0)
		return r;
	uint64_t entry = e ? qcow2__be64(e->data + qcow2__l2_index(s, off) * 8) : 0;
	uint64_t in = off & (s->cs - 1), host = entry & QCOW2_OFFSET_MASK;
	if ((r = entry_check(s, entry)) < 0)
		return r;
	if (entry & QCOW2_OFLAG_COMPRESSED) {
		if ((r = qcow2__decompress(s, entry)) < 0)
			return r;
		qcow2__iov_copy(q->iov, q->cnt, skip, s->dbuf + in, len, true);
		return 0;
	}
	if (entry & QCOW2_OFLAG_ZERO) {
		qcow2__iov_zero(q->iov, q->cnt, skip, len);
		return 0;
	}
	if (!host)
		return backing_read(s, q->iov, q->cnt, skip, len, off, q->scratch);
	return qcow2__io_iov(s, q->iov, q->cnt, skip, len, host + in, false, q->scratch);
}

static ssize_t qcow2_preadv(struct blk_backend *b, const struct iovec *iov, int iovcnt,
			    uint64_t off)
{
	struct qcow2 *s = b->priv;
	struct req q;
	size_t total, done = 0;
	pthread_mutex_lock(&s->lock);
	int r = req_init(&q, s, iov, iovcnt, off, &total);
	while (!r && done < total) {
		uint64_t o = off + done, n = s->cs - (o & (s->cs - 1));
		if (n > total - done)
			n = total - done;
		r = read_chunk(&q, done, o, (size_t)n);
		done += (size_t)n;
	}
	req_done(&q);
	pthread_mutex_unlock(&s->lock);
	return r < 0 ? r : (ssize_t)total;
}

/* The cluster's current contents into s->cow, for a partial allocating write. */
static int fill_cow(struct qcow2 *s, uint64_t entry, uint64_t coff)
{
	uint64_t host = entry & QCOW2_OFFSET_MASK;
	if (entry & QCOW2_OFLAG_COMPRESSED) {
		int r = qcow2__decompress(s, entry);
		if (r == 0)
			memcpy(s->cow, s->dbuf, s->cs);
		return r;
	}
	if (entry & QCOW2_OFLAG_ZERO) {
		memset(s->cow, 0, s->cs);
		return 0;
	}
	if (host)
		return qcow2__pread(s, s->cow, s->cs, host);
	struct iovec v = {s->cow, s->cs}, scratch;
	uint64_t m = s->be.size - coff < s->cs ? s->be.size - coff : s->cs;
	memset(s->cow, 0, s->cs);
	return backing_read(s, &v, 1, 0, (size_t)m, coff, &scratch);
}

static int write_chunk(struct req *q, size_t skip, uint64_t off, size_t len)
{
	struct qcow2 *s = q->s;
	struct qcow2_cache_ent *e;
	if (s->broken)
		return -EIO;
	int r = qcow2__get_l2(s, off, true, &e);
	if (r < 0)
		return r;
	uint64_t entry = qcow2__be64(e->data + qcow2__l2_index(s, off) * 8);
	uint64_t in = off & (s->cs - 1), coff = off - in, host = entry & QCOW2_OFFSET_MASK;
	bool compressed = entry & QCOW2_OFLAG_COMPRESSED;
	if ((r = entry_check(s, entry)) < 0)
		return r;
	if (!compressed && host && !(entry & QCOW2_OFLAG_COPIED)) {
		uint64_t rc;
		if ((r = qcow2__refcount_get(s, host >> s->cluster_bits, &rc)) < 0)
			return r;
		if (rc == 1) {
			entry |= QCOW2_OFLAG_COPIED;
			qcow2__l2_set(s, e, off, entry);
		}
	}
	if (!compressed && host && (entry & QCOW2_OFLAG_COPIED)) {
		/* in place */
		if (qcow2__check_overlap(s, host, s->cs) < 0) {
			qcow2__mark_corrupt(s, "data cluster overlaps metadata", host);
			return -EIO;
		}
		if (!(entry & QCOW2_OFLAG_ZERO))
			return qcow2__io_iov(s, q->iov, q->cnt, skip, len, host + in, true,
					     q->scratch);
		/* a preallocated zero cluster: the rest of it must read as zeros */
		memset(s->cow, 0, s->cs);
		qcow2__iov_copy(q->iov, q->cnt, skip, s->cow + in, len, false);
		if ((r = qcow2__pwrite(s, s->cow, s->cs, host)) < 0)
			return r;
		qcow2__l2_set(s, e, off, entry & ~QCOW2_OFLAG_ZERO);
		return 0;
	}
	/* allocate: the whole new cluster is written before the L2 entry changes */
	bool full = in == 0 && (len == s->cs || coff + len == s->be.size);
	if (!full && (r = fill_cow(s, entry, coff)) < 0)
		return r;
	int64_t n = qcow2__alloc_clusters(s, 1);
	if (n < 0)
		return (int)n;
	if (full && len == s->cs) {
		r = qcow2__io_iov(s, q->iov, q->cnt, skip, len, (uint64_t)n, true, q->scratch);
	} else {
		if (full)
			memset(s->cow + len, 0, s->cs - len);
		qcow2__iov_copy(q->iov, q->cnt, skip, s->cow + in, len, false);
		r = qcow2__pwrite(s, s->cow, s->cs, (uint64_t)n);
	}
	if (r < 0)
		return r; /* the new cluster leaks; the old mapping stays */
	if (compressed) {
		uint64_t o, l;
		qcow2__compressed_range(s, entry, &o, &l);
		r = qcow2__free_later(s, o, l);
	} else if (host) {
		r = qcow2__free_later(s, host, s->cs); /* was shared */
	}
	qcow2__l2_set(s, e, off, (uint64_t)n | QCOW2_OFLAG_COPIED);
	return r == -ENOMEM ? 0 : r;
}

static ssize_t qcow2_pwritev(struct blk_backend *b, const struct iovec *iov, int iovcnt,
			     uint64_t off)
{
	struct qcow2 *s = b->priv;
	struct req q;
	size_t total, done = 0;
	if (b->readonly)
		return -EROFS;
	pthread_mutex_lock(&s->lock);
	int r = req_init(&q, s, iov, iovcnt, off, &total);
	if (!r && qcow2__frees_pending(s))
		r = qcow2__flush_locked(s);
	while (!r && done < total) {
		uint64_t o = off + done, n = s->cs - (o & (s->cs - 1));
		if (n > total - done)
			n = total - done;
		r = write_chunk(&q, done, o, (size_t)n);
		done += (size_t)n;
	}
	req_done(&q);
	pthread_mutex_unlock(&s->lock);
	return r < 0 ? r : (ssize_t)total;
}

/*
 * Make one whole cluster read as zeros through metadata alone. Returns
 * -ENOTSUP when only writing zeros can do it (version 2 over a backing file).
 */
static int zero_cluster(struct qcow2 *s, uint64_t off, bool unmap, bool discard)
{
	struct qcow2_cache_ent *e;
	uint64_t i1 = off >> (s->cluster_bits + s->l2_bits);
	if (s->version < 3 && s->backing)
		return discard ? 0 : -ENOTSUP;
	if (!s->backing && i1 < s->l1_size && !(s->l1[i1] & QCOW2_OFFSET_MASK))
		return 0; /* reads as zeros already */
	int r = qcow2__get_l2(s, off, true, &e);
	if (r < 0)
		return r;
	uint64_t entry = qcow2__be64(e->data + qcow2__l2_index(s, off) * 8), next;
	uint64_t host = entry & QCOW2_OFFSET_MASK;
	bool compressed = entry & QCOW2_OFLAG_COMPRESSED;
	if ((r = entry_check(s, entry)) < 0)
		return r;
	bool keep =
	    !unmap && !compressed && host && (entry & QCOW2_OFLAG_COPIED) && s->version >= 3;
	if (keep)
		next = entry | QCOW2_OFLAG_ZERO;
	else
		next = s->backing ? QCOW2_OFLAG_ZERO : 0;
	if (next == entry)
		return 0;
	if (!keep && compressed) {
		uint64_t o, l;
		qcow2__compressed_range(s, entry, &o, &l);
		r = qcow2__free_later(s, o, l);
	} else if (!keep && host) {
		r = qcow2__free_later(s, host, s->cs);
	}
	qcow2__l2_set(s, e, off, next);
	return r == -ENOMEM ? 0 : r;
}

static int zero_range(struct qcow2 *s, uint64_t off, uint64_t len, bool unmap, bool discard)
{
	uint64_t done = 0;
	int r = 0;
	if (off > s->be.size || len > s->be.size - off)
		return -EINVAL;
	while (!r && done < len) {
		if (s->broken)
			return -EIO;
		uint64_t o = off + done, in = o & (s->cs - 1), n = s->cs - in;
		if (n > len - done)
			n = len - done;
		bool full = in == 0 && (n == s->cs || o + n == s->be.size);
		uint64_t i1 = o >> (s->cluster_bits + s->l2_bits);
		if (full && !s->backing && !(s->l1[i1] & QCOW2_OFFSET_MASK)) {
			/* no L2 table, no backing file: the whole span reads as zeros */
			uint64_t span = 1ull << (s->cluster_bits + s->l2_bits);
			uint64_t skip = span - (o & (span - 1));
			done += skip < len - done ? skip : len - done;
			continue;
		}
		if (qcow2__frees_pending(s) && (r = qcow2__flush_locked(s)) < 0)
			break;
		r = full ? zero_cluster(s, o, unmap, discard) : discard ? 0 : -ENOTSUP;
		if (r == -ENOTSUP) {
			struct req q;
			struct iovec v = {s->zbuf, (size_t)n};
			size_t t;
			r = req_init(&q, s, &v, 1, o, &t);
			if (!r)
				r = write_chunk(&q, 0, o, (size_t)n);
			req_done(&q);
		}
		done += n;
	}
	return r;
}

static int qcow2_discard(struct blk_backend *b, uint64_t off, uint64_t len)
{
	struct qcow2 *s = b->priv;
	if (b->readonly)
		return -EROFS;
	pthread_mutex_lock(&s->lock);
	int r = zero_range(s, off, len, true, true);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int qcow2_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len, bool may_unmap)
{
	struct qcow2 *s = b->priv;
	if (b->readonly)
		return -EROFS;
	pthread_mutex_lock(&s->lock);
	int r = zero_range(s, off, len, may_unmap, false);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int qcow2_flush(struct blk_backend *b)
{
	struct qcow2 *s = b->priv;
	pthread_mutex_lock(&s->lock);
	int r = qcow2__flush_locked(s);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void qcow2_close(struct blk_backend *b)
{
	struct qcow2 *s = b->priv;
	pthread_mutex_lock(&s->lock);
	qcow2__close_locked(s);
}

const struct blk_backend_ops qcow2__ops = {
    .name = "qcow2",
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .close = qcow2_close,
};
