/* SPDX-License-Identifier: MIT */
/*
 * The contract between a device process's main loop (device-procs/devmain.c)
 * and one device model: an ops table, as in kvmtool.
 *
 * A device owns up to DEV_MAX_REGIONS guest-visible regions (PIO ranges,
 * MMIO ranges or PCI BARs), numbered as in the VM plan. Accesses the guest
 * makes to them reach the device as ring messages, already validated by the
 * ring reader: `region` < nregions, `off` + `size` inside the region, `size`
 * in {1, 2, 4, 8}. Virtqueue notifications arrive as ioeventfd events and
 * interrupts leave through irqfds, never through the vcpu-worker.
 */
#ifndef CELLVM_DEVICE_H
#define CELLVM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

#define DEV_MAX_REGIONS 8
#define DEV_MAX_EVENTFDS 32

struct dev_env {
	struct gmem ram;	    /* guest RAM, only for devices that DMA (else host == NULL) */
	int irqfd[DEV_MAX_EVENTFDS];	 /* interrupt lines / MSI-X vectors; -1 if absent */
	unsigned nirqfd;
	int kickfd[DEV_MAX_EVENTFDS];	 /* ioeventfds, e.g. one per virtqueue; -1 if absent */
	unsigned nkickfd;
	int backend_fd[4];	   /* image, TAP, listening socket, ... ; -1 if absent */
	unsigned nbackend;
};

struct dev_ops {
	const char *name;
	/* Called once after confinement is in place. Returns 0 or -errno. */
	int (*init)(void *dev, struct dev_env *env);
	uint64_t (*read)(void *dev, unsigned region, uint64_t off, unsigned size);
	void (*write)(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val);
	/* kickfd[i] became readable (already drained by the main loop). */
	void (*kick)(void *dev, unsigned i);
	/* backend_fd[i] is readable (sockets, TAP); may be NULL. */
	void (*backend_ready)(void *dev, unsigned i);
};

/* Raise interrupt line/vector i (writes irqfd[i]). */
void dev__irq(struct dev_env *env, unsigned i);

#endif
