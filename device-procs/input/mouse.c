/* SPDX-License-Identifier: MIT */
#include "mouse.h"

#include <string.h>

#include "keyboard.h"

static void defaults(struct ps2_mouse *m)
{
	m->rate = 100;
	m->resolution = 2; /* 4 counts/mm */
	m->scale21 = false;
	m->reporting = false;
	m->remote = false;
	m->wrap = false;
	m->pending = 0;
	m->dx = m->dy = m->dz = 0;
}

void mouse__init(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	defaults(m);
}

static void reply(struct ps2_mouse *m, uint8_t v)
{
	ps2q__push(&m->q, v);
}

static int32_t clamp(int32_t v, int32_t lim)
{
	return v > lim ? lim : v < -lim ? -lim : v;
}

void mouse__encode(int32_t dx, int32_t dy, uint8_t buttons, uint8_t pkt[3])
{
	uint8_t b = 0x08 | (buttons & 7);
	if (dx > MOUSE_MAX_DELTA || dx < -MOUSE_MAX_DELTA)
		b |= 0x40;
	if (dy > MOUSE_MAX_DELTA || dy < -MOUSE_MAX_DELTA)
		b |= 0x80;
	dx = clamp(dx, MOUSE_MAX_DELTA);
	dy = clamp(dy, MOUSE_MAX_DELTA);
	if (dx < 0)
		b |= 0x10;
	if (dy < 0)
		b |= 0x20;
	pkt[0] = b;
	pkt[1] = (uint8_t)(dx & 0xff);
	pkt[2] = (uint8_t)(dy & 0xff);
}

static unsigned packet_size(const struct ps2_mouse *m)
{
	return m->id == MOUSE_ID_IMPS ? 4 : 3;
}

/* Queue one packet taking up to +-255 of the pending motion (and -8..7 notches). */
static void packet(struct ps2_mouse *m)
{
	uint8_t pkt[4];
	mouse__encode(m->dx, m->dy, m->buttons, pkt);
	int32_t sx = clamp(m->dx, MOUSE_MAX_DELTA), sy = clamp(m->dy, MOUSE_MAX_DELTA);
	int32_t sz = m->dz > 7 ? 7 : m->dz < -8 ? -8 : m->dz;
	m->dx -= sx;
	m->dy -= sy;
	m->sent = m->buttons;
	pkt[3] = (uint8_t)(sz & 0xff);
	if (m->id == MOUSE_ID_IMPS)
		m->dz -= sz;
	for (unsigned i = 0; i < packet_size(m); i++)
		ps2q__push(&m->q, pkt[i]);
}

bool mouse__flush(struct ps2_mouse *m)
{
	bool any = false;
	if (!m->reporting || m->remote || m->wrap)
		return false;
	while ((m->dx || m->dy || m->dz || m->buttons != m->sent) &&
	       ps2q__event_room(&m->q, packet_size(m))) {
		packet(m);
		any = true;
	}
	return any;
}

bool mouse__pointer(struct ps2_mouse *m, uint16_t x, uint16_t y, uint32_t vnc_buttons)
{
	if (m->have_pos) {
		m->dx = clamp(m->dx + ((int32_t)x - m->x), MOUSE_MAX_CARRY);
		/* screen y grows downwards, PS/2 y upwards */
		m->dy = clamp(m->dy - ((int32_t)y - m->y), MOUSE_MAX_CARRY);
	}
	m->have_pos = true;
	m->x = x;
	m->y = y;
	m->buttons = (uint8_t)((vnc_buttons & 1 ? MOUSE_BTN_LEFT : 0) |
			       (vnc_buttons & 2 ? MOUSE_BTN_MIDDLE : 0) |
			       (vnc_buttons & 4 ? MOUSE_BTN_RIGHT : 0));
	uint32_t pressed = vnc_buttons & ~m->vnc_prev;
	m->vnc_prev = vnc_buttons;
	if (m->id == MOUSE_ID_IMPS) {
		/* one notch per press; up is negative on the wire */
		if (pressed & 8)
			m->dz = clamp(m->dz - 1, MOUSE_MAX_WHEEL);
		if (pressed & 16)
			m->dz = clamp(m->dz + 1, MOUSE_MAX_WHEEL);
	}
	if (!m->reporting || m->remote) {
		/* nobody listens: do not accumulate a jump for later */
		if (!m->remote)
			m->dx = m->dy = m->dz = 0;
		return false;
	}
	return mouse__flush(m);
}

