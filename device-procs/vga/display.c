/* SPDX-License-Identifier: MIT */
/* Display state publication (seqlock writer) and hostile-input reader. */
#include <errno.h>
#include <string.h>

#include "display.h"

static inline uint32_t load32(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void display__init(struct display_state *st, uint32_t vram_size)
{
	memset(st, 0, sizeof(*st));
	st->vram_size = vram_size;
	st->width = 640;
	st->height = 480;
	st->bpp = 32;
	st->stride = 640 * 4;
	__atomic_store_n(&st->magic, DISPLAY_MAGIC, __ATOMIC_RELEASE);
}

void display__publish(struct display_state *st, int enabled, uint32_t width, uint32_t height,
		      uint32_t bpp, uint32_t stride, uint32_t offset)
{
	uint32_t g = st->gen;
	__atomic_store_n(&st->gen, g | 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->enabled = enabled ? 1 : 0;
	st->width = width;
	st->height = height;
	st->bpp = bpp;
	st->stride = stride;
	st->offset = offset;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&st->gen, (g | 1) + 1, __ATOMIC_RELEASE);
}

static int validate(const struct display_state *s, size_t map_size, struct display_view *v,
		    const uint8_t *map)
{
	if (s->magic != DISPLAY_MAGIC)
		return -EINVAL;
	if (map_size < DISPLAY_STATE_SIZE)
		return -EINVAL;
	uint64_t vram = map_size - DISPLAY_STATE_SIZE;
	/* the writer's claim never extends what we actually mapped */
	if ((uint64_t)s->vram_size < vram)
		vram = s->vram_size;
	if (s->width == 0 || s->width > DISPLAY_MAX_WIDTH || s->height == 0 ||
	    s->height > DISPLAY_MAX_HEIGHT)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->width = s->width;
	v->height = s->height;
	v->gen = s->gen;
	if (!s->enabled) {
		v->bpp = 32;
		v->stride = s->width * 4;
		return 0;
	}
	if (s->bpp != 16 && s->bpp != 32)
		return -EINVAL;
	uint64_t line = (uint64_t)s->width * (s->bpp / 8);
	if (s->stride < line || s->stride % (s->bpp / 8))
		return -EINVAL;
	uint64_t end = (uint64_t)s->offset + (uint64_t)(s->height - 1) * s->stride + line;
	if (end > vram)
		return -EINVAL;
	v->enabled = 1;
	v->bpp = s->bpp;
	v->stride = s->stride;
	v->pixels = map + DISPLAY_STATE_SIZE + s->offset;
	return 0;
}

int display__read(const uint8_t *map, size_t map_size, struct display_view *v)
{
	if (!map || map_size < DISPLAY_STATE_SIZE)
		return -EINVAL;
	const volatile struct display_state *st = (const volatile struct display_state *)map;
	for (int tries = 0; tries < 64; tries++) {
		uint32_t g1 = load32(&st->gen);
		if (g1 & 1)
			continue;
		struct display_state copy;
		copy.magic = st->magic;
		copy.enabled = st->enabled;
		copy.width = st->width;
		copy.height = st->height;
		copy.bpp = st->bpp;
		copy.stride = st->stride;
		copy.offset = st->offset;
		copy.vram_size = st->vram_size;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (load32(&st->gen) != g1)
			continue;
		copy.gen = g1;
		/* validation runs on our private copy only */
		return validate(&copy, map_size, v, map);
	}
	return -EAGAIN;
}
