/* SPDX-License-Identifier: MIT */
/*
 * The display memfd shared by the vga process (writer) and the vnc process
 * (reader, mapping it read-only):
 *
 *   [0, DISPLAY_STATE_SIZE)                  struct display_state
 *   [DISPLAY_STATE_SIZE, + vram_size)        video memory (the framebuffer)
 *
 * The broker creates the memfd with size DISPLAY_STATE_SIZE + vram_size and
 * seals it (F_SEAL_SHRINK | F_SEAL_GROW) so that neither side can truncate
 * it under the other's mapping (a shrink would SIGBUS the reader).
 *
 * The writer publishes a mode with a sequence counter (seqlock): `gen` is odd
 * while it updates the fields. The reader treats every field as hostile: a
 * compromised vga process may write anything at any time, so display__read()
 * bounds the number of retries and validates the mode against the mapping.
 */
#ifndef CELLVM_DISPLAY_H
#define CELLVM_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

#define DISPLAY_MAGIC	   0x50445643u /* "CVDP" */
#define DISPLAY_STATE_SIZE 4096u
#define DISPLAY_MAX_WIDTH  4096u
#define DISPLAY_MAX_HEIGHT 4096u

struct display_state {
	uint32_t magic;	  /* DISPLAY_MAGIC */
	uint32_t gen;	  /* seqlock; even = stable. Bumped by 2 per published mode */
	uint32_t enabled; /* 0: no mode (blank screen of width x height) */
	uint32_t width;	  /* visible pixels */
	uint32_t height;
	uint32_t bpp;	    /* 16 (RGB565) or 32 (XRGB8888), little endian */
	uint32_t stride;    /* bytes per line */
	uint32_t offset;    /* byte offset of the visible area in video memory */
	uint32_t vram_size; /* bytes of video memory after the state page */
	uint32_t reserved[7];
};

/* A validated snapshot of the mode; `pixels` points at the visible area. */
struct display_view {
	const uint8_t *pixels; /* NULL when disabled */
	uint32_t width, height, bpp, stride;
	uint32_t gen;
	int enabled;
};

/* Writer side (vga process): publish a mode (enabled 0: blank). */
void display__init(struct display_state *st, uint32_t vram_size);
void display__publish(struct display_state *st, int enabled, uint32_t width, uint32_t height,
		      uint32_t bpp, uint32_t stride, uint32_t offset);

/*
 * Reader side: `map` is the whole memfd mapping of `map_size` bytes. Fills
 * *v with a consistent, validated mode. Returns 0, or -EAGAIN if the writer
 * kept the state unstable (caller keeps its previous view), or -EINVAL if the
 * state is invalid (caller shows nothing). Never reads outside the mapping.
 */
int display__read(const uint8_t *map, size_t map_size, struct display_view *v);

/*
 * Write the view as a PNG (8-bit RGB) to out_fd. A disabled view is written
 * as a black width x height image (1x1 if width or height is 0). Returns 0 or -errno.
 */
int display__screendump_png(const struct display_view *v, int out_fd);

#endif
