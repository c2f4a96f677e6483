/* SPDX-License-Identifier: MIT */
/*
 * cellvm-input: an i8042 with a PS/2 keyboard and mouse in its own process.
 *
 * Regions: 0 = port 0x60 (data), 1 = port 0x64 (status/command), 1 byte
 * each. irqfd 0 = IRQ 1 (keyboard), irqfd 1 = IRQ 12 (mouse), optional
 * irqfd 2 = the reset line (an eventfd the broker watches: written
 * when the guest pulses CPU reset through the controller). backend_fd 0 =
 * the SOCK_SEQPACKET socket on which the vnc process sends one struct
 * vnc_input_msg per event.
 */
#include <errno.h>
#include <sys/socket.h>

#include "abi.h"
#include "device.h"
#include "event.h"
#include "i8042.h"
#include "log.h"

#define INPUT_IRQ_RESET 2
/* Messages handled per wakeup, so the guest's ring is served in between. */
#define INPUT_BATCH 32

struct input {
	struct i8042 ctl;
	struct dev_env *env;
	int events; /* backend_fd[0], or -1 once the peer is gone */
	unsigned long dropped, bad;
};

static void irq(void *opaque, unsigned line)
{
	struct input *in = opaque;
	dev__irq(in->env, line); /* ISA edge: one signal per byte made available */
}

static void reset(void *opaque)
{
	struct input *in = opaque;
	log__info("guest requested a reset through the i8042");
	dev__irq(in->env, INPUT_IRQ_RESET);
}

static int input_init(void *dev, struct dev_env *env)
{
	struct input *in = dev;
	in->env = env;
	in->events = env->nbackend > 0 ? env->backend_fd[0] : -1;
	i8042__init(&in->ctl, irq, reset, in);
	return 0;
}

static uint64_t input_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	struct input *in = dev;
	(void)off;
	(void)size;
	return i8042__read(&in->ctl, region);
}

static void input_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	struct input *in = dev;
	(void)off;
	(void)size;
	i8042__write(&in->ctl, region, (uint8_t)val);
}

static bool input_wanted(void *dev, unsigned i)
{
	struct input *in = dev;
	return i == 0 && in->events >= 0 &&
	       (i8042__kbd_room(&in->ctl) || i8042__aux_room(&in->ctl));
}

static void input_ready(void *dev, unsigned i)
{
	struct input *in = dev;
	uint8_t buf[INPUT_MSG_SIZE + 8]; /* larger, so a long message shows as such */

	if (i != 0 || in->events < 0)
		return;
	for (unsigned n = 0; n < INPUT_BATCH; n++) {
		/* MSG_TRUNC: the real length of a longer datagram is returned. */
		ssize_t r = recv(in->events, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			/* EOF (or an empty datagram we cannot tell from it): stop. */
			log__info("event socket closed (%s)", r ? "error" : "eof");
			in->events = -1;
			in->env->backend_fd[0] = -1;
			return;
		}
		int e = input__event(&in->ctl, buf, (size_t)r);
		if (e == -EINVAL && !in->bad++)
			log__info("malformed event message (%zd bytes) dropped", r);
		if (e == -ENOSPC && !in->dropped++)
			log__info("guest is not reading: events dropped");
	}
}

static void input_reset(void *dev)
{
	struct input *in = dev;
	i8042__init(&in->ctl, irq, reset, in);
}

static const struct dev_ops input_ops = {
    .name = "input",
    .init = input_init,
    .read = input_read,
    .write = input_write,
    .backend_ready = input_ready,
    .backend_wanted = input_wanted,
    .reset = input_reset,
};

const struct dev_desc dev__desc = {
    .type = "input",
    .ops = &input_ops,
    .limits = {.nregions = 2, .pio_mask = 3, .size = {1, 1}},
    .priv_size = sizeof(struct input),
};
