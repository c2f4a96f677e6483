/* SPDX-License-Identifier: MIT */
/*
 * Bochs VBE DISPI registers. Values are checked on write; the mode as a whole
 * is re-validated by vbe_fixup() after every write, which keeps these
 * invariants (also checked by the vbe-regs fuzz target):
 *   - XRES in [VBE_MIN_XRES, VBE_MAX_XRES], YRES in [VBE_MIN_YRES, VBE_MAX_YRES],
 *     BPP in {16, 32};
 *   - VIRT_WIDTH >= XRES, VIRT_HEIGHT >= YRES when enabled,
 *     VIRT_WIDTH * bytes-per-pixel * VIRT_HEIGHT <= vram_size;
 *   - X_OFFSET + XRES <= VIRT_WIDTH, Y_OFFSET + YRES <= VIRT_HEIGHT;
 *   - BANK * 64 KiB < vram_size;
 *   - a mode that cannot fit in video memory is never enabled.
 */
#include <errno.h>
#include <string.h>

#include "vbe.h"

static uint32_t bytepp(const struct vbe *v)
{
	return v->regs[VBE_INDEX_BPP] / 8;
}

/* Bring VIRT_WIDTH / offsets / virt_height back inside video memory. */
static void vbe_fixup(struct vbe *v)
{
	uint16_t *r = v->regs;
	uint32_t bpp = bytepp(v);
	uint32_t max_vw = v->vram_size / bpp / r[VBE_INDEX_YRES];
	if (max_vw > 0xffff)
		max_vw = 0xffff;
	if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES])
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
	if (r[VBE_INDEX_VIRT_WIDTH] > max_vw)
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
	uint32_t stride = (uint32_t)r[VBE_INDEX_VIRT_WIDTH] * bpp;
	uint32_t vh = v->vram_size / stride;
	v->virt_height = vh > 0xffff ? 0xffff : (uint16_t)vh;
	if (r[VBE_INDEX_X_OFFSET] > r[VBE_INDEX_VIRT_WIDTH] - r[VBE_INDEX_XRES])
		r[VBE_INDEX_X_OFFSET] = r[VBE_INDEX_VIRT_WIDTH] - r[VBE_INDEX_XRES];
	if (v->virt_height < r[VBE_INDEX_YRES]) {
		/* mode does not fit at all: refuse to show it */
		r[VBE_INDEX_Y_OFFSET] = 0;
		r[VBE_INDEX_ENABLE] &= ~VBE_ENABLED;
	} else if (r[VBE_INDEX_Y_OFFSET] > v->virt_height - r[VBE_INDEX_YRES]) {
		r[VBE_INDEX_Y_OFFSET] = v->virt_height - r[VBE_INDEX_YRES];
	}
}

void vbe__mode(const struct vbe *v, struct vbe_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->enabled = !!(v->regs[VBE_INDEX_ENABLE] & VBE_ENABLED);
	m->width = v->regs[VBE_INDEX_XRES];
	m->height = v->regs[VBE_INDEX_YRES];
	m->bpp = v->regs[VBE_INDEX_BPP];
	m->stride = (uint32_t)v->regs[VBE_INDEX_VIRT_WIDTH] * bytepp(v);
	m->offset =
	    v->regs[VBE_INDEX_Y_OFFSET] * m->stride + v->regs[VBE_INDEX_X_OFFSET] * bytepp(v);
}

static void vbe_publish(struct vbe *v)
{
	if (!v->st)
		return;
	struct vbe_mode m;
	vbe__mode(v, &m);
	display__publish(v->st, m.enabled, m.width, m.height, m.bpp, m.stride, m.offset);
}

int vbe__init(struct vbe *v, uint32_t vram_size, struct display_state *st)
{
	if (vram_size < VBE_MIN_VRAM || vram_size > VBE_MAX_VRAM || vram_size % VBE_BANK_SIZE)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->vram_size = vram_size;
	v->st = st;
	v->regs[VBE_INDEX_ID] = VBE_ID5;
	v->regs[VBE_INDEX_XRES] = 640;
	v->regs[VBE_INDEX_YRES] = 480;
	v->regs[VBE_INDEX_BPP] = 32;
	v->regs[VBE_INDEX_VIRT_WIDTH] = 640;
	vbe_fixup(v);
	if (st) {
		display__init(st, vram_size);
		vbe_publish(v);
	}
	return 0;
}

uint32_t vbe__bank_offset(const struct vbe *v)
{
	return (uint32_t)v->regs[VBE_INDEX_BANK] * VBE_BANK_SIZE;
}

