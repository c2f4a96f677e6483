/* SPDX-License-Identifier: MIT */
/*
 * cellvm-serial: COM1 (16550A) in its own process. Backend fds: 0 = output
 * (a pipe to the broker's console relay, or a log file), 1 = input (a pipe
 * from the relay; absent for file and none). irqfd 0 = GSI 4.
 */
#include <errno.h>
#include <unistd.h>

#include "abi.h"
#include "device.h"
#include "uart.h"

struct serial {
	struct uart uart;
	struct dev_env *env;
	int out, in;
};

/*
 * LSR (offset 5) has no read side effect here: publish it, and a console's
 * "is THR empty?" poll costs the guest an exit only. Writes that can change
 * it: FCR (clears the RX FIFO), MCR (loopback on/off) and, in loopback, THR.
 */
static void publish_lsr(struct serial *s)
{
	uint32_t inval = 1u << 2 | 1u << 4 | (uart__loopback(&s->uart) ? 1u << 0 : 0);
	dev__shadow(s->env, 0, 0, 5, 1, inval, uart__read(&s->uart, 5));
}

static void tx(void *opaque, uint8_t b)
{
	struct serial *s = opaque;
	if (s->out < 0)
		return;
	/* Output that cannot be written is dropped; the guest is never blocked. */
	ssize_t r = write(s->out, &b, 1);
	(void)r;
}

static void irq(void *opaque, bool level)
{
	struct serial *s = opaque;
	/* ISA interrupts are edge-triggered: signal each rising edge. */
	if (level)
		dev__irq(s->env, 0);
}

static int serial_init(void *dev, struct dev_env *env)
{
	struct serial *s = dev;
	s->env = env;
	s->out = env->nbackend > 0 ? env->backend_fd[0] : -1;
	s->in = env->nbackend > 1 ? env->backend_fd[1] : -1;
	uart__init(&s->uart, tx, irq, s);
	publish_lsr(s);
	return 0;
}

static uint64_t serial_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	struct serial *s = dev;
	(void)region;
	(void)size;
	uint64_t v = uart__read(&s->uart, (unsigned)off);
	publish_lsr(s);
	return v;
}

static void serial_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	struct serial *s = dev;
	(void)region;
	(void)size;
	uart__write(&s->uart, (unsigned)off, (uint8_t)val);
	publish_lsr(s);
}

static bool serial_wanted(void *dev, unsigned i)
{
	struct serial *s = dev;
	return i == 1 && uart__rx_room(&s->uart) > 0;
}

static void serial_ready(void *dev, unsigned i)
{
	struct serial *s = dev;
	uint8_t buf[UART_RX_FIFO];
	if (i != 1 || s->in < 0)
		return;
	size_t room = uart__rx_room(&s->uart);
	if (!room)
		return;
	ssize_t n = read(s->in, buf, room);
	if (n > 0) {
		uart__rx_push(&s->uart, buf, (size_t)n);
		publish_lsr(s);
	} else if (n == 0 || errno != EAGAIN)
		s->in = -1, s->env->backend_fd[1] = -1; /* EOF: stop polling */
}

static void serial_reset(void *dev)
{
	struct serial *s = dev;
	uart__init(&s->uart, tx, irq, s);
	publish_lsr(s);
}

static const struct dev_ops serial_ops = {
    .name = "serial",
    .init = serial_init,
    .read = serial_read,
    .write = serial_write,
    .backend_ready = serial_ready,
    .backend_wanted = serial_wanted,
    .reset = serial_reset,
};

const struct dev_desc dev__desc = {
    .type = "serial",
    .ops = &serial_ops,
    .limits = {.nregions = 1, .pio_mask = 1, .size = {CV_PORT_COM1_LEN}},
    .priv_size = sizeof(struct serial),
};
