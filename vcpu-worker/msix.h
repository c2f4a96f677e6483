/* SPDX-License-Identifier: MIT */
/*
 * MSI-X tables the vcpu-worker emulates for device processes. Each vector is
 * an irqfd the device writes; the guest's table entry decides where it goes.
 * Unmasked vectors of an enabled function are routed (KVM_SET_GSI_ROUTING)
 * and their irqfd assigned; masking deassigns it, so interrupts raised
 * meanwhile stay counted in the eventfd and are delivered on unmask.
 */
#ifndef CELLVM_MSIX_H
#define CELLVM_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"
#include "vmplan.h"

#define MSIX_MAX_VECTORS VM_DEV_MAX_EVENTFDS /* one irqfd each */

struct msix_vec {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int fd;	      /* irqfd from the device, or -1 */
	unsigned gsi; /* GSI reserved for this vector */
	bool assigned;
};

struct msix {
	struct vm *vm;
	unsigned nvec;
	bool enabled, masked; /* MSI-X capability: enable, function mask */
	struct msix_vec vec[MSIX_MAX_VECTORS];
};

int msix__init(struct msix *m, struct vm *vm, unsigned nvec, const int32_t *fds);
/* Table (16 bytes per vector) and PBA accesses, offsets relative to each. */
uint64_t msix__table_read(struct msix *m, uint64_t off, unsigned size);
void msix__table_write(struct msix *m, uint64_t off, unsigned size, uint64_t val);
/* The Message Control word of the capability changed. */
void msix__control(struct msix *m, bool enable, bool mask);

#endif
