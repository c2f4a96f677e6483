/* SPDX-License-Identifier: MIT */
#include "devices.h"

#include <stdio.h>

#include "device-procs/serial/uart.h"
#include "serial_inproc.h"

int devices__init(struct vm *vm, const struct vm_plan *plan, char *err, size_t n)
{
	if (plan->fd_serial_out >= 0 || plan->fd_serial_in >= 0) {
		if (serial_inproc__init(vm, plan->fd_serial_out, plan->fd_serial_in) < 0) {
			snprintf(err, n, "serial: cannot register COM1");
			return -1;
		}
	}
	return 0;
}

int devices__poll_fd(void)
{
	return serial_inproc__in_fd();
}

int devices__poll_timeout(void)
{
	/* Input is pending but the guest has not drained the FIFO yet. */
	return serial_inproc__blocked() ? 20 : -1;
}

void devices__poll_ready(void)
{
	serial_inproc__input();
}
