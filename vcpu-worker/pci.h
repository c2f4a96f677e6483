/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge (bus 0, configuration mechanism #1 at 0xcf8/0xcfc).
 * The vcpu-worker owns every function's configuration space, BAR placement
 * and MSI-X table; everything else in a BAR is forwarded to the device
 * process, except queue notifications, which KVM signals to the device
 * directly through ioeventfds.
 */
#ifndef CELLVM_PCI_H
#define CELLVM_PCI_H

#include <stddef.h>

#include "kvm.h"
#include "vmplan.h"

struct remote;

int pci__init(struct vm *vm);
/* Add plan device `index` (d->pci.present) forwarding to `r`. */
int pci__add_virtio(struct vm *vm, const struct vm_dev *d, struct remote *r, unsigned index,
		    char *err, size_t n);

/* Add a bochs-display function: video memory at BAR0, DISPI registers at BAR2. */
int pci__add_vga(struct vm *vm, const struct vm_dev *d, struct remote *r, unsigned index, char *err,
		 size_t n);

#endif
