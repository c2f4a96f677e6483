/* SPDX-License-Identifier: MIT */
/*
 * vbe-regs: arbitrary register write/read sequences through the port pair
 * and the MMIO BAR; after every access the published mode must lie inside
 * video memory and the reader must accept it.
 *
 * Input: records of 5 bytes: op, offset (2, LE), value (2, LE).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vbe.h"

#define VRAM (8u << 20)

static uint8_t map[DISPLAY_STATE_SIZE + VRAM];

static void check(struct vbe *v)
{
	struct vbe_mode m;
	vbe__mode(v, &m);
	struct display_view view;
	if (display__read(map, sizeof(map), &view) != 0)
		abort();
	if (view.enabled != m.enabled)
		abort();
	if (v->regs[VBE_INDEX_BANK] * 65536ull >= VRAM)
		abort();
	if (!m.enabled)
		return;
	if (m.width < VBE_MIN_XRES || m.width > VBE_MAX_XRES || m.height < VBE_MIN_YRES ||
	    m.height > VBE_MAX_YRES || (m.bpp != 16 && m.bpp != 32))
		abort();
	uint64_t end = (uint64_t)m.offset + (uint64_t)(m.height - 1) * m.stride +
		       (uint64_t)m.width * (m.bpp / 8);
	if (end > VRAM || m.stride < m.width * (m.bpp / 8))
		abort();
	if (v->regs[VBE_INDEX_X_OFFSET] + m.width > v->regs[VBE_INDEX_VIRT_WIDTH])
		abort();
	if (v->regs[VBE_INDEX_Y_OFFSET] + m.height > v->virt_height)
		abort();
	if (view.pixels != map + DISPLAY_STATE_SIZE + m.offset)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbe v;
	if (vbe__init(&v, VRAM, (struct display_state *)map) != 0)
		abort();
	check(&v);
	for (size_t i = 0; i + 5 <= size; i += 5) {
		uint16_t off = (uint16_t)(data[i + 1] | data[i + 2] << 8);
		uint16_t val = (uint16_t)(data[i + 3] | data[i + 4] << 8);
		unsigned size_sel = 1u << ((data[i] >> 4) & 3);
		switch (data[i] & 7) {
		case 0:
			vbe__pio_write(&v, 0, 2, off % VBE_NUM_REGS + (off & 0x8000));
			vbe__pio_write(&v, 1, 2, val);
			break;
		case 1:
			vbe__pio_write(&v, off & 3, size_sel, val);
			break;
		case 2:
			vbe__mmio_write(&v, VBE_MMIO_DISPI + (off % (VBE_NUM_REGS + 2)) * 2, 2,
					val);
			break;
		case 3:
			vbe__mmio_write(&v, off % VBE_MMIO_SIZE, size_sel, val);
			break;
		case 4:
			(void)vbe__pio_read(&v, off & 3, size_sel);
			break;
		case 5:
			(void)vbe__mmio_read(&v, off % VBE_MMIO_SIZE, size_sel);
			break;
		default:
			vbe__reg_write(&v, off % (VBE_NUM_REGS + 1), val);
			break;
		}
		check(&v);
	}
	return 0;
}
