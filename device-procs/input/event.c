/* SPDX-License-Identifier: MIT */
#include "event.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "keysym.h"
#include "vnc/vnc.h"

/* The wire layout, read by offset so that no field is trusted as a struct. */
enum {
	OFF_TYPE = 0,
	OFF_DOWN = 4,
	OFF_KEYSYM = 8,
	OFF_BUTTONS = 12,
	OFF_X = 16,
	OFF_Y = 18,
	OFF_KEYCODE = 20
};
_Static_assert(sizeof(struct vnc_input_msg) == INPUT_MSG_SIZE, "vnc_input_msg size");
_Static_assert(offsetof(struct vnc_input_msg, buttons) == OFF_BUTTONS, "vnc_input_msg layout");
_Static_assert(offsetof(struct vnc_input_msg, x) == OFF_X, "vnc_input_msg layout");
_Static_assert(offsetof(struct vnc_input_msg, y) == OFF_Y, "vnc_input_msg layout");

/* Largest framebuffer side the vnc process can clip to (VBE maximum). */
#define INPUT_MAX_COORD 16383

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int input__event(struct i8042 *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (!p || len != INPUT_MSG_SIZE)
		return -EINVAL;
	switch (rd32(p + OFF_TYPE)) {
	case VNC_INPUT_KEY: {
		uint32_t down = rd32(p + OFF_DOWN);
		if (down > 1)
			return -EINVAL;
		uint16_t key = keysym__lookup(rd32(p + OFF_KEYSYM), rd32(p + OFF_KEYCODE));
		if (!key)
			return -ENOENT;
		if (!c->kbd.scanning)
			return 0; /* the guest does not want keys: nothing to queue */
		return i8042__key(c, key, down) ? 0 : -ENOSPC;
	}
	case VNC_INPUT_POINTER: {
		uint16_t x = rd16(p + OFF_X), y = rd16(p + OFF_Y);
		x = x > INPUT_MAX_COORD ? INPUT_MAX_COORD : x;
		y = y > INPUT_MAX_COORD ? INPUT_MAX_COORD : y;
		bool room = i8042__aux_room(c);
		i8042__pointer(c, x, y, rd32(p + OFF_BUTTONS) & 0x1f);
		return room ? 0 : -ENOSPC;
	}
	default:
		return -EINVAL;
	}
}
