/* SPDX-License-Identifier: MIT */
/*
 * Refcounts: reading and updating refcount blocks of any width (refcount_order
 * 0..6), cluster allocation (refcount 0 -> 1, new refcount blocks placed in
 * the range they describe, refcount table growth) and deferred frees.
 *
 * Increments reach the file before any table that refers to the cluster
 * (refcount blocks are written and synced before L2 tables, see
 * qcow2-cache.c); decrements are only applied after the table that dropped the
 * reference is durable (qcow2__apply_frees runs at the end of a flush). A
 * crash can therefore leak clusters, never leave a reference to a cluster
 * whose refcount is zero on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "log.h"
#include "qcow2-priv.h"

#define MAX_PENDING_FREES 4096

uint64_t qcow2__rb_get(const uint8_t *blk, unsigned order, uint64_t i)
{
	if (order >= 3) {
		unsigned bytes = 1u << (order - 3);
		uint64_t v = 0;
		for (unsigned k = 0; k < bytes; k++)
			v = (v << 8) | blk[i * bytes + k];
		return v;
	}
	unsigned bits = 1u << order, per = 8u >> order;
	return (blk[i / per] >> ((i % per) * bits)) & ((1u << bits) - 1);
}

void qcow2__rb_set(uint8_t *blk, unsigned order, uint64_t i, uint64_t v)
{
	if (order >= 3) {
		unsigned bytes = 1u << (order - 3);
		for (unsigned k = bytes; k-- > 0; v >>= 8)
			blk[i * bytes + k] = (uint8_t)v;
		return;
	}
	unsigned bits = 1u << order, per = 8u >> order, sh = (unsigned)(i % per) * bits;
	uint8_t mask = (uint8_t)(((1u << bits) - 1) << sh);
	blk[i / per] = (uint8_t)((blk[i / per] & ~mask) | ((v << sh) & mask));
}

/* Header, L1 table or refcount table: clusters the allocator must never hand out. */
static bool fixed_metadata(const struct qcow2 *s, uint64_t off, uint64_t len)
{
	uint64_t l1_len = ((uint64_t)s->l1_size * 8 + s->cs - 1) & ~(s->cs - 1);
	uint64_t rt_len = (uint64_t)s->rt_clusters << s->cluster_bits;
	return off < s->cs || (l1_len && off < s->l1_off + l1_len && s->l1_off < off + len) ||
	       (off < s->rt_off + rt_len && s->rt_off < off + len);
}

int qcow2__check_overlap(struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (fixed_metadata(s, off, len) || qcow2__cache_overlaps(&s->rbc, s->cs, off, len) ||
	    qcow2__cache_overlaps(&s->l2c, s->cs, off, len))
		return -EIO;
	return 0;
}

static struct qcow2_cache_ent *refblock(struct qcow2 *s, uint64_t cluster, int *err)
{
	uint64_t r = cluster >> s->rb_bits;
	*err = 0;
	if (r >= s->rt_size || !s->rt[r])
		return NULL;
	return qcow2__cache_get(s, &s->rbc, s->rt[r], false, err);
}

int qcow2__refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
	int err;
	struct qcow2_cache_ent *e = refblock(s, cluster, &err);
	*rc =
	    e ? qcow2__rb_get(e->data, s->refcount_order, cluster & ((1ull << s->rb_bits) - 1)) : 0;
	return err;
}

static int refcount_add(struct qcow2 *s, uint64_t cluster, int delta)
{
	int err;
	struct qcow2_cache_ent *e = refblock(s, cluster, &err);
	if (!e) {
		if (!err) {
			qcow2__mark_corrupt(s, "refcount update without a refcount block",
					    cluster << s->cluster_bits);
			err = -EIO;
		}
		return err;
	}
	uint64_t i = cluster & ((1ull << s->rb_bits) - 1);
	uint64_t v = qcow2__rb_get(e->data, s->refcount_order, i);
	if ((delta > 0 && v >= s->refcount_max) || (delta < 0 && v == 0)) {
		qcow2__mark_corrupt(s, delta > 0 ? "refcount overflow" : "refcount underflow",
				    cluster << s->cluster_bits);
		return -EIO;
	}
	qcow2__rb_set(e->data, s->refcount_order, i, delta > 0 ? v + 1 : v - 1);
	e->dirty = true;
	return 0;
}

