/* SPDX-License-Identifier: MIT */
/*
 * Broker -> device process: the one fixed-size message a device process
 * reads at start (on DEV_FD_CONTROL), and its fd table. Like vm_plan, it
 * comes from the broker; the device still checks every field.
 */
#ifndef CELLVM_DEVPLAN_H
#define CELLVM_DEVPLAN_H

#include <stdint.h>

#define DEV_PLAN_MAGIC	 0x63766470u /* "cvdp" */
#define DEV_PLAN_VERSION 1

enum {
	DEV_FD_CONTROL = 3,   /* SEQPACKET to the broker: this plan in, nothing out */
	DEV_FD_CHAN = 4,      /* ring memfd, or the SEQPACKET socket (transport socket) */
	DEV_FD_BELL_DEV = 5,  /* pipe read end: the vcpu-worker rings us (ring transport) */
	DEV_FD_BELL_VCPU = 6, /* pipe write end: we ring the vcpu-worker (ring transport) */
	DEV_FD_RAM = 7,	      /* guest RAM memfd: only devices that DMA */
	DEV_FD_EXTRA = 8,     /* irqfds, then kick ioeventfds, then backend fds */
};

#define DEV_PLAN_CFG	      256
#define DEV_PLAN_MAX_BACKENDS 4 /* backend fds (image + backing files, TAP, ...) */

struct dev_plan {
	uint32_t magic;
	uint32_t version;
	uint32_t transport; /* enum vm_dev_transport: ring or socket */
	uint32_t index;	    /* device number in the VM, for logs */
	uint64_t ram_size;  /* 0: no guest RAM */
	uint32_t nirqfd;
	uint32_t nkickfd;
	uint32_t nbackend;
	uint32_t seccomp_log; /* 1: report blocked syscalls by name, then die */
	uint32_t spin_max_us; /* ring: adaptive spin bound (0: never spin) */
	uint32_t pad;
	uint8_t cfg[DEV_PLAN_CFG]; /* device-specific settings */
};

/* A device's settings blob must fit dev_plan.cfg: each <type>_cfg.h says so. */
#define DEV_PLAN_CFG_FITS(type)                                                                    \
	_Static_assert(sizeof(type) <= DEV_PLAN_CFG, #type " must fit dev_plan.cfg")

#endif
