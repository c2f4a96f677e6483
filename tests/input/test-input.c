/* SPDX-License-Identifier: MIT */
/*
 * The i8042 controller, PS/2 keyboard and mouse, keysym tables and the
 * event-message parser (device-procs/input), driven through the same port
 * reads and writes a guest driver makes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "i8042.h"
#include "keysym.h"
#include "vnc/vnc.h"

struct rig {
	struct i8042 c;
	unsigned irqs[2];
	unsigned resets;
};

static void on_irq(void *opaque, unsigned line)
{
	struct rig *r = opaque;
	assert_true(line < 2);
	r->irqs[line]++;
}

static void on_reset(void *opaque)
{
	struct rig *r = opaque;
	r->resets++;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	i8042__init(&r->c, on_irq, on_reset, r);
}

static void cmd(struct rig *r, uint8_t v)
{
	i8042__write(&r->c, I8042_REG_CMD, v);
}

static void data(struct rig *r, uint8_t v)
{
	i8042__write(&r->c, I8042_REG_DATA, v);
}

static bool full(struct rig *r)
{
	return i8042__read(&r->c, I8042_REG_CMD) & I8042_STR_OBF;
}

/* Read the output buffer, which must be full. */
static uint8_t rd(struct rig *r)
{
	assert_true(full(r));
	return (uint8_t)i8042__read(&r->c, I8042_REG_DATA);
}

/* The output must be exactly these bytes, then empty. */
static void expect(struct rig *r, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t v = rd(r);
		if (v != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, v, want[i]);
	}
	assert_false(full(r));
}
#define EXPECT(r, ...)                                                                             \
	do {                                                                                       \
		static const uint8_t w_[] = {__VA_ARGS__};                                         \
		expect(r, w_, sizeof(w_));                                                         \
	} while (0)

static void key(struct rig *r, uint32_t keysym, bool down)
{
	uint16_t k = keysym__to_key(keysym);
	assert_int_not_equal(k, 0);
	assert_true(i8042__key(&r->c, k, down));
}

static int msg_key(struct rig *r, uint32_t sym, uint32_t code, uint32_t down)
{
	struct vnc_input_msg m = {.type = VNC_INPUT_KEY, .down = down, .keysym = sym};
	memcpy((uint8_t *)&m + 20, &code, 4); /* keycode, at offset 20 */
	return input__event(&r->c, &m, sizeof(m));
}

static int msg_ptr(struct rig *r, uint16_t x, uint16_t y, uint32_t buttons)
{
	struct vnc_input_msg m = {.type = VNC_INPUT_POINTER, .buttons = buttons, .x = x, .y = y};
	return input__event(&r->c, &m, sizeof(m));
}

/* ---- controller ---- */

static void test_self_test(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	assert_false(full(&r));
	cmd(&r, 0xaa);
	EXPECT(&r, 0x55);
	assert_true(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_SYS);
	cmd(&r, 0xab);
	EXPECT(&r, 0x00);
	cmd(&r, 0xa9);
	EXPECT(&r, 0x00);
	assert_true(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_CMD);
	data(&r, 0xee);
	assert_false(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_CMD);
	EXPECT(&r, 0xee);
}

static void test_command_byte(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	cmd(&r, 0x20);
	EXPECT(&r, I8042_CB_DEFAULT);
	cmd(&r, 0x60);
	data(&r, 0x00);
	cmd(&r, 0x20);
	assert_int_equal(r.irqs[0], 1); /* KBDINT was still on for that reply */
	EXPECT(&r, 0x00);
	assert_false(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_SYS);
	/* with interrupts off, no more edges */
	cmd(&r, 0x20);
	EXPECT(&r, 0x00);
	assert_int_equal(r.irqs[0], 1);
	cmd(&r, 0x60);
	data(&r, 0xff); /* reserved bits are not kept */
	cmd(&r, 0x20);
	EXPECT(&r, 0x77);
	cmd(&r, 0xa7);
	cmd(&r, 0xad);
	cmd(&r, 0x20);
	EXPECT(&r, 0x77);
	cmd(&r, 0xa8);
	cmd(&r, 0xae);
	cmd(&r, 0x20);
	EXPECT(&r, 0x47);
}

