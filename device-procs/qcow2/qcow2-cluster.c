/* SPDX-License-Identifier: MIT */
/* Guest offset -> L1 -> L2 lookups, L2 allocation and compressed clusters. */
#include <errno.h>
#include <zlib.h>

#include "qcow2-priv.h"

int qcow2__get_l2(struct qcow2 *s, uint64_t off, bool alloc, struct qcow2_cache_ent **ent)
{
	uint64_t i1 = off >> (s->cluster_bits + s->l2_bits);
	int err;
	*ent = NULL;
	if (i1 >= s->l1_size)
		return -EIO; /* cannot happen: open checked l1_size against the size */
	uint64_t l2off = s->l1[i1] & QCOW2_OFFSET_MASK;
	if (!l2off) {
		if (!alloc)
			return 0;
		int64_t o = qcow2__alloc_clusters(s, 1);
		if (o < 0)
			return (int)o;
		*ent = qcow2__cache_get(s, &s->l2c, (uint64_t)o, true, &err);
		if (!*ent)
			return err; /* the cluster leaks */
		(*ent)->dirty = true;
		s->l1[i1] = (uint64_t)o | QCOW2_OFLAG_COPIED;
	} else {
		*ent = qcow2__cache_get(s, &s->l2c, l2off, false, &err);
		if (!*ent)
			return err;
		if (!alloc || (s->l1[i1] & QCOW2_OFLAG_COPIED))
			return 0;
		/* writing needs a table nobody else (a snapshot) refers to */
		uint64_t rc;
		err = qcow2__refcount_get(s, l2off >> s->cluster_bits, &rc);
		if (err)
			return err;
		if (rc != 1)
			return -EIO;
		s->l1[i1] |= QCOW2_OFLAG_COPIED;
	}
	if (i1 < s->l1_dirty_lo)
		s->l1_dirty_lo = (uint32_t)i1;
	if (i1 >= s->l1_dirty_hi)
		s->l1_dirty_hi = (uint32_t)i1 + 1;
	return 0;
}

void qcow2__l2_set(struct qcow2 *s, struct qcow2_cache_ent *e, uint64_t off, uint64_t entry)
{
	uint8_t *p = e->data + qcow2__l2_index(s, off) * 8;
	if (s->dbuf_entry && s->dbuf_entry == qcow2__be64(p))
		s->dbuf_entry = 0;
	qcow2__put64(p, entry);
	e->dirty = true;
}

static void compressed_desc(const struct qcow2 *s, uint64_t entry, uint64_t *coff, uint64_t *csize)
{
	unsigned x = 62 - (s->cluster_bits - 8);
	uint64_t nsec = ((entry >> x) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
	*coff = entry & ((1ull << x) - 1);
	*csize = nsec * 512 - (*coff & 511);
}

void qcow2__compressed_range(const struct qcow2 *s, uint64_t entry, uint64_t *off, uint64_t *len)
{
	compressed_desc(s, entry, off, len);
}

int qcow2__decompress(struct qcow2 *s, uint64_t entry)
{
	uint64_t coff, csize;
	if (s->dbuf_entry == entry)
		return 0;
	s->dbuf_entry = 0;
	compressed_desc(s, entry, &coff, &csize);
	/* the data starts past the header and inside the file */
	if (coff < s->cs || coff >= s->file_size)
		return -EIO;
	if (csize > s->file_size - coff)
		csize = s->file_size - coff; /* the last sector may be cut short */
	int err = qcow2__pread(s, s->cbuf, csize, coff);
	if (err)
		return err;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return -ENOMEM;
	z.next_in = s->cbuf;
	z.avail_in = (uInt)csize;
	z.next_out = s->dbuf;
	z.avail_out = (uInt)s->cs; /* output bounded by one cluster: no bombs */
	int zr = inflate(&z, Z_FINISH);
	bool ok = (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK) && z.avail_out == 0;
	inflateEnd(&z);
	if (!ok)
		return -EIO;
	s->dbuf_entry = entry;
	return 0;
}
