/* SPDX-License-Identifier: MIT */
/* Backing chain bookkeeping for the broker: no loops, bounded depth. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "qcow2.h"

void qcow2__chain_init(struct qcow2_chain *c)
{
	memset(c, 0, sizeof(*c));
}

int qcow2__chain_add(struct qcow2_chain *c, int fd, char *err, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, n, "qcow2: fstat: %s", strerror(e));
		return -e;
	}
	for (int i = 0; i < c->depth; i++) {
		if (c->link[i].dev == st.st_dev && c->link[i].ino == st.st_ino) {
			snprintf(err, n, "qcow2: backing chain loop (link %d is link %d again)",
				 c->depth, i);
			return -ELOOP;
		}
	}
	if (c->depth >= QCOW2_CHAIN_MAX) {
		snprintf(err, n, "qcow2: backing chain deeper than %d images", QCOW2_CHAIN_MAX);
		return -EMLINK;
	}
	c->link[c->depth].dev = st.st_dev;
	c->link[c->depth].ino = st.st_ino;
	c->depth++;
	return 0;
}
