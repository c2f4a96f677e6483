/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART register model (8 byte registers, 16-byte FIFOs), pure logic:
 * the caller supplies the transmit sink and the interrupt line. Every
 * register access is by offset 0..7; anything else is ignored.
 */
#ifndef CELLVM_UART_H
#define CELLVM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RX_FIFO 64

struct uart {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thri_pending; /* THR-empty interrupt pending (cleared by IIR read/THR write) */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	bool irq_level;
	void (*tx)(void *opaque, uint8_t byte);
	/* Called on every change of the interrupt line's level. */
	void (*irq)(void *opaque, bool level);
	void *opaque;
};

void uart__init(struct uart *u, void (*tx)(void *, uint8_t), void (*irq)(void *, bool),
		void *opaque);
uint8_t uart__read(struct uart *u, unsigned off);
void uart__write(struct uart *u, unsigned off, uint8_t val);
/* Queue received bytes; returns how many fit in the FIFO. */
size_t uart__rx_push(struct uart *u, const uint8_t *buf, size_t n);
/* Room left in the receive FIFO. */
size_t uart__rx_room(const struct uart *u);
/* Loopback mode (MCR bit 4): THR writes land in the receive FIFO. */
bool uart__loopback(const struct uart *u);

#endif
