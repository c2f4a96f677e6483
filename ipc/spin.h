/* SPDX-License-Identifier: MIT */
/*
 * Which waiting policy pays on this host, measured (vcpu side of a channel).
 *
 * Spinning for the peer is 50x cheaper than a sleep and a wake-up when both
 * sides have a CPU of their own, and ruinous when they do not: on an
 * overcommitted host, or a host that is itself a VM whose vCPUs are time-
 * sliced (the KVM box measured 2.6 ms per round trip with both sides spinning
 * against 0.27 ms with neither). So each channel tries the four "arms" (bit 0:
 * the vCPU spins for its reply; bit 1: the device spins for the next request)
 * and keeps the one with the lowest round-trip time, re-checking the others
 * now and then. Pure logic: the caller measures and applies.
 */
#ifndef CELLVM_IPC_SPIN_H
#define CELLVM_IPC_SPIN_H

#include <stdint.h>

#define IPC_SPIN_ARMS	4
#define IPC_SPIN_VCPU	0x1  /* the vcpu side spins for its reply */
#define IPC_SPIN_DEV	0x2  /* the device spins for the next request */
#define IPC_SPIN_WARM	8    /* samples of each arm before choosing */
#define IPC_SPIN_PERIOD 4096 /* calls between two looks at the other arms */
#define IPC_SPIN_BURST	6    /* calls per arm in a look (the first two not counted) */

struct ipc_spin {
	uint64_t ewma_ns[IPC_SPIN_ARMS];
	uint32_t samples[IPC_SPIN_ARMS];
	uint32_t calls;
	uint8_t best, arm, run; /* run: calls in a row on `arm` */
};

void ipc_spin__init(struct ipc_spin *s);
/* The arm to use for the next call. */
unsigned ipc_spin__next(struct ipc_spin *s);
/* That call took ns (send to validated reply). */
void ipc_spin__record(struct ipc_spin *s, uint64_t ns);

#endif
