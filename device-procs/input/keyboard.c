/* SPDX-License-Identifier: MIT */
#include "keyboard.h"

#include <string.h>

#include "keysym.h"

static void defaults(struct ps2_kbd *k)
{
	k->set = 2;
	k->leds = 0;
	k->typematic = 0x2b; /* 10.9 cps, 500 ms */
	k->pending = 0;
}

void kbd__init(struct ps2_kbd *k)
{
	memset(k, 0, sizeof(*k));
	defaults(k);
	k->scanning = true;
}

static void reply(struct ps2_kbd *k, uint8_t v)
{
	ps2q__push(&k->q, v); /* responses use the headroom; dropped only if full */
}

static void param(struct ps2_kbd *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case 0xed: /* set LEDs */
		k->leds = v & 7;
		reply(k, PS2_ACK);
		break;
	case 0xf3: /* typematic rate/delay */
		k->typematic = v & 0x7f;
		reply(k, PS2_ACK);
		break;
	case 0xf0: /* scancode set: 0 = query */
		if (v == 0) {
			reply(k, PS2_ACK);
			reply(k, k->set);
		} else if (v == 1 || v == 2) {
			k->set = v;
			reply(k, PS2_ACK);
		} else {
			reply(k, PS2_RESEND); /* set 3 is not offered */
		}
		break;
	}
}

void kbd__write(struct ps2_kbd *k, uint8_t v)
{
	if (k->pending) {
		uint8_t cmd = k->pending;
		k->pending = 0;
		/* A command byte instead of the parameter aborts the command. */
		if (v < 0xed) {
			param(k, cmd, v);
			return;
		}
	}
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf0: /* get/set scancode set */
	case 0xf3: /* set typematic */
		k->pending = v;
		reply(k, PS2_ACK);
		break;
	case 0xee: /* echo */
		reply(k, 0xee);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		reply(k, PS2_ACK);
		reply(k, 0xab);
		reply(k, 0x83);
		break;
	case 0xf4: /* enable scanning: the output buffer is cleared */
		ps2q__clear(&k->q);
		k->scanning = true;
		reply(k, PS2_ACK);
		break;
	case 0xf5: /* disable scanning and restore defaults */
		ps2q__clear(&k->q);
		defaults(k);
		k->scanning = false;
		reply(k, PS2_ACK);
		break;
	case 0xf6: /* restore defaults, keep scanning */
		ps2q__clear(&k->q);
		defaults(k);
		k->scanning = true;
		reply(k, PS2_ACK);
		break;
	case 0xf7: /* set-3 key type commands: accepted, no effect */
	case 0xf8:
	case 0xf9:
	case 0xfa:
	case 0xfb:
	case 0xfc:
	case 0xfd:
		reply(k, PS2_ACK);
		break;
	case 0xfe: /* resend: nothing is ever lost on this link */
		reply(k, PS2_ACK);
		break;
	case 0xff: /* reset and self-test */
		kbd__init(k);
		reply(k, PS2_ACK);
		reply(k, PS2_BAT_OK);
		break;
	default:
		reply(k, PS2_RESEND);
		break;
	}
}

bool kbd__key(struct ps2_kbd *k, uint16_t key, bool down)
{
	uint8_t seq[3];
	unsigned n = 0;
	uint8_t code = key & 0xff, hi = key >> 8;

	if (!k->scanning || (hi != 0 && hi != 0xe0))
		return false;
	if (code == 0 || (code >= 0x80 && !(code == 0x83 && !hi))) /* 0x83: F7 */
		return false;
	if (hi)
		seq[n++] = 0xe0;
	if (k->set == 1) {
		uint8_t c1 = keysym__set2_to_set1(code);
		if (c1 == 0 || c1 >= 0x80)
			return false;
		seq[n++] = down ? c1 : (uint8_t)(c1 | 0x80);
	} else {
		if (!down)
			seq[n++] = 0xf0;
		seq[n++] = code;
	}
	if (!ps2q__event_room(&k->q, n))
		return false;
	for (unsigned i = 0; i < n; i++)
		ps2q__push(&k->q, seq[i]);
	return true;
}
