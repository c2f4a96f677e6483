/* SPDX-License-Identifier: MIT */
/*
 * Channel creation, attach and the two ring primitives (push, pop). The
 * waiting side (spin, doorbell, call, serve) is in bell.c.
 */
#include "chan-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define IPC_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

size_t ipc_chan__layout_size(uint32_t slots)
{
	size_t bytes = IPC_OFF_RINGS + 2 * (size_t)slots * sizeof(struct ipc_msg);
	return (bytes + 4095) & ~(size_t)4095;
}

static bool slots_ok(uint32_t slots)
{
	return slots >= IPC_MIN_SLOTS && slots <= IPC_MAX_SLOTS && (slots & (slots - 1)) == 0;
}

uint64_t ipc__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ipc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

int ipc_chan__create(unsigned slots)
{
	if (!slots_ok(slots))
		return -EINVAL;
	int fd = memfd_create("cellvm-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	struct ipc_shm_hdr h = {
	    .magic = IPC_MAGIC,
	    .version = IPC_VERSION,
	    .slots = slots,
	    .msg_size = sizeof(struct ipc_msg),
	};
	int err = 0;
	if (ftruncate(fd, (off_t)ipc_chan__layout_size(slots)) != 0)
		err = -errno;
	else if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		err = errno ? -errno : -EIO;
	else if (fcntl(fd, F_ADD_SEALS, IPC_SEALS) != 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int attach_err(char *err, size_t n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int attach_err(char *err, size_t n, int code, const char *fmt, ...)
{
	if (err && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int bell_prepare(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -errno;
	return 0;
}

int ipc_chan__attach(struct ipc_chan *c, int memfd, int bell_to_dev, int bell_to_vcpu,
		     enum ipc_side side, char *err, size_t n)
{
	struct ipc_shm_hdr h;
	struct stat st;
	int r;

	memset(c, 0, sizeof(*c));
	c->bell_in = c->bell_out = c->peer_fd = -1;
	if (side != IPC_SIDE_VCPU && side != IPC_SIDE_DEV)
		return attach_err(err, n, -EINVAL, "bad side %d", (int)side);
	if (bell_to_dev < 0 || bell_to_vcpu < 0 || bell_to_dev == bell_to_vcpu)
		return attach_err(err, n, -EBADF, "need two distinct doorbell fds");

	int seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0)
		return attach_err(err, n, -EINVAL, "fd %d is not a sealable memfd: %s", memfd,
				  strerror(errno));
	if ((seals & IPC_SEALS) != IPC_SEALS)
		return attach_err(err, n, -EPERM,
				  "memfd seals 0x%x lack shrink|grow|seal: its size could change",
				  seals);
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return attach_err(err, n, -EPERM, "memfd is write-sealed (seals 0x%x)", seals);
	if (fstat(memfd, &st) != 0)
		return attach_err(err, n, -errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return attach_err(err, n, -EINVAL, "memfd is not a regular file");
	/* Read the header with pread: one copy, then only the copy is used. */
	if (pread(memfd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return attach_err(err, n, -EINVAL, "cannot read the channel header");
	if (h.magic != IPC_MAGIC || h.version != IPC_VERSION ||
	    h.msg_size != sizeof(struct ipc_msg))
		return attach_err(err, n, -EINVAL, "bad header (magic 0x%x version %u msg %u)",
				  h.magic, h.version, h.msg_size);
	if (!slots_ok(h.slots))
		return attach_err(err, n, -EINVAL, "bad slot count %u", h.slots);
	if (st.st_size < 0 || (uint64_t)st.st_size != ipc_chan__layout_size(h.slots))
		return attach_err(err, n, -EINVAL, "memfd is %lld bytes, %zu expected for %u slots",
				  (long long)st.st_size, ipc_chan__layout_size(h.slots), h.slots);
	if ((r = bell_prepare(bell_to_dev)) || (r = bell_prepare(bell_to_vcpu)))
		return attach_err(err, n, r, "doorbell fd: %s", strerror(-r));

	size_t len = ipc_chan__layout_size(h.slots);
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED)
		return attach_err(err, n, -errno, "mmap: %s", strerror(errno));

	uint8_t *b = map;
	struct ipc_ring_ctl *req_ctl = (void *)(b + IPC_OFF_REQ_CTL);
	struct ipc_ring_ctl *rep_ctl = (void *)(b + IPC_OFF_REP_CTL);
	struct ipc_msg *req_ring = (void *)(b + IPC_OFF_RINGS);
	struct ipc_msg *rep_ring = req_ring + h.slots;

	c->map = map;
	c->map_len = len;
	c->side = side;
	c->slots = h.slots;
	if (side == IPC_SIDE_VCPU) {
		c->out_ctl = req_ctl;
		c->out_ring = req_ring;
		c->in_ctl = rep_ctl;
		c->in_ring = rep_ring;
		c->bell_in = bell_to_vcpu;
		c->bell_out = bell_to_dev;
	} else {
		c->out_ctl = rep_ctl;
		c->out_ring = rep_ring;
		c->in_ctl = req_ctl;
		c->in_ring = req_ring;
		c->bell_in = bell_to_dev;
		c->bell_out = bell_to_vcpu;
	}
	/*
	 * Indices start where the rings are now. A fresh channel has them at 0;
	 * if the peer moved them already, the checks below catch nonsense.
	 */
	c->out_head = __atomic_load_n(&c->out_ctl->head, __ATOMIC_ACQUIRE);
	uint32_t t = __atomic_load_n(&c->out_ctl->tail, __ATOMIC_ACQUIRE);
	c->out_tail = c->out_head - t <= c->slots ? t : c->out_head;
	c->in_tail = __atomic_load_n(&c->in_ctl->tail, __ATOMIC_ACQUIRE);
	c->next_seq = c->expect_seq = 1;
	c->timeout_ms = IPC_TIMEOUT_MS_DEF;
	ipc_chan__set_spin(c, IPC_SPIN_MIN_US, IPC_SPIN_MAX_US);
	ipc_spin__init(&c->spin);
	return 0;
}

void ipc_chan__detach(struct ipc_chan *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	c->map = NULL;
	c->broken = true;
	c->err = -EPIPE;
	snprintf(c->why, sizeof(c->why), "detached");
}

void ipc_chan__set_peer_fd(struct ipc_chan *c, int fd)
{
	c->peer_fd = fd;
}

void ipc_chan__set_spin(struct ipc_chan *c, unsigned min_us, unsigned max_us)
{
	if (min_us > max_us)
		min_us = max_us;
	c->spin_min_ns = (uint64_t)min_us * 1000;
	c->spin_max_ns = (uint64_t)max_us * 1000;
	c->gap_ewma_ns = c->spin_min_ns;
}

void ipc_chan__set_timeout(struct ipc_chan *c, int ms)
{
	c->timeout_ms = ms;
}

void ipc_chan__set_limits(struct ipc_chan *c, const struct ipc_region_limits *lim)
{
	c->lim = *lim;
}

bool ipc_chan__broken(const struct ipc_chan *c)
{
	return c->broken;
}

const char *ipc_chan__why(const struct ipc_chan *c)
{
	return c->broken ? c->why : "";
}

int ipc_chan__fail(struct ipc_chan *c, int err, const char *fmt, ...)
{
	if (!c->broken) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
		c->broken = true;
		c->err = err;
	}
	return c->err;
}

bool ipc_chan__in_ready(const struct ipc_chan *c)
{
	return __atomic_load_n(&c->in_ctl->head, __ATOMIC_ACQUIRE) != c->in_tail;
}

/*
 * Copy one slot with single loads/stores of each word: the compiler may not
 * re-read shared memory after we validated the copy (no double fetch).
 */
static void slot_load(struct ipc_msg *dst, const struct ipc_msg *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
	memcpy(dst, w, sizeof(w));
}

static void slot_store(struct ipc_msg *dst, const struct ipc_msg *src)
{
	uint64_t w[8], *d = (uint64_t *)dst;
	memcpy(w, src, sizeof(w));
	for (int i = 0; i < 8; i++)
		__atomic_store_n(&d[i], w[i], __ATOMIC_RELAXED);
}

static void ring_bell(struct ipc_chan *c)
{
	/*
	 * Dekker pairing with ipc_chan__arm(): we store head, fence, load the
	 * flag; the waiter stores the flag, fences, loads head. One of us
	 * sees the other's store, so a wake-up is never lost.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->out_ctl->sleeping, __ATOMIC_RELAXED)) {
		uint64_t one = 1;
		/* EAGAIN: the counter is full, so the peer is woken anyway. */
		ssize_t r = write(c->bell_out, &one, sizeof(one));
		(void)r;
		c->n_bells++;
	}
}

/* 0, -EAGAIN (full) or the channel's error. */
static int ring_push(struct ipc_chan *c, const struct ipc_msg *m)
{
	uint32_t tail = __atomic_load_n(&c->out_ctl->tail, __ATOMIC_ACQUIRE);
	uint32_t used = c->out_head - tail;
	/* The consumer may only move its tail forward, and never past head. */
	if (used > c->slots || tail - c->out_tail > c->out_head - c->out_tail)
		return ipc_chan__fail(
		    c, -EPROTO,
		    "peer consumer index %u inconsistent (head %u, last tail %u, %u slots)", tail,
		    c->out_head, c->out_tail, c->slots);
	c->out_tail = tail;
	if (used == c->slots)
		return -EAGAIN;
	slot_store(&c->out_ring[c->out_head & (c->slots - 1)], m);
	c->out_head++;
	__atomic_store_n(&c->out_ctl->head, c->out_head, __ATOMIC_RELEASE);
	ring_bell(c);
	return 0;
}

/* 0 with *m copied out, -EAGAIN (empty) or the channel's error. */
static int ring_pop(struct ipc_chan *c, struct ipc_msg *m)
{
	uint32_t head = __atomic_load_n(&c->in_ctl->head, __ATOMIC_ACQUIRE);
	uint32_t avail = head - c->in_tail;
	if (avail > c->slots)
		return ipc_chan__fail(c, -EPROTO,
				      "peer producer index %u inconsistent (tail %u, %u slots)",
				      head, c->in_tail, c->slots);
	if (avail == 0)
		return -EAGAIN;
	slot_load(m, &c->in_ring[c->in_tail & (c->slots - 1)]);
	c->in_tail++;
	__atomic_store_n(&c->in_ctl->tail, c->in_tail, __ATOMIC_RELEASE);
	return 0;
}

int ipc_chan__send(struct ipc_chan *c, struct ipc_msg *req)
{
	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_VCPU)
		return -EINVAL;
	if (c->next_seq - c->expect_seq >= c->slots)
		return -EAGAIN;
	req->seq = c->next_seq;
	int r = ring_push(c, req);
	if (r == -EAGAIN)
		/* Fewer than `slots` requests are outstanding: a correct device has room. */
		return ipc_chan__fail(
		    c, -EPROTO, "request ring full with %u requests outstanding (device stalls it)",
		    c->next_seq - c->expect_seq);
	if (r)
		return r;
	c->expect_size[req->seq & (c->slots - 1)] =
	    (uint8_t)(ipc_msg__is_read(req->op) && req->size <= 8 ? req->size : 0);
	bool write = req->op == IPC_OP_MMIO_WRITE || req->op == IPC_OP_PIO_WRITE;
	c->out_write[req->seq & (c->slots - 1)] =
	    write
		? (req->region & 0xff) | (uint32_t)(req->off < 0xffffff ? req->off : 0xffffff) << 8
		: ~0u;
	c->next_seq++;
	return 0;
}

static struct ipc_shadow *shadow_slot(const struct ipc_chan *c, unsigned i)
{
	return (struct ipc_shadow *)((uint8_t *)c->map + IPC_OFF_SHADOW) + i;
}

void ipc_chan__shadow_publish(struct ipc_chan *c, unsigned i, uint32_t region, uint32_t off,
			      uint32_t size, uint32_t inval, uint64_t value)
{
	if (c->side != IPC_SIDE_DEV || i >= IPC_MAX_SHADOWS || !c->map)
		return;
	struct ipc_shadow *sh = shadow_slot(c, i);
	uint32_t seq = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED) | 1;
	__atomic_store_n(&sh->seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&sh->region, region, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->off, off, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->size, size, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->inval, inval, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->value, value, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->seq, seq + 1, __ATOMIC_RELEASE);
}

/* Could an outstanding posted write have changed a shadow with this mask? */
static bool shadow_stale(const struct ipc_chan *c, uint32_t region, uint32_t inval)
{
	for (uint32_t s = c->expect_seq; s != c->next_seq; s++) {
		uint32_t w = c->out_write[s & (c->slots - 1)];
		if (w == ~0u)
			continue; /* a read: it cannot be outstanding here, but is harmless */
		uint32_t off = w >> 8;
		if ((w & 0xff) != region || off >= 32 || (inval & (1u << off)))
			return true;
	}
	return false;
}

bool ipc_chan__shadow_read(struct ipc_chan *c, uint32_t region, uint64_t off, uint32_t size,
			   uint64_t *val)
{
	struct ipc_msg rep;

	if (c->broken || c->side != IPC_SIDE_VCPU || !c->map)
		return false;
	/* Collect the replies already there: fewer outstanding writes to check. */
	while (ipc_chan__poll_reply(c, &rep) == 0)
		;
	if (c->broken)
		return false;
	for (unsigned i = 0; i < IPC_MAX_SHADOWS; i++) {
		const struct ipc_shadow *sh = shadow_slot(c, i);
		/* A device that keeps the lock odd only loses the shortcut. */
		for (int tries = 0; tries < 4; tries++) {
			uint32_t s0 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
			if (s0 & 1)
				continue;
			uint32_t r = __atomic_load_n(&sh->region, __ATOMIC_RELAXED);
			uint32_t o = __atomic_load_n(&sh->off, __ATOMIC_RELAXED);
			uint32_t z = __atomic_load_n(&sh->size, __ATOMIC_RELAXED);
			uint32_t inval = __atomic_load_n(&sh->inval, __ATOMIC_RELAXED);
			uint64_t v = __atomic_load_n(&sh->value, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&sh->seq, __ATOMIC_RELAXED) != s0)
				continue;
			if (z != size || r != region || o != off)
				break; /* not this register */
			if (shadow_stale(c, region, inval))
				return false;
			*val = size >= 8 ? v : v & ((1ULL << (8 * size)) - 1);
			return true;
		}
	}
	return false;
}

int ipc_chan__poll_reply(struct ipc_chan *c, struct ipc_msg *rep)
{
	struct ipc_msg m;
	char why[128];

	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_VCPU)
		return -EINVAL;
	int r = ring_pop(c, &m);
	if (r)
		return r;
	if (c->next_seq == c->expect_seq)
		return ipc_chan__fail(c, -EPROTO, "unsolicited reply (seq %u, none outstanding)",
				      m.seq);
	uint32_t seq = c->expect_seq;
	if (!ipc_msg__check_reply(&m, seq, c->expect_size[seq & (c->slots - 1)], why, sizeof(why)))
		return ipc_chan__fail(c, -EPROTO, "%s", why);
	c->expect_seq++;
	*rep = m;
	return 0;
}

int ipc_chan__fd(const struct ipc_chan *c)
{
	return c->bell_in;
}

int ipc_chan__recv(struct ipc_chan *c, struct ipc_msg *req)
{
	struct ipc_msg m;
	char why[128];

	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_DEV)
		return -EINVAL;
	int r = ring_pop(c, &m);
	if (r)
		return r;
	if (!ipc_msg__check_request(&m, &c->lim, why, sizeof(why)))
		return ipc_chan__fail(c, -EPROTO, "%s", why);
	*req = m;
	return 0;
}

int ipc_chan__reply(struct ipc_chan *c, const struct ipc_msg *req, uint64_t data, int32_t status)
{
	struct ipc_msg rep;

	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_DEV)
		return -EINVAL;
	ipc_msg__make_reply(&rep, req, data, status);
	int r = ring_push(c, &rep);
	if (r == -EAGAIN)
		/* The vcpu side never has more than `slots` requests outstanding. */
		return ipc_chan__fail(c, -EPROTO,
				      "reply ring full: vcpu side over its request limit");
	return r;
}