uint16_t vbe__reg_read(struct vbe *v, unsigned index)
{
	if (index >= VBE_NUM_REGS)
		return 0;
	if (v->regs[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
		switch (index) {
		case VBE_INDEX_XRES:
			return VBE_MAX_XRES;
		case VBE_INDEX_YRES:
			return VBE_MAX_YRES;
		case VBE_INDEX_BPP:
			return VBE_MAX_BPP;
		}
	}
	switch (index) {
	case VBE_INDEX_VIRT_HEIGHT:
		return v->virt_height;
	case VBE_INDEX_VIDEO_MEMORY_64K:
		return v->vram_size / VBE_BANK_SIZE;
	case VBE_INDEX_ENABLE:
		return v->regs[index] & ~VBE_GETCAPS;
	}
	return v->regs[index];
}

void vbe__reg_write(struct vbe *v, unsigned index, uint16_t val)
{
	uint16_t *r = v->regs;
	int enabled = r[VBE_INDEX_ENABLE] & VBE_ENABLED;
	switch (index) {
	case VBE_INDEX_ID:
		if (val >= VBE_ID0 && val <= VBE_ID5)
			r[index] = val;
		return;
	case VBE_INDEX_XRES:
		/* geometry changes only while disabled, as on real Bochs VBE */
		if (enabled || val < VBE_MIN_XRES || val > VBE_MAX_XRES || val % 8)
			return;
		r[index] = val;
		r[VBE_INDEX_VIRT_WIDTH] = val;
		r[VBE_INDEX_X_OFFSET] = 0;
		break;
	case VBE_INDEX_YRES:
		if (enabled || val < VBE_MIN_YRES || val > VBE_MAX_YRES)
			return;
		r[index] = val;
		r[VBE_INDEX_Y_OFFSET] = 0;
		break;
	case VBE_INDEX_BPP:
		if (val == 0)
			val = 8;
		if (enabled || (val != 16 && val != 32))
			return; /* 8 (palette), 15 and 24 are not supported */
		r[index] = val;
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
		r[VBE_INDEX_X_OFFSET] = 0;
		r[VBE_INDEX_Y_OFFSET] = 0;
		break;
	case VBE_INDEX_ENABLE:
		r[index] = val & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED |
				  VBE_NOCLEARMEM);
		if ((val & VBE_ENABLED) && !enabled) {
			r[VBE_INDEX_X_OFFSET] = 0;
			r[VBE_INDEX_Y_OFFSET] = 0;
			r[VBE_INDEX_BANK] = 0;
		}
		break;
	case VBE_INDEX_BANK:
		if ((uint32_t)val * VBE_BANK_SIZE >= v->vram_size)
			return;
		r[index] = val;
		return;
	case VBE_INDEX_VIRT_WIDTH:
	case VBE_INDEX_X_OFFSET:
	case VBE_INDEX_Y_OFFSET:
		r[index] = val; /* clamped by vbe_fixup below */
		break;
	default:
		return; /* VIRT_HEIGHT is derived, VIDEO_MEMORY_64K read-only */
	}
	vbe_fixup(v);
	vbe_publish(v);
}

uint64_t vbe__pio_read(struct vbe *v, uint64_t off, unsigned size)
{
	if (size != 1 && size != 2)
		return ~0ull;
	if (off == 0)
		return v->index;
	if (off == 1)
		return vbe__reg_read(v, v->index);
	return ~0ull;
}

void vbe__pio_write(struct vbe *v, uint64_t off, unsigned size, uint64_t val)
{
	if (size != 1 && size != 2)
		return;
	if (off == 0)
		v->index = (uint16_t)val;
	else if (off == 1)
		vbe__reg_write(v, v->index, (uint16_t)val);
}

uint64_t vbe__mmio_read(struct vbe *v, uint64_t off, unsigned size)
{
	if (off >= VBE_MMIO_DISPI && off < VBE_MMIO_DISPI + VBE_NUM_REGS * 2 && size == 2 &&
	    off % 2 == 0)
		return vbe__reg_read(v, (off - VBE_MMIO_DISPI) / 2);
	if (off == VBE_MMIO_QEXT && size == 4)
		return 8; /* size of the QEMU extended register block we implement */
	if (off == VBE_MMIO_QEXT + 4 && size == 4)
		return 0x1e1e1e1e; /* little-endian framebuffer */
	return 0;
}

void vbe__mmio_write(struct vbe *v, uint64_t off, unsigned size, uint64_t val)
{
	if (off >= VBE_MMIO_DISPI && off < VBE_MMIO_DISPI + VBE_NUM_REGS * 2 && size == 2 &&
	    off % 2 == 0)
		vbe__reg_write(v, (off - VBE_MMIO_DISPI) / 2, (uint16_t)val);
	/* VGA ioports at 0x400 and the endianness register are ignored */
}
