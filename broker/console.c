/* SPDX-License-Identifier: MIT */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"

#define CTRL_A 0x01

static struct termios saved;

int console__open(struct console *c, int sink, bool interactive, int *dev_out, int *dev_in,
		  char *err, size_t n)
{
	int out[2], in[2];
	memset(c, 0, sizeof(*c));
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, n, "console pipes: %s", strerror(errno));
		return -1;
	}
	/* The device must never block the broker, nor the broker the device. */
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL,
	      O_NONBLOCK); /* a stalled relay drops output, never blocks the UART */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	c->guest_out = out[0];
	c->guest_in = in[1];
	c->sink = sink;
	*dev_out = out[1];
	*dev_in = in[0];
	c->stdin_open = interactive;
	if (interactive && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		t.c_oflag |= OPOST; /* keep \n -> \r\n for the host's own messages */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
			c->raw = true;
	}
	return 0;
}

bool console__from_guest(struct console *c)
{
	char buf[4096];
	ssize_t r = read(c->guest_out, buf, sizeof(buf));
	if (r == 0)
		return false;
	if (r < 0)
		return errno == EAGAIN || errno == EINTR;
	if (c->limit) {
		static const char note[] = "\n[cellvm: serial log limit reached, output dropped]\n";
		if (c->capped)
			return true;
		if ((unsigned long long)r > c->limit - c->written) {
			/* The first byte past the limit: write up to it, say so once. */
			r = (ssize_t)(c->limit - c->written);
			c->written = c->limit;
			c->capped = true;
			if ((r > 0 && write(c->sink, buf, (size_t)r) < 0) ||
			    write(c->sink, note, sizeof(note) - 1) < 0)
				return true;
			log__err("serial log reached its limit of %llu bytes: guest output is "
				 "dropped from now on (--serial-limit)",
				 c->limit);
			return true;
		}
		c->written += (unsigned long long)r;
	}
	for (ssize_t off = 0; off < r;) {
		ssize_t w = write(c->sink, buf + off, (size_t)(r - off));
		if (w <= 0)
			break; /* sink gone: drop guest output, keep the VM running */
		off += w;
	}
	return true;
}

bool console__from_user(struct console *c)
{
	unsigned char buf[256], out[256];
	ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			c->stdin_open = false;
		return false;
	}
	size_t n = 0;
	for (ssize_t i = 0; i < r; i++) {
		if (c->raw && c->escape) {
			c->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X')
				return true;
			if (buf[i] != CTRL_A)
				continue;
		} else if (c->raw && buf[i] == CTRL_A) {
			c->escape = true;
			continue;
		}
		out[n++] = buf[i];
	}
	/* A guest that does not read its UART loses input, as on real hardware. */
	if (n) {
		ssize_t w = write(c->guest_in, out, n);
		(void)w;
	}
	return false;
}

void console__close(struct console *c)
{
	if (c->guest_in >= 0)
		close(c->guest_in), c->guest_in = -1;
	if (c->guest_out >= 0)
		close(c->guest_out), c->guest_out = -1;
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	c->raw = false;
}
