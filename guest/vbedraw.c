/* SPDX-License-Identifier: MIT */
/*
 * vbedraw: sets a Bochs VBE mode and draws a known picture, the same one
 * tests/guest/vbe_picture.py computes (keep the two in step).
 *
 *   w=1024 h=768 pattern=N   mode and picture variant
 *   exit=1                   exit 0 once drawn (unless hold=1)
 *   anim=1                   redraw the whole screen forever (pattern = frame)
 *   onechar=1                change one 8x16 character cell once per second
 *
 * Prints "vbedraw: drawn WxH", then a heartbeat every second.
 */
#include "rt.h"
#include "vga/vga.h"

static const uint32_t bands[8] = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
				  0xff00ff, 0xff0000, 0x0000ff, 0x000000};

#define GRID_STEP 32
#define GRID_LINE 0x808080
#define GRID_BG	  0x000020
#define TITLE_FG  0xffffff
#define MODE_FG	  0xffff00
#define TEXT_BG	  0x000000
#define CELL_FG	  0x00ff00

/* Top quarter: 8 vertical colour bands, rotated by pattern. */
static void draw_bands(const struct vga *v, uint32_t pattern)
{
	uint32_t w = v->width, q = v->height / 4, i;

	for (i = 0; i < 8; i++) {
		uint32_t x0 = i * w / 8, x1 = (i + 1) * w / 8;

		vga_rect(v, x0, 0, x1 - x0, q, bands[(i + pattern) % 8]);
	}
}

/* Second quarter: red rises with x, green with y, blue = red + 64 * pattern. */
static void draw_gradient(const struct vga *v, uint32_t pattern)
{
	uint32_t q = v->height / 4, h2 = v->height / 2, x, y;

	for (y = q; y < h2; y++) {
		volatile uint32_t *row =
		    (volatile uint32_t *)(uintptr_t)(v->fb + (uint64_t)y * v->stride);
		uint32_t g = (y - q) * 256 / (h2 - q);

		for (x = 0; x < v->width; x++) {
			uint32_t r = x * 256 / v->width, b = (r + 64 * pattern) & 0xff;

			row[x] = r << 16 | g << 8 | b;
		}
	}
}

/* Bottom half: grid lines every GRID_STEP pixels and along the right and bottom edges. */
static void draw_grid(const struct vga *v)
{
	uint32_t h2 = v->height / 2, x, y;

	vga_rect(v, 0, h2, v->width, v->height - h2, GRID_BG);
	for (y = h2; y < v->height; y += GRID_STEP)
		vga_rect(v, 0, y, v->width, 1, GRID_LINE);
	vga_rect(v, 0, v->height - 1, v->width, 1, GRID_LINE);
	for (x = 0; x < v->width; x += GRID_STEP)
		vga_rect(v, x, h2, 1, v->height - h2, GRID_LINE);
	vga_rect(v, v->width - 1, h2, 1, v->height - h2, GRID_LINE);
}

static void draw_picture(const struct vga *v, uint32_t pattern)
{
	char mode[64];
	uint32_t h2 = v->height / 2;

	draw_bands(v, pattern);
	draw_gradient(v, pattern);
	draw_grid(v);
	vga_text(v, 16, h2 + 16, "cellvm VBE test", TITLE_FG, TEXT_BG, 2);
	rt_snprintf(mode, sizeof(mode), "%ux%ux32 pattern=%u", v->width, v->height, pattern);
	vga_text(v, 16, h2 + 64, mode, MODE_FG, TEXT_BG, 1);
}

static void heartbeat(const struct vga *v, int onechar)
{
	uint64_t hz = rt_tsc_hz(), next, n = 0;

	if (!hz)
		hz = 2000000000ULL;
	next = rdtsc() + hz;
	for (;;) {
		uint64_t now = rdtsc();

		if (now < next) {
			rt_sleep_us((next - now) * 1000000 / hz);
			continue;
		}
		next += hz;
		n++;
		if (onechar) {
			/* exactly one 8x16 cell: a digit below the mode line */
			vga_char(v, 16, v->height / 2 + 96, (char)('0' + n % 10), CELL_FG, TEXT_BG,
				 1);
			rt_printf("vbedraw: onechar %lu\n", n);
		} else {
			rt_printf("vbedraw: alive %lu\n", n);
		}
	}
}

static void animate(const struct vga *v)
{
	uint64_t hz = rt_tsc_hz(), t0, frames = 0, last = 0;
	char label[32];

	if (!hz)
		hz = 2000000000ULL;
	t0 = rdtsc();
	for (;;) {
		uint64_t now;

		draw_picture(v, (uint32_t)(frames % 8));
		rt_snprintf(label, sizeof(label), "frame %lu", frames);
		vga_text(v, 16, v->height / 2 + 96, label, CELL_FG, TEXT_BG, 1);
		frames++;
		now = rdtsc();
		if (now - t0 >= hz) {
			rt_printf("vbedraw: anim frames %lu fps %lu\n", frames,
				  (frames - last) * hz / (now - t0));
			last = frames;
			t0 = now;
		}
	}
}

int main(void)
{
	uint32_t w = (uint32_t)rt_cmdline_u64("w", 1024), h = (uint32_t)rt_cmdline_u64("h", 768);
	uint32_t pattern = (uint32_t)(rt_cmdline_u64("pattern", 0) % 8);
	struct vga v;

	if (vga_probe(&v)) {
		rt_printf("vbedraw: FAIL no Bochs VBE adapter (PCI 1234:1111)\n");
		return 1;
	}
	rt_printf("vbedraw: adapter %02x:%02x.%x id 0x%x fb 0x%lx (%lu MiB) regs %s\n", v.bdf >> 8,
		  (v.bdf >> 3) & 31, v.bdf & 7, v.id, v.fb, v.fb_size >> 20,
		  v.mmio ? "mmio" : "ports");
	if (vga_set_mode(&v, w, h)) {
		rt_printf("vbedraw: FAIL mode %ux%ux32 refused\n", w, h);
		return 2;
	}
	if (rt_cmdline_u64("anim", 0))
		animate(&v);
	draw_picture(&v, pattern);
	rt_printf("vbedraw: drawn %ux%u\n", w, h);
	if (rt_cmdline_u64("exit", 0) && !rt_cmdline_u64("hold", 0))
		return 0;
	heartbeat(&v, (int)rt_cmdline_u64("onechar", 0));
	return 0;
}
