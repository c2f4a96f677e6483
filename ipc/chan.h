/* SPDX-License-Identifier: MIT */
/*
 * A channel between the vcpu-worker and one device process: one sealed memfd
 * holding two single-producer/single-consumer rings of struct ipc_msg
 * (requests vcpu -> device, replies device -> vcpu) and two doorbells.
 * See docs/ipc.md for the layout, the validation rules and the doorbell
 * protocol.
 *
 * Roles:
 *  - broker: ipc_chan__create() and two doorbells, and never maps or parses
 *    the memfd. A doorbell is either one eventfd (EFD_NONBLOCK) given to both
 *    sides, or, preferably, a pipe (pipe2(O_NONBLOCK)) whose write end goes to
 *    the ringing side and read end to the waiting side: then a peer cannot
 *    change the flags of our end (see docs/ipc.md, "Known limits").
 *  - vcpu-worker (IPC_SIDE_VCPU): ipc_chan__call() per forwarded exit.
 *  - device (IPC_SIDE_DEV): poll ipc_chan__fd(), ipc_chan__recv() /
 *    ipc_chan__reply(), or ipc_chan__serve_spin() with a handler.
 *
 * The peer is hostile: everything it can write (ring indices, slots, its
 * sleeping flag, the header) is snapshotted and checked; any inconsistency
 * marks the channel broken (ipc_chan__why() says why) and every later call
 * returns the same error. Nothing a peer writes can make this code crash,
 * loop forever or touch memory outside the mapping.
 */
#ifndef CELLVM_IPC_CHAN_H
#define CELLVM_IPC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"
#include "ipc/spin.h"

#define IPC_MIN_SLOTS	2u
#define IPC_MAX_SLOTS	1024u
#define IPC_MAGIC	0x63706963u /* "cipc" */
#define IPC_VERSION	2u
#define IPC_MAX_SHADOWS 4u

/* Default adaptive spin window bounds (microseconds) and call timeout. */
#define IPC_SPIN_MIN_US	   2u
#define IPC_SPIN_MAX_US	   60u
#define IPC_TIMEOUT_MS_DEF 5000

enum ipc_side { IPC_SIDE_VCPU = 0, IPC_SIDE_DEV = 1 };

struct ipc_ring_ctl; /* shared, defined in chan.c */

struct ipc_chan {
	/* mapping */
	void *map;
	size_t map_len;
	enum ipc_side side;
	uint32_t slots; /* snapshot taken at attach, never re-read */
	/* outbound ring (we produce): private head, peer's tail is re-checked */
	struct ipc_ring_ctl *out_ctl;
	struct ipc_msg *out_ring;
	uint32_t out_head, out_tail;
	/* inbound ring (we consume): private tail */
	struct ipc_ring_ctl *in_ctl;
	struct ipc_msg *in_ring;
	uint32_t in_tail;
	/* doorbells: in = the one we wait on, out = the peer's */
	int bell_in, bell_out, peer_fd;
	/* vcpu side: sequence numbers and reply sizes of outstanding requests;
	 * for posted writes, what they wrote (region | off << 8, or ~0u: not a write) */
	uint32_t next_seq, expect_seq;
	uint8_t expect_size[IPC_MAX_SLOTS];
	uint32_t out_write[IPC_MAX_SLOTS];
	/* device side */
	struct ipc_region_limits lim;
	/* adaptive spin; vcpu side: which spin policy pays (spin.h), this call's */
	uint64_t spin_min_ns, spin_max_ns, gap_ewma_ns, idle_since_ns;
	struct ipc_spin spin;
	bool spin_off;
	int timeout_ms;
	/* statistics */
	uint64_t n_sleeps, n_bells;
	/* error state */
	bool broken;
	int err;
	char why[160];
};

/*
 * Broker: a memfd for a channel with `slots` slots per ring (a power of two
 * in [IPC_MIN_SLOTS, IPC_MAX_SLOTS]), header written, size fixed and sealed
 * with F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL. Returns the fd or -errno.
 */
int ipc_chan__create(unsigned slots);

/*
 * Map `memfd` as `side` after checking its seals, header and size. With
 * pipes, the vcpu side gets bell_to_dev's write end and bell_to_vcpu's read
 * end, the device the other two. The fds stay owned by the caller (memfd may be closed after
 * attach; the bells and the peer fd must stay open). Both bells are made non-blocking. Returns 0 or
 * -errno with a reason in err[n].
 */
int ipc_chan__attach(struct ipc_chan *c, int memfd, int bell_to_dev, int bell_to_vcpu,
		     enum ipc_side side, char *err, size_t n);
void ipc_chan__detach(struct ipc_chan *c);

/* A pidfd or socket that becomes readable/HUP when the peer dies (-1: none). */
void ipc_chan__set_peer_fd(struct ipc_chan *c, int fd);
/* Spin window bounds; max_us 0 never spins (always sleeps on the eventfd). */
void ipc_chan__set_spin(struct ipc_chan *c, unsigned min_us, unsigned max_us);
/* Overall bound for one call()/wait(); ms <= 0 means "poll once". */
void ipc_chan__set_timeout(struct ipc_chan *c, int ms);
/* Device side: the regions requests are checked against (default: none). */
void ipc_chan__set_limits(struct ipc_chan *c, const struct ipc_region_limits *lim);

