/* SPDX-License-Identifier: MIT */
#include "serial_inproc.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "abi.h"
#include "device-procs/serial/uart.h"
#include "iobus.h"

static struct uart uart;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm *the_vm;
static int out, in = -1;

static void tx(void *opaque, uint8_t b)
{
	(void)opaque;
	if (out < 0)
		return;
	/* A blocked or closed output must not stop the guest: drop the byte. */
	ssize_t r = write(out, &b, 1);
	(void)r;
}

static void irq(void *opaque, bool level)
{
	(void)opaque;
	kvm__irq_line(the_vm, CV_IRQ_COM1, level);
}

static int rd(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	(void)size;
	pthread_mutex_lock(&lock);
	*val = uart__read(&uart, (unsigned)off);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int wr(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)size;
	pthread_mutex_lock(&lock);
	uart__write(&uart, (unsigned)off, (uint8_t)val);
	pthread_mutex_unlock(&lock);
	return 0;
}

static const struct iodev_ops ops = {rd, wr};

int serial_inproc__init(struct vm *vm, int out_fd, int in_fd)
{
	the_vm = vm;
	out = out_fd;
	in = in_fd;
	uart__init(&uart, tx, irq, NULL);
	return iobus__register(IOBUS_PIO, CV_PORT_COM1, CV_PORT_COM1_LEN, &ops, NULL, 0, "serial");
}

int serial_inproc__in_fd(void)
{
	/* With a full FIFO, do not poll input (it would spin); retry later. */
	pthread_mutex_lock(&lock);
	size_t room = uart__rx_room(&uart);
	pthread_mutex_unlock(&lock);
	return room ? in : -1;
}

bool serial_inproc__blocked(void)
{
	return in >= 0 && serial_inproc__in_fd() < 0;
}

void serial_inproc__input(void)
{
	uint8_t buf[UART_RX_FIFO];
	pthread_mutex_lock(&lock);
	size_t room = uart__rx_room(&uart);
	pthread_mutex_unlock(&lock);
	if (!room)
		return;
	ssize_t n = read(in, buf, room);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			in = -1; /* EOF: stop polling it */
		return;
	}
	pthread_mutex_lock(&lock);
	uart__rx_push(&uart, buf, (size_t)n);
	pthread_mutex_unlock(&lock);
}
