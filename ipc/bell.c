/* SPDX-License-Identifier: MIT */
/*
 * Waiting for the peer: adaptive spin, then the eventfd doorbell.
 *
 * A waiter spins (with pause) for a window derived from the recent idle gaps
 * (EWMA, clamped to [spin_min, spin_max]); if nothing came, it sets its
 * `sleeping` flag, fences, re-checks the ring and only then blocks in poll()
 * on its eventfd and the peer fd. A sender publishes head, fences, and writes
 * the eventfd only if the flag is set (chan.c: ring_bell). See docs/ipc.md
 * for why no wake-up is lost.
 */
#include "chan-int.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* Pauses between two looks at the clock while spinning. */
#define SPIN_BATCH 16

static uint64_t spin_window(const struct ipc_chan *c)
{
	if (c->spin_max_ns == 0 || c->spin_off)
		return 0;
	/* Device side: the vcpu side measured that our spinning does not pay. */
	if (c->side == IPC_SIDE_DEV && __atomic_load_n(&c->in_ctl->nospin, __ATOMIC_RELAXED))
		return 0;
	/*
	 * Gaps well beyond the bound: spinning would not catch them. (A gap
	 * that ended in a sleep is measured with the wake-up latency in it,
	 * ~17 us or more here, hence the factor 2: gaps just under the bound
	 * must not look like gaps just over it, or the window never opens.)
	 */
	if (c->gap_ewma_ns > 2 * c->spin_max_ns)
		return c->spin_min_ns;
	uint64_t w = 2 * c->gap_ewma_ns;
	if (w < c->spin_min_ns)
		w = c->spin_min_ns;
	if (w > c->spin_max_ns)
		w = c->spin_max_ns;
	return w;
}

static void note_gap(struct ipc_chan *c, uint64_t gap)
{
	uint64_t cap = 4 * c->spin_max_ns;
	if (gap > cap)
		gap = cap;
	c->gap_ewma_ns = c->gap_ewma_ns - c->gap_ewma_ns / 8 + gap / 8;
}

