/* SPDX-License-Identifier: MIT */
/* Bochs VBE register model: valid modes, and every out-of-range value refused or clamped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vbe.h"

#define VRAM (16u << 20)

static struct display_state *state(void)
{
	static uint8_t page[DISPLAY_STATE_SIZE + VRAM];
	return (struct display_state *)page;
}

static void wr(struct vbe *v, unsigned idx, uint16_t val)
{
	vbe__pio_write(v, 0, 2, idx);
	vbe__pio_write(v, 1, 2, val);
}

static uint16_t rd(struct vbe *v, unsigned idx)
{
	vbe__pio_write(v, 0, 2, idx);
	return (uint16_t)vbe__pio_read(v, 1, 2);
}

static void set_mode(struct vbe *v, uint16_t w, uint16_t h, uint16_t bpp)
{
	wr(v, VBE_INDEX_ENABLE, 0);
	wr(v, VBE_INDEX_XRES, w);
	wr(v, VBE_INDEX_YRES, h);
	wr(v, VBE_INDEX_BPP, bpp);
	wr(v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
}

/* The view published to the vnc side must agree with the registers. */
static void check_published(struct vbe *v)
{
	struct display_view view;
	struct vbe_mode m;
	vbe__mode(v, &m);
	assert_int_equal(display__read((const uint8_t *)v->st, DISPLAY_STATE_SIZE + VRAM, &view),
			 0);
	assert_int_equal(view.enabled, m.enabled);
	assert_int_equal(view.width, m.width);
	assert_int_equal(view.height, m.height);
	if (m.enabled) {
		assert_int_equal(view.bpp, m.bpp);
		assert_int_equal(view.stride, m.stride);
		assert_ptr_equal(view.pixels,
				 (const uint8_t *)v->st + DISPLAY_STATE_SIZE + m.offset);
		assert_true((uint64_t)m.offset + (uint64_t)(m.height - 1) * m.stride +
				(uint64_t)m.width * m.bpp / 8 <=
			    VRAM);
	}
}

static void test_id_and_memory(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, state()), 0);
	assert_int_equal(rd(&v, VBE_INDEX_ID), VBE_ID5);
	wr(&v, VBE_INDEX_ID, 0xb0c2);
	assert_int_equal(rd(&v, VBE_INDEX_ID), 0xb0c2);
	wr(&v, VBE_INDEX_ID, 0xb0c6); /* unknown: ignored */
	assert_int_equal(rd(&v, VBE_INDEX_ID), 0xb0c2);
	wr(&v, VBE_INDEX_ID, 0x1234);
	assert_int_equal(rd(&v, VBE_INDEX_ID), 0xb0c2);
	assert_int_equal(rd(&v, VBE_INDEX_VIDEO_MEMORY_64K), VRAM / 65536);
	wr(&v, VBE_INDEX_VIDEO_MEMORY_64K, 0xffff); /* read-only */
	assert_int_equal(rd(&v, VBE_INDEX_VIDEO_MEMORY_64K), VRAM / 65536);
	assert_int_equal(rd(&v, 0x0b), 0); /* beyond the last register */
	assert_int_equal(rd(&v, 0xffff), 0);
	wr(&v, 0xffff, 0x1234);
	assert_int_not_equal(vbe__init(&v, 12345, NULL), 0);
	assert_int_not_equal(vbe__init(&v, 1u << 30, NULL), 0);
	assert_int_not_equal(vbe__init(&v, 0, NULL), 0);
}

static void test_valid_modes(void **unused)
{
	(void)unused;
	static const uint16_t modes[][3] = {{320, 200, 32},   {640, 480, 16},	{800, 600, 32},
					    {1024, 768, 32},  {1280, 1024, 16}, {1920, 1080, 32},
					    {2560, 1600, 16}, {1920, 1200, 32}};
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, state()), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		set_mode(&v, modes[i][0], modes[i][1], modes[i][2]);
		assert_int_equal(rd(&v, VBE_INDEX_XRES), modes[i][0]);
		assert_int_equal(rd(&v, VBE_INDEX_YRES), modes[i][1]);
		assert_int_equal(rd(&v, VBE_INDEX_BPP), modes[i][2]);
		assert_true(rd(&v, VBE_INDEX_ENABLE) & VBE_ENABLED);
		assert_int_equal(rd(&v, VBE_INDEX_VIRT_WIDTH), modes[i][0]);
		assert_int_equal(rd(&v, VBE_INDEX_VIRT_HEIGHT),
				 VRAM / (modes[i][0] * modes[i][2] / 8) > 0xffff
				     ? 0xffff
				     : VRAM / (modes[i][0] * modes[i][2] / 8));
		check_published(&v);
	}
	/* MMIO BAR view of the same registers */
	assert_int_equal(vbe__mmio_read(&v, VBE_MMIO_DISPI + VBE_INDEX_XRES * 2, 2), 1920);
	vbe__mmio_write(&v, VBE_MMIO_DISPI + VBE_INDEX_ENABLE * 2, 2, 0);
	vbe__mmio_write(&v, VBE_MMIO_DISPI + VBE_INDEX_XRES * 2, 2, 800);
	assert_int_equal(vbe__mmio_read(&v, VBE_MMIO_DISPI + VBE_INDEX_XRES * 2, 2), 800);
	assert_int_equal(vbe__mmio_read(&v, VBE_MMIO_DISPI + VBE_INDEX_XRES * 2 + 1, 2), 0);
	assert_int_equal(vbe__mmio_read(&v, VBE_MMIO_DISPI + VBE_INDEX_XRES * 2, 4), 0);
	assert_int_equal(vbe__mmio_read(&v, 0xfff, 1), 0);
	check_published(&v);
}

