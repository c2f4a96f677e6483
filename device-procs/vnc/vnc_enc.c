/* SPDX-License-Identifier: MIT */
/*
 * Rectangle encoders: Raw, Hextile (solid / raw tiles) and ZRLE (solid,
 * packed palette up to 16 colours, raw; one persistent zlib stream per
 * client). Pixels are read from the validated display view only.
 */
#include <string.h>

#include "vnc_int.h"

static bool header(struct vnc_buf *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h, int32_t e)
{
	return vbuf__u16(b, x) && vbuf__u16(b, y) && vbuf__u16(b, w) && vbuf__u16(b, h) &&
	       vbuf__u32(b, (uint32_t)e);
}

static bool enc_raw(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct display_view *v = &c->srv->view;
	size_t line = (size_t)w * (c->pf.bpp / 8);
	uint8_t *d = vbuf__reserve(&c->out, line * h);
	if (!d)
		return false;
	for (uint32_t i = 0; i < h; i++)
		vpix__convert(&c->pf, v->bpp, vpix__row(v, x, y + i), w, d + i * line);
	c->out.len += line * h;
	return true;
}

/* true if the w x h block at (x, y) is one colour (returned in *px) */
static bool solid(const struct display_view *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		  uint32_t *px)
{
	uint32_t bpp = v->bpp / 8;
	uint32_t first = vpix__native(v, vpix__row(v, x, y));
	for (uint32_t i = 0; i < h; i++) {
		const uint8_t *p = vpix__row(v, x, y + i);
		for (uint32_t j = 0; j < w; j++)
			if (vpix__native(v, p + j * bpp) != first)
				return false;
	}
	*px = first;
	return true;
}

static bool enc_hextile(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct display_view *v = &c->srv->view;
	for (uint32_t ty = 0; ty < h; ty += 16) {
		uint32_t th = h - ty < 16 ? h - ty : 16;
		for (uint32_t tx = 0; tx < w; tx += 16) {
			uint32_t tw = w - tx < 16 ? w - tx : 16;
			uint32_t px;
			if (solid(v, x + tx, y + ty, tw, th, &px)) {
				/* BackgroundSpecified, no subrectangles */
				uint8_t *d = vbuf__reserve(&c->out, 5);
				if (!d)
					return false;
				d[0] = 2;
				c->out.len +=
				    1 + vpix__convert(&c->pf, v->bpp, vpix__row(v, x + tx, y + ty),
						      1, d + 1);
				continue;
			}
			size_t line = (size_t)tw * (c->pf.bpp / 8);
			uint8_t *d = vbuf__reserve(&c->out, 1 + line * th);
			if (!d)
				return false;
			d[0] = 1; /* Raw */
			for (uint32_t i = 0; i < th; i++)
				vpix__convert(&c->pf, v->bpp, vpix__row(v, x + tx, y + ty + i), tw,
					      d + 1 + i * line);
			c->out.len += 1 + line * th;
		}
	}
	return true;
}

/* ---- ZRLE ---- */

static bool zfeed(struct vnc_client *c, const uint8_t *p, size_t n, int flush)
{
	z_stream *z = &c->zs;
	z->next_in = (uint8_t *)p;
	z->avail_in = (uInt)n;
	do {
		const size_t chunk = 65536;
		uint8_t *d = vbuf__reserve(&c->out, chunk);
		if (!d)
			return false;
		z->next_out = d;
		z->avail_out = chunk;
		int r = deflate(z, flush);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return false;
		c->out.len += chunk - z->avail_out;
		if (z->avail_out != 0 && z->avail_in == 0)
			break;
	} while (1);
	return true;
}

static size_t cpix(struct vnc_client *c, const uint8_t *src, uint8_t *dst)
{
	unsigned skip, n = vpix__cpixel(&c->pf, &skip);
	uint8_t full[4];
	vpix__convert(&c->pf, c->srv->view.bpp, src, 1, full);
	memcpy(dst, full + skip, n);
	return n;
}

