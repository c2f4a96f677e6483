/* SPDX-License-Identifier: MIT */
/* VM-level KVM set-up done by the vcpu-worker (the VM's creating process). */
#ifndef CELLVM_KVM_H
#define CELLVM_KVM_H

#include <stdint.h>

#include "gmem.h"

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	unsigned ncpus;
	struct gmem ram;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
};

/* Create the VM, its memory slots, the irqchip and then the PIT. */
int kvm__create_vm(struct vm *vm, int kvm_fd, int ram_fd, uint64_t ram_size, unsigned ncpus,
		   char *err, size_t errlen);
/* Map host memory at gpa as memory slot `slot` (size 0 removes the slot). */
int kvm__set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host);
/* Raise (level 1) or lower a legacy interrupt line. */
int kvm__irq_line(struct vm *vm, unsigned gsi, int level);
/* Register an eventfd that injects GSI `gsi` when written. */
int kvm__irqfd(struct vm *vm, int fd, unsigned gsi);
/* Register an ioeventfd on a PIO (pio=1) or MMIO address. */
int kvm__ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned len, int pio);
int kvm__ioeventfd_del(struct vm *vm, int fd, uint64_t addr, unsigned len, int pio);

#endif