bool ipc_chan__arm(struct ipc_chan *c)
{
	__atomic_store_n(&c->in_ctl->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ipc_chan__in_ready(c)) {
		__atomic_store_n(&c->in_ctl->sleeping, 0, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

void ipc_chan__disarm(struct ipc_chan *c)
{
	uint8_t buf[256];
	__atomic_store_n(&c->in_ctl->sleeping, 0, __ATOMIC_RELAXED);
	/*
	 * Non-blocking (attach set O_NONBLOCK): resets an eventfd counter, or
	 * drains up to 32 pending rings of a pipe. Anything left over only
	 * causes one spurious wake-up later.
	 */
	ssize_t r = read(c->bell_in, buf, sizeof(buf));
	(void)r;
}

/* Spin up to `win` ns from `t0`; true as soon as the inbound ring has data. */
static bool spin_for(struct ipc_chan *c, uint64_t t0, uint64_t win)
{
	if (!win)
		return false;
	for (;;) {
		for (int i = 0; i < SPIN_BATCH; i++) {
			if (ipc_chan__in_ready(c))
				return true;
			ipc__cpu_relax();
		}
		if (ipc__now_ns() - t0 >= win)
			return false;
	}
}

int ipc_chan__wait(struct ipc_chan *c, int timeout_ms)
{
	if (c->broken)
		return c->err;
	uint64_t t0 = ipc__now_ns();
	if (ipc_chan__in_ready(c)) {
		note_gap(c, 0);
		return 0;
	}
	if (spin_for(c, t0, spin_window(c))) {
		note_gap(c, ipc__now_ns() - t0);
		return 0;
	}
	uint64_t deadline = t0 + (timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000 : 0);
	for (;;) {
		if (!ipc_chan__arm(c)) {
			note_gap(c, ipc__now_ns() - t0);
			return 0;
		}
		uint64_t now = ipc__now_ns();
		int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		struct pollfd p[2] = {
		    {.fd = c->bell_in, .events = POLLIN},
		    {.fd = c->peer_fd, .events = POLLIN},
		};
		int r = poll(p, c->peer_fd >= 0 ? 2 : 1, ms);
		int e = errno;
		c->n_sleeps++;
		ipc_chan__disarm(c);
		if (r < 0 && e != EINTR)
			return ipc_chan__fail(c, -e, "poll failed");
		if (r > 0 && c->peer_fd >= 0 &&
		    (p[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			return ipc_chan__fail(c, -EPIPE, "peer is gone (peer fd signalled)");
		if (ipc_chan__in_ready(c)) {
			note_gap(c, ipc__now_ns() - t0);
			return 0;
		}
		/* A pipe doorbell whose write end is closed: the peer is dead. */
		if (r > 0 && (p[0].revents & POLLHUP))
			return ipc_chan__fail(c, -EPIPE, "peer is gone (doorbell hung up)");
		if (r > 0 && (p[0].revents & (POLLERR | POLLNVAL)))
			return ipc_chan__fail(c, -EBADF, "doorbell fd failed");
		/* also after spurious wake-ups (a peer ringing with nothing queued) */
		if (ipc__now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

/* Wait for the next reply (in request order), bounded by the timeout. */
static int next_reply(struct ipc_chan *c, struct ipc_msg *rep, const char *what)
{
	uint64_t deadline =
	    ipc__now_ns() + (c->timeout_ms > 0 ? (uint64_t)c->timeout_ms * 1000000 : 0);
	for (;;) {
		int r = ipc_chan__poll_reply(c, rep);
		if (r != -EAGAIN)
			return r;
		uint64_t now = ipc__now_ns();
		if (now >= deadline)
			return ipc_chan__fail(c, -ETIMEDOUT, "no reply to %s seq %u within %d ms",
					      what, c->expect_seq, c->timeout_ms);
		int ms = (int)((deadline - now + 999999) / 1000000);
		r = ipc_chan__wait(c, ms);
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

int ipc_chan__call(struct ipc_chan *c, struct ipc_msg *req, struct ipc_msg *rep)
{
	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_VCPU)
		return -EINVAL;
	/* Spin or sleep, each side: what measured fastest here (spin.h). */
	unsigned arm = ipc_spin__next(&c->spin);
	c->spin_off = !(arm & IPC_SPIN_VCPU);
	__atomic_store_n(&c->out_ctl->nospin, (arm & IPC_SPIN_DEV) ? 0u : 1u, __ATOMIC_RELAXED);
	uint64_t t0 = ipc__now_ns();
	int r = ipc_chan__send(c, req);
	if (r == -EAGAIN) { /* `slots` posted writes outstanding: make room */
		r = next_reply(c, rep, "a posted write");
		if (!r)
			r = ipc_chan__send(c, req);
		if (r == -EAGAIN)
			return ipc_chan__fail(c, -EPROTO, "cannot send");
	}
	if (r)
		return r;
	/* Replies come in order: those of earlier posted writes first. */
	do {
		r = next_reply(c, rep, ipc_msg__op_name(req->op));
	} while (!r && rep->seq != req->seq);
	if (!r)
		ipc_spin__record(&c->spin, ipc__now_ns() - t0);
	c->spin_off = false;
	return r;
}

int ipc_chan__post(struct ipc_chan *c, struct ipc_msg *req)
{
	struct ipc_msg rep;

	if (c->broken)
		return c->err;
	if (c->side != IPC_SIDE_VCPU ||
	    (req->op != IPC_OP_MMIO_WRITE && req->op != IPC_OP_PIO_WRITE))
		return -EINVAL;
	while (ipc_chan__poll_reply(c, &rep) == 0)
		; /* collect what has arrived; a posted write's status is not reported */
	int r = ipc_chan__send(c, req);
	if (r == -EAGAIN) {
		r = next_reply(c, &rep, "a posted write");
		if (!r)
			r = ipc_chan__send(c, req);
	}
	return r;
}

int ipc_chan__flush(struct ipc_chan *c)
{
	struct ipc_msg rep;

	if (c->side != IPC_SIDE_VCPU)
		return -EINVAL;
	while (!c->broken && c->expect_seq != c->next_seq) {
		int r = next_reply(c, &rep, "a posted write");
		if (r)
			return r;
	}
	return c->broken ? c->err : 0;
}

int ipc_chan__serve_spin(struct ipc_chan *c, ipc_handler_fn fn, void *opaque)
{
	int handled = 0;
	uint64_t last = c->idle_since_ns ? c->idle_since_ns : ipc__now_ns();

	for (;;) {
		struct ipc_msg req;
		int r = ipc_chan__recv(c, &req);
		if (r == 0) {
			uint64_t now = ipc__now_ns();
			note_gap(c, now - last);
			uint64_t data = 0;
			int32_t st = fn(opaque, &req, &data);
			r = ipc_chan__reply(c, &req, data, st);
			if (r)
				return r;
			last = ipc__now_ns();
			/* leave room for the device's other fds (kicks, backends) */
			if (++handled >= IPC_SERVE_BUDGET) {
				c->idle_since_ns = last;
				return handled;
			}
			continue;
		}
		if (r != -EAGAIN)
			return r;
		uint64_t win = spin_window(c);
		uint64_t now = ipc__now_ns();
		if (now - last >= win || !spin_for(c, last, win)) {
			c->idle_since_ns = ipc__now_ns();
			return handled;
		}
	}
}
