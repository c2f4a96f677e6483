/* SPDX-License-Identifier: MIT */
/*
 * The vcpu-worker's view of the guest's PIO and MMIO address spaces: a table
 * of ranges, each owned by one device endpoint (in-process model, ring or
 * socket to a device process). A vCPU exit is dispatched here by vcpu.c.
 */
#ifndef CELLVM_IOBUS_H
#define CELLVM_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

enum iobus_space { IOBUS_PIO = 1, IOBUS_MMIO = 2 };

struct iodev_ops {
	/* region: index of the range within its device; off: offset in it. */
	int (*read)(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val);
};

int iobus__register(enum iobus_space space, uint64_t base, uint64_t len,
		    const struct iodev_ops *ops, void *priv, unsigned region, const char *name);
/*
 * Dispatch one access of `size` (1, 2, 4 or 8) bytes. Unclaimed reads return
 * all ones and unclaimed writes are dropped (as on real hardware); returns
 * the handler's result, 0 if unclaimed.
 */
int iobus__access(enum iobus_space space, uint64_t addr, unsigned size, bool write, uint64_t *val);

#endif
