/* SPDX-License-Identifier: MIT */
/*
 * The test device: a 4 KiB MMIO register block at CV_MMIO_TESTDEV used by the
 * IPC benchmark and the confinement tests. The same model runs inside the
 * vcpu-worker (baseline) or in its own process behind a ring or a socket.
 *
 *   0x00 ID      (ro) 0x63766474 "cvdt"
 *   0x08 COUNT   (ro) number of accesses served so far
 *   0x10 SCRATCH (rw) 64-bit scratch register
 */
#ifndef CELLVM_TESTDEV_H
#define CELLVM_TESTDEV_H

#include <stdint.h>

#define TESTDEV_ID	    0x63766474u
#define TESTDEV_REG_ID	    0x00
#define TESTDEV_REG_COUNT   0x08
#define TESTDEV_REG_SCRATCH 0x10
/* Process variant only: a write here makes the device attempt a forbidden
 * action (value = enum testdev_misbehave), to test confinement end to end. */
#define TESTDEV_REG_MISBEHAVE 0x100

enum testdev_misbehave {
	TESTDEV_OPENAT = 1,
	TESTDEV_SOCKET = 2,
	TESTDEV_EXECVE = 3,
	TESTDEV_PTRACE = 4,
	TESTDEV_KILL = 5,
	TESTDEV_IOCTL = 6,
};

struct testdev {
	uint64_t count;
	uint64_t scratch;
};

uint64_t testdev__read(struct testdev *t, uint64_t off, unsigned size);
void testdev__write(struct testdev *t, uint64_t off, unsigned size, uint64_t val);

#endif