static void param(struct ps2_mouse *m, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case 0xe8: /* set resolution */
		if (v > 3) {
			reply(m, PS2_RESEND);
			return;
		}
		m->resolution = v;
		break;
	case 0xf3: /* set sample rate */
		if (v == 0 || v > 200) {
			reply(m, PS2_RESEND);
			return;
		}
		m->rate = v;
		m->rates[0] = m->rates[1];
		m->rates[1] = m->rates[2];
		m->rates[2] = v;
		if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
			m->id = MOUSE_ID_IMPS;
		break;
	}
	reply(m, PS2_ACK);
}

void mouse__write(struct ps2_mouse *m, uint8_t v)
{
	if (m->pending) {
		uint8_t cmd = m->pending;
		m->pending = 0;
		param(m, cmd, v);
		return;
	}
	if (m->wrap && v != 0xec && v != 0xff) {
		reply(m, v);
		return;
	}
	switch (v) {
	case 0xe6: /* scaling 1:1 */
		m->scale21 = false;
		reply(m, PS2_ACK);
		break;
	case 0xe7: /* scaling 2:1 */
		m->scale21 = true;
		reply(m, PS2_ACK);
		break;
	case 0xe8: /* set resolution */
	case 0xf3: /* set sample rate */
		m->pending = v;
		reply(m, PS2_ACK);
		break;
	case 0xe9: /* status request */
		reply(m, PS2_ACK);
		reply(m, (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
				   (m->scale21 ? 0x10 : 0) | (m->buttons & MOUSE_BTN_LEFT ? 4 : 0) |
				   (m->buttons & MOUSE_BTN_MIDDLE ? 2 : 0) |
				   (m->buttons & MOUSE_BTN_RIGHT ? 1 : 0)));
		reply(m, m->resolution);
		reply(m, m->rate);
		break;
	case 0xea: /* stream mode */
		m->remote = false;
		m->dx = m->dy = m->dz = 0;
		reply(m, PS2_ACK);
		break;
	case 0xeb: /* read data (one packet, any mode) */
		reply(m, PS2_ACK);
		packet(m);
		break;
	case 0xec: /* leave wrap mode */
		m->wrap = false;
		reply(m, PS2_ACK);
		break;
	case 0xee: /* wrap mode */
		m->wrap = true;
		reply(m, PS2_ACK);
		break;
	case 0xf0: /* remote mode */
		m->remote = true;
		m->dx = m->dy = m->dz = 0;
		reply(m, PS2_ACK);
		break;
	case 0xf2: /* get device ID */
		reply(m, PS2_ACK);
		reply(m, m->id);
		break;
	case 0xf4: /* enable data reporting */
		m->reporting = true;
		m->dx = m->dy = m->dz = 0;
		m->sent = m->buttons;
		reply(m, PS2_ACK);
		break;
	case 0xf5: /* disable data reporting */
		m->reporting = false;
		reply(m, PS2_ACK);
		break;
	case 0xf6: /* set defaults */
		defaults(m);
		reply(m, PS2_ACK);
		break;
	case 0xfe: /* resend */
		reply(m, PS2_ACK);
		break;
	case 0xff: { /* reset (back to ID 0): the position and buttons survive */
		uint8_t b = m->buttons;
		uint32_t prev = m->vnc_prev;
		uint16_t x = m->x, y = m->y;
		bool have = m->have_pos;
		mouse__init(m);
		m->buttons = m->sent = b;
		m->vnc_prev = prev;
		m->x = x, m->y = y, m->have_pos = have;
		reply(m, PS2_ACK);
		reply(m, PS2_BAT_OK);
		reply(m, 0x00);
		break;
	}
	default:
		reply(m, PS2_RESEND);
		break;
	}
}
