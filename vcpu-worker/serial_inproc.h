/* SPDX-License-Identifier: MIT */
/* The 16550 COM1 handled inside the vcpu-worker (transport "inproc"). */
#ifndef CELLVM_SERIAL_INPROC_H
#define CELLVM_SERIAL_INPROC_H

#include <stdbool.h>

#include "kvm.h"

int serial_inproc__init(struct vm *vm, int out_fd, int in_fd);
/* in_fd is readable: move what fits into the receive FIFO. */
void serial_inproc__input(void);
int serial_inproc__in_fd(void);
/* Input pending but the receive FIFO is full. */
bool serial_inproc__blocked(void);

#endif
