/* SPDX-License-Identifier: MIT */
/*
 * Tight encoding (no JPEG): Fill for one-colour rectangles, Basic
 * compression with the palette filter (2..16 colours; stream 1) or the copy
 * filter (stream 0). Each stream is a persistent zlib stream per client.
 * Rectangles are at most 2048 pixels wide (vnc_update.c splits runs).
 */
#include <string.h>

#include "vnc_int.h"

#define TIGHT_FILL	 0x80
#define TIGHT_FILTER	 0x40
#define TIGHT_MIN_TO_ZIP 12

/* TPIXEL: R,G,B bytes for 32bpp/depth 24/max 255 formats, else a client pixel. */
static bool tight24(const struct vnc_pixfmt *pf)
{
	return pf->bpp == 32 && pf->depth == 24 && pf->rmax == 255 && pf->gmax == 255 &&
	       pf->bmax == 255;
}

static size_t tpix_row(struct vnc_client *c, const uint8_t *src, uint32_t n, uint8_t *dst)
{
	const struct vnc_pixfmt *pf = &c->pf;
	if (!tight24(pf))
		return vpix__convert(pf, c->srv->view.bpp, src, n, dst);
	/* all maxima are 255: a TPIXEL is just the 8-bit components, R G B */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r, g, b;
		if (c->srv->view.bpp == 32) {
			uint32_t p;
			memcpy(&p, src + (size_t)i * 4, 4);
			r = (p >> 16) & 255;
			g = (p >> 8) & 255;
			b = p & 255;
		} else {
			uint16_t p;
			memcpy(&p, src + (size_t)i * 2, 2);
			r = ((p >> 11) & 31) << 3 | ((p >> 13) & 7);
			g = ((p >> 5) & 63) << 2 | ((p >> 9) & 3);
			b = (p & 31) << 3 | ((p >> 2) & 7);
		}
		dst[3 * i] = (uint8_t)r;
		dst[3 * i + 1] = (uint8_t)g;
		dst[3 * i + 2] = (uint8_t)b;
	}
	return (size_t)n * 3;
}

static bool put_len(struct vnc_buf *b, size_t n)
{
	uint8_t l[3];
	unsigned k = 0;
	l[k++] = (uint8_t)(n & 0x7f);
	if (n >= 0x80) {
		l[0] |= 0x80;
		l[k++] = (uint8_t)((n >> 7) & 0x7f);
		if (n >= 0x4000) {
			l[1] |= 0x80;
			l[k++] = (uint8_t)(n >> 14);
		}
	}
	return n < (1u << 22) && vbuf__put(b, l, k);
}

/* Compress `n` bytes of s->scratch-built rows into c->out with stream id. */
static bool zsend(struct vnc_client *c, unsigned id, const uint8_t *p, size_t n, bool last)
{
	z_stream *z = &c->tz[id];
	struct vnc_buf *t = &c->srv->tbuf;
	z->next_in = (uint8_t *)p;
	z->avail_in = (uInt)n;
	int flush = last ? Z_SYNC_FLUSH : Z_NO_FLUSH;
	do {
		uint8_t *d = vbuf__reserve(t, 65536);
		if (!d)
			return false;
		z->next_out = d;
		z->avail_out = 65536;
		int r = deflate(z, flush);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return false;
		t->len += 65536 - z->avail_out;
		if (z->avail_out != 0 && z->avail_in == 0)
			break;
	} while (1);
	return true;
}

static bool zstart(struct vnc_client *c, unsigned id)
{
	if (!(c->tz_init & (1u << id))) {
		memset(&c->tz[id], 0, sizeof(c->tz[id]));
		if (deflateInit2(&c->tz[id], 1, Z_DEFLATED, 15, 8, Z_RLE) != Z_OK)
			return false;
		c->tz_init |= 1u << id;
	}
	vbuf__consume(&c->srv->tbuf, vbuf__pending(&c->srv->tbuf));
	return true;
}

/* Emit data (raw if short, else compact length + zlib) gathered row by row. */
static bool finish(struct vnc_client *c, const uint8_t *raw, size_t rawlen, bool zipped)
{
	struct vnc_buf *t = &c->srv->tbuf;
	if (!zipped)
		return vbuf__put(&c->out, raw, rawlen);
	return put_len(&c->out, vbuf__pending(t)) &&
	       vbuf__put(&c->out, t->data + t->off, vbuf__pending(t));
}

bool venc__tight(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct display_view *v = &c->srv->view;
	uint32_t bpp = v->bpp / 8;
	uint8_t *o = c->srv->scratch; /* one row of TPIXELs: <= 2048 * 4 bytes */
	size_t tsz = tight24(&c->pf) ? 3 : c->pf.bpp / 8;
	uint32_t pal[16];
	const uint8_t *palsrc[16];
	unsigned np = vpal__scan(v, x, y, w, h, pal, palsrc);
	if (np == 1) {
		uint8_t t[4];
		size_t n = tpix_row(c, palsrc[0], 1, t);
		return vbuf__u8(&c->out, TIGHT_FILL) && vbuf__put(&c->out, t, n);
	}
	if (np <= 16) {
		/* stream 1, palette filter */
		uint8_t hdr[2 + 16 * 4];
		size_t hn = 0;
		hdr[hn++] = 1; /* filter id: palette */
		hdr[hn++] = (uint8_t)(np - 1);
		for (unsigned k = 0; k < np; k++)
			hn += tpix_row(c, palsrc[k], 1, hdr + hn);
		if (!vbuf__u8(&c->out, (1 << 4) | TIGHT_FILTER) || !vbuf__put(&c->out, hdr, hn))
			return false;
		size_t rowlen = np == 2 ? (w + 7) / 8 : w;
		bool zipped = rowlen * h >= TIGHT_MIN_TO_ZIP;
		if (!zstart(c, 1))
			return false;
		uint8_t raw[TIGHT_MIN_TO_ZIP];
		size_t rawlen = 0;
		for (uint32_t i = 0; i < h; i++) {
			const uint8_t *p = vpix__row(v, x, y + i);
			memset(o, 0, rowlen);
			for (uint32_t j = 0; j < w; j++) {
				uint32_t px = vpix__native(v, p + j * bpp);
				unsigned k = 0;
				while (pal[k] != px && k < np - 1)
					k++;
				if (np == 2)
					o[j / 8] |= (uint8_t)(k << (7 - j % 8));
				else
					o[j] = (uint8_t)k;
			}
			if (zipped) {
				if (!zsend(c, 1, o, rowlen, i + 1 == h))
					return false;
			} else {
				memcpy(raw + rawlen, o, rowlen);
				rawlen += rowlen;
			}
		}
		return finish(c, raw, rawlen, zipped);
	}
	/* stream 0, copy filter (implicit) */
	if (!vbuf__u8(&c->out, 0 << 4) || !zstart(c, 0))
		return false;
	bool zipped = (size_t)w * h * tsz >= TIGHT_MIN_TO_ZIP;
	uint8_t raw[TIGHT_MIN_TO_ZIP];
	size_t rawlen = 0;
	for (uint32_t i = 0; i < h; i++) {
		size_t n = tpix_row(c, vpix__row(v, x, y + i), w, o);
		if (zipped) {
			if (!zsend(c, 0, o, n, i + 1 == h))
				return false;
		} else {
			memcpy(raw + rawlen, o, n);
			rawlen += n;
		}
	}
	return finish(c, raw, rawlen, zipped);
}
