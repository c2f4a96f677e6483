/* SPDX-License-Identifier: MIT */
/* The vcpu-worker's side of the control socket to the broker. */
#ifndef CELLVM_CONTROL_H
#define CELLVM_CONTROL_H

#include <stdint.h>

#include "vmplan.h"

/*
 * Send one event (thread-safe: one SEQPACKET datagram each); 0 or -1.
 * Before an exit or crash event, control__before_stop (if set) runs first.
 */
int control__event(enum vm_event_type type, unsigned cpu, uint64_t value, const char *text);
/* main.c sets it to remote__flush_all: the guest's last posted writes
 * (its console's final line) are handled before the broker hears it stopped. */
extern void (*control__before_stop)(void);
/* eventfd the main thread polls; written as each vCPU thread ends. */
extern int control__done_efd;
/* Called by each vCPU thread as it leaves its loop. */
void control__vcpu_done(void);

#endif