static void test_getcaps(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, NULL), 0);
	wr(&v, VBE_INDEX_ENABLE, VBE_GETCAPS);
	assert_int_equal(rd(&v, VBE_INDEX_XRES), VBE_MAX_XRES);
	assert_int_equal(rd(&v, VBE_INDEX_YRES), VBE_MAX_YRES);
	assert_int_equal(rd(&v, VBE_INDEX_BPP), 32);
	wr(&v, VBE_INDEX_ENABLE, 0);
	assert_int_equal(rd(&v, VBE_INDEX_XRES), 640);
}

static void test_bad_geometry_refused(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, state()), 0);
	set_mode(&v, 800, 600, 32);
	wr(&v, VBE_INDEX_ENABLE, 0);
	static const uint16_t bad_x[] = {0, 1, 8, 312, 2568, 4096, 0xffff, 801};
	for (size_t i = 0; i < sizeof(bad_x) / sizeof(bad_x[0]); i++) {
		wr(&v, VBE_INDEX_XRES, bad_x[i]);
		assert_int_equal(rd(&v, VBE_INDEX_XRES), 800);
	}
	static const uint16_t bad_y[] = {0, 1, 199, 1601, 0xffff};
	for (size_t i = 0; i < sizeof(bad_y) / sizeof(bad_y[0]); i++) {
		wr(&v, VBE_INDEX_YRES, bad_y[i]);
		assert_int_equal(rd(&v, VBE_INDEX_YRES), 600);
	}
	static const uint16_t bad_bpp[] = {0, 1, 4, 8, 15, 24, 33, 64, 0xffff};
	for (size_t i = 0; i < sizeof(bad_bpp) / sizeof(bad_bpp[0]); i++) {
		wr(&v, VBE_INDEX_BPP, bad_bpp[i]);
		assert_int_equal(rd(&v, VBE_INDEX_BPP), 32);
	}
	/* geometry cannot change while enabled */
	wr(&v, VBE_INDEX_ENABLE, VBE_ENABLED);
	wr(&v, VBE_INDEX_XRES, 1024);
	wr(&v, VBE_INDEX_YRES, 768);
	wr(&v, VBE_INDEX_BPP, 16);
	assert_int_equal(rd(&v, VBE_INDEX_XRES), 800);
	assert_int_equal(rd(&v, VBE_INDEX_YRES), 600);
	assert_int_equal(rd(&v, VBE_INDEX_BPP), 32);
	check_published(&v);
}

static void test_mode_too_big_for_vram(void **unused)
{
	(void)unused;
	struct vbe v;
	/* 2560x1600x32 needs 16000 KiB > 8 MiB */
	assert_int_equal(vbe__init(&v, 8u << 20, state()), 0);
	set_mode(&v, 2560, 1600, 32);
	assert_false(rd(&v, VBE_INDEX_ENABLE) & VBE_ENABLED);
	struct vbe_mode m;
	vbe__mode(&v, &m);
	assert_false(m.enabled);
	struct display_view view;
	assert_int_equal(
	    display__read((const uint8_t *)state(), DISPLAY_STATE_SIZE + (8u << 20), &view), 0);
	assert_false(view.enabled);
	assert_null(view.pixels);
}

