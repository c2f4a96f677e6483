/* SPDX-License-Identifier: MIT */
/*
 * The device traffic recorder (record.h). Guest-controlled values are read
 * here only to copy guest RAM into the record: every range goes through
 * gmem__ptr, chains stop at the queue size, sizes are capped, and a write
 * that fails ends the recording, never the VM.
 */
#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "device-procs/virtio/virtio_pci_regs.h"
#include "device-procs/virtio/virtq.h"
#include "log.h"

#define REC_MAX_QUEUES 16
/* The whole record: past it, recording stops and the VM runs on. */
#define REC_TOTAL_MAX (1ull << 30)

struct rqueue {
	uint64_t desc, avail;
	uint16_t size, last_avail;
};

struct rdev {
	bool virtio;
	uint16_t sel;
	struct rqueue q[REC_MAX_QUEUES];
};

static struct {
	int fd; /* -1: not recording */
	pthread_mutex_t lock;
	uint64_t total;	    /* bytes written */
	uint32_t kick_left; /* bytes the current notification may still add */
	const struct gmem *ram;
	struct rdev dev[VM_MAX_DEVS];
} R = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void put(const struct rec_entry *e, const void *bytes, uint32_t n)
{
	if (R.fd < 0)
		return;
	if (R.total + sizeof(*e) + n > REC_TOTAL_MAX) {
		log__err("--record: the record reached %llu MiB: recording stops",
			 (unsigned long long)(REC_TOTAL_MAX >> 20));
		R.fd = -1;
		return;
	}
	R.total += sizeof(*e) + n;
	if (write(R.fd, e, sizeof(*e)) != (ssize_t)sizeof(*e) ||
	    (n && write(R.fd, bytes, n) != (ssize_t)n)) {
		log__err("--record: write failed (%s): recording stops", strerror(errno));
		R.fd = -1;
	}
}

bool record__open(int fd, const struct vm_plan *plan, const struct gmem *ram)
{
	/* a new record: nothing of an earlier one carries over */
	pthread_mutex_lock(&R.lock);
	memset(R.dev, 0, sizeof(R.dev));
	R.total = 0;
	pthread_mutex_unlock(&R.lock);
	if (write(fd, REC_MAGIC, 8) != 8) {
		log__err("--record: %s", strerror(errno));
		return false;
	}
	R.fd = fd;
	for (unsigned i = 0; i < plan->ndevs && i < VM_MAX_DEVS; i++) {
		const struct vm_dev *d = &plan->devs[i];
		R.dev[i].virtio = d->type == VM_DEV_VIRTIO;
		struct rec_entry e = {.type = REC_DEV,
				      .dev = (uint8_t)i,
				      .region = (uint8_t)d->type,
				      .val = d->pci.virtio_id};
		put(&e, NULL, 0);
	}
	R.ram = ram;
	return R.fd >= 0;
}

bool record__on(void)
{
	return R.fd >= 0;
}

/* A range of guest RAM the device will read (or, WBUF, write); skipped if not RAM. */
static void ram(unsigned dev, unsigned q, enum rec_ram_what what, uint64_t gpa, uint32_t len)
{
	uint32_t n = what == REC_RAM_WBUF ? 0 : len;
	/* a range outside guest RAM (writable ones too) is left out: the device
	 * refuses it; so is an empty one (its descriptor is in the record) */
	const void *p = gmem__ptr(R.ram, gpa, len);
	if (!len || !p)
		return;
	if (R.kick_left < sizeof(struct rec_entry) + n) {
		R.kick_left = 0; /* this notification's budget is spent: the rest is left out */
		return;
	}
	R.kick_left -= (uint32_t)sizeof(struct rec_entry) + n;
	struct rec_entry e = {.type = REC_RAM,
			      .dev = (uint8_t)dev,
			      .region = (uint8_t)what,
			      .size = (uint8_t)q,
			      .len = len,
			      .off = gpa};
	put(&e, p, n);
}

static bool rdesc_at(uint64_t table, unsigned i, struct virtq_desc *d)
{
	return gmem__read(R.ram, table + 16ull * i, d, sizeof(*d));
}

static void buffer(unsigned dev, unsigned q, const struct virtq_desc *d)
{
	if (d->flags & VIRTQ_DESC_F_WRITE)
		ram(dev, q, REC_RAM_WBUF, d->addr, d->len);
	else
		ram(dev, q, REC_RAM_RBUF, d->addr, d->len < REC_BUF_MAX ? d->len : REC_BUF_MAX);
}

