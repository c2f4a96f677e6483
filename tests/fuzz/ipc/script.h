/* SPDX-License-Identifier: MIT */
/*
 * Shared by the two ipc fuzz targets: the fuzz input is a script played by a
 * hostile peer against one real channel end.
 *
 *   byte 0      slots = 2 << (b & 3); bit 2: apply the first write before attach
 *   byte 1, 2   target-specific configuration
 *   then ops:   0x00 step the reader once          0x01 off16 len8 bytes: write
 *               0x02 target-specific step          0x03 arm/disarm the doorbell
 *               (op byte taken modulo 4)
 * Writes land at `off` modulo the mapping size, clamped to its end: the
 * hostile peer can write anything anywhere in the shared memory.
 */
#ifndef CELLVM_FUZZ_IPC_SCRIPT_H
#define CELLVM_FUZZ_IPC_SCRIPT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/chan-int.h"

struct script {
	const uint8_t *p;
	size_t n;
};

static inline int script_byte(struct script *s)
{
	if (!s->n)
		return -1;
	s->n--;
	return *s->p++;
}

/* Apply one "write" op to the raw mapping; false if the input ran out. */
static inline int script_write(struct script *s, uint8_t *raw, size_t len)
{
	if (s->n < 3)
		return 0;
	size_t off = ((size_t)s->p[0] | (size_t)s->p[1] << 8) % len;
	size_t n = s->p[2];
	s->p += 3;
	s->n -= 3;
	if (n > s->n)
		n = s->n;
	if (n > len - off)
		n = len - off;
	memcpy(raw + off, s->p, n);
	s->p += n;
	s->n -= n;
	return 1;
}

/* Doorbells are created once and reused (drained each run). */
static inline void script_bells(int *to_dev, int *to_vcpu)
{
	static int a = -1, b = -1;
	if (a < 0) {
		a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (a < 0 || b < 0)
			abort();
	}
	uint64_t v;
	ssize_t r = read(a, &v, 8);
	r = read(b, &v, 8);
	(void)r;
	*to_dev = a;
	*to_vcpu = b;
}

#define FUZZ_CHECK(x)                                                                              \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#endif