static void test_virt_and_offsets_clamped(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, state()), 0);
	set_mode(&v, 1024, 768, 32);
	/* virtual width smaller than the screen: raised */
	wr(&v, VBE_INDEX_VIRT_WIDTH, 100);
	assert_int_equal(rd(&v, VBE_INDEX_VIRT_WIDTH), 1024);
	/* virtual width whose screen would not fit in video memory: reset */
	wr(&v, VBE_INDEX_VIRT_WIDTH, 0xffff);
	assert_int_equal(rd(&v, VBE_INDEX_VIRT_WIDTH), 1024);
	/* a legal larger virtual width */
	wr(&v, VBE_INDEX_VIRT_WIDTH, 2048);
	assert_int_equal(rd(&v, VBE_INDEX_VIRT_WIDTH), 2048);
	assert_int_equal(rd(&v, VBE_INDEX_VIRT_HEIGHT), VRAM / (2048 * 4));
	wr(&v, VBE_INDEX_VIRT_HEIGHT, 0xffff); /* derived, read-only */
	assert_int_equal(rd(&v, VBE_INDEX_VIRT_HEIGHT), VRAM / (2048 * 4));
	/* offsets past the virtual screen are clamped */
	wr(&v, VBE_INDEX_X_OFFSET, 0xffff);
	assert_int_equal(rd(&v, VBE_INDEX_X_OFFSET), 2048 - 1024);
	wr(&v, VBE_INDEX_Y_OFFSET, 0xffff);
	assert_int_equal(rd(&v, VBE_INDEX_Y_OFFSET), VRAM / (2048 * 4) - 768);
	check_published(&v);
	wr(&v, VBE_INDEX_X_OFFSET, 100);
	wr(&v, VBE_INDEX_Y_OFFSET, 10);
	assert_int_equal(rd(&v, VBE_INDEX_X_OFFSET), 100);
	assert_int_equal(rd(&v, VBE_INDEX_Y_OFFSET), 10);
	check_published(&v);
	/* shrinking the virtual width pulls the x offset back in */
	wr(&v, VBE_INDEX_X_OFFSET, 1000);
	wr(&v, VBE_INDEX_VIRT_WIDTH, 1100);
	assert_int_equal(rd(&v, VBE_INDEX_X_OFFSET), 1100 - 1024);
	check_published(&v);
}

static void test_bank(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, NULL), 0);
	wr(&v, VBE_INDEX_BANK, 5);
	assert_int_equal(rd(&v, VBE_INDEX_BANK), 5);
	assert_int_equal(vbe__bank_offset(&v), 5 * 65536);
	wr(&v, VBE_INDEX_BANK, VRAM / 65536); /* one past the end */
	assert_int_equal(rd(&v, VBE_INDEX_BANK), 5);
	wr(&v, VBE_INDEX_BANK, 0xffff);
	assert_int_equal(rd(&v, VBE_INDEX_BANK), 5);
	wr(&v, VBE_INDEX_BANK, VRAM / 65536 - 1);
	assert_int_equal(vbe__bank_offset(&v) + 65536, VRAM);
}

static void test_access_sizes(void **unused)
{
	(void)unused;
	struct vbe v;
	assert_int_equal(vbe__init(&v, VRAM, NULL), 0);
	vbe__pio_write(&v, 0, 4, VBE_INDEX_XRES); /* 4-byte: ignored */
	assert_int_equal(v.index, 0);
	assert_int_equal(vbe__pio_read(&v, 1, 8), ~0ull);
	assert_int_equal(vbe__pio_read(&v, 2, 2), ~0ull);
}

/* A hostile writer of the display state cannot make the reader leave the mapping. */
static void test_display_read_hostile(void **unused)
{
	(void)unused;
	static uint8_t map[DISPLAY_STATE_SIZE + 65536];
	struct display_state *st = (struct display_state *)map;
	struct display_view v;
	display__init(st, 1u << 30); /* lies about its size */
	display__publish(st, 1, 128, 128, 32, 512, 0);
	assert_int_equal(display__read(map, sizeof(map), &v), 0);
	display__publish(st, 1, 129, 128, 32, 512, 0); /* one line past the end */
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	display__publish(st, 1, 128, 128, 32, 511, 0); /* stride < line */
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	display__publish(st, 1, 64, 64, 32, 256, 0xffffffff); /* offset overflow */
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	display__publish(st, 1, 64, 64, 24, 256, 0);
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	display__publish(st, 1, 0xffffffff, 2, 32, 0, 0);
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	display__publish(st, 1, 1, 0xffffffff, 32, 0x10000, 0);
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	st->gen = 1; /* writer stuck mid-update */
	assert_int_equal(display__read(map, sizeof(map), &v), -EAGAIN);
	st->gen = 2;
	st->magic = 0;
	assert_int_equal(display__read(map, sizeof(map), &v), -EINVAL);
	assert_int_equal(display__read(map, 100, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_and_memory),
	    cmocka_unit_test(test_valid_modes),
	    cmocka_unit_test(test_getcaps),
	    cmocka_unit_test(test_bad_geometry_refused),
	    cmocka_unit_test(test_mode_too_big_for_vram),
	    cmocka_unit_test(test_virt_and_offsets_clamped),
	    cmocka_unit_test(test_bank),
	    cmocka_unit_test(test_access_sizes),
	    cmocka_unit_test(test_display_read_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