/* One ZRLE tile into scratch; returns its length. */
static size_t zrle_tile(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct display_view *v = &c->srv->view;
	uint8_t *o = c->srv->scratch;
	uint32_t bpp = v->bpp / 8;
	uint32_t pal[16];
	const uint8_t *palsrc[16];
	unsigned np = vpal__scan(v, x, y, w, h, pal, palsrc);
	size_t n = 0;
	if (np == 1) {
		o[n++] = 1;
		n += cpix(c, palsrc[0], o + n);
		return n;
	}
	if (np <= 16) {
		o[n++] = (uint8_t)np;
		for (unsigned k = 0; k < np; k++)
			n += cpix(c, palsrc[k], o + n);
		unsigned bits = np <= 2 ? 1 : np <= 4 ? 2 : 4;
		for (uint32_t i = 0; i < h; i++) {
			const uint8_t *p = vpix__row(v, x, y + i);
			uint8_t acc = 0;
			unsigned nb = 0;
			for (uint32_t j = 0; j < w; j++) {
				uint32_t px = vpix__native(v, p + j * bpp);
				unsigned k = 0;
				while (pal[k] != px && k < np - 1)
					k++;
				acc = (uint8_t)(acc << bits | k);
				nb += bits;
				if (nb == 8) {
					o[n++] = acc;
					acc = 0;
					nb = 0;
				}
			}
			if (nb)
				o[n++] = (uint8_t)(acc << (8 - nb));
		}
		return n;
	}
	o[n++] = 0; /* raw CPIXELs */
	unsigned skip, cb = vpix__cpixel(&c->pf, &skip);
	if (cb == c->pf.bpp / 8) {
		for (uint32_t i = 0; i < h; i++)
			n += vpix__convert(&c->pf, v->bpp, vpix__row(v, x, y + i), w, o + n);
		return n;
	}
	uint8_t tmp[VNC_TILE * 4];
	for (uint32_t i = 0; i < h; i++) {
		vpix__convert(&c->pf, v->bpp, vpix__row(v, x, y + i), w, tmp);
		for (uint32_t j = 0; j < w; j++) {
			memcpy(o + n, tmp + j * 4 + skip, 3);
			n += 3;
		}
	}
	return n;
}

static bool enc_zrle(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	if (!c->zinit) {
		memset(&c->zs, 0, sizeof(c->zs));
		if (deflateInit2(&c->zs, 1, Z_DEFLATED, 15, 8, Z_RLE) != Z_OK)
			return false;
		c->zinit = true;
	}
	if (!vbuf__u32(&c->out, 0))
		return false;
	size_t lenpos = vbuf__pending(&c->out) - 4;
	size_t start = vbuf__pending(&c->out);
	for (uint32_t ty = 0; ty < h; ty += VNC_TILE) {
		uint32_t th = h - ty < VNC_TILE ? h - ty : VNC_TILE;
		for (uint32_t tx = 0; tx < w; tx += VNC_TILE) {
			uint32_t tw = w - tx < VNC_TILE ? w - tx : VNC_TILE;
			size_t n = zrle_tile(c, x + tx, y + ty, tw, th);
			if (!zfeed(c, c->srv->scratch, n, Z_NO_FLUSH))
				return false;
		}
	}
	if (!zfeed(c, NULL, 0, Z_SYNC_FLUSH))
		return false;
	uint32_t len = (uint32_t)(vbuf__pending(&c->out) - start);
	uint8_t *p = c->out.data + c->out.off + lenpos;
	p[0] = len >> 24;
	p[1] = len >> 16;
	p[2] = len >> 8;
	p[3] = len;
	return true;
}

bool venc__rect(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	if (!header(&c->out, x, y, w, h, c->enc))
		return false;
	switch (c->enc) {
	case ENC_ZRLE:
		return enc_zrle(c, x, y, w, h);
	case ENC_HEXTILE:
		return enc_hextile(c, x, y, w, h);
	case ENC_TIGHT:
		return venc__tight(c, x, y, w, h);
	default:
		return enc_raw(c, x, y, w, h);
	}
}
