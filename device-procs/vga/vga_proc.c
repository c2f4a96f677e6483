/* SPDX-License-Identifier: MIT */
/*
 * cellvm-vga: the Bochs VBE / bochs-display adapter in its own process.
 * Region 0: the DISPI index/data ports (0x1ce, 0x1cf, 16-bit data spans
 * 0x1cf-0x1d0); region 1: BAR2, the bochs-display MMIO registers. The video
 * memory itself is BAR0, a KVM memory slot the guest writes directly; this
 * process only maps the display state page, where it publishes each mode
 * for the vnc process (backend_fd[0]: the display memfd).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi.h"
#include "device.h"
#include "display.h"
#include "vbe.h"
#include "vga_cfg.h"

static void *vga_create(struct dev_env *env, char *err, size_t n)
{
	struct vga_cfg c;
	memcpy(&c, env->cfg, sizeof(c));
	if (env->nbackend < 1) {
		snprintf(err, n, "vga: no display memfd");
		return NULL;
	}
	/* Only the state page: this process never needs the pixels. */
	struct display_state *st = mmap(NULL, DISPLAY_STATE_SIZE, PROT_READ | PROT_WRITE,
					MAP_SHARED, env->backend_fd[0], 0);
	if (st == MAP_FAILED) {
		snprintf(err, n, "vga: map display state: %s", strerror(errno));
		return NULL;
	}
	display__init(st, c.vram_size);
	struct vbe *v = calloc(1, sizeof(*v));
	if (!v || vbe__init(v, c.vram_size, st) < 0) {
		snprintf(err, n, "vga: bad video memory size %u", c.vram_size);
		free(v);
		return NULL;
	}
	return v;
}

static uint64_t vga_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	return region == 0 ? vbe__pio_read(dev, off, size) : vbe__mmio_read(dev, off, size);
}

static void vga_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	if (region == 0)
		vbe__pio_write(dev, off, size, val);
	else
		vbe__mmio_write(dev, off, size, val);
}

/* Power-on registers, published again in the state page. */
static void vga_reset(void *dev)
{
	struct vbe *v = dev;
	vbe__init(v, v->vram_size, v->st);
}

static const struct dev_ops vga_ops = {
    .name = "vga",
    .read = vga_read,
    .write = vga_write,
    .reset = vga_reset,
};

const struct dev_desc dev__desc = {
    .type = "vga",
    .ops = &vga_ops,
    .limits = {.nregions = 2, .pio_mask = 1, .size = {3, VBE_MMIO_SIZE}},
    .create = vga_create,
};
