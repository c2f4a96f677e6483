/* SPDX-License-Identifier: MIT */
/*
 * The serial console on the broker's terminal. The broker owns the terminal
 * and relays bytes through pipes: the serial device never holds a tty fd, so
 * even a compromised device cannot use terminal ioctls (TIOCSTI injection,
 * termios changes) and the broker can always restore the terminal. The
 * relay copies bytes only; it never interprets guest output.
 */
#ifndef CELLVM_CONSOLE_H
#define CELLVM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct console {
	int guest_out; /* read end: bytes the guest sent */
	int sink;      /* where they go: stdout or a log file */
	int guest_in;  /* write end: bytes for the guest */
	bool raw;      /* the terminal was put in raw mode */
	bool escape;   /* saw Ctrl-A */
	bool stdin_open;
	unsigned long long limit;   /* bytes the sink may receive (0: no cap) */
	unsigned long long written; /* bytes it has received */
	bool capped;		    /* output past the limit was dropped */
};

/*
 * Create the pipes; *dev_out / *dev_in are the ends for the device. Output
 * goes to `sink`; input comes from stdin only if `interactive`.
 */
int console__open(struct console *c, int sink, bool interactive, int *dev_out, int *dev_in,
		  char *err, size_t n);
/*
 * Relay guest output to the sink; past c->limit bytes the rest is read and
 * dropped (a guest must not fill the host's disk through COM1), said once on
 * the sink and in the log. Returns false at EOF.
 */
bool console__from_guest(struct console *c);
/* Relay stdin to the guest. Returns true if the user asked to quit (Ctrl-A x). */
bool console__from_user(struct console *c);
void console__close(struct console *c);

#endif
