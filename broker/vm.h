/* SPDX-License-Identifier: MIT */
#ifndef CELLVM_VM_H
#define CELLVM_VM_H

#include "options.h"

/* Exit statuses of `cellvm run` besides the guest's own. */
#define CV_EXIT_ERROR 125
#define CV_EXIT_CRASH 126

/* Run one VM to its end; returns the process exit status. */
int vm__run(const struct run_opts *o);

#endif
