/* SPDX-License-Identifier: MIT */
/* COM1 output and a small printf. */
#include "rt.h"

#define COM1 0x3f8

static rt_lock_t print_lock;

/*
 * The transmitter is not polled: both VMMs accept every THR write, and each
 * port access is a VM exit (~20 us from CPL3 on this host).
 */
void rt_putc(char c)
{
	outb(COM1, (uint8_t)c);
}

void rt_puts(const char *s)
{
	while (*s)
		rt_putc(*s++);
}

struct out {
	char *buf;
	size_t len, pos;
};

static void out_c(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_num(struct out *o, uint64_t v, unsigned int base, int neg, int upper, int width,
		    int zero, int left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + neg;
	if (neg && zero)
		out_c(o, '-');
	if (!left)
		for (; width > len; width--)
			out_c(o, zero ? '0' : ' ');
	if (neg && !zero)
		out_c(o, '-');
	while (n)
		out_c(o, tmp[--n]);
	if (left)
		for (; width > len; width--)
			out_c(o, ' ');
}

int rt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = {buf, len, 0};

	for (; *fmt; fmt++) {
		int width = 0, zero = 0, left = 0, lng = 0;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		if (left)
			zero = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? -(uint64_t)s : (uint64_t)s;
			out_num(&o, u, 10, s < 0, 0, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			out_num(&o, u, *fmt == 'u' ? 10 : 16, 0, *fmt == 'X', width, zero, left);
			break;
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (uint64_t)va_arg(ap, void *), 16, 0, 0, width, zero, left);
			break;
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n;

			if (!str)
				str = "(null)";
			n = (int)strlen(str);
			if (!left)
				for (; width > n; width--)
					out_c(&o, ' ');
			while (*str)
				out_c(&o, *str++);
			if (left)
				for (; width > n; width--)
					out_c(&o, ' ');
			break;
		}
		case '%':
			out_c(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			out_c(&o, '%');
			out_c(&o, *fmt);
		}
	}
	if (o.len)
		o.buf[o.pos < o.len ? o.pos : o.len - 1] = 0;
	return (int)o.pos;
}

int rt_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

int rt_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_lock(&print_lock);
	rt_puts(buf);
	rt_unlock(&print_lock);
	return n;
}
