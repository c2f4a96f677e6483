/* SPDX-License-Identifier: MIT */
/*
 * Bochs VBE "DISPI" register model (pure logic, no process glue).
 *
 * Reached through the index/data port pair (CV_PORT_VBE_INDEX/DATA: region
 * offset 0 = index, 1 = data, 16-bit accesses) or the bochs-display MMIO BAR
 * (DISPI register i at VBE_MMIO_DISPI + i * 2). Every value the guest writes
 * is range-checked so that the visible area always lies inside video memory:
 * the QEMU VBE CVEs (CVE-2014-3615, CVE-2016-3710/3712) came from unchecked
 * sizes, offsets and banks. Each successful mode change is published to the
 * display state the vnc process reads.
 */
#ifndef CELLVM_VBE_H
#define CELLVM_VBE_H

#include <stdint.h>

#include "display.h"

enum {
	VBE_INDEX_ID = 0,
	VBE_INDEX_XRES,
	VBE_INDEX_YRES,
	VBE_INDEX_BPP,
	VBE_INDEX_ENABLE,
	VBE_INDEX_BANK,
	VBE_INDEX_VIRT_WIDTH,
	VBE_INDEX_VIRT_HEIGHT,
	VBE_INDEX_X_OFFSET,
	VBE_INDEX_Y_OFFSET,
	VBE_INDEX_VIDEO_MEMORY_64K,
	VBE_NUM_REGS
};

#define VBE_ID0		0xb0c0
#define VBE_ID5		0xb0c5
#define VBE_ENABLED	0x01
#define VBE_GETCAPS	0x02
#define VBE_8BIT_DAC	0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM	0x80
#define VBE_MIN_XRES	320
#define VBE_MIN_YRES	200
#define VBE_MAX_XRES	2560
#define VBE_MAX_YRES	1600
#define VBE_MAX_BPP	32
#define VBE_BANK_SIZE	0x10000u
#define VBE_MIN_VRAM	(1u << 20)
#define VBE_MAX_VRAM	(256u << 20)
/* bochs-display MMIO BAR (QEMU layout) */
#define VBE_MMIO_DISPI 0x500
#define VBE_MMIO_QEXT  0x600 /* QEMU extended regs: size, endianness */
#define VBE_MMIO_SIZE  0x1000

struct vbe {
	uint16_t index;
	uint16_t regs[VBE_NUM_REGS];
	uint32_t vram_size;
	uint16_t virt_height;	  /* derived from stride and vram_size */
	struct display_state *st; /* may be NULL (unit tests, fuzzing) */
};

/* vram_size: multiple of 64 KiB in [VBE_MIN_VRAM, VBE_MAX_VRAM]. Returns 0 or -EINVAL. */
int vbe__init(struct vbe *v, uint32_t vram_size, struct display_state *st);

/* DISPI register access by index (invalid indexes: read 0, write ignored). */
uint16_t vbe__reg_read(struct vbe *v, unsigned index);
void vbe__reg_write(struct vbe *v, unsigned index, uint16_t val);

/* Port pair: off 0 = index, 1 = data; size 1 or 2. */
uint64_t vbe__pio_read(struct vbe *v, uint64_t off, unsigned size);
void vbe__pio_write(struct vbe *v, uint64_t off, unsigned size, uint64_t val);

/* bochs-display MMIO BAR (off < VBE_MMIO_SIZE). */
uint64_t vbe__mmio_read(struct vbe *v, uint64_t off, unsigned size);
void vbe__mmio_write(struct vbe *v, uint64_t off, unsigned size, uint64_t val);

/* Byte offset of the 64 KiB banked window (legacy 0xa0000 access). */
uint32_t vbe__bank_offset(const struct vbe *v);

/* The mode currently shown (for tests and the screendump). */
struct vbe_mode {
	int enabled;
	uint32_t width, height, bpp, stride, offset;
};
void vbe__mode(const struct vbe *v, struct vbe_mode *m);

#endif
