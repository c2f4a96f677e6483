/* SPDX-License-Identifier: MIT */
/*
 * cellvm-blk: one virtio-blk disk in its own process. Backend fds (opened by
 * the broker): the image, then its read-only backing chain. Region 0 is
 * BAR0; kickfd[q] is queue q's ioeventfd; irqfd[v] is MSI-X vector v.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "blk_cfg.h"
#include "device-procs/virtio/virtio_pci.h"
#include "raw.h"
#include "device-procs/qcow2/qcow2.h"

static struct blk_backend chain[BLK_MAX_CHAIN];

/* Open the chain from its base up; each layer reads through the one below. */
static int open_chain(const struct dev_env *env, const struct blk_cfg *c, struct blk_backend **top,
		      char *err, size_t n)
{
	struct blk_backend *below = NULL;
	if (c->nchain < 1 || c->nchain > BLK_MAX_CHAIN || c->nchain > env->nbackend) {
		snprintf(err, n, "disk: bad backend chain (%u fds)", c->nchain);
		return -EINVAL;
	}
	for (int i = c->nchain - 1; i >= 0; i--) {
		bool ro = c->readonly || i > 0; /* backing files are never written */
		int fd = env->backend_fd[i];
		if (c->format[i] == BLK_FMT_RAW) {
			int r = raw__open(&chain[i], fd, ro);
			if (r < 0) {
				snprintf(err, n, "disk: raw image: %s", strerror(-r));
				return r;
			}
			below = &chain[i];
			continue;
		}
		if (c->format[i] == BLK_FMT_QCOW2) {
			struct blk_backend *b = NULL;
			char why[160];
			int r = qcow2__open(fd, ro, below, &b, why, sizeof(why));
			if (r < 0) {
				snprintf(err, n, "disk: qcow2 image: %s", why);
				return r;
			}
			below = b;
			continue;
		}
		snprintf(err, n, "disk: unsupported image format %u", c->format[i]);
		return -EINVAL;
	}
	*top = below;
	return 0;
}

static void *blk_create(struct dev_env *env, char *err, size_t n)
{
	struct blk_cfg c;
	memcpy(&c, env->cfg, sizeof(c));
	struct blk_backend *top;
	if (open_chain(env, &c, &top, err, n) < 0)
		return NULL;
	struct blk_params p = {
	    .nqueues = c.nqueues ? c.nqueues : 1,
	    .queue_size = c.queue_size,
	    .nthreads = BLK_THREADS,
	};
	memcpy(p.serial, c.serial, sizeof(p.serial));
	if (env->nkickfd != p.nqueues || env->nirqfd != p.nqueues + 1) {
		snprintf(err, n, "disk: %u queues need %u kick and %u interrupt fds", p.nqueues,
			 p.nqueues, p.nqueues + 1);
		return NULL;
	}
	struct blk_dev *d = blk__new(top, &p);
	if (!d)
		snprintf(err, n, "disk: cannot create the virtio-blk device");
	return d;
}

const struct dev_desc dev__desc = {
    .type = "blk",
    .ops = &blk_dev_ops,
    .limits = {.nregions = 1, .pio_mask = 0, .size = {VIRTIO_PCI_BAR0_SIZE}},
    .create = blk_create,
};
