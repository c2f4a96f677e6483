/* SPDX-License-Identifier: MIT */
/*
 * A PS/2 mouse (standard 3-byte protocol, device ID 0): the command set a
 * guest driver uses and stream-mode packets. The VNC client gives absolute
 * positions; the mouse reports the motion since the previous position.
 *
 * Packet: byte 0 = Y overflow (7), X overflow (6), Y sign (5), X sign (4),
 * 1 (3), middle (2), right (1), left (0); bytes 1 and 2 = the low 8 bits of
 * the 9-bit X and Y deltas (Y grows upwards). A delta beyond -255..255 is
 * clamped to +-255 with the overflow bit set; the rest is carried over to
 * the next packet, sent when the queue has room.
 *
 * IntelliMouse (device ID 3, selected by the sample-rate sequence 200, 100,
 * 80): a fourth byte carries the wheel, -8..7 notches (negative = up); VNC
 * buttons 3 (up) and 4 (down) count one notch per press.
 */
#ifndef CELLVM_INPUT_MOUSE_H
#define CELLVM_INPUT_MOUSE_H

#include "ps2.h"

#define MOUSE_BTN_LEFT	 0x01
#define MOUSE_BTN_RIGHT	 0x02
#define MOUSE_BTN_MIDDLE 0x04
#define MOUSE_MAX_DELTA	 255
#define MOUSE_MAX_CARRY	 4096 /* pending motion beyond this is forgotten */
#define MOUSE_MAX_WHEEL	 64   /* pending wheel notches beyond this are forgotten */
#define MOUSE_ID_IMPS	 3

struct ps2_mouse {
	struct ps2_queue q;
	uint8_t pending; /* command waiting for its parameter byte, or 0 */
	bool reporting;	 /* stream mode data reporting enabled */
	bool remote;	 /* remote mode: packets only on 0xeb */
	bool wrap;	 /* echo mode */
	bool scale21;
	uint8_t rate, resolution;
	uint8_t buttons;   /* MOUSE_BTN_* now */
	uint8_t sent;	   /* buttons in the last packet */
	int32_t dx, dy;	   /* motion not yet reported, |d| <= MOUSE_MAX_CARRY */
	int32_t dz;	   /* wheel notches not yet reported (IntelliMouse) */
	uint8_t id;	   /* 0 standard, MOUSE_ID_IMPS with a wheel */
	uint8_t rates[3];  /* last three sample rates set, newest last */
	uint32_t vnc_prev; /* VNC button mask of the previous event */
	bool have_pos;
	uint16_t x, y; /* last absolute position */
};

void mouse__init(struct ps2_mouse *m);
/* A byte the guest sent to the mouse (i8042 command 0xd4). */
void mouse__write(struct ps2_mouse *m, uint8_t v);
/*
 * New absolute position and buttons (VNC: bit 0 left, 1 middle, 2 right,
 * 3 wheel up, 4 wheel down).
 * Returns true if at least one packet was queued.
 */
bool mouse__pointer(struct ps2_mouse *m, uint16_t x, uint16_t y, uint32_t vnc_buttons);
/* Queue packets for carried-over motion while there is room (stream mode). */
bool mouse__flush(struct ps2_mouse *m);
/* Encode one packet from deltas (clamped) and buttons; exposed for tests. */
void mouse__encode(int32_t dx, int32_t dy, uint8_t buttons, uint8_t pkt[3]);

#endif