/* A new refcount block for range r, placed inside that range (it counts itself). */
static int new_refblock(struct qcow2 *s, uint64_t r)
{
	uint64_t first = r << s->rb_bits, p = first ? first : 1;
	while (p < first + (1ull << s->rb_bits) &&
	       qcow2__check_overlap(s, p << s->cluster_bits, s->cs) < 0)
		p++;
	if (p == first + (1ull << s->rb_bits))
		return -ENOSPC;
	int err;
	struct qcow2_cache_ent *e = qcow2__cache_get(s, &s->rbc, p << s->cluster_bits, true, &err);
	if (!e)
		return err;
	qcow2__rb_set(e->data, s->refcount_order, p - first, 1);
	/* the block must be durable before the table entry that points at it */
	err = qcow2__pwrite(s, e->data, s->cs, e->off);
	if (!err)
		err = qcow2__sync(s);
	uint8_t be[8];
	qcow2__put64(be, e->off);
	if (!err)
		err = qcow2__pwrite(s, be, 8, s->rt_off + r * 8);
	if (err) {
		e->off = 0; /* forget it: the table does not point at it */
		return err;
	}
	s->rt[r] = e->off;
	if (p + 1 > s->host_end)
		s->host_end = p + 1;
	return 0;
}

/* Ranges in [a, b) that have no refcount block in the current table. */
static uint64_t missing_blocks(const struct qcow2 *s, uint64_t a, uint64_t b)
{
	uint64_t n = 0;
	for (uint64_t r = a >> s->rb_bits; r <= (b - 1) >> s->rb_bits; r++)
		n += r >= s->rt_size || !s->rt[r];
	return n;
}

/*
 * Grow the refcount table so that range `need` has a slot: a new table and
 * the refcount blocks it needs go past the end of the image, describing
 * themselves; the header switches to it once it is durable.
 */
static int grow_rt(struct qcow2 *s, uint64_t need)
{
	uint64_t cs = s->cs, t = s->host_end, fend = (s->file_size + cs - 1) >> s->cluster_bits;
	uint64_t k = ((need + 1) * 8 + cs - 1) / cs, m = 0;
	if (k < (uint64_t)s->rt_clusters * 2)
		k = (uint64_t)s->rt_clusters * 2;
	if (t < fend)
		t = fend;
	for (int tries = 0;; tries++) {
		if (tries > 64 || (k << s->cluster_bits) > QCOW2_MAX_RT_BYTES ||
		    t + k + m > (QCOW2_MAX_SIZE >> s->cluster_bits))
			return -ENOSPC;
		uint64_t m2 = missing_blocks(s, t, t + k + m);
		if (m2 > m) {
			m = m2;
			continue;
		}
		uint64_t top = (t + k + m - 1) >> s->rb_bits;
		if ((top + 1) * 8 > (k << s->cluster_bits)) {
			k = ((top + 1) * 8 + cs - 1) / cs;
			continue;
		}
		uint64_t busy = 0;
		for (uint64_t x = t; x < t + k + m && !busy; x++) {
			uint64_t rc;
			int err = qcow2__refcount_get(s, x, &rc);
			if (err)
				return err;
			if (rc || qcow2__check_overlap(s, x << s->cluster_bits, cs) < 0)
				busy = x + 1;
		}
		if (!busy)
			break;
		t = busy;
	}
	uint64_t entries = (k << s->cluster_bits) / 8;
	uint64_t *rt = calloc(entries, 8);
	uint8_t *tab = calloc(entries, 8);
	uint8_t *blocks = m ? calloc(m, cs) : NULL;
	int err = -ENOMEM;
	if (!rt || !tab || (m && !blocks))
		goto out;
	memcpy(rt, s->rt, s->rt_size * 8);
	uint64_t j = 0, first_new = t + k;
	for (uint64_t r = t >> s->rb_bits; r <= (t + k + m - 1) >> s->rb_bits; r++)
		if (r >= s->rt_size || !s->rt[r])
			rt[r] = (first_new + j++) << s->cluster_bits;
	for (uint64_t x = t; x < t + k + m; x++) {
		uint64_t r = x >> s->rb_bits;
		if (r < s->rt_size && s->rt[r]) {
			err = refcount_add(s, x, +1);
			if (err)
				goto out;
			continue;
		}
		uint64_t b = (rt[r] >> s->cluster_bits) - first_new;
		qcow2__rb_set(blocks + b * cs, s->refcount_order, x & ((1ull << s->rb_bits) - 1),
			      1);
	}
	for (uint64_t i = 0; i < entries; i++)
		qcow2__put64(tab + i * 8, rt[i]);
	err = qcow2__pwrite(s, tab, entries * 8, t << s->cluster_bits);
	if (!err && m)
		err = qcow2__pwrite(s, blocks, m * cs, first_new << s->cluster_bits);
	if (!err)
		err = qcow2__cache_writeback(s, &s->rbc);
	if (!err)
		err = qcow2__sync(s);
	uint8_t hdr[12];
	qcow2__put64(hdr, t << s->cluster_bits);
	qcow2__put32(hdr + 8, (uint32_t)k);
	if (!err)
		err = qcow2__pwrite(s, hdr, sizeof(hdr), 48);
	if (!err)
		err = qcow2__sync(s);
	if (err)
		goto out; /* the new clusters leak; the old table stays in use */
	uint64_t old_off = s->rt_off, old_len = (uint64_t)s->rt_clusters << s->cluster_bits;
	free(s->rt);
	s->rt = rt;
	rt = NULL;
	s->rt_size = entries;
	s->rt_off = t << s->cluster_bits;
	s->rt_clusters = (uint32_t)k;
	s->host_end = t + k + m;
	err = qcow2__free_later(s, old_off, old_len);
out:
	free(rt);
	free(tab);
	free(blocks);
	return err;
}

