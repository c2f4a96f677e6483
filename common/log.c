/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *role = "cellvm";
static int level = 1;

void log__set_role(const char *r)
{
	role = r;
}

const char *log__role(void)
{
	return role;
}

void log__set_level(int l)
{
	level = l;
}

int log__level(void)
{
	return level;
}

/* One write(2) per line so lines from several processes do not interleave. */
__attribute__((format(printf, 2, 0))) static void emit(const char *tag, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s: %s", role, tag);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t r = write(STDERR_FILENO, buf, len);
	(void)r;
}

void log__err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("error: ", fmt, ap);
	va_end(ap);
}

void log__info(const char *fmt, ...)
{
	if (level < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void log__debug(const char *fmt, ...)
{
	if (level < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("debug: ", fmt, ap);
	va_end(ap);
}

void log__die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("error: ", fmt, ap);
	va_end(ap);
	exit(status);
}
