/* SPDX-License-Identifier: MIT */
/*
 * Bounded LRU caches of L2 tables and refcount blocks. A dirty L2 table is
 * only written after every refcount block is written and the file synced, so
 * on disk no L2 entry ever points at a cluster whose refcount or data is not
 * yet durable (see docs/qcow2.md, "Write ordering").
 */
#include <errno.h>
#include <stdlib.h>

#include "qcow2-priv.h"

int qcow2__cache_init(struct qcow2_cache *c, unsigned n, uint64_t cs, bool is_l2)
{
	c->n = n;
	c->tick = 0;
	c->is_l2 = is_l2;
	c->ent = calloc(n, sizeof(*c->ent));
	if (!c->ent)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		c->ent[i].data = aligned_alloc(512, cs);
		if (!c->ent[i].data)
			return -ENOMEM;
	}
	return 0;
}

void qcow2__cache_destroy(struct qcow2_cache *c)
{
	for (unsigned i = 0; c->ent && i < c->n; i++)
		free(c->ent[i].data);
	free(c->ent);
	c->ent = NULL;
}

struct qcow2_cache_ent *qcow2__cache_find(struct qcow2_cache *c, uint64_t off)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->ent[i].off == off)
			return &c->ent[i];
	return NULL;
}

static int write_ent(struct qcow2 *s, struct qcow2_cache *c, struct qcow2_cache_ent *e)
{
	int r;
	if (c->is_l2) {
		/* refcounts and data this table points at must be durable first */
		r = qcow2__cache_writeback(s, &s->rbc);
		if (r < 0)
			return r;
		r = qcow2__sync(s);
		if (r < 0)
			return r;
	}
	r = qcow2__pwrite(s, e->data, s->cs, e->off);
	if (r < 0)
		return r;
	e->dirty = false;
	return 0;
}

int qcow2__cache_writeback(struct qcow2 *s, struct qcow2_cache *c)
{
	bool synced = false;
	for (unsigned i = 0; i < c->n; i++) {
		struct qcow2_cache_ent *e = &c->ent[i];
		if (!e->off || !e->dirty)
			continue;
		if (c->is_l2 && !synced) {
			int r = write_ent(s, c, e); /* syncs once before the first L2 */
			if (r < 0)
				return r;
			synced = true;
			continue;
		}
		int r = qcow2__pwrite(s, e->data, s->cs, e->off);
		if (r < 0)
			return r;
		e->dirty = false;
	}
	return 0;
}

struct qcow2_cache_ent *qcow2__cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t off,
					 bool fresh, int *err)
{
	struct qcow2_cache_ent *e = qcow2__cache_find(c, off), *victim = NULL;
	if (e) {
		e->lru = ++c->tick;
		return e;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct qcow2_cache_ent *x = &c->ent[i];
		if (!x->off) {
			victim = x;
			break;
		}
		if (!victim || x->lru < victim->lru)
			victim = x;
	}
	if (victim->off && victim->dirty) {
		*err = write_ent(s, c, victim);
		if (*err < 0)
			return NULL;
	}
	victim->off = 0;
	victim->dirty = false;
	if (fresh) {
		memset(victim->data, 0, s->cs);
	} else {
		/* tables must lie wholly inside the file */
		if (off > s->file_size || s->cs > s->file_size - off) {
			*err = -EIO;
			return NULL;
		}
		*err = qcow2__pread(s, victim->data, s->cs, off);
		if (*err < 0)
			return NULL;
	}
	victim->off = off;
	victim->lru = ++c->tick;
	*err = 0;
	return victim;
}

bool qcow2__cache_overlaps(const struct qcow2_cache *c, uint64_t cs, uint64_t off, uint64_t len)
{
	for (unsigned i = 0; i < c->n; i++) {
		uint64_t o = c->ent[i].off;
		if (o && off < o + cs && o < off + len)
			return true;
	}
	return false;
}