static void test_port_disable(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	cmd(&r, 0xad); /* keyboard port off: keys wait in the keyboard */
	key(&r, 'a', true);
	assert_false(full(&r));
	assert_int_equal(r.irqs[0], 0);
	cmd(&r, 0xae);
	assert_int_equal(r.irqs[0], 1);
	EXPECT(&r, 0x1e);
	assert_int_equal(r.irqs[0], 1);
	key(&r, 'a', false); /* translated: F0 1C -> 9E, one byte, one edge */
	EXPECT(&r, 0x9e);
	assert_int_equal(r.irqs[0], 2);
	assert_int_equal(r.irqs[1], 0);
}

static void test_reset_line(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	cmd(&r, 0xff); /* pulse nothing */
	assert_int_equal(r.resets, 0);
	cmd(&r, 0xfe);
	assert_int_equal(r.resets, 1);
	cmd(&r, 0xd1);
	data(&r, 0x03); /* reset line stays high */
	assert_int_equal(r.resets, 1);
	cmd(&r, 0xd0);
	EXPECT(&r, 0x03);
	cmd(&r, 0xd1);
	data(&r, 0x02);
	assert_int_equal(r.resets, 2);
	assert_int_equal(r.c.resets, 2);
}

static void test_write_output_buffers(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	cmd(&r, 0xd3);
	data(&r, 0x42);
	assert_true(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_AUXOBF);
	assert_int_equal(r.irqs[1], 1);
	EXPECT(&r, 0x42);
	cmd(&r, 0x60);
	data(&r, 0x05); /* translation off */
	cmd(&r, 0xd2);
	data(&r, 0x1c);
	assert_false(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_AUXOBF);
	EXPECT(&r, 0x1c);
}

/* ---- keyboard ---- */

static void test_kbd_reset_echo_id(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	data(&r, 0xf5); /* disable scanning */
	EXPECT(&r, 0xfa);
	assert_false(r.c.kbd.scanning);
	assert_false(i8042__key(&r.c, 0x1c, true));
	data(&r, 0xff);
	EXPECT(&r, 0xfa, 0xaa);
	assert_true(r.c.kbd.scanning);
	data(&r, 0xee);
	EXPECT(&r, 0xee);
	data(&r, 0xf2); /* identify: 0x83 goes through the translation */
	EXPECT(&r, 0xfa, 0xab, 0x41);
	cmd(&r, 0x60);
	data(&r, 0x07);
	data(&r, 0xf2);
	EXPECT(&r, 0xfa, 0xab, 0x83);
	data(&r, 0xed); /* LEDs */
	data(&r, 0x07);
	EXPECT(&r, 0xfa, 0xfa);
	assert_int_equal(r.c.kbd.leds, 7);
	data(&r, 0xf3);
	data(&r, 0x20);
	EXPECT(&r, 0xfa, 0xfa);
	assert_int_equal(r.c.kbd.typematic, 0x20);
	data(&r, 0xed); /* a command instead of the parameter */
	data(&r, 0xee);
	EXPECT(&r, 0xfa, 0xee);
	data(&r, 0x01); /* not a command */
	EXPECT(&r, 0xfe);
}

static void test_scancode_sets(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	data(&r, 0xf0);
	data(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0x41); /* set 2, as translated */
	cmd(&r, 0x60);
	data(&r, 0x07); /* translation off */
	data(&r, 0xf0);
	data(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0x02);
	key(&r, 'a', true);
	key(&r, 'a', false);
	EXPECT(&r, 0x1c, 0xf0, 0x1c);
	key(&r, 0xff52, true); /* Up */
	key(&r, 0xff52, false);
	EXPECT(&r, 0xe0, 0x75, 0xe0, 0xf0, 0x75);
	data(&r, 0xf0);
	data(&r, 0x01);
	EXPECT(&r, 0xfa, 0xfa);
	data(&r, 0xf0);
	data(&r, 0x00);
	EXPECT(&r, 0xfa, 0xfa, 0x01);
	key(&r, 'a', true);
	key(&r, 'a', false);
	key(&r, 0xff52, true);
	key(&r, 0xff52, false);
	key(&r, 0xffc4, true); /* F7: set 2 0x83 */
	EXPECT(&r, 0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0x41);
	data(&r, 0xf0);
	data(&r, 0x03); /* set 3 is refused, set 1 kept */
	EXPECT(&r, 0xfa, 0xfe);
	assert_int_equal(r.c.kbd.set, 1);
}

