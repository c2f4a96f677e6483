/* SPDX-License-Identifier: MIT */
/* Bochs VBE display: PCI discovery, DISPI registers, mode setting, drawing. */
#include "rt.h"
#include "abi.h"
#include "../virtio/pci.h"
#include "vga.h"

/* Function 0 of each slot first, so a bus without PCI costs ~32 reads. */
static int vga_find(uint32_t *bdf)
{
	uint32_t dev, fn;

	for (dev = 0; dev < 32; dev++) {
		uint32_t id0 = pci_read32(PCI_BDF(0, dev, 0), 0), nfn = 1;

		if ((id0 & 0xffff) == 0xffff || (id0 & 0xffff) == 0)
			continue;
		if (pci_read8(PCI_BDF(0, dev, 0), 0x0e) & 0x80)
			nfn = 8;
		for (fn = 0; fn < nfn; fn++) {
			uint32_t id = fn ? pci_read32(PCI_BDF(0, dev, fn), 0) : id0;

			if ((id & 0xffff) == VGA_PCI_VENDOR && (id >> 16) == VGA_PCI_DEVICE) {
				*bdf = PCI_BDF(0, dev, fn);
				return 0;
			}
		}
	}
	return -1;
}

uint16_t vga_dispi_read(const struct vga *v, unsigned int index)
{
	if (v->mmio)
		return mmio_read16(v->mmio + VGA_MMIO_DISPI + 2 * index);
	outw(CV_PORT_VBE_INDEX, (uint16_t)index);
	return inw(CV_PORT_VBE_DATA);
}

void vga_dispi_write(const struct vga *v, unsigned int index, uint16_t val)
{
	if (v->mmio) {
		mmio_write16(v->mmio + VGA_MMIO_DISPI + 2 * index, val);
		return;
	}
	outw(CV_PORT_VBE_INDEX, (uint16_t)index);
	outw(CV_PORT_VBE_DATA, val);
}

int vga_probe(struct vga *v)
{
	uint64_t size = 0;
	uint32_t bdf;

	memset(v, 0, sizeof(*v));
	if (vga_find(&bdf))
		return -1;
	v->bdf = bdf;
	v->fb = pci_bar(bdf, 0, &v->fb_size);
	if (!v->fb || v->fb_size < (1u << 20))
		goto fail;
	/* BAR2 is the DISPI MMIO block on bochs-display and a std VGA with mmio=on. */
	v->mmio = pci_bar(bdf, 2, &size);
	if (v->mmio && size < VGA_MMIO_DISPI + 0x100)
		v->mmio = 0;
	pci_enable(bdf);
	v->id = vga_dispi_read(v, VGA_DISPI_ID);
	if (v->id < VGA_DISPI_ID0 || v->id > VGA_DISPI_ID5)
		goto fail;
	v->vram = (uint32_t)vga_dispi_read(v, VGA_DISPI_VIDEO_MEM_64K) << 16;
	if (!v->vram || v->vram > v->fb_size)
		v->vram = (uint32_t)v->fb_size; /* older interfaces do not report it */
	return 0;
fail:
	memset(v, 0, sizeof(*v));
	return -1;
}

void vga_disable(struct vga *v)
{
	vga_dispi_write(v, VGA_DISPI_ENABLE, 0);
	v->width = v->height = v->stride = 0;
}

int vga_set_mode(struct vga *v, uint32_t w, uint32_t h)
{
	uint32_t vw;

	if (!v->fb || w < VGA_MIN_WIDTH || w > VGA_MAX_WIDTH || w % 8 || h < VGA_MIN_HEIGHT ||
	    h > VGA_MAX_HEIGHT || (uint64_t)w * h * 4 > v->vram)
		return -1;
	vga_disable(v);
	vga_dispi_write(v, VGA_DISPI_XRES, (uint16_t)w);
	vga_dispi_write(v, VGA_DISPI_YRES, (uint16_t)h);
	vga_dispi_write(v, VGA_DISPI_BPP, 32);
	vga_dispi_write(v, VGA_DISPI_VIRT_WIDTH, (uint16_t)w);
	vga_dispi_write(v, VGA_DISPI_X_OFFSET, 0);
	vga_dispi_write(v, VGA_DISPI_Y_OFFSET, 0);
	vga_dispi_write(v, VGA_DISPI_ENABLE, VGA_DISPI_ENABLED | VGA_DISPI_LFB_ENABLED);
	vw = vga_dispi_read(v, VGA_DISPI_VIRT_WIDTH);
	if (vga_dispi_read(v, VGA_DISPI_XRES) != w || vga_dispi_read(v, VGA_DISPI_YRES) != h ||
	    vga_dispi_read(v, VGA_DISPI_BPP) != 32 ||
	    !(vga_dispi_read(v, VGA_DISPI_ENABLE) & VGA_DISPI_ENABLED) || vw < w ||
	    (uint64_t)vw * 4 * h > v->fb_size) {
		vga_disable(v);
		return -1;
	}
	v->width = w;
	v->height = h;
	v->stride = vw * 4;
	return 0;
}

static volatile uint32_t *vga_row(const struct vga *v, uint32_t y)
{
	return (volatile uint32_t *)(uintptr_t)(v->fb + (uint64_t)y * v->stride);
}

void vga_pixel(const struct vga *v, uint32_t x, uint32_t y, uint32_t rgb)
{
	if (x < v->width && y < v->height)
		vga_row(v, y)[x] = rgb;
}

void vga_rect(const struct vga *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb)
{
	uint32_t i, j;

	if (x >= v->width || y >= v->height)
		return;
	if (w > v->width - x)
		w = v->width - x;
	if (h > v->height - y)
		h = v->height - y;
	for (j = 0; j < h; j++) {
		volatile uint32_t *p = vga_row(v, y + j) + x;

		for (i = 0; i < w; i++)
			p[i] = rgb;
	}
}

void vga_fill(const struct vga *v, uint32_t rgb)
{
	vga_rect(v, 0, 0, v->width, v->height, rgb);
}

int vga_font_bit(char c, uint32_t fx, uint32_t fy)
{
	unsigned int g = (unsigned char)c;

	if (g < VGA_FONT_FIRST || g >= VGA_FONT_FIRST + VGA_FONT_GLYPHS)
		g = '?';
	if (fx < 1 || fx > 5 || fy < 1 || fy > 14)
		return 0;
	return (vga_font5x7[g - VGA_FONT_FIRST][(fy - 1) / 2] >> (5 - fx)) & 1;
}

void vga_char(const struct vga *v, uint32_t x, uint32_t y, char c, uint32_t fg, uint32_t bg,
	      uint32_t scale)
{
	uint32_t fx, fy;

	if (x >= v->width || y >= v->height)
		return; /* also keeps x + 8 * scale * 64 from wrapping */
	if (!scale)
		scale = 1;
	if (scale > 64)
		scale = 64;
	for (fy = 0; fy < VGA_CELL_H; fy++)
		for (fx = 0; fx < VGA_CELL_W; fx++)
			vga_rect(v, x + fx * scale, y + fy * scale, scale, scale,
				 vga_font_bit(c, fx, fy) ? fg : bg);
}

uint32_t vga_text(const struct vga *v, uint32_t x, uint32_t y, const char *s, uint32_t fg,
		  uint32_t bg, uint32_t scale)
{
	if (!scale)
		scale = 1;
	if (scale > 64)
		scale = 64;
	for (; *s && x < v->width; s++, x += VGA_CELL_W * scale)
		vga_char(v, x, y, *s, fg, bg, scale);
	return x;
}
