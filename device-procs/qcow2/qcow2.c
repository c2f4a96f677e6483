/* SPDX-License-Identifier: MIT */
/* qcow2 open/close, file I/O helpers, flush ordering, corruption handling. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "qcow2-priv.h"

int qcow2__pread(struct qcow2 *s, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(s->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			memset((uint8_t *)buf + done, 0, len - done);
			break;
		}
		done += (size_t)r;
	}
	return 0;
}

int qcow2__pwrite(struct qcow2 *s, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r =
		    pwrite(s->fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	s->unsynced = true;
	if (off + len > s->file_size)
		s->file_size = off + len;
	return 0;
}

int qcow2__sync(struct qcow2 *s)
{
	if (!s->unsynced)
		return 0;
	if (fdatasync(s->fd) < 0)
		return -errno;
	s->unsynced = false;
	return 0;
}

void qcow2__mark_corrupt(struct qcow2 *s, const char *why, uint64_t off)
{
	log__err("qcow2: image corrupt: %s (at %#" PRIx64 "); no more writes", why, off);
	s->broken = true;
	if (s->be.readonly || s->version < 3)
		return;
	uint8_t v[8];
	qcow2__put64(v, s->incompat | QCOW2_INCOMPAT_CORRUPT);
	if (pwrite(s->fd, v, 8, 72) == 8)
		(void)fdatasync(s->fd);
}

/*
 * The write-back order (docs/qcow2.md): refcount blocks, sync (data and
 * increments durable), L2 tables, sync, L1 entries, sync, then the deferred
 * decrements, whose references are gone on disk by now.
 */
int qcow2__flush_locked(struct qcow2 *s)
{
	if (s->be.readonly)
		return 0;
	if (s->broken)
		return -EIO;
	int r = qcow2__cache_writeback(s, &s->rbc);
	if (!r)
		r = qcow2__sync(s);
	if (!r)
		r = qcow2__cache_writeback(s, &s->l2c);
	if (!r && s->l1_dirty_lo < s->l1_dirty_hi) {
		r = qcow2__sync(s);
		uint32_t lo = s->l1_dirty_lo, hi = s->l1_dirty_hi;
		uint8_t *buf = malloc((size_t)(hi - lo) * 8);
		if (!r && !buf)
			r = -ENOMEM;
		for (uint32_t i = lo; !r && i < hi; i++)
			qcow2__put64(buf + (size_t)(i - lo) * 8, s->l1[i]);
		if (!r)
			r = qcow2__pwrite(s, buf, (size_t)(hi - lo) * 8,
					  s->l1_off + (uint64_t)lo * 8);
		free(buf);
		if (!r) {
			s->l1_dirty_lo = UINT32_MAX;
			s->l1_dirty_hi = 0;
		}
	}
	if (!r)
		r = qcow2__sync(s);
	if (!r)
		r = qcow2__apply_frees(s);
	return r;
}

#define FAIL(code, ...)                                                                            \
	do {                                                                                       \
		snprintf(err, n, __VA_ARGS__);                                                     \
		ret = code;                                                                        \
		goto fail;                                                                         \
	} while (0)

static void destroy(struct qcow2 *s)
{
	qcow2__cache_destroy(&s->l2c);
	qcow2__cache_destroy(&s->rbc);
	free(s->l1);
	free(s->rt);
	free(s->frees);
	free(s->cow);
	free(s->cbuf);
	free(s->dbuf);
	free(s->zbuf);
	free(s);
}

/* A table entry must point at a whole cluster inside the file, clear of the header. */
static bool entry_ok(const struct qcow2 *s, uint64_t e, uint64_t reserved)
{
	uint64_t off = e & QCOW2_OFFSET_MASK;
	return !(e & reserved) && off % s->cs == 0 &&
	       (!off || (off >= s->cs && off <= s->file_size && s->cs <= s->file_size - off));
}

/* In-place heapsort: glibc's qsort may call sysinfo(), outside the blk profile. */
static void sift(uint64_t *v, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && v[c + 1] > v[c])
			c++;
		if (v[i] >= v[c])
			return;
		uint64_t t = v[i];
		v[i] = v[c];
		v[c] = t;
	}
}