/* One chain from head: its descriptors, indirect tables and buffers. */
static void chain(unsigned dev, unsigned q, const struct rqueue *rq, uint16_t head)
{
	struct virtq_desc d;
	unsigned i = head;
	for (unsigned steps = 0; steps < rq->size && i < rq->size && R.kick_left; steps++) {
		if (!rdesc_at(rq->desc, i, &d))
			return;
		ram(dev, q, REC_RAM_DESC, rq->desc + 16ull * i, 16);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			unsigned n = d.len / 16 < 256 ? d.len / 16 : 256;
			ram(dev, q, REC_RAM_INDIRECT, d.addr, 16 * n);
			struct virtq_desc in;
			for (unsigned k = 0; k < n && rdesc_at(d.addr, k, &in); k++)
				buffer(dev, q, &in);
		} else {
			buffer(dev, q, &d);
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return;
		i = d.next;
	}
}

/* A notification of queue q: what was published since the last one. */
static void kick(unsigned dev, unsigned q)
{
	struct rqueue *rq = &R.dev[dev].q[q];
	uint16_t idx;
	if (!rq->size || rq->size > 32768 || !gmem__read(R.ram, rq->avail + 2, &idx, 2))
		return;
	uint16_t n = (uint16_t)(idx - rq->last_avail);
	if (n > rq->size)
		n = rq->size;
	R.kick_left = REC_KICK_MAX;
	ram(dev, q, REC_RAM_AVAIL, rq->avail, 4 + 2u * rq->size);
	for (uint16_t k = 0; k < n && R.kick_left; k++) {
		uint16_t head;
		uint16_t slot = (uint16_t)(rq->last_avail + k) % rq->size;
		if (gmem__read(R.ram, rq->avail + 4 + 2ull * slot, &head, 2))
			chain(dev, q, rq, head);
	}
	rq->last_avail = idx;
}

/* Common-configuration writes: which queue is where. */
static void common_write(struct rdev *d, uint64_t off, unsigned size, uint64_t val)
{
	struct rqueue *rq = d->sel < REC_MAX_QUEUES ? &d->q[d->sel] : NULL;
	if (off == VIRTIO_PCI_COMMON_Q_SELECT && size == 2)
		d->sel = (uint16_t)val;
	else if (!rq)
		return;
	else if (off == VIRTIO_PCI_COMMON_Q_SIZE && size == 2)
		rq->size = (uint16_t)val;
	else if (off == VIRTIO_PCI_COMMON_Q_DESC && size == 4)
		rq->desc = (rq->desc & ~0xffffffffull) | (uint32_t)val;
	else if (off == VIRTIO_PCI_COMMON_Q_DESC + 4 && size == 4)
		rq->desc = (rq->desc & 0xffffffffull) | val << 32;
	else if (off == VIRTIO_PCI_COMMON_Q_DRIVER && size == 4)
		rq->avail = (rq->avail & ~0xffffffffull) | (uint32_t)val;
	else if (off == VIRTIO_PCI_COMMON_Q_DRIVER + 4 && size == 4)
		rq->avail = (rq->avail & 0xffffffffull) | val << 32;
	else if (off == VIRTIO_PCI_COMMON_Q_ENABLE && size == 2 && val == 1)
		rq->last_avail = 0;
}

void record__before(unsigned dev, bool pio, unsigned region, uint64_t off, unsigned size,
		    bool write, uint64_t val)
{
	if (R.fd < 0 || dev >= VM_MAX_DEVS || !R.dev[dev].virtio || pio || region || !write)
		return;
	pthread_mutex_lock(&R.lock);
	struct rdev *d = &R.dev[dev];
	if (off == VIRTIO_PCI_COMMON_STATUS && size == 1 && val == 0) {
		memset(d->q, 0, sizeof(d->q)); /* a device reset */
	} else if (off < VIRTIO_PCI_COMMON_LEN) {
		common_write(d, off, size, val);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_LEN &&
		   (off - VIRTIO_PCI_NOTIFY_OFF) % VIRTIO_PCI_NOTIFY_MULT == 0) {
		unsigned q = (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
		if (q < REC_MAX_QUEUES)
			kick(dev, q);
	}
	pthread_mutex_unlock(&R.lock);
}

void record__access(unsigned dev, bool pio, unsigned region, uint64_t off, unsigned size,
		    bool write, uint64_t val)
{
	if (R.fd < 0)
		return;
	struct rec_entry e = {.type = REC_ACCESS,
			      .dev = (uint8_t)dev,
			      .flags = (uint8_t)(pio | write << 1),
			      .region = (uint8_t)region,
			      .size = (uint8_t)size,
			      .off = off,
			      .val = val};
	pthread_mutex_lock(&R.lock);
	put(&e, NULL, 0);
	pthread_mutex_unlock(&R.lock);
}
