/* SPDX-License-Identifier: MIT */
/* Starting a child with an exact fd table and an empty environment. */
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

/*
 * fork + exec `exe_fd` with fds[i].fd at fds[i].target and nothing else open,
 * an empty environment. Returns the pid and a pidfd in *pidfd, or -1 with
 * the reason in err.
 */
pid_t spawn__child(int exe_fd, const char *name, char *const argv[], const struct spawn_fd *fds,
		   unsigned nfds, int *pidfd, char *err, size_t n);

#endif
