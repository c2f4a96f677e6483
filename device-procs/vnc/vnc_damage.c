/* SPDX-License-Identifier: MIT */
/*
 * Damage tracking by tile hashing: the screen is cut into 64x64 tiles, each
 * hashed once per frame tick (only when some client waits for an update);
 * each client keeps the hash of every tile as it last sent it, so a client's
 * damage is one comparison per tile and a slow client's damage coalesces for
 * free. The hash is a 4-lane multiply-rotate over 8-byte words (not
 * cryptographic: a collision leaves one tile stale until it changes again).
 * Cost measured on this machine: see docs/vnc.md.
 */
#include <string.h>

#include "vnc_int.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full

static inline uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	return rotl(h ^ (w * K2), 31) * K1;
}

static uint64_t hash_line(uint64_t seed, const uint8_t *p, size_t n)
{
	uint64_t a = seed, b = seed ^ K2, c = seed + K1, d = ~seed;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];
		memcpy(w, p + i, 32);
		a = mix(a, w[0]);
		b = mix(b, w[1]);
		c = mix(c, w[2]);
		d = mix(d, w[3]);
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		a = mix(a, w);
	}
	if (i < n) {
		uint64_t w = 0;
		memcpy(&w, p + i, n - i);
		b = mix(b, w);
	}
	return mix(mix(a, b), mix(c, d));
}

uint64_t vdmg__hash_tile(const struct display_view *v, unsigned tx, unsigned ty)
{
	uint32_t x0 = tx * VNC_DTILE, y0 = ty * VNC_DTILE;
	if (x0 >= v->width || y0 >= v->height)
		return 0;
	uint32_t w = v->width - x0 < VNC_DTILE ? v->width - x0 : VNC_DTILE;
	uint32_t h = v->height - y0 < VNC_DTILE ? v->height - y0 : VNC_DTILE;
	uint32_t bpp = v->bpp / 8;
	uint64_t hsh = K1 ^ ((uint64_t)w << 32 | h);
	for (uint32_t y = 0; y < h; y++)
		hsh = hash_line(hsh, v->pixels + (size_t)(y0 + y) * v->stride + (size_t)x0 * bpp,
				(size_t)w * bpp);
	/* 0 is reserved for "never sent" */
	return hsh ? hsh : 1;
}

void vdmg__hash_all(const struct display_view *v, uint64_t *hashes)
{
	unsigned tw = (v->width + VNC_DTILE - 1) / VNC_DTILE,
		 th = (v->height + VNC_DTILE - 1) / VNC_DTILE;
	for (unsigned ty = 0; ty < th; ty++)
		for (unsigned tx = 0; tx < tw; tx++)
			hashes[ty * VNC_TILES_X + tx] = vdmg__hash_tile(v, tx, ty);
}
