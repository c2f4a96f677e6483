/* SPDX-License-Identifier: MIT */
/*
 * Bochs VBE ("DISPI") display driver for guest payloads: QEMU's std VGA and
 * bochs-display, and cellvm's vga device, all PCI function 1234:1111.
 *
 * BAR0 is the linear framebuffer. DISPI registers are reached through BAR2
 * (MMIO, register i at VGA_MMIO_DISPI + 2 * i) when the function has one,
 * otherwise through the index/data ports CV_PORT_VBE_INDEX/DATA. Only 32 bpp
 * (XRGB8888, little endian) modes are set. Drawing helpers clip to the mode;
 * colours are 0xRRGGBB. Build with guest_rt_src + guest_virtio_src +
 * guest_vga_src.
 */
#ifndef GUEST_VGA_H
#define GUEST_VGA_H

#include <stdint.h>

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111

/* DISPI register indexes and values (the Bochs VBE interface). */
#define VGA_DISPI_ID		0
#define VGA_DISPI_XRES		1
#define VGA_DISPI_YRES		2
#define VGA_DISPI_BPP		3
#define VGA_DISPI_ENABLE	4
#define VGA_DISPI_BANK		5
#define VGA_DISPI_VIRT_WIDTH	6
#define VGA_DISPI_VIRT_HEIGHT	7
#define VGA_DISPI_X_OFFSET	8
#define VGA_DISPI_Y_OFFSET	9
#define VGA_DISPI_VIDEO_MEM_64K 10
#define VGA_DISPI_ID0		0xb0c0
#define VGA_DISPI_ID5		0xb0c5
#define VGA_DISPI_ENABLED	0x01
#define VGA_DISPI_LFB_ENABLED	0x40
#define VGA_MMIO_DISPI		0x500

/* Mode limits every implementation here accepts (cellvm's vbe.h is the strictest). */
#define VGA_MIN_WIDTH  320
#define VGA_MIN_HEIGHT 200
#define VGA_MAX_WIDTH  2560
#define VGA_MAX_HEIGHT 1600

/* Character cell of vga_char(): 8x16 pixels at scale 1. */
#define VGA_CELL_W	8
#define VGA_CELL_H	16
#define VGA_FONT_FIRST	0x20
#define VGA_FONT_GLYPHS 95

struct vga {
	uint32_t bdf;	  /* PCI function */
	uint64_t fb;	  /* BAR0: framebuffer physical (= virtual) address */
	uint64_t fb_size; /* BAR0 size */
	uint64_t mmio;	  /* BAR2 (DISPI at +0x500), 0: use the ports */
	uint32_t vram;	  /* video memory reported by DISPI, bytes */
	uint16_t id;	  /* DISPI ID register */
	uint32_t width;	  /* current mode, 0 before vga_set_mode() */
	uint32_t height;
	uint32_t stride; /* bytes per line */
};

/*
 * Finds the first 1234:1111 function on PCI bus 0, places and enables its
 * BARs and checks the DISPI ID. 0, or -1 (with v zeroed) if there is none,
 * its framebuffer cannot be mapped, or the registers do not answer.
 * Cheap when there is no PCI (about 64 port accesses).
 */
int vga_probe(struct vga *v);
/*
 * Sets w x h at 32 bpp with the linear framebuffer, panning 0, and reads the
 * mode back. 0, or -1 if w/h are outside the limits, w is not a multiple of
 * 8, the mode does not fit in video memory or the device did not take it.
 */
int vga_set_mode(struct vga *v, uint32_t w, uint32_t h);
/* Turns the mode off (back to text mode on a std VGA). */
void vga_disable(struct vga *v);
uint16_t vga_dispi_read(const struct vga *v, unsigned int index);
void vga_dispi_write(const struct vga *v, unsigned int index, uint16_t val);

/* Drawing (clipped to the mode; nothing happens before vga_set_mode()). */
void vga_pixel(const struct vga *v, uint32_t x, uint32_t y, uint32_t rgb);
void vga_rect(const struct vga *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t rgb);
void vga_fill(const struct vga *v, uint32_t rgb);
/*
 * One character in an (8 * scale) x (16 * scale) cell at x, y: the 5x7
 * glyph at column 1, row 1, each font pixel 1 x 2 (times scale), the rest
 * of the cell bg. Bytes outside 0x20..0x7e are drawn as '?'. scale 0 acts as 1.
 */
void vga_char(const struct vga *v, uint32_t x, uint32_t y, char c, uint32_t fg, uint32_t bg,
	      uint32_t scale);
/* A string left to right, no wrapping; returns the x after the last cell. */
uint32_t vga_text(const struct vga *v, uint32_t x, uint32_t y, const char *s, uint32_t fg,
		  uint32_t bg, uint32_t scale);

extern const uint8_t vga_font5x7[VGA_FONT_GLYPHS][7];
/* 1 if font pixel (fx, fy) of the 8x16 cell of c is set. */
int vga_font_bit(char c, uint32_t fx, uint32_t fy);

#endif