/*
 * A run of n free clusters. The scan below the end of the image inspects at
 * most QCOW2_SCAN_MAX refcounts per allocation (a hostile image can mark
 * every cluster in use with 1-bit refcounts); past them, or past the end,
 * the run is taken at the end of the image, where nothing is allocated.
 * Free clusters the scan did not reach are reused once a free lowers the hint.
 */
static int find_free_run(struct qcow2 *s, uint64_t n, uint64_t *start)
{
	uint64_t c = s->free_hint ? s->free_hint : 1, run = c, seen = 0;
	for (; c < s->host_end; c++) {
		uint64_t rc;
		if (seen++ == QCOW2_SCAN_MAX) {
			/* Single clusters come from the end from now on (frees lower it). */
			if (n == 1)
				s->free_hint = s->host_end;
			run = s->host_end;
			break;
		}
		int err = qcow2__refcount_get(s, c, &rc);
		if (err)
			return err;
		if (rc || fixed_metadata(s, c << s->cluster_bits, s->cs)) {
			run = c + 1;
			continue;
		}
		if (c + 1 - run == n) {
			*start = run;
			return 0;
		}
	}
	if (run + n > QCOW2_MAX_SIZE >> s->cluster_bits)
		return -ENOSPC;
	/* Beyond the end nothing is allocated: a refcount there is corruption. */
	for (c = run > s->host_end ? run : s->host_end; c < run + n; c++) {
		uint64_t rc;
		int err = qcow2__refcount_get(s, c, &rc);
		if (err)
			return err;
		if (rc) {
			qcow2__mark_corrupt(s, "refcount for a cluster beyond the end of the image",
					    c << s->cluster_bits);
			return -EIO;
		}
	}
	*start = run;
	return 0;
}

int64_t qcow2__alloc_clusters(struct qcow2 *s, uint64_t n)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t c = 0;
		int err = find_free_run(s, n, &c);
		if (err)
			return err;
		bool again = false;
		for (uint64_t r = c >> s->rb_bits; r <= (c + n - 1) >> s->rb_bits && !again; r++) {
			if (r >= s->rt_size)
				err = grow_rt(s, r), again = true;
			else if (!s->rt[r])
				err = new_refblock(s, r), again = true;
		}
		if (err)
			return err;
		if (again)
			continue;
		if (qcow2__check_overlap(s, c << s->cluster_bits, n << s->cluster_bits) < 0) {
			qcow2__mark_corrupt(s, "free cluster overlaps metadata",
					    c << s->cluster_bits);
			return -EIO;
		}
		for (uint64_t i = 0; i < n; i++) {
			err = refcount_add(s, c + i, +1);
			if (err)
				return err;
		}
		if (n == 1)
			s->free_hint = c + 1;
		if (c + n > s->host_end)
			s->host_end = c + n;
		return (int64_t)(c << s->cluster_bits);
	}
	return -ENOSPC;
}

int qcow2__free_later(struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (s->nfrees == s->cfrees) {
		size_t nc = s->cfrees ? s->cfrees * 2 : 64;
		struct qcow2_free *f = realloc(s->frees, nc * sizeof(*f));
		if (!f)
			return -ENOMEM; /* the cluster leaks */
		s->frees = f;
		s->cfrees = nc;
	}
	s->frees[s->nfrees++] = (struct qcow2_free){off, len};
	return 0;
}

int qcow2__apply_frees(struct qcow2 *s)
{
	int ret = 0;
	for (size_t i = 0; i < s->nfrees; i++) {
		uint64_t a = s->frees[i].off >> s->cluster_bits;
		uint64_t b = (s->frees[i].off + s->frees[i].len - 1) >> s->cluster_bits;
		for (uint64_t c = a; c <= b; c++) {
			int err = refcount_add(s, c, -1);
			if (err) {
				ret = err;
				continue;
			}
			uint64_t rc;
			if (qcow2__refcount_get(s, c, &rc) == 0 && rc == 0) {
				if (c < s->free_hint)
					s->free_hint = c;
				/* give the space back; failure only costs space */
				(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						(off_t)(c << s->cluster_bits), (off_t)s->cs);
			}
		}
	}
	s->nfrees = 0;
	return ret;
}

bool qcow2__frees_pending(const struct qcow2 *s)
{
	return s->nfrees >= MAX_PENDING_FREES;
}
