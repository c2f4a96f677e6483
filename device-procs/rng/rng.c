/* SPDX-License-Identifier: MIT */
/*
 * cellvm-rng: virtio-rng (virtio 1.2 section 5.4), the smallest virtio
 * device process. One queue (requestq): the driver offers device-writable
 * buffers, the device fills them from getrandom(2) and returns them. No
 * device configuration, no feature bits, no backend fd. Region 0 is BAR0,
 * kickfd[0] the queue's ioeventfd, irqfd[v] MSI-X vector v.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "device-procs/virtio/virtio_pci.h"
#include "log.h"

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_REQ    (64 * 1024) /* bytes filled per request, at most */

struct rng_dev {
	struct virtio_pci vp;
	struct virtq_req req; /* the chain being filled */
};
VIRTIO_PCI_DEV_STATE(struct rng_dev, vp);

/* Fill the chain's writable buffers (a readable part is ignored). */
static void rng_handle(void *priv, unsigned q, const struct virtq_req *r)
{
	struct rng_dev *d = priv;
	uint32_t written = 0;
	for (unsigned i = r->nread; i < r->nread + r->nwrite && written < RNG_MAX_REQ; i++) {
		uint8_t *p = r->iov[i].iov_base;
		size_t left = r->iov[i].iov_len;
		if (left > RNG_MAX_REQ - written)
			left = RNG_MAX_REQ - written;
		while (left) {
			ssize_t n = getrandom(p, left, 0);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				log__err("rng: getrandom: %s",
					 n < 0 ? strerror(errno) : "no bytes");
				goto done;
			}
			p += n;
			left -= (size_t)n;
			written += (uint32_t)n;
		}
	}
done:
	virtio_pci__complete(&d->vp, q, r->head, written);
}

static void rng_kick(void *priv, unsigned q)
{
	struct rng_dev *d = priv;
	virtio_pci__drain(&d->vp, q, &d->req, rng_handle);
}

static const struct virtio_dev_ops rng_virtio_ops = {
    .device_id = VIRTIO_ID_RNG,
    .cfg_size = 0,
    .kick = rng_kick,
};

static void *rng_create(struct dev_env *env, char *err, size_t n)
{
	if (env->nkickfd != 1 || env->nirqfd != 2 || env->nbackend != 0) {
		snprintf(err, n,
			 "rng: needs 1 kick, 2 interrupt and no backend fds (got %u, %u, %u)",
			 env->nkickfd, env->nirqfd, env->nbackend);
		return NULL;
	}
	struct rng_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, n, "rng: out of memory");
		return NULL;
	}
	virtio_pci__init(&d->vp, &rng_virtio_ops, d, 0, 1, RNG_QUEUE_SIZE);
	return d;
}

static int rng_init(void *dev, struct dev_env *env)
{
	struct rng_dev *d = dev;
	if (!env->ram.host)
		return -EINVAL;
	virtio_pci__attach(&d->vp, env);
	return 0;
}

static const struct dev_ops rng_dev_ops = {
    .name = "virtio-rng",
    .init = rng_init,
    VIRTIO_PCI_DEV_OPS,
};

const struct dev_desc dev__desc = {
    .type = "rng",
    .ops = &rng_dev_ops,
    .limits = {.nregions = 1, .pio_mask = 0, .size = {VIRTIO_PCI_BAR0_SIZE}},
    .create = rng_create,
};
