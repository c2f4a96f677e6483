/* SPDX-License-Identifier: MIT */
/*
 * An i8042 keyboard controller with a PS/2 keyboard on its first port and a
 * PS/2 mouse on its auxiliary port, pure logic: the caller supplies the
 * interrupt lines and the reset line.
 *
 * Registers: data (port 0x60, off 0 of region I8042_REG_DATA) and
 * status/command (port 0x64, I8042_REG_CMD). The output buffer holds one
 * byte; when the guest reads it, the next byte is taken from the
 * controller's own replies, then the keyboard's queue, then the mouse's,
 * and a byte made available raises IRQ 1 (keyboard/controller) or IRQ 12
 * (mouse) once, if the command byte enables that interrupt.
 */
#ifndef CELLVM_INPUT_I8042_H
#define CELLVM_INPUT_I8042_H

#include "keyboard.h"
#include "mouse.h"

enum { I8042_REG_DATA = 0, I8042_REG_CMD = 1 };
enum { I8042_IRQ_KBD = 0, I8042_IRQ_AUX = 1 };

/* Status register. */
#define I8042_STR_OBF	 0x01
#define I8042_STR_IBF	 0x02
#define I8042_STR_SYS	 0x04
#define I8042_STR_CMD	 0x08 /* last write was to the command port */
#define I8042_STR_UNLOCK 0x10
#define I8042_STR_AUXOBF 0x20
/* Command byte. */
#define I8042_CB_KBDINT	 0x01
#define I8042_CB_AUXINT	 0x02
#define I8042_CB_SYS	 0x04
#define I8042_CB_KBDDIS	 0x10
#define I8042_CB_AUXDIS	 0x20
#define I8042_CB_XLATE	 0x40
#define I8042_CB_DEFAULT (I8042_CB_XLATE | I8042_CB_SYS | I8042_CB_AUXINT | I8042_CB_KBDINT)

struct i8042 {
	uint8_t status;
	uint8_t cb;	      /* command byte */
	uint8_t outport;      /* bit 0: CPU reset line (active low), bit 1: A20 */
	uint8_t pending;      /* command waiting for a data byte, or 0 */
	uint8_t ob;	      /* the output buffer, valid when status & OBF */
	bool xlate_f0;	      /* translation: a set-2 break prefix was swallowed */
	struct ps2_queue ctl; /* controller replies */
	struct ps2_kbd kbd;
	struct ps2_mouse aux;
	unsigned resets;			  /* reset pulses requested by the guest */
	void (*irq)(void *opaque, unsigned line); /* I8042_IRQ_*: one edge */
	void (*reset)(void *opaque);		  /* may be NULL */
	void *opaque;
};

void i8042__init(struct i8042 *c, void (*irq)(void *, unsigned), void (*reset)(void *),
		 void *opaque);
uint8_t i8042__read(struct i8042 *c, unsigned reg);
void i8042__write(struct i8042 *c, unsigned reg, uint8_t v);
/* Host events: returns true if the event was queued (false: dropped). */
bool i8042__key(struct i8042 *c, uint16_t key, bool down);
bool i8042__pointer(struct i8042 *c, uint16_t x, uint16_t y, uint32_t vnc_buttons);
/* Is there room for another event of this kind? */
bool i8042__kbd_room(const struct i8042 *c);
bool i8042__aux_room(const struct i8042 *c);

#endif
