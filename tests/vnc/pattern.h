/* SPDX-License-Identifier: MIT */
/*
 * The test picture (also computed by tests/vnc/vnctest.py): solid blocks,
 * a few-colour checker and gradients, so every encoder path is used.
 */
#ifndef CELLVM_TEST_PATTERN_H
#define CELLVM_TEST_PATTERN_H
#include <stdint.h>

static inline void pattern_rgb(uint32_t x, uint32_t y, uint8_t *r, uint8_t *g, uint8_t *b)
{
	if (y < 128) { /* vertical bars: solid tiles */
		*r = (x / 128) & 1 ? 255 : 0;
		*g = (x / 256) & 1 ? 255 : 0;
		*b = (x / 512) & 1 ? 255 : 0;
	} else if (y < 384) { /* checker: palette tiles */
		int on = ((x / 8) + (y / 8)) & 1;
		*r = on ? 200 : 16;
		*g = on ? 40 : 120;
		*b = on ? 80 : 240;
	} else { /* gradients: raw tiles */
		*r = (uint8_t)(x & 255);
		*g = (uint8_t)(y & 255);
		*b = (uint8_t)((x + y) & 255);
	}
}
#endif
