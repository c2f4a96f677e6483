/* SPDX-License-Identifier: MIT */
/*
 * A PS/2 (AT) keyboard: the command set a guest driver uses (reset, echo,
 * identify, LEDs, scancode set 1/2, typematic, enable/disable scanning) and
 * key events queued as scancodes of the current set. The i8042 pulls its
 * bytes from kbd.q.
 */
#ifndef CELLVM_INPUT_KEYBOARD_H
#define CELLVM_INPUT_KEYBOARD_H

#include "ps2.h"

/* Keys are set-2 codes: 0x00..0x7f, or KBD_EXT | code for E0-prefixed keys. */
#define KBD_EXT 0xe000

#define PS2_ACK	   0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

struct ps2_kbd {
	struct ps2_queue q;
	uint8_t pending;   /* command waiting for its parameter byte, or 0 */
	uint8_t set;	   /* scancode set: 1 or 2 */
	bool scanning;	   /* key events are reported */
	uint8_t leds;	   /* bit 0 scroll, 1 num, 2 caps */
	uint8_t typematic; /* rate/delay byte */
};

/* Power-on state (as after 0xff, without the queued 0xaa). */
void kbd__init(struct ps2_kbd *k);
/* A byte the guest sent to the keyboard (port 0x60 with no pending command). */
void kbd__write(struct ps2_kbd *k, uint8_t v);
/*
 * Queue the make (down) or break code of set-2 key `key` in the current set.
 * All or nothing: false if scanning is off, the key is invalid or the queue
 * has no room for the whole sequence.
 */
bool kbd__key(struct ps2_kbd *k, uint16_t key, bool down);

#endif
