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
	return 0;
}

static uint64_t serial_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	struct serial *s = dev;
	(void)region;
	(void)size;
	return uart__read(&s->uart, (unsigned)off);
}

static void serial_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	struct serial *s = dev;
	(void)region;
	(void)size;
	uart__write(&s->uart, (unsigned)off, (uint8_t)val);
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
	if (n > 0)
		uart__rx_push(&s->uart, buf, (size_t)n);
	else if (n == 0 || errno != EAGAIN)
		s->in = -1, s->env->backend_fd[1] = -1; /* EOF: stop polling */
}

static const struct dev_ops serial_ops = {
    .name = "serial",
    .init = serial_init,
    .read = serial_read,
    .write = serial_write,
    .backend_ready = serial_ready,
    .backend_wanted = serial_wanted,
};

const struct dev_desc dev__desc = {
    .type = "serial",
    .ops = &serial_ops,
    .limits = {.nregions = 1, .pio_mask = 1, .size = {CV_PORT_COM1_LEN}},
    .priv_size = sizeof(struct serial),
};
