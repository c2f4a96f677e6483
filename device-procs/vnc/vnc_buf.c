/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a hard bound: a client can never make us hold more than max. */
#include <stdlib.h>
#include <string.h>

#include "vnc_int.h"

uint8_t *vbuf__reserve(struct vnc_buf *b, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (n > b->max || b->len - b->off > b->max - n)
		return NULL;
	if (b->cap - b->len >= n)
		return b->data + b->len;
	/* compact before growing */
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return b->data + b->len;
	}
	size_t want = b->len + n, cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	uint8_t *d = realloc(b->data, cap);
	if (!d)
		return NULL;
	b->data = d;
	b->cap = cap;
	return b->data + b->len;
}

bool vbuf__put(struct vnc_buf *b, const void *p, size_t n)
{
	uint8_t *d = vbuf__reserve(b, n);
	if (!d)
		return false;
	memcpy(d, p, n);
	b->len += n;
	return true;
}

bool vbuf__u8(struct vnc_buf *b, uint8_t v)
{
	return vbuf__put(b, &v, 1);
}

bool vbuf__u16(struct vnc_buf *b, uint16_t v)
{
	uint8_t d[2] = {v >> 8, v};
	return vbuf__put(b, d, 2);
}

bool vbuf__u32(struct vnc_buf *b, uint32_t v)
{
	uint8_t d[4] = {v >> 24, v >> 16, v >> 8, v};
	return vbuf__put(b, d, 4);
}

size_t vbuf__pending(const struct vnc_buf *b)
{
	return b->len - b->off;
}

void vbuf__consume(struct vnc_buf *b, size_t n)
{
	if (n > b->len - b->off)
		n = b->len - b->off;
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
	/* give memory back after a big update has drained */
	if (b->len == 0 && b->cap > (1u << 20)) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

void vbuf__free(struct vnc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}
