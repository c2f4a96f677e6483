/* SPDX-License-Identifier: MIT */
/*
 * Client pixel formats. SetPixelFormat is validated before use (the QEMU
 * CVE-2014-7815 / CVE-2015-8504 class): bpp 8/16/32, 0 < depth <= bpp,
 * true colour only, each max non-zero with max+1 a power of two, and every
 * component (shift + bits) inside bpp.
 */
#include <string.h>

#include "vnc_int.h"

static unsigned bits_of(uint16_t max)
{
	/* max + 1 is a power of two: count bits */
	unsigned n = 0;
	while (max) {
		n++;
		max >>= 1;
	}
	return n;
}

static bool comp_ok(uint16_t max, uint8_t shift, uint8_t bpp)
{
	if (max == 0 || ((uint32_t)max & ((uint32_t)max + 1)) != 0)
		return false;
	return shift < bpp && shift + bits_of(max) <= bpp;
}

bool vpix__parse(struct vnc_pixfmt *pf, const uint8_t in[16])
{
	struct vnc_pixfmt p = {
	    .bpp = in[0],
	    .depth = in[1],
	    .big_endian = in[2] != 0,
	    .true_colour = in[3] != 0,
	    .rmax = rd16(in + 4),
	    .gmax = rd16(in + 6),
	    .bmax = rd16(in + 8),
	    .rshift = in[10],
	    .gshift = in[11],
	    .bshift = in[12],
	};
	if (p.bpp != 8 && p.bpp != 16 && p.bpp != 32)
		return false;
	if (p.depth == 0 || p.depth > p.bpp)
		return false;
	if (!p.true_colour) /* colour-map mode is not supported */
		return false;
	if (!comp_ok(p.rmax, p.rshift, p.bpp) || !comp_ok(p.gmax, p.gshift, p.bpp) ||
	    !comp_ok(p.bmax, p.bshift, p.bpp))
		return false;
	*pf = p;
	return true;
}

void vpix__write(const struct vnc_pixfmt *pf, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = pf->bpp;
	out[1] = pf->depth;
	out[2] = pf->big_endian;
	out[3] = pf->true_colour;
	out[4] = pf->rmax >> 8;
	out[5] = pf->rmax;
	out[6] = pf->gmax >> 8;
	out[7] = pf->gmax;
	out[8] = pf->bmax >> 8;
	out[9] = pf->bmax;
	out[10] = pf->rshift;
	out[11] = pf->gshift;
	out[12] = pf->bshift;
}

void vpix__default(struct vnc_pixfmt *pf)
{
	*pf = (struct vnc_pixfmt){.bpp = 32,
				  .depth = 24,
				  .big_endian = 0,
				  .true_colour = 1,
				  .rmax = 255,
				  .gmax = 255,
				  .bmax = 255,
				  .rshift = 16,
				  .gshift = 8,
				  .bshift = 0};
}

static inline uint32_t scale8(uint32_t c8, uint16_t max)
{
	/* max + 1 is a power of two; 8-bit component to [0, max] */
	unsigned bits = bits_of(max);
	return bits <= 8 ? c8 >> (8 - bits)
			 : c8 << (bits - 8) | c8 >> (16 - bits > 8 ? 0 : 16 - bits);
}

size_t vpix__convert(const struct vnc_pixfmt *pf, uint32_t src_bpp, const uint8_t *src, uint32_t n,
		     uint8_t *dst)
{
	unsigned obpp = pf->bpp / 8;
	if (src_bpp == 32 && pf->bpp == 32 && !pf->big_endian && pf->rmax == 255 &&
	    pf->gmax == 255 && pf->bmax == 255 && pf->rshift == 16 && pf->gshift == 8 &&
	    pf->bshift == 0) {
		memcpy(dst, src, (size_t)n * 4);
		return (size_t)n * 4;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r, g, b;
		if (src_bpp == 32) {
			uint32_t p;
			memcpy(&p, src + i * 4, 4);
			r = (p >> 16) & 255;
			g = (p >> 8) & 255;
			b = p & 255;
		} else {
			uint16_t p;
			memcpy(&p, src + i * 2, 2);
			r = ((p >> 11) & 31) << 3 | ((p >> 13) & 7);
			g = ((p >> 5) & 63) << 2 | ((p >> 9) & 3);
			b = (p & 31) << 3 | ((p >> 2) & 7);
		}
		uint32_t v = scale8(r, pf->rmax) << pf->rshift | scale8(g, pf->gmax) << pf->gshift |
			     scale8(b, pf->bmax) << pf->bshift;
		uint8_t *d = dst + (size_t)i * obpp;
		if (obpp == 1) {
			d[0] = v;
		} else if (obpp == 2) {
			if (pf->big_endian) {
				d[0] = v >> 8;
				d[1] = v;
			} else {
				d[0] = v;
				d[1] = v >> 8;
			}
		} else {
			if (pf->big_endian) {
				d[0] = v >> 24;
				d[1] = v >> 16;
				d[2] = v >> 8;
				d[3] = v;
			} else {
				d[0] = v;
				d[1] = v >> 8;
				d[2] = v >> 16;
				d[3] = v >> 24;
			}
		}
	}
	return (size_t)n * obpp;
}

unsigned vpix__cpixel(const struct vnc_pixfmt *pf, unsigned *skip)
{
	*skip = 0;
	if (pf->bpp != 32 || pf->depth > 24)
		return pf->bpp / 8;
	uint32_t mask = (uint32_t)pf->rmax << pf->rshift | (uint32_t)pf->gmax << pf->gshift |
			(uint32_t)pf->bmax << pf->bshift;
	bool low = (mask & 0xff000000u) == 0, high = (mask & 0x000000ffu) == 0;
	if (low) {
		*skip = pf->big_endian ? 1 : 0;
		return 3;
	}
	if (high) {
		*skip = pf->big_endian ? 0 : 1;
		return 3;
	}
	return 4;
}

unsigned vpal__scan(const struct display_view *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint32_t pal[16], const uint8_t *palsrc[16])
{
	uint32_t bpp = v->bpp / 8;
	unsigned np = 0;
	for (uint32_t i = 0; i < h && np <= 16; i++) {
		const uint8_t *p = vpix__row(v, x, y + i);
		for (uint32_t j = 0; j < w; j++) {
			uint32_t px = vpix__native(v, p + j * bpp);
			unsigned k = 0;
			while (k < np && pal[k] != px)
				k++;
			if (k == np) {
				if (np == 16) {
					np = 17;
					break;
				}
				pal[np] = px;
				palsrc[np++] = p + j * bpp;
			}
		}
	}
	return np;
}
