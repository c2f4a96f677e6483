/* SPDX-License-Identifier: MIT */
/* Internal to ipc/: the shared layout and helpers shared by chan.c and bell.c. */
#ifndef CELLVM_IPC_CHAN_INT_H
#define CELLVM_IPC_CHAN_INT_H

#include <stdint.h>

#include "ipc/chan.h"

#define IPC_LINE 64

/* Offset 0: written once by ipc_chan__create(), snapshotted by attach. */
struct ipc_shm_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t slots;
	uint32_t msg_size;
	uint8_t pad[IPC_LINE - 16];
};

/*
 * Control block of one ring: the producer's line (head) and the consumer's
 * line (tail and its "I am about to sleep" flag) never share a cache line.
 * Indices run freely modulo 2^32; slot = index & (slots - 1).
 */
struct ipc_ring_ctl {
	uint32_t head;
	uint32_t nospin; /* request ring: the vcpu side's advice "do not spin for my next request"
			    (spin.h) */
	uint8_t pad0[IPC_LINE - 8];
	uint32_t tail;
	uint32_t sleeping;
	uint8_t pad1[IPC_LINE - 8];
};
_Static_assert(sizeof(struct ipc_ring_ctl) == 2 * IPC_LINE, "ring control is two lines");

/*
 * A register value the device publishes so that the vcpu-worker can answer
 * a read without a round trip (ipc_chan__shadow_publish/_read). Written by
 * the device only, under a sequence lock: seq is odd while it writes.
 */
struct ipc_shadow {
	uint32_t seq;
	uint32_t region;
	uint32_t off;
	uint32_t size; /* 0: slot unused */
	uint32_t inval;
	uint32_t pad;
	uint64_t value;
};
_Static_assert(sizeof(struct ipc_shadow) == 32, "shadow slot is 32 bytes");

#define IPC_OFF_REQ_CTL 64u
#define IPC_OFF_REP_CTL (IPC_OFF_REQ_CTL + 128u)
#define IPC_OFF_SHADOW	384u
#define IPC_OFF_RINGS	512u
_Static_assert(IPC_OFF_SHADOW + IPC_MAX_SHADOWS * sizeof(struct ipc_shadow) <= IPC_OFF_RINGS,
	       "shadow slots fit before the rings");

/* Bytes of the memfd for `slots` slots per ring (page-rounded). */
size_t ipc_chan__layout_size(uint32_t slots);

/* Mark broken (first reason wins) and return the channel's error. */
int ipc_chan__fail(struct ipc_chan *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True if the inbound ring's head differs from our tail (data or garbage). */
bool ipc_chan__in_ready(const struct ipc_chan *c);

uint64_t ipc__now_ns(void);
void ipc__cpu_relax(void);

#endif
