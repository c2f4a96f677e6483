/* SPDX-License-Identifier: MIT */
/*
 * input-ports: arbitrary sequences of i8042 port reads/writes and vnc event
 * messages (of any length and content). After every step the queues must
 * be within their bounds and an empty output buffer must mean there is
 * nothing the controller could deliver.
 *
 * Input: records. Byte 0 = op: op & 3 == 0 write data (next byte),
 * 1 write command (next byte), 2 read (op & 4: status, else data),
 * 3 event message of 18 + (op >> 2) % 12 bytes taken from the input.
 */
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "i8042.h"

static unsigned edges;

static void on_irq(void *opaque, unsigned line)
{
	(void)opaque;
	if (line > I8042_IRQ_AUX)
		abort();
	edges++;
}

static void check(struct i8042 *c)
{
	const struct ps2_queue *q[] = {&c->ctl, &c->kbd.q, &c->aux.q};
	for (unsigned i = 0; i < 3; i++)
		if (q[i]->count > PS2_QUEUE || q[i]->head >= PS2_QUEUE)
			abort();
	if (c->kbd.set != 1 && c->kbd.set != 2)
		abort();
	if (c->aux.dx > MOUSE_MAX_CARRY || c->aux.dx < -MOUSE_MAX_CARRY ||
	    c->aux.dy > MOUSE_MAX_CARRY || c->aux.dy < -MOUSE_MAX_CARRY ||
	    c->aux.dz > MOUSE_MAX_WHEEL || c->aux.dz < -MOUSE_MAX_WHEEL)
		abort();
	if (c->aux.id != 0 && c->aux.id != MOUSE_ID_IMPS)
		abort();
	if (!(c->status & I8042_STR_OBF)) {
		if (c->ctl.count || (!(c->cb & I8042_CB_KBDDIS) && c->kbd.q.count) ||
		    (!(c->cb & I8042_CB_AUXDIS) && c->aux.q.count))
			abort();
		if (c->status & I8042_STR_AUXOBF)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct i8042 c;
	i8042__init(&c, on_irq, NULL, NULL);
	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		switch (op & 3) {
		case 0:
		case 1:
			if (i >= size)
				return 0;
			i8042__write(&c, op & 1 ? I8042_REG_CMD : I8042_REG_DATA, data[i++]);
			break;
		case 2:
			(void)i8042__read(&c, op & 4 ? I8042_REG_CMD : I8042_REG_DATA);
			break;
		default: {
			size_t n = 18 + (size_t)(op >> 2) % 12;
			uint8_t msg[32];
			if (n > size - i)
				n = size - i;
			memcpy(msg, data + i, n);
			i += n;
			(void)input__event(&c, msg, n);
			break;
		}
		}
		check(&c);
	}
	return 0;
}
