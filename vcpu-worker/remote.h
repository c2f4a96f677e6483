/* SPDX-License-Identifier: MIT */
/* Device endpoints in other processes: exits forwarded over a ring or socket. */
#ifndef CELLVM_REMOTE_H
#define CELLVM_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm.h"
#include "vmplan.h"

struct remote;

/* Wait until every ring device has handled the writes posted to it. */
void remote__flush_all(void);
/* Attach the channel of plan device `index` (no regions claimed). */
struct remote *remote__open(const struct vm_dev *d, unsigned index, char *err, size_t n);
/* One access to region `region` of the device. 0, or >0 to stop the vCPU. */
int remote__access(struct remote *r, bool pio, unsigned region, uint64_t off, unsigned size,
		   bool write, uint64_t *val);
/* Claim the plan's PIO/MMIO regions (not PCI BARs) on the I/O bus for r. */
int remote__claim(struct remote *r, const struct vm_dev *d, char *err, size_t n);
/* Open and claim the plan's regions on the I/O bus; register legacy irqfds. */
int remote__attach(struct vm *vm, const struct vm_dev *d, unsigned index, char *err, size_t n);

#endif
