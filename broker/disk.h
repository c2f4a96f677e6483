/* SPDX-License-Identifier: MIT */
/* Disks: the broker opens each image (and its backing chain) for cellvm-blk. */
#ifndef CELLVM_DISK_H
#define CELLVM_DISK_H

#include "devices.h"
#include "options.h"
#include "selinux/label.h"

/* Fill a virtio-blk device description for one --disk (d zeroed; its PCI slot comes later). */
int disk__prepare(const struct disk_opt *o, struct devproc *d, struct vm_label *vl);

#endif
