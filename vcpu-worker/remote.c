/* SPDX-License-Identifier: MIT */
/*
 * Forwarding a vCPU exit to a device process: one request/reply per access
 * over the device's channel. Writes to a region the plan marks posted do not
 * wait for their reply, and a read of a register the device shadows (see
 * ipc_chan__shadow_read) needs no round trip: a serial console costs the
 * guest its exits only. Replies are validated by the ipc layer (the device
 * may be compromised); a device that fails, lies or dies ends the VM (the
 * broker's policy), it never crashes the vcpu-worker.
 */
#include "remote.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "iobus.h"
#include "ipc/chan.h"
#include "ipc/sock.h"
#include "log.h"
#include "record.h"

struct remote {
	unsigned index;
	uint32_t transport;
	uint32_t pio_mask;
	uint32_t posted_mask; /* bit i: writes to region i are posted */
	pthread_mutex_t lock; /* one request in flight per channel (SPSC ring) */
	struct ipc_chan chan;
	struct ipc_sock sock;
	bool failed;
};

/* Every remote opened, for remote__flush_all (written before the vCPUs start). */
static struct remote *remotes[VM_MAX_DEVS];
static unsigned nremotes;

void remote__flush_all(void)
{
	for (unsigned i = 0; i < nremotes; i++) {
		struct remote *r = remotes[i];
		if (r->transport != VM_DEV_RING || !r->posted_mask)
			continue;
		pthread_mutex_lock(&r->lock);
		/* A device that does not answer in time: its output is lost. */
		if (!r->failed)
			(void)ipc_chan__flush(&r->chan);
		pthread_mutex_unlock(&r->lock);
	}
}

static int call(struct remote *r, struct ipc_msg *req, struct ipc_msg *rep)
{
	if (r->failed)
		return -EPIPE;
	int e;
	memset(rep, 0, sizeof(*rep));
	if (r->transport != VM_DEV_RING)
		e = ipc_sock__call(&r->sock, req, rep);
	else if (ipc_msg__is_read(req->op) &&
		 ipc_chan__shadow_read(&r->chan, req->region, req->off, req->size, &rep->data))
		e = 0;
	else if (!ipc_msg__is_read(req->op) && (r->posted_mask & (1u << req->region)))
		e = ipc_chan__post(&r->chan, req);
	else
		e = ipc_chan__call(&r->chan, req, rep);
	if (e < 0) {
		char text[200];
		r->failed = true;
		snprintf(text, sizeof(text), "device %u: %s", r->index,
			 r->transport == VM_DEV_RING ? ipc_chan__why(&r->chan) : strerror(-e));
		control__event(VM_EV_DEV_FAILED, 0, r->index, text);
	}
	return e;
}

int remote__access(struct remote *r, bool pio, unsigned region, uint64_t off, unsigned size,
		   bool write, uint64_t *val)
{
	struct ipc_msg req = {
	    .op = pio ? (write ? IPC_OP_PIO_WRITE : IPC_OP_PIO_READ)
		      : (write ? IPC_OP_MMIO_WRITE : IPC_OP_MMIO_READ),
	    .region = region,
	    .size = size,
	    .off = off,
	    .data = write ? *val : 0,
	};
	struct ipc_msg rep;
	record__before(r->index, pio, region, off, size, write, req.data);
	pthread_mutex_lock(&r->lock);
	int e = call(r, &req, &rep);
	pthread_mutex_unlock(&r->lock);
	if (e < 0)
		return 1; /* stop this vCPU; the broker ends the VM */
	if (!write)
		*val = rep.status == 0 ? rep.data : ~0ULL;
	record__access(r->index, pio, region, off, size, write, *val);
	return 0;
}

static int forward(struct remote *r, unsigned region, uint64_t off, unsigned size, bool write,
		   uint64_t *val)
{
	return remote__access(r, r->pio_mask & (1u << region), region, off, size, write, val);
}

static int r_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	return forward(priv, region, off, size, false, val);
}

static int r_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	return forward(priv, region, off, size, true, &val);
}

static const struct iodev_ops remote_ops = {r_read, r_write};

struct remote *remote__open(const struct vm_dev *d, unsigned index, char *err, size_t n)
{
	struct remote *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, n, "device %u: out of memory", index);
		return NULL;
	}
	if (nremotes == VM_MAX_DEVS) {
		snprintf(err, n, "device %u: more than %d devices", index, VM_MAX_DEVS);
		free(r);
		return NULL;
	}
	r->index = index;
	r->transport = d->transport;
	pthread_mutex_init(&r->lock, NULL);
	char why[160];
	if (d->transport == VM_DEV_RING) {
		if (ipc_chan__attach(&r->chan, d->fd_chan, d->fd_bell_dev, d->fd_bell_vcpu,
				     IPC_SIDE_VCPU, why, sizeof(why)) < 0) {
			snprintf(err, n, "device %u: channel: %s", index, why);
			free(r);
			return NULL;
		}
		ipc_chan__set_peer_fd(&r->chan, d->fd_peer);
	} else if (ipc_sock__init(&r->sock, d->fd_chan) < 0) {
		snprintf(err, n, "device %u: channel socket", index);
		free(r);
		return NULL;
	}
	remotes[nremotes++] = r;
	return r;
}

int remote__claim(struct remote *r, const struct vm_dev *d, char *err, size_t n)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		const struct vm_region *g = &d->regions[i];
		if (g->kind != VM_REGION_PIO && g->kind != VM_REGION_MMIO)
			continue; /* e.g. a PCI BAR: pci.c places and forwards it */
		if (g->kind == VM_REGION_PIO)
			r->pio_mask |= 1u << i;
		if (g->flags & VM_REGION_F_POSTED)
			r->posted_mask |= 1u << i;
		int e = iobus__register(g->kind == VM_REGION_PIO ? IOBUS_PIO : IOBUS_MMIO, g->base,
					g->len, &remote_ops, r, i, "remote device");
		if (e < 0) {
			snprintf(err, n, "device %u: region %u: %s", r->index, i, strerror(-e));
			return e;
		}
	}
	return 0;
}

int remote__attach(struct vm *vm, const struct vm_dev *d, unsigned index, char *err, size_t n)
{
	struct remote *r = remote__open(d, index, err, n);
	if (!r)
		return -EPROTO;
	int e = remote__claim(r, d, err, n);
	if (e < 0)
		return e;
	for (unsigned i = 0; i < d->nirqfd; i++) {
		uint32_t gsi = d->irq_gsi[i] ? d->irq_gsi[i] : d->irq + i;
		if (gsi == VM_IRQ_NOT_GSI)
			continue; /* e.g. the i8042 reset line, watched by the broker */
		if (gsi >= 24) {
			snprintf(err, n, "device %u: GSI %u out of range", index, gsi);
			return -EINVAL;
		}
		e = kvm__irqfd(vm, d->fd_irq[i], gsi);
		if (e < 0) {
			snprintf(err, n, "device %u: KVM_IRQFD gsi %u: %s", index, gsi,
				 strerror(-e));
			return e;
		}
	}
	return 0;
}
