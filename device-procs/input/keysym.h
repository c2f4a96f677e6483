/* SPDX-License-Identifier: MIT */
/*
 * Key identities: X11 keysyms (RFB KeyEvent) and XT scancodes (QEMU
 * extended key event) to PS/2 set-2 keys, and the i8042's set-2 -> set-1
 * translation. A set-2 key is a code (0x01..0x7f, or 0x83 for F7) optionally
 * ORed with KBD_EXT (0xe000) for E0-prefixed keys; 0 means "no key".
 */
#ifndef CELLVM_INPUT_KEYSYM_H
#define CELLVM_INPUT_KEYSYM_H

#include <stdint.h>

/* US layout: shifted symbols map to the key that produces them. */
uint16_t keysym__to_key(uint32_t keysym);
/*
 * XT keycode as QEMU's extended key event carries it (rfbproto: 0x01..0x7f
 * plain, 0x80 | c for E0 c) or as 0xe0XX; 0 if not a key.
 */
uint16_t keysym__xt_to_key(uint32_t keycode);
/* The keycode when it is valid and non-zero, else the keysym; 0 if neither. */
uint16_t keysym__lookup(uint32_t keysym, uint32_t keycode);
/* The i8042 translation of one set-2 byte (bytes >= 0x80 pass, but 0x83). */
uint8_t keysym__set2_to_set1(uint8_t code);

#endif