bool ipc_chan__broken(const struct ipc_chan *c);
const char *ipc_chan__why(const struct ipc_chan *c);

/*
 * Wait for the inbound ring to be non-empty: adaptive spin, then announce
 * sleep and block on the eventfd and the peer fd. 0, -ETIMEDOUT, -EPIPE
 * (peer gone) or the channel's error.
 */
int ipc_chan__wait(struct ipc_chan *c, int timeout_ms);

/* --- vcpu side ------------------------------------------------------------ */

/*
 * Send `req` (op/region/off/size/data filled in; seq is assigned here, and
 * written back into req). 0, -EAGAIN (ring full or `slots` requests
 * outstanding), -EPROTO / -EPIPE / -ETIMEDOUT once broken.
 */
int ipc_chan__send(struct ipc_chan *c, struct ipc_msg *req);
/* Next reply, in request order, validated. 0, -EAGAIN, -EPROTO. */
int ipc_chan__poll_reply(struct ipc_chan *c, struct ipc_msg *rep);
/*
 * Synchronous round trip: send, wait (bounded by the timeout, watching the
 * peer fd), validate. Replies to earlier posted writes are validated and
 * dropped on the way. 0 (rep->status carries the device's verdict), -EPIPE,
 * -EPROTO or -ETIMEDOUT; any error leaves the channel broken.
 */
int ipc_chan__call(struct ipc_chan *c, struct ipc_msg *req, struct ipc_msg *rep);
/*
 * A posted write (as PCI memory writes are): queue `req` (a write op) and
 * return without waiting for its reply, which a later call, post or read
 * collects. Requests stay in order, so a later read sees its effect. Waits
 * only when `slots` requests are outstanding. 0 or the channel's error.
 */
int ipc_chan__post(struct ipc_chan *c, struct ipc_msg *req);
/*
 * Wait (within the channel's timeout) until the device has answered every
 * posted write: what the guest wrote last before it stopped (a console's
 * final line) has then been handled. 0, or the channel's error.
 */
int ipc_chan__flush(struct ipc_chan *c);
/*
 * Answer a read from the device's published shadow of that register, if it
 * has one (same region, offset and size) and no outstanding posted write may
 * have changed it (a write at an offset in the shadow's `inval` mask, or
 * anywhere outside its first 32 bytes or in another region). True with
 * *val set; false: do a real read.
 */
bool ipc_chan__shadow_read(struct ipc_chan *c, uint32_t region, uint64_t off, uint32_t size,
			   uint64_t *val);

/* --- device side ---------------------------------------------------------- */

/* The eventfd to poll for requests. */
int ipc_chan__fd(const struct ipc_chan *c);
/* Next request, validated against the limits. 0, -EAGAIN, -EPROTO. */
int ipc_chan__recv(struct ipc_chan *c, struct ipc_msg *req);
/* Reply to `req`. 0 or -EPROTO (e.g. the vcpu side let the reply ring fill). */
int ipc_chan__reply(struct ipc_chan *c, const struct ipc_msg *req, uint64_t data, int32_t status);

/*
 * Before blocking in poll() on ipc_chan__fd() with other fds: announce
 * sleep. Returns true if it is safe to block, false if requests arrived
 * meanwhile (nothing announced then). After poll() returns, call disarm.
 */
bool ipc_chan__arm(struct ipc_chan *c);
void ipc_chan__disarm(struct ipc_chan *c);

/*
 * Publish the current value of a register whose reads have no side effect,
 * in shadow slot i (< IPC_MAX_SHADOWS): region, offset, size (1, 2, 4, 8;
 * 0 withdraws the slot), and `inval`: bit k set if a write at offset k
 * (k < 32) of the same region can change the value or this mask. Call it
 * whenever the value changes, before replying to the request that changed
 * it; the vcpu side then serves reads of it without a round trip.
 */
void ipc_chan__shadow_publish(struct ipc_chan *c, unsigned i, uint32_t region, uint32_t off,
			      uint32_t size, uint32_t inval, uint64_t value);

/* Handles one request: returns the status, sets *data for reads. */
typedef int32_t (*ipc_handler_fn)(void *opaque, const struct ipc_msg *req, uint64_t *data);

/*
 * Handle every pending request, then keep spinning for the adaptive window
 * and handle what arrives in it; return after IPC_SERVE_BUDGET requests at
 * most, so that a guest hammering a register cannot starve the device's
 * other fds. Returns the number handled or -errno (-EPROTO on a bad request:
 * the channel is then broken).
 */
#define IPC_SERVE_BUDGET 256
int ipc_chan__serve_spin(struct ipc_chan *c, ipc_handler_fn fn, void *opaque);

#endif
