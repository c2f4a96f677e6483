/* SPDX-License-Identifier: MIT */
#include "i8042.h"

#include <string.h>

#include "keysym.h"

#define OUT_RESET 0x01
#define OUT_A20	  0x02

void i8042__init(struct i8042 *c, void (*irq)(void *, unsigned), void (*reset)(void *),
		 void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->cb = I8042_CB_DEFAULT;
	c->status = I8042_STR_SYS | I8042_STR_UNLOCK;
	c->outport = 0xcc | OUT_A20 | OUT_RESET;
	kbd__init(&c->kbd);
	mouse__init(&c->aux);
	c->irq = irq;
	c->reset = reset;
	c->opaque = opaque;
}

/* A keyboard byte through the translation, if on; false if swallowed. */
static bool translate(struct i8042 *c, uint8_t *v)
{
	if (!(c->cb & I8042_CB_XLATE))
		return true;
	if (*v == 0xf0) {
		c->xlate_f0 = true;
		return false;
	}
	*v = keysym__set2_to_set1(*v);
	if (c->xlate_f0) {
		*v |= 0x80;
		c->xlate_f0 = false;
	}
	return true;
}

/* Move the next byte into an empty output buffer, raising its interrupt. */
static void refill(struct i8042 *c)
{
	uint8_t v;
	while (!(c->status & I8042_STR_OBF)) {
		bool aux = false;
		if (ps2q__pop(&c->ctl, &v)) {
		} else if (!(c->cb & I8042_CB_KBDDIS) && ps2q__pop(&c->kbd.q, &v)) {
			if (!translate(c, &v))
				continue;
		} else if (!(c->cb & I8042_CB_AUXDIS) && ps2q__pop(&c->aux.q, &v)) {
			aux = true;
		} else {
			return;
		}
		c->ob = v;
		c->status |= I8042_STR_OBF;
		if (aux)
			c->status |= I8042_STR_AUXOBF;
		else
			c->status &= (uint8_t)~I8042_STR_AUXOBF;
		if (c->irq && (c->cb & (aux ? I8042_CB_AUXINT : I8042_CB_KBDINT)))
			c->irq(c->opaque, aux ? I8042_IRQ_AUX : I8042_IRQ_KBD);
	}
}

static void reply(struct i8042 *c, uint8_t v)
{
	ps2q__push(&c->ctl, v);
}

static void pulse_reset(struct i8042 *c)
{
	c->resets++;
	if (c->reset)
		c->reset(c->opaque);
}

static void command(struct i8042 *c, uint8_t v)
{
	switch (v) {
	case 0x20: /* read command byte */
		reply(c, c->cb);
		break;
	case 0x60: /* write command byte */
	case 0xd1: /* write output port */
	case 0xd2: /* write keyboard output buffer */
	case 0xd3: /* write aux output buffer */
	case 0xd4: /* write to aux device */
		c->pending = v;
		break;
	case 0xa7: /* disable aux port */
		c->cb |= I8042_CB_AUXDIS;
		break;
	case 0xa8: /* enable aux port */
		c->cb &= (uint8_t)~I8042_CB_AUXDIS;
		break;
	case 0xa9: /* aux interface test: ok */
	case 0xab: /* keyboard interface test: ok */
		reply(c, 0x00);
		break;
	case 0xaa: /* controller self-test */
		c->status |= I8042_STR_SYS;
		reply(c, 0x55);
		break;
	case 0xad: /* disable keyboard port */
		c->cb |= I8042_CB_KBDDIS;
		break;
	case 0xae: /* enable keyboard port */
		c->cb &= (uint8_t)~I8042_CB_KBDDIS;
		break;
	case 0xc0: /* read input port: keyboard not locked */
		reply(c, 0x80);
		break;
	case 0xd0: /* read output port */
		reply(c, (uint8_t)((c->outport & ~0x30) | (c->status & I8042_STR_OBF ? 0x10 : 0) |
				   (c->status & I8042_STR_AUXOBF ? 0x20 : 0)));
		break;
	case 0xe0: /* read test inputs */
		reply(c, 0x00);
		break;
	default:
		/* 0xf0..0xff pulse the output lines whose bits are 0: bit 0 resets. */
		if (v >= 0xf0 && !(v & 1))
			pulse_reset(c);
		break; /* others: ignored */
	}
}

static void data(struct i8042 *c, uint8_t v)
{
	uint8_t cmd = c->pending;
	c->pending = 0;
	switch (cmd) {
	case 0x60:
		c->cb = v & 0x77;
		if (v & I8042_CB_SYS)
			c->status |= I8042_STR_SYS;
		else
			c->status &= (uint8_t)~I8042_STR_SYS;
		break;
	case 0xd1:
		c->outport = v;
		if (!(v & OUT_RESET))
			pulse_reset(c);
		break;
	case 0xd2:
		ps2q__push(&c->kbd.q, v);
		break;
	case 0xd3:
		ps2q__push(&c->aux.q, v);
		break;
	case 0xd4:
		mouse__write(&c->aux, v);
		break;
	default:
		/* A plain data byte goes to the keyboard, and enables its port. */
		c->cb &= (uint8_t)~I8042_CB_KBDDIS;
		kbd__write(&c->kbd, v);
		break;
	}
}

uint8_t i8042__read(struct i8042 *c, unsigned reg)
{
	if (reg == I8042_REG_CMD) {
		refill(c);
		return c->status;
	}
	if (reg != I8042_REG_DATA)
		return 0xff;
	uint8_t v = c->ob; /* an empty buffer reads the last byte again */
	c->status &= (uint8_t) ~(I8042_STR_OBF | I8042_STR_AUXOBF);
	mouse__flush(&c->aux);
	refill(c);
	return v;
}

void i8042__write(struct i8042 *c, unsigned reg, uint8_t v)
{
	if (reg == I8042_REG_CMD) {
		c->status |= I8042_STR_CMD;
		c->pending = 0;
		command(c, v);
	} else if (reg == I8042_REG_DATA) {
		c->status &= (uint8_t)~I8042_STR_CMD;
		data(c, v);
	}
	refill(c);
}

bool i8042__key(struct i8042 *c, uint16_t key, bool down)
{
	bool ok = kbd__key(&c->kbd, key, down);
	refill(c);
	return ok;
}

bool i8042__pointer(struct i8042 *c, uint16_t x, uint16_t y, uint32_t vnc_buttons)
{
	bool ok = mouse__pointer(&c->aux, x, y, vnc_buttons);
	refill(c);
	return ok;
}

bool i8042__kbd_room(const struct i8042 *c)
{
	return ps2q__event_room(&c->kbd.q, 3);
}

bool i8042__aux_room(const struct i8042 *c)
{
	return ps2q__event_room(&c->aux.q, 4);
}