static void test_translation(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	/* translation on (default): set-2 keyboard, set-1 bytes out */
	key(&r, 'a', true);
	key(&r, 'a', false);
	key(&r, 0xff52, true);
	key(&r, 0xff52, false);
	key(&r, 0xffe4, true);	/* Control_R */
	key(&r, 0xffc4, false); /* F7 */
	key(&r, 0xff0d, true);
	EXPECT(&r, 0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x1d, 0xc1, 0x1c);
	cmd(&r, 0x60);
	data(&r, 0x07);
	key(&r, 'a', true);
	key(&r, 0xff0d, false);
	key(&r, 0xffc4, false);
	EXPECT(&r, 0x1c, 0xf0, 0x5a, 0xf0, 0x83);
}

static void test_keysyms(void **state)
{
	(void)state;
	static const struct {
		uint32_t sym;
		uint16_t key;
	} t[] = {
	    {'a', 0x1c},      {'A', 0x1c},	{'z', 0x1a},	  {'1', 0x16},
	    {'!', 0x16},      {'0', 0x45},	{')', 0x45},	  {' ', 0x29},
	    {'-', 0x4e},      {'/', 0x4a},	{'?', 0x4a},	  {'`', 0x0e},
	    {'\\', 0x5d},     {0xff0d, 0x5a},	{0xff1b, 0x76},	  {0xff08, 0x66},
	    {0xff09, 0x0d},   {0xffbe, 0x05},	{0xffc9, 0x07},	  {0xffc4, 0x83},
	    {0xffe1, 0x12},   {0xffe2, 0x59},	{0xffe3, 0x14},	  {0xffe4, 0xe014},
	    {0xffe9, 0x11},   {0xffea, 0xe011}, {0xff51, 0xe06b}, {0xff54, 0xe072},
	    {0xffb5, 0x73},   {0xff8d, 0xe05a}, {0xffaf, 0xe04a}, {0xffff, 0xe071},
	    {0xff50, 0xe06c}, {0xff57, 0xe069}, {0xff7f, 0x77},	  {0xffe5, 0x58},
	    {0x1234, 0},      {0xffffffff, 0},	{0x1f, 0},	  {0x7f, 0},
	    {0xfe00, 0},      {0xff00, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (keysym__to_key((uint32_t)t[i].sym) != t[i].key)
			fail_msg("keysym 0x%x: got 0x%x want 0x%x", t[i].sym,
				 keysym__to_key(t[i].sym), t[i].key);
	/* the XT keycode wins when it is valid */
	assert_int_equal(keysym__lookup('a', 0x10), 0x15);     /* Q */
	assert_int_equal(keysym__lookup('a', 0xc8), 0xe075);   /* E0 48: Up */
	assert_int_equal(keysym__lookup('a', 0xe048), 0xe075); /* same, 0xe0XX form */
	assert_int_equal(keysym__lookup('a', 0x41), 0x83);     /* F7 */
	assert_int_equal(keysym__lookup('a', 0x1ff), 0x1c);    /* invalid: keysym */
	assert_int_equal(keysym__lookup('a', 0x80), 0x1c);
	assert_int_equal(keysym__lookup(0x1234, 0xffffffff), 0);
	/* set 1 -> set 2 -> set 1 round trip for every translated key */
	for (uint32_t c1 = 1; c1 < 0x80; c1++) {
		uint16_t k = keysym__xt_to_key(c1);
		if (k)
			assert_int_equal(keysym__set2_to_set1(k & 0xff), c1);
	}
	assert_int_equal(keysym__set2_to_set1(0xfa), 0xfa);
}

/* ---- mouse ---- */

static void aux(struct rig *r, uint8_t v)
{
	cmd(r, 0xd4);
	data(r, v);
}

static void test_mouse_commands(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	aux(&r, 0xff);
	assert_true(i8042__read(&r.c, I8042_REG_CMD) & I8042_STR_AUXOBF);
	EXPECT(&r, 0xfa, 0xaa, 0x00);
	assert_int_equal(r.irqs[1], 3);
	assert_int_equal(r.irqs[0], 0);
	aux(&r, 0xf2);
	EXPECT(&r, 0xfa, 0x00);
	aux(&r, 0xe9);
	EXPECT(&r, 0xfa, 0x00, 0x02, 100);
	aux(&r, 0xf3);
	aux(&r, 200);
	aux(&r, 0xe8);
	aux(&r, 3);
	aux(&r, 0xe7);
	aux(&r, 0xf4);
	aux(&r, 0xe9);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x30, 0x03, 200);
	aux(&r, 0xe8);
	aux(&r, 9); /* bad resolution */
	aux(&r, 0xf3);
	aux(&r, 0); /* bad rate */
	EXPECT(&r, 0xfa, 0xfe, 0xfa, 0xfe);
	assert_int_equal(r.c.aux.resolution, 3);
	aux(&r, 0xee); /* wrap mode echoes */
	aux(&r, 0x12);
	aux(&r, 0xec);
	aux(&r, 0x12);
	EXPECT(&r, 0xfa, 0x12, 0xfa, 0xfe);
	aux(&r, 0xf6);
	EXPECT(&r, 0xfa);
	assert_false(r.c.aux.reporting);
	/* disabled aux port: bytes wait, then come */
	cmd(&r, 0xa7);
	cmd(&r, 0xd4);
	data(&r, 0xf2);
	assert_false(full(&r));
	cmd(&r, 0xa8);
	EXPECT(&r, 0xfa, 0x00);
}

static void test_mouse_encode(void **state)
{
	(void)state;
	uint8_t p[3];
	mouse__encode(10, 5, 0, p);
	assert_memory_equal(p, ((uint8_t[]){0x08, 10, 5}), 3);
	mouse__encode(-1, -2, MOUSE_BTN_LEFT | MOUSE_BTN_RIGHT, p);
	assert_memory_equal(p, ((uint8_t[]){0x08 | 0x10 | 0x20 | 3, 0xff, 0xfe}), 3);
	mouse__encode(255, -255, MOUSE_BTN_MIDDLE, p);
	assert_memory_equal(p, ((uint8_t[]){0x08 | 0x20 | 4, 0xff, 0x01}), 3);
	mouse__encode(300, -300, 0, p); /* clamped with overflow */
	assert_memory_equal(p, ((uint8_t[]){0x08 | 0x10 * 0 | 0x20 | 0x40 | 0x80, 0xff, 0x01}), 3);
	mouse__encode(-256, 0, 0xf8, p); /* extra button bits ignored */
	assert_memory_equal(p, ((uint8_t[]){0x08 | 0x10 | 0x40, 0x01, 0x00}), 3);
	mouse__encode(INT32_MIN, INT32_MAX, 0, p);
	assert_memory_equal(p, ((uint8_t[]){0x08 | 0x10 | 0x40 | 0x80, 0x01, 0xff}), 3);
}

static void test_mouse_stream(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	assert_int_equal(msg_ptr(&r, 100, 100, 0), 0); /* not reporting: nothing */
	assert_false(full(&r));
	aux(&r, 0xf4);
	EXPECT(&r, 0xfa);
	assert_int_equal(msg_ptr(&r, 110, 95, 0), 0); /* right 10, up 5 */
	EXPECT(&r, 0x08, 10, 5);
	assert_int_equal(msg_ptr(&r, 110, 95, 1), 0); /* left button */
	EXPECT(&r, 0x09, 0, 0);
	assert_int_equal(msg_ptr(&r, 107, 98, 2), 0); /* middle; left 3, down 3 */
	EXPECT(&r, 0x08 | 0x10 | 0x20 | 0x04, 0xfd, 0xfd);
	assert_int_equal(msg_ptr(&r, 107, 98, 4), 0); /* right */
	EXPECT(&r, 0x0a, 0, 0);
	assert_int_equal(msg_ptr(&r, 107, 98, 4), 0); /* no change: no packet */
	assert_false(full(&r));
	/* 600 right: 255 (overflow), 255 (overflow), 90 */
	assert_int_equal(msg_ptr(&r, 707, 98, 0), 0);
	EXPECT(&r, 0x48, 0xff, 0, 0x48, 0xff, 0, 0x08, 90, 0);
	/* remote mode: nothing streamed, 0xeb reads the motion */
	aux(&r, 0xf0);
	EXPECT(&r, 0xfa);
	assert_int_equal(msg_ptr(&r, 717, 98, 0), 0);
	assert_false(full(&r));
	aux(&r, 0xeb);
	EXPECT(&r, 0xfa, 0x08, 10, 0);
	aux(&r, 0xea);
	EXPECT(&r, 0xfa);
	/* mouse bytes raise IRQ 12 only, and not when AUXINT is off */
	unsigned k = r.irqs[0], a = r.irqs[1];
	assert_int_equal(msg_ptr(&r, 718, 98, 0), 0);
	EXPECT(&r, 0x08, 1, 0);
	assert_int_equal(r.irqs[0], k);
	assert_int_equal(r.irqs[1], a + 3);
	cmd(&r, 0x60);
	data(&r, 0x45);
	assert_int_equal(msg_ptr(&r, 719, 98, 0), 0);
	EXPECT(&r, 0x08, 1, 0);
	assert_int_equal(r.irqs[1], a + 3);
}

static void test_mouse_wheel(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	aux(&r, 0xf4);
	EXPECT(&r, 0xfa);
	assert_int_equal(msg_ptr(&r, 50, 50, 0), 0);
	assert_int_equal(msg_ptr(&r, 50, 50, 8), 0); /* standard mouse: no wheel */
	assert_int_equal(msg_ptr(&r, 50, 50, 0), 0);
	assert_false(full(&r));
	/* 200, 100, 80 makes it an IntelliMouse */
	static const uint8_t seq[] = {0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf2};
	for (size_t i = 0; i < sizeof(seq); i++)
		aux(&r, seq[i]);
	EXPECT(&r, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0x03);
	assert_int_equal(msg_ptr(&r, 50, 50, 8), 0); /* wheel up: -1 */
	EXPECT(&r, 0x08, 0, 0, 0xff);
	assert_int_equal(msg_ptr(&r, 50, 50, 8), 0); /* held: no new notch */
	assert_int_equal(msg_ptr(&r, 50, 50, 0), 0);
	assert_false(full(&r));
	assert_int_equal(msg_ptr(&r, 51, 50, 16 | 1), 0); /* wheel down, left, moved */
	EXPECT(&r, 0x09, 1, 0, 0x01);
	/* a reset goes back to the 3-byte protocol */
	aux(&r, 0xff);
	EXPECT(&r, 0xfa, 0xaa, 0x00);
	aux(&r, 0xf2);
	aux(&r, 0xf4);
	EXPECT(&r, 0xfa, 0x00, 0xfa);
	assert_int_equal(msg_ptr(&r, 53, 50, 0x10), 0);
	EXPECT(&r, 0x08, 2, 0);
}

/* ---- hostile messages and bounds ---- */

static void test_hostile_messages(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	uint8_t big[64] = {0};
	struct vnc_input_msg m = {.type = VNC_INPUT_KEY, .down = 1, .keysym = 'a'};
	memcpy(big, &m, sizeof(m));
	assert_int_equal(input__event(&r.c, big, 23), -EINVAL);
	assert_int_equal(input__event(&r.c, big, 25), -EINVAL);
	assert_int_equal(input__event(&r.c, big, 0), -EINVAL);
	assert_int_equal(input__event(&r.c, NULL, 24), -EINVAL);
	assert_false(full(&r));
	assert_int_equal(input__event(&r.c, big, 24), 0);
	EXPECT(&r, 0x1e);
	for (uint32_t type = 0; type < 8; type++) {
		if (type == VNC_INPUT_KEY || type == VNC_INPUT_POINTER)
			continue;
		m.type = type;
		assert_int_equal(input__event(&r.c, &m, sizeof(m)), -EINVAL);
	}
	m.type = 0xffffffff;
	assert_int_equal(input__event(&r.c, &m, sizeof(m)), -EINVAL);
	assert_int_equal(msg_key(&r, 'a', 0, 2), -EINVAL); /* down must be 0 or 1 */
	assert_int_equal(msg_key(&r, 0xdeadbeef, 0, 1), -ENOENT);
	assert_int_equal(msg_key(&r, 0xdeadbeef, 0xffffffff, 1), -ENOENT);
	assert_int_equal(msg_key(&r, 0, 0x1e, 1), 0); /* keycode alone: A */
	EXPECT(&r, 0x1e);
	/* huge coordinates and junk buttons: clamped, bounded carry */
	aux(&r, 0xf4);
	EXPECT(&r, 0xfa);
	assert_int_equal(msg_ptr(&r, 0, 0, 0), 0);
	assert_int_equal(msg_ptr(&r, 0xffff, 0xffff, 0xffffffff), 0);
	assert_true(r.c.aux.q.count <= PS2_QUEUE);
	assert_true(r.c.aux.dx <= MOUSE_MAX_CARRY && r.c.aux.dx >= -MOUSE_MAX_CARRY);
	assert_true(r.c.aux.dy <= MOUSE_MAX_CARRY && r.c.aux.dy >= -MOUSE_MAX_CARRY);
	int sum = 0, n = 0;
	while (full(&r)) {
		uint8_t b0 = rd(&r), x = rd(&r), y = rd(&r);
		(void)y;
		assert_true(b0 & 0x08);
		assert_int_equal(b0 & 7, 7); /* all three buttons */
		sum += x ? x : 0;
		n++;
	}
	assert_int_equal(sum, MOUSE_MAX_CARRY); /* all the carried motion, no more */
	assert_true(n > 1);
}

static void test_queue_overflow(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	cmd(&r, 0x60);
	data(&r, 0x07); /* no translation: every byte visible */
	int ok = 0, dropped = 0;
	for (int i = 0; i < 200; i++) {
		int e = msg_key(&r, 0xff52, 0, (uint32_t)(i & 1)); /* Up: 2 or 3 bytes */
		if (e == 0)
			ok++;
		else if (e == -ENOSPC)
			dropped++;
		else
			fail_msg("unexpected %d", e);
		assert_true(r.c.kbd.q.count <= PS2_EVENT_LIMIT);
	}
	assert_true(dropped > 0);
	assert_false(i8042__kbd_room(&r.c));
	/* a command still gets its answer past a full event queue */
	data(&r, 0xee);
	assert_true(r.c.kbd.q.count <= PS2_QUEUE);
	/* drain: whole sequences only, then the echo */
	int seqs = 0;
	uint8_t last = 0;
	for (;;) {
		uint8_t b = rd(&r);
		if (b == 0xee)
			break;
		assert_int_equal(b, 0xe0);
		b = rd(&r);
		if (b == 0xf0)
			b = rd(&r);
		assert_int_equal(b, 0x75);
		seqs++;
		last = b;
	}
	(void)last;
	assert_false(full(&r));
	assert_int_equal(seqs, ok);
	assert_true(i8042__kbd_room(&r.c));
	/* the controller's own reply queue is bounded too */
	for (int i = 0; i < 500; i++)
		cmd(&r, 0x20);
	assert_true(r.c.ctl.count <= PS2_QUEUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self_test),
	    cmocka_unit_test(test_command_byte),
	    cmocka_unit_test(test_port_disable),
	    cmocka_unit_test(test_reset_line),
	    cmocka_unit_test(test_write_output_buffers),
	    cmocka_unit_test(test_kbd_reset_echo_id),
	    cmocka_unit_test(test_scancode_sets),
	    cmocka_unit_test(test_translation),
	    cmocka_unit_test(test_keysyms),
	    cmocka_unit_test(test_mouse_commands),
	    cmocka_unit_test(test_mouse_encode),
	    cmocka_unit_test(test_mouse_stream),
	    cmocka_unit_test(test_mouse_wheel),
	    cmocka_unit_test(test_hostile_messages),
	    cmocka_unit_test(test_queue_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
