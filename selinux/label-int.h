/* SPDX-License-Identifier: MIT */
/* Shared between label.c and image.c only. */
#ifndef CELLVM_SELINUX_LABEL_INT_H
#define CELLVM_SELINUX_LABEL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "label.h"

/* err is optional: format into it when non-NULL. */
void label__errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Type names are [a-z0-9_]{1,64}: nothing a context could be smuggled through. */
bool label__type_ok(const char *type);
/* The broker's sensitivity ("s0"): the level of shared objects. */
const char *label__sens(void);
/* Whether a VM of this broker holds the pair, or a running process carries it. */
bool label__pair_busy(unsigned int c1, unsigned int c2);
/* image.c: restore every image vl still holds. */
void label__images_release(struct vm_label *vl);
/* image.c: bound on waiting for an image's flock (default 10 s; tests). */
void label__set_lock_wait_ms(unsigned int ms);

#endif
