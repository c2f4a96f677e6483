/* SPDX-License-Identifier: MIT */
/* Wiring the plan's devices onto the I/O bus (in-process, ring or socket). */
#ifndef CELLVM_DEVICES_H
#define CELLVM_DEVICES_H

#include "kvm.h"
#include "vmplan.h"

int devices__init(struct vm *vm, const struct vm_plan *plan, char *err, size_t n);
/* An fd the main loop polls for device-side work (-1: none), its timeout. */
int devices__poll_fd(void);
int devices__poll_timeout(void);
void devices__poll_ready(void);

#endif
