/* SPDX-License-Identifier: MIT */
#include "uart.h"

#include <string.h>

/* Registers (DLAB = LCR bit 7 selects the divisor latch at 0/1). */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI	 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI	 0x08
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI	 0x04
#define IIR_FIFO 0xc0
#define LSR_DR	 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void update_irq(struct uart *u)
{
	/* On a PC, OUT2 gates the UART's interrupt onto the ISA bus. */
	bool level = !(iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->opaque, level);
	}
}

void uart__init(struct uart *u, void (*tx)(void *, uint8_t), void (*irq)(void *, bool),
		void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = 0xb0; /* DCD, DSR, CTS */
	u->dll = 12;   /* 9600 baud */
	u->tx = tx;
	u->irq = irq;
	u->opaque = opaque;
}

size_t uart__rx_room(const struct uart *u)
{
	return UART_RX_FIFO - u->rx_count;
}

size_t uart__rx_push(struct uart *u, const uint8_t *buf, size_t n)
{
	size_t done = 0;
	while (done < n && u->rx_count < UART_RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = buf[done++];
		u->rx_count++;
	}
	if (done) {
		u->lsr |= LSR_DR;
		update_irq(u);
	}
	return done;
}

bool uart__loopback(const struct uart *u)
{
	return u->mcr & MCR_LOOP;
}

static uint8_t rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	if (--u->rx_count == 0)
		u->lsr &= (uint8_t)~LSR_DR;
	return b;
}

uint8_t uart__read(struct uart *u, unsigned off)
{
	bool dlab = u->lcr & 0x80;
	uint8_t v = 0xff;

	switch (off) {
	case RBR_THR:
		v = dlab ? u->dll : rx_pop(u);
		break;
	case IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case IIR_FCR:
		v = iir(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = false;
		break;
	case LCR:
		v = u->lcr;
		break;
	case MCR:
		v = u->mcr;
		break;
	case LSR:
		v = u->lsr;
		break;
	case MSR:
		v = (u->mcr & MCR_LOOP) ? (uint8_t)((u->mcr & 0x0f) << 4) : u->msr;
		break;
	case SCR:
		v = u->scr;
		break;
	default:
		return 0xff;
	}
	update_irq(u);
	return v;
}

void uart__write(struct uart *u, unsigned off, uint8_t val)
{
	bool dlab = u->lcr & 0x80;

	switch (off) {
	case RBR_THR:
		if (dlab) {
			u->dll = val;
		} else if (u->mcr & MCR_LOOP) {
			uart__rx_push(u, &val, 1);
			u->thri_pending = true;
		} else {
			if (u->tx)
				u->tx(u->opaque, val);
			/* Transmission is instantaneous: THR is empty again. */
			u->thri_pending = true;
		}
		break;
	case IER:
		if (dlab) {
			u->dlm = val;
		} else {
			uint8_t old = u->ier;
			u->ier = val & 0x0f;
			/* Enabling THRI with an empty THR raises it at once. */
			if (!(old & IER_THRI) && (u->ier & IER_THRI))
				u->thri_pending = true;
		}
		break;
	case IIR_FCR:
		u->fcr = val & 0xc9;
		if (val & 0x02) { /* clear RX FIFO */
			u->rx_count = 0;
			u->lsr &= (uint8_t)~LSR_DR;
		}
		break;
	case LCR:
		u->lcr = val;
		break;
	case MCR:
		u->mcr = val & 0x1f;
		break;
	case SCR:
		u->scr = val;
		break;
	default: /* LSR, MSR are read-only; offsets >= 8 ignored */
		break;
	}
	update_irq(u);
}