static void sort_u64(uint64_t *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(v, i, n);
	for (size_t end = n; end-- > 1;) {
		uint64_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift(v, 0, end);
	}
}

static int distinct_refblocks(const struct qcow2 *s, char *err, size_t n)
{
	int ret = 0;
	uint64_t *v = malloc(s->rt_size * 8);
	if (!v)
		FAIL(-ENOMEM, "qcow2: out of memory for tables");
	memcpy(v, s->rt, s->rt_size * 8);
	sort_u64(v, s->rt_size);
	for (uint64_t i = 1; i < s->rt_size; i++)
		if (v[i] && v[i] == v[i - 1])
			FAIL(-EINVAL,
			     "qcow2: refcount block %#" PRIx64
			     " is named twice in the refcount table",
			     v[i]);
fail:
	free(v);
	return ret;
}

static int load_tables(struct qcow2 *s, char *err, size_t n)
{
	int ret = 0;
	uint64_t l1_len = ((uint64_t)s->l1_size * 8 + s->cs - 1) & ~(s->cs - 1);
	uint64_t rt_len = (uint64_t)s->rt_clusters << s->cluster_bits;
	s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
	s->rt = calloc(s->rt_size, 8);
	if (!s->l1 || !s->rt)
		FAIL(-ENOMEM, "qcow2: out of memory for tables");
	if ((ret = qcow2__pread(s, s->l1, (size_t)s->l1_size * 8, s->l1_off)) < 0 ||
	    (ret = qcow2__pread(s, s->rt, (size_t)s->rt_size * 8, s->rt_off)) < 0)
		FAIL(ret, "qcow2: reading tables: %s", strerror(-ret));
	unsigned shift = s->cluster_bits + s->l2_bits;
	uint64_t need = (s->be.size + (1ull << shift) - 1) >> shift;
	for (uint32_t i = 0; i < s->l1_size; i++) {
		uint64_t e = s->l1[i] = be64toh(s->l1[i]), off = e & QCOW2_OFFSET_MASK;
		/* a shrunk image keeps its L1 size, with the tail cleared */
		if (i >= need && e)
			FAIL(-EINVAL, "qcow2: L1 entry %u beyond the virtual size is in use", i);
		if (!entry_ok(s, e, QCOW2_L1_RESERVED) ||
		    (off && off < s->l1_off + l1_len && s->l1_off < off + s->cs) ||
		    (off && off < s->rt_off + rt_len && s->rt_off < off + s->cs))
			FAIL(-EINVAL, "qcow2: L1 entry %u (%#" PRIx64 ") invalid", i, e);
	}
	for (uint64_t i = 0; i < s->rt_size; i++) {
		uint64_t e = s->rt[i] = be64toh(s->rt[i]);
		if (!entry_ok(s, e, QCOW2_RT_RESERVED) ||
		    (e && e < s->l1_off + l1_len && s->l1_off < e + s->cs) ||
		    (e && e < s->rt_off + rt_len && s->rt_off < e + s->cs))
			FAIL(-EINVAL,
			     "qcow2: refcount table entry %" PRIu64 " (%#" PRIx64 ") invalid", i,
			     e);
	}
	/* Two entries naming one block would count each cluster twice over. */
	if ((ret = distinct_refblocks(s, err, n)) < 0)
		goto fail;
fail:
	return ret;
}

