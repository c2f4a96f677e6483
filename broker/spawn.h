/* SPDX-License-Identifier: MIT */
/* Finding the helper binaries; children are started by seccomp/jail.c. */
#ifndef CELLVM_SPAWN_H
#define CELLVM_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_fd {
	int fd;		 /* in the broker */
	int target;	 /* in the child */
	const char *why; /* what the child needs it for (logged at debug level) */
};

/* Find a helper binary (next to this executable, then CV_LIBEXECDIR): O_PATH fd or -1. */
int spawn__find_helper(const char *name, char *path_out, size_t n);

#endif
