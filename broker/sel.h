/* SPDX-License-Identifier: MIT */
/*
 * The broker's use of selinux/label.h for one VM: the exec context of each
 * child, labels of the memfds it creates, and the images it opens.
 */
#ifndef CELLVM_BROKER_SEL_H
#define CELLVM_BROKER_SEL_H

#include <stdbool.h>
#include <stddef.h>

#include "selinux/label.h"

/*
 * The exec context for a child of profile `type` ("vcpu", "blk", ...): *con
 * is buf, or NULL when labelling is off. -1 (said why) when labelling is on
 * and no context can be built: the child must not start unlabelled.
 */
int sel__exec_con(const struct vm_label *vl, const char *type, char *buf, size_t n,
		  const char **con);
/* jail_spec.setexec: set the next exec's context (libselinux, mockable). */
int sel__setexec(const char *con);
/* Label a memfd: "ram" -> cellvm_ram_t, "serial" ring -> cellvm_serial_ring_t. */
int sel__memfd(const struct vm_label *vl, int fd, const char *what, bool ring);

#endif