int qcow2__open(int fd, bool readonly, struct blk_backend *backing, struct blk_backend **out,
		char *err, size_t n)
{
	struct qcow2_header h;
	uint64_t fsize;
	int ret = qcow2__read_header(fd, &h, &fsize, err, n);
	if (ret < 0)
		return ret;
	struct qcow2 *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, n, "qcow2: out of memory");
		return -ENOMEM;
	}
	if (h.backing[0] && !backing)
		FAIL(-EINVAL, "qcow2: image has backing file '%s' but none was opened", h.backing);
	if (!h.backing[0] && backing)
		FAIL(-EINVAL, "qcow2: a backing file was given but the image names none");
	if (!readonly && (h.incompat & QCOW2_INCOMPAT_CORRUPT))
		FAIL(-EINVAL, "qcow2: image is marked corrupt; only read-only use is allowed "
			      "(repair with qemu-img check -r all)");
	if (!readonly && (h.incompat & QCOW2_INCOMPAT_DIRTY))
		FAIL(-EINVAL, "qcow2: image is dirty (lazy refcounts); repair it with "
			      "qemu-img check -r all before writing");
	if (!readonly && h.nb_snapshots)
		FAIL(-EINVAL, "qcow2: writing to images with internal snapshots is not supported");
	s->fd = fd;
	s->backing = backing;
	s->version = h.version;
	s->cluster_bits = h.cluster_bits;
	s->cs = 1ull << h.cluster_bits;
	s->l2_bits = h.cluster_bits - 3;
	s->refcount_order = h.refcount_order;
	s->rb_bits = h.cluster_bits + 3 - h.refcount_order;
	s->refcount_max =
	    h.refcount_order == 6 ? UINT64_MAX : (1ull << (1u << h.refcount_order)) - 1;
	s->incompat = h.incompat;
	s->autoclear = h.autoclear;
	s->l1_size = h.l1_size;
	s->l1_off = h.l1_off;
	s->l1_dirty_lo = UINT32_MAX;
	s->rt_off = h.rt_off;
	s->rt_clusters = h.rt_clusters;
	s->rt_size = ((uint64_t)h.rt_clusters << h.cluster_bits) / 8;
	s->nb_snapshots = h.nb_snapshots;
	s->file_size = fsize;
	s->host_end = (fsize + s->cs - 1) >> s->cluster_bits;
	s->free_hint = 1;
	s->be.readonly = readonly;
	s->be.size = h.size;
	if ((ret = load_tables(s, err, n)) < 0)
		goto fail;
	uint64_t l2n = (1u << 20) >> h.cluster_bits, rbn = (256u << 10) >> h.cluster_bits;
	l2n = l2n < 4 ? 4 : l2n > 256 ? 256 : l2n;
	rbn = rbn < 4 ? 4 : rbn > 64 ? 64 : rbn;
	s->cow = aligned_alloc(512, s->cs);
	s->cbuf = malloc(2 * s->cs);
	s->dbuf = malloc(s->cs);
	s->zbuf = calloc(1, s->cs);
	if (qcow2__cache_init(&s->l2c, (unsigned)l2n, s->cs, true) < 0 ||
	    qcow2__cache_init(&s->rbc, (unsigned)rbn, s->cs, false) < 0 || !s->cow || !s->cbuf ||
	    !s->dbuf || !s->zbuf)
		FAIL(-ENOMEM, "qcow2: out of memory for caches");
	if (!readonly && s->autoclear) {
		/* we do not maintain what those bits vouch for (e.g. bitmaps) */
		uint8_t z[8] = {0};
		if ((ret = qcow2__pwrite(s, z, 8, 88)) < 0 || (ret = qcow2__sync(s)) < 0)
			FAIL(ret, "qcow2: clearing autoclear features: %s", strerror(-ret));
		s->autoclear = 0;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->be.ops = &qcow2__ops;
	s->be.size = h.size;
	s->be.single_threaded = false;
	s->be.priv = s;
	*out = &s->be;
	return 0;
fail:
	destroy(s);
	return ret;
}

void qcow2__close_locked(struct qcow2 *s)
{
	if (!s->be.readonly && !s->broken) {
		int r = qcow2__flush_locked(s);
		/* the frees the flush applied */
		if (!r)
			r = qcow2__cache_writeback(s, &s->rbc);
		if (!r)
			r = qcow2__sync(s);
		if (r < 0)
			log__err("qcow2: flush at close: %s", strerror(-r));
	}
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_destroy(&s->lock);
	close(s->fd);
	if (s->backing)
		s->backing->ops->close(s->backing);
	destroy(s);
}
