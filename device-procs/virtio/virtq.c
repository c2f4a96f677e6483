/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue walker. The guest can rewrite its rings at any moment, so
 * each index and descriptor is read exactly once into a local copy, checked,
 * and only the copy is used afterwards.
 */
#include "virtq.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* Byte sizes of the three areas (virtio 1.2, 2.7: event fields included). */
static uint64_t desc_bytes(uint16_t size)
{
	return 16ull * size;
}

static uint64_t avail_bytes(uint16_t size)
{
	return 6ull + 2ull * size;
}

static uint64_t used_bytes(uint16_t size)
{
	return 6ull + 8ull * size;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Callers pass ranges already known not to wrap (checked by gmem__ptr). */
	return alen && blen && a < b + blen && b < a + alen;
}

int virtq__init(struct virtq *vq, const struct gmem *ram, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	memset(vq, 0, sizeof(*vq));
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	void *d = gmem__ptr(ram, desc, desc_bytes(size));
	void *a = gmem__ptr(ram, avail, avail_bytes(size));
	void *u = gmem__ptr(ram, used, used_bytes(size));
	if (!d || !a || !u)
		return -EINVAL;
	/* The device writes the used ring: it must not alias what it reads. */
	if (ranges_overlap(used, used_bytes(size), desc, desc_bytes(size)) ||
	    ranges_overlap(used, used_bytes(size), avail, avail_bytes(size)))
		return -EINVAL;
	vq->ram = ram;
	vq->size = size;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	return 0;
}

static bool over_rings(const struct virtq *vq, uint64_t addr, uint64_t len)
{
	return ranges_overlap(addr, len, vq->desc_gpa, desc_bytes(vq->size)) ||
	       ranges_overlap(addr, len, vq->avail_gpa, avail_bytes(vq->size)) ||
	       ranges_overlap(addr, len, vq->used_gpa, used_bytes(vq->size));
}

/* One copy of a guest descriptor; the table may be unaligned (indirect). */
static void desc_copy(const volatile void *table, uint32_t i, struct virtq_desc *out)
{
	memcpy(out, (const void *)((const volatile uint8_t *)table + 16ull * i), sizeof(*out));
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* never re-read the guest copy */
}

static int fail(const struct virtq *vq, const char *why)
{
	log__debug("virtq %#llx: %s", (unsigned long long)vq->desc_gpa, why);
	return -EPROTO;
}

int virtq__pop(struct virtq *vq, struct virtq_req *req)
{
	if (vq->last_avail == vq->avail_shadow) {
		uint16_t idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
		if ((uint16_t)(idx - vq->last_avail) > vq->size)
			return fail(vq, "avail idx moved by more than the queue size");
		vq->avail_shadow = idx;
		if (idx == vq->last_avail)
			return 0;
	}
	uint16_t head =
	    __atomic_load_n(&vq->avail[2 + (vq->last_avail & (vq->size - 1))], __ATOMIC_RELAXED);
	vq->last_avail++;
	if (head >= vq->size)
		return fail(vq, "head index out of range");

	req->head = head;
	req->nread = req->nwrite = 0;
	req->read_len = req->write_len = 0;

	const volatile void *table = vq->desc;
	uint32_t tsize = vq->size, i = head;
	unsigned count = 0, nv = 0;
	bool seen_write = false, in_indirect = false;
	for (;;) {
		struct virtq_desc d;
		desc_copy(table, i, &d);
		/* Every chain, indirect part included, is at most size long. */
		if (++count > vq->size)
			return fail(vq, "chain loops or is longer than the queue");
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/*
			 * Zero or more direct descriptors may precede one
			 * indirect descriptor (2.7.5.3.2); its WRITE flag is
			 * ignored and it does not count towards the chain.
			 */
			if (!vq->indirect)
				return fail(vq, "indirect descriptor not negotiated");
			/*
			 * A flag, not `table != vq->desc`: an indirect table placed
			 * at the descriptor table's own address would pass that
			 * test and (count-- below) loop forever (fuzz finding
			 * blk-request-hang-7d160099).
			 */
			if (in_indirect)
				return fail(vq, "nested indirect descriptor");
			in_indirect = true;
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return fail(vq, "indirect descriptor with NEXT");
			if (d.len == 0 || d.len % 16 || d.len / 16 > vq->size)
				return fail(vq, "bad indirect table length");
			table = gmem__ptr(vq->ram, d.addr, d.len);
			if (!table)
				return fail(vq, "indirect table outside RAM");
			tsize = d.len / 16;
			i = 0;
			count--;
			continue;
		}
		if (d.flags & VIRTQ_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return fail(vq, "readable buffer after a writable one");
		if (d.len) {
			void *p = gmem__ptr(vq->ram, d.addr, d.len);
			if (!p)
				return fail(vq, "buffer outside RAM");
			if (over_rings(vq, d.addr, d.len))
				return fail(vq, "buffer overlaps the rings");
			if (nv >= VIRTQ_MAX_SIZE)
				return fail(vq, "too many buffers");
			req->iov[nv].iov_base = p;
			req->iov[nv].iov_len = d.len;
			nv++;
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				req->nwrite++;
				req->write_len += d.len;
			} else {
				req->nread++;
				req->read_len += d.len;
			}
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= tsize)
			return fail(vq, "next index out of range");
		i = d.next;
	}
}

void virtq__unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void virtq__notify_on_more(struct virtq *vq)
{
	uint16_t idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
	if (vq->event_idx)
		__atomic_store_n(&vq->used[2 + 4 * vq->size], idx, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used[0], 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq__avail_empty(struct virtq *vq)
{
	return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE) == vq->last_avail;
}

void virtq__push(struct virtq *vq, uint16_t head, uint32_t written)
{
	volatile uint8_t *u = (volatile uint8_t *)vq->used;
	volatile struct virtq_used_elem *e =
	    (volatile struct virtq_used_elem *)(u + 4 + 8u * (vq->used_idx & (vq->size - 1)));
	e->id = head;
	e->len = written;
	vq->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_store_n(&vq->used[1], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq__should_notify(struct virtq *vq)
{
	/* Our used idx store is ordered before the read of the driver's fields. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(vq->avail[0] & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool valid = vq->signalled_valid;
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t used_event = vq->avail[2 + vq->size];
	/* vring_need_event(): did used idx cross used_event since the last one? */
	return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

void virtq__disable_notify(struct virtq *vq)
{
	if (!vq->event_idx)
		__atomic_store_n(&vq->used[0], VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

void virtq__enable_notify(struct virtq *vq)
{
	if (vq->event_idx)
		__atomic_store_n(&vq->used[2 + 4 * vq->size], vq->last_avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used[0], 0, __ATOMIC_RELAXED);
	/* Publish before re-reading avail idx (pairs with the driver's fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t iov__to_buf(const struct iovec *iov, unsigned n, uint64_t skip, void *buf, uint64_t len)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t c = iov[i].iov_len - skip;
		if (c > len - done)
			c = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

uint64_t iov__from_buf(const struct iovec *iov, unsigned n, uint64_t skip, const void *buf,
		       uint64_t len)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t c = iov[i].iov_len - skip;
		if (c > len - done)
			c = len - done;
		memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, c);
		done += c;
		skip = 0;
	}
	return done;
}

int iov__slice(const struct iovec *iov, unsigned n, uint64_t skip, uint64_t len, struct iovec *dst,
	       unsigned max)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint64_t c = iov[i].iov_len - skip;
		if (c > len)
			c = len;
		if (k == max)
			return -1;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[k].iov_len = c;
		k++;
		len -= c;
		skip = 0;
	}
	return len ? -1 : (int)k;
}
