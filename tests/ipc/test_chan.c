/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory channel in one process (both ends attached to the same
 * memfd): creation and seals, attach checks, wrap-around, full/empty, the
 * doorbell protocol, and a hostile peer scribbling indices, slots and header.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "helpers.h"

/* A hostile vcpu side writing a raw request into the ring. */
static void inject_req(struct ipc_chan *v, const struct ipc_msg *m)
{
	v->out_ring[v->out_head & (v->slots - 1)] = *m;
	v->out_head++;
	__atomic_store_n(&v->out_ctl->head, v->out_head, __ATOMIC_RELEASE);
}

/* A hostile device writing a raw reply. */
static void inject_rep(struct ipc_chan *d, const struct ipc_msg *m)
{
	d->out_ring[d->out_head & (d->slots - 1)] = *m;
	d->out_head++;
	__atomic_store_n(&d->out_ctl->head, d->out_head, __ATOMIC_RELEASE);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

static void test_create_sealed(void **state)
{
	(void)state;
	assert_int_equal(ipc_chan__create(0), -EINVAL);
	assert_int_equal(ipc_chan__create(3), -EINVAL);
	assert_int_equal(ipc_chan__create(2048), -EINVAL);
	int fd = ipc_chan__create(64);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((size_t)st.st_size, ipc_chan__layout_size(64));
	assert_int_equal(ftruncate(fd, 1 << 20), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	close(fd);
}

/* A memfd with a valid header and size, sealed with `seals` (or not sealable). */
static int fake_memfd(unsigned mfd_flags, int seals, uint32_t slots, uint32_t hdr_slots,
		      uint32_t magic)
{
	int fd = memfd_create("fake", MFD_CLOEXEC | mfd_flags);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)ipc_chan__layout_size(slots)), 0);
	struct ipc_shm_hdr h = {
	    .magic = magic, .version = IPC_VERSION, .slots = hdr_slots, .msg_size = 64};
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int try_attach(int memfd, char *err, size_t n)
{
	struct ipc_chan c;
	int b1 = eventfd(0, EFD_CLOEXEC), b2 = eventfd(0, EFD_CLOEXEC);
	int r = ipc_chan__attach(&c, memfd, b1, b2, IPC_SIDE_DEV, err, n);
	if (r == 0)
		ipc_chan__detach(&c);
	close(b1);
	close(b2);
	return r;
}

static void test_attach_refuses(void **state)
{
	(void)state;
	const int all = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	char err[160];
	int fd;

	/* the control: a well-formed one is accepted */
	fd = fake_memfd(MFD_ALLOW_SEALING, all, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), 0);
	close(fd);
	/* a memfd that can grow */
	fd = fake_memfd(MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_SEAL, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "size could change"));
	close(fd);
	/* unsealed, seals still addable */
	fd = fake_memfd(MFD_ALLOW_SEALING, 0, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EPERM);
	close(fd);
	/* sealed against resizing but not against more seals */
	fd = fake_memfd(MFD_ALLOW_SEALING, F_SEAL_SHRINK | F_SEAL_GROW, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EPERM);
	close(fd);
	/* not sealable at all (F_SEAL_SEAL only) */
	fd = fake_memfd(0, 0, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EPERM);
	close(fd);
	/* write-sealed: the rings could not be written */
	fd = fake_memfd(MFD_ALLOW_SEALING, all | F_SEAL_WRITE, 64, 64, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "write-sealed"));
	close(fd);
	/* bad magic, bad slot count, size not matching the slot count */
	fd = fake_memfd(MFD_ALLOW_SEALING, all, 64, 64, 0x12345678);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad header"));
	close(fd);
	fd = fake_memfd(MFD_ALLOW_SEALING, all, 64, 3, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "slot count"));
	close(fd);
	fd = fake_memfd(MFD_ALLOW_SEALING, all, 64, 1024, IPC_MAGIC);
	assert_int_equal(try_attach(fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected"));
	close(fd);
	/* not a memfd */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(try_attach(pfd[0], err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a sealable memfd"));
	close(pfd[0]);
	close(pfd[1]);
	/* doorbells: same fd twice, bad fd */
	struct ipc_chan c;
	fd = ipc_chan__create(8);
	int b = eventfd(0, 0);
	assert_int_equal(ipc_chan__attach(&c, fd, b, b, IPC_SIDE_VCPU, err, sizeof(err)), -EBADF);
	assert_int_equal(ipc_chan__attach(&c, fd, b, 1000, IPC_SIDE_VCPU, err, sizeof(err)),
			 -EBADF);
	/* attach makes the (blocking) bells non-blocking */
	int b2 = eventfd(0, 0);
	assert_int_equal(ipc_chan__attach(&c, fd, b, b2, IPC_SIDE_VCPU, err, sizeof(err)), 0);
	assert_true(fcntl(b, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(b2, F_GETFL) & O_NONBLOCK);
	ipc_chan__detach(&c);
	close(b);
	close(b2);
	close(fd);
}

/* Round trips through a 4-slot ring, with indices starting just below 2^32. */
static void run_wrap(uint32_t start)
{
	struct pair p;
	int fd = ipc_chan__create(4);
	assert_true(fd >= 0);
	/* what a previous user of the rings would have left: indices near 2^32 */
	uint8_t *m =
	    mmap(NULL, ipc_chan__layout_size(4), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	for (unsigned off = IPC_OFF_REQ_CTL; off <= IPC_OFF_REP_CTL; off += 128) {
		struct ipc_ring_ctl *ctl = (void *)(m + off);
		ctl->head = ctl->tail = start;
	}
	munmap(m, ipc_chan__layout_size(4));
	memset(&p, 0, sizeof(p));
	p.memfd = fd;
	p.bell_dev = eventfd(0, EFD_NONBLOCK);
	p.bell_vcpu = eventfd(0, EFD_NONBLOCK);
	char err[160];
	assert_int_equal(
	    ipc_chan__attach(&p.v, fd, p.bell_dev, p.bell_vcpu, IPC_SIDE_VCPU, err, 160), 0);
	assert_int_equal(
	    ipc_chan__attach(&p.d, fd, p.bell_dev, p.bell_vcpu, IPC_SIDE_DEV, err, 160), 0);
	struct ipc_region_limits lim;
	limits_two_mmio(&lim);
	ipc_chan__set_limits(&p.d, &lim);

	uint64_t sent = 0, got = 0, replied = 0;
	for (unsigned round = 0; round < 500; round++) {
		unsigned burst = 1 + round % 4;
		for (unsigned i = 0; i < burst; i++, sent++) {
			struct ipc_msg r =
			    mk_req(IPC_OP_MMIO_READ, sent & 1, (sent * 8) % 4096, 8, 0);
			assert_int_equal(ipc_chan__send(&p.v, &r), 0);
			assert_int_equal(r.seq, (uint32_t)(sent + 1));
		}
		struct ipc_msg q;
		while (ipc_chan__recv(&p.d, &q) == 0) {
			assert_int_equal(q.seq, (uint32_t)(got + 1));
			assert_int_equal(q.off, (got * 8) % 4096);
			assert_int_equal(ipc_chan__reply(&p.d, &q, mix64(got), 0), 0);
			got++;
		}
		assert_false(ipc_chan__broken(&p.d));
		struct ipc_msg rep;
		while (ipc_chan__poll_reply(&p.v, &rep) == 0) {
			assert_int_equal(rep.data, mix64(replied));
			replied++;
		}
		assert_false(ipc_chan__broken(&p.v));
		assert_int_equal(replied, sent);
	}
	assert_int_equal(got, sent);
	/* the shared indices really wrapped */
	if (start)
		assert_true(p.v.out_head < start);
	pair_close(&p);
}

static void test_wrap_around(void **state)
{
	(void)state;
	run_wrap(0);
	run_wrap(0xfffffff0u);
}

static void test_full_empty(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	assert_int_equal(pair_open(&p, 4), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EAGAIN);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), -EAGAIN);
	for (int i = 0; i < 4; i++) {
		q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, (uint64_t)i);
		assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	}
	q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 9);
	assert_int_equal(ipc_chan__send(&p.v, &q), -EAGAIN); /* full is not an error */
	assert_false(ipc_chan__broken(&p.v));
	/* the device drains; the vcpu still may not send: 4 replies outstanding */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
		assert_int_equal(q.data, (uint64_t)i);
	}
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EAGAIN);
	q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 9);
	assert_int_equal(ipc_chan__send(&p.v, &q), -EAGAIN);
	for (uint32_t s = 1; s <= 4; s++) {
		struct ipc_msg r = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 0);
		r.seq = s;
		assert_int_equal(ipc_chan__reply(&p.d, &r, 0, 0), 0);
	}
	for (uint32_t s = 1; s <= 4; s++) {
		assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
		assert_int_equal(rep.seq, s);
	}
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), -EAGAIN);
	q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 9);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	/* wrong side */
	assert_int_equal(ipc_chan__recv(&p.v, &q), -EINVAL);
	assert_int_equal(ipc_chan__send(&p.d, &q), -EINVAL);
	pair_close(&p);
}

/* A sender rings the eventfd only when the receiver announced sleep. */
static void test_doorbell(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q;
	assert_int_equal(pair_open(&p, 8), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_false(readable(ipc_chan__fd(&p.d))); /* device was not sleeping */
	assert_false(ipc_chan__arm(&p.d));	    /* a request is pending: do not sleep */
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	assert_true(ipc_chan__arm(&p.d)); /* empty: sleeping announced */
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_true(readable(ipc_chan__fd(&p.d)));
	ipc_chan__disarm(&p.d);
	assert_false(readable(ipc_chan__fd(&p.d))); /* drained */
	assert_int_equal(p.d.in_ctl->sleeping, 0);
	/* wait() finds the pending request without sleeping */
	assert_int_equal(ipc_chan__wait(&p.d, 1000), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	/* nothing pending, no spin: wait times out, channel stays usable */
	ipc_chan__set_spin(&p.d, 0, 0);
	assert_int_equal(ipc_chan__wait(&p.d, 10), -ETIMEDOUT);
	assert_false(ipc_chan__broken(&p.d));
	assert_int_equal(ipc_chan__wait(&p.d, 0), -ETIMEDOUT);
	pair_close(&p);
}

/* Pipe doorbells: the same protocol, each side holding only its own ends. */
static void test_doorbell_pipes(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	assert_int_equal(pair_open_pipes(&p, 8), 0);
	assert_int_equal(ipc_chan__fd(&p.d), p.pipe_dev[0]);
	assert_true(ipc_chan__arm(&p.d));
	q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 1, 1);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_true(readable(p.pipe_dev[0]));
	ipc_chan__disarm(&p.d);
	assert_false(readable(p.pipe_dev[0]));
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	/* the vcpu side sleeps: the reply rings its pipe */
	assert_true(ipc_chan__arm(&p.v));
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), 0);
	assert_true(readable(p.pipe_vcpu[0]));
	ipc_chan__disarm(&p.v);
	assert_false(readable(p.pipe_vcpu[0]));
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
	/* a flood of rings from a hostile peer neither blocks nor breaks anything */
	uint64_t one = 1;
	while (write(p.pipe_vcpu[1], &one, 8) == 8)
		;
	assert_true(ipc_chan__arm(&p.d));
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), 0); /* pipe full: EAGAIN ignored */
	ipc_chan__disarm(&p.d);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
	pair_close(&p);
}

static int32_t echo_handler(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	int *calls = opaque;
	(*calls)++;
	if (req->op == IPC_OP_MMIO_READ)
		*data = req->off + 0x100;
	return req->region == 1 ? -22 : 0;
}

static void test_serve_spin(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	int calls = 0;
	assert_int_equal(pair_open(&p, 8), 0);
	for (int i = 0; i < 3; i++) {
		q = mk_req(IPC_OP_MMIO_READ, i == 2, (uint64_t)i * 4, 4, 0);
		assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	}
	ipc_chan__set_spin(&p.d, 0, 0);
	assert_int_equal(ipc_chan__serve_spin(&p.d, echo_handler, &calls), 3);
	assert_int_equal(calls, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
		assert_int_equal(rep.status, i == 2 ? -22 : 0);
		assert_int_equal(rep.data, i == 2 ? 0 : (uint64_t)i * 4 + 0x100);
	}
	/* with a spin window and nothing coming, it returns after the window */
	ipc_chan__set_spin(&p.d, 5, 5);
	assert_int_equal(ipc_chan__serve_spin(&p.d, echo_handler, &calls), 0);
	pair_close(&p);
}

/* A flood is served in budgets, so the device's other fds get their turn. */
static void test_serve_budget(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	int calls = 0;
	assert_int_equal(pair_open(&p, 1024), 0);
	for (int i = 0; i < 300; i++) {
		q = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 1);
		assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	}
	ipc_chan__set_spin(&p.d, 0, 0);
	assert_int_equal(ipc_chan__serve_spin(&p.d, echo_handler, &calls), IPC_SERVE_BUDGET);
	assert_int_equal(ipc_chan__serve_spin(&p.d, echo_handler, &calls), 300 - IPC_SERVE_BUDGET);
	assert_int_equal(calls, 300);
	for (int i = 0; i < 300; i++)
		assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), -EAGAIN);
	pair_close(&p);
}

static void test_call_timeout(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	assert_int_equal(pair_open(&p, 8), 0);
	ipc_chan__set_timeout(&p.v, 20);
	ipc_chan__set_spin(&p.v, 0, 10);
	q = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	assert_int_equal(ipc_chan__call(&p.v, &q, &rep), -ETIMEDOUT);
	assert_true(ipc_chan__broken(&p.v));
	assert_non_null(strstr(ipc_chan__why(&p.v), "no reply"));
	/* a late reply cannot be mistaken for the next call's */
	assert_int_equal(ipc_chan__call(&p.v, &q, &rep), -ETIMEDOUT);
	pair_close(&p);
}

static void expect_dev_rejects(const struct ipc_msg *m, const char *needle)
{
	struct pair p;
	struct ipc_msg q;
	assert_int_equal(pair_open(&p, 8), 0);
	inject_req(&p.v, m);
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EPROTO);
	assert_true(ipc_chan__broken(&p.d));
	assert_non_null(strstr(ipc_chan__why(&p.d), needle));
	/* stays broken */
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EPROTO);
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), -EPROTO);
	pair_close(&p);
}

static void test_malformed_requests(void **state)
{
	(void)state;
	struct ipc_msg m = mk_req(IPC_OP_MMIO_READ, 2, 0, 4, 0);
	expect_dev_rejects(&m, "region 2 out of range");
	m = mk_req(IPC_OP_MMIO_READ, 0, 4095, 4, 0);
	expect_dev_rejects(&m, "outside region");
	m = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 16, 0);
	expect_dev_rejects(&m, "size 16");
	m = mk_req(IPC_OP_REPLY, 0, 0, 4, 0);
	expect_dev_rejects(&m, "unknown op");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	m.reserved[1] = 0xff;
	expect_dev_rejects(&m, "reserved");
}

static void test_corrupt_indices_device(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q;
	/* head too far ahead of tail */
	assert_int_equal(pair_open(&p, 8), 0);
	__atomic_store_n(&p.v.out_ctl->head, 9, __ATOMIC_RELEASE);
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.d), "producer index 9 inconsistent"));
	pair_close(&p);
	/* head moved backwards below tail */
	assert_int_equal(pair_open(&p, 8), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	__atomic_store_n(&p.v.out_ctl->head, 0, __ATOMIC_RELEASE);
	assert_int_equal(ipc_chan__recv(&p.d, &q), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.d), "inconsistent"));
	pair_close(&p);
	/* the vcpu side moves the reply ring's tail past what the device wrote */
	assert_int_equal(pair_open(&p, 8), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	__atomic_store_n(&p.d.out_ctl->tail, 5, __ATOMIC_RELEASE);
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.d), "consumer index 5 inconsistent"));
	pair_close(&p);
	/* a wildly wrong tail */
	assert_int_equal(pair_open(&p, 8), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	__atomic_store_n(&p.d.out_ctl->tail, 0x80000000u, __ATOMIC_RELEASE);
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), -EPROTO);
	pair_close(&p);
}

static void test_corrupt_indices_vcpu(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	/* the device moves the request ring's tail ahead of head */
	assert_int_equal(pair_open(&p, 8), 0);
	__atomic_store_n(&p.d.in_ctl->tail, 3, __ATOMIC_RELEASE);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.v), "consumer index 3 inconsistent"));
	assert_int_equal(ipc_chan__call(&p.v, &q, &rep), -EPROTO);
	pair_close(&p);
	/* the device never consumes but the ring is "full" with one outstanding */
	assert_int_equal(pair_open(&p, 4), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	__atomic_store_n(&p.d.in_ctl->tail, (uint32_t)-3, __ATOMIC_RELEASE); /* moves back */
	assert_int_equal(ipc_chan__send(&p.v, &q), -EPROTO);
	pair_close(&p);
	/* reply ring head far ahead */
	assert_int_equal(pair_open(&p, 8), 0);
	q = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	__atomic_store_n(&p.d.out_ctl->head, 1000, __ATOMIC_RELEASE);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.v), "producer index 1000"));
	pair_close(&p);
}

static void expect_vcpu_rejects(const struct ipc_msg *req, const struct ipc_msg *rep,
				const char *needle)
{
	struct pair p;
	struct ipc_msg q = *req, r;
	assert_int_equal(pair_open(&p, 8), 0);
	if (req->op)
		assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	inject_rep(&p.d, rep);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &r), -EPROTO);
	assert_non_null(strstr(ipc_chan__why(&p.v), needle));
	assert_int_equal(ipc_chan__poll_reply(&p.v, &r), -EPROTO);
	pair_close(&p);
}

static void test_malformed_replies(void **state)
{
	(void)state;
	struct ipc_msg rd = mk_req(IPC_OP_MMIO_READ, 0, 0, 2, 0), none = {0}, rep;
	rd.seq = 1;
	ipc_msg__make_reply(&rep, &rd, 0xbeef, 0);
	expect_vcpu_rejects(&none, &rep, "unsolicited");
	rep.seq = 2;
	expect_vcpu_rejects(&rd, &rep, "seq 2, expected 1");
	rep.seq = 1;
	rep.data = 0x10000;
	expect_vcpu_rejects(&rd, &rep, "wider than 2 bytes");
	rep.data = 1;
	rep.size = 8;
	expect_vcpu_rejects(&rd, &rep, "size 8, expected 2");
	rep.size = 2;
	rep.op = IPC_OP_MMIO_WRITE;
	expect_vcpu_rejects(&rd, &rep, "not a reply");
	rep.op = IPC_OP_REPLY;
	rep.status = 1;
	expect_vcpu_rejects(&rd, &rep, "not 0 or -errno");
	/* a write gets no data back */
	struct ipc_msg wr = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 7);
	wr.seq = 1;
	ipc_msg__make_reply(&rep, &wr, 0, 0);
	rep.data = 1;
	expect_vcpu_rejects(&wr, &rep, "wider than 0 bytes");
}

/* The header is read once at attach: scribbling it later changes nothing. */
static void test_header_scribble(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg q, rep;
	char err[160];
	assert_int_equal(pair_open(&p, 8), 0);
	struct ipc_shm_hdr *h = p.d.map;
	h->slots = 1024;
	h->magic = 0;
	memset(p.v.in_ring, 0xff, 8 * sizeof(struct ipc_msg)); /* stale garbage in reply slots */
	q = mk_req(IPC_OP_MMIO_WRITE, 1, 8, 8, 42);
	assert_int_equal(ipc_chan__send(&p.v, &q), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &q), 0);
	assert_int_equal(ipc_chan__reply(&p.d, &q, 0, 0), 0);
	assert_int_equal(ipc_chan__poll_reply(&p.v, &rep), 0);
	assert_int_equal(p.v.slots, 8);
	/* but a new attach refuses the scribbled header */
	struct ipc_chan c;
	assert_int_equal(
	    ipc_chan__attach(&c, p.memfd, p.bell_dev, p.bell_vcpu, IPC_SIDE_DEV, err, sizeof(err)),
	    -EINVAL);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_sealed),
	    cmocka_unit_test(test_attach_refuses),
	    cmocka_unit_test(test_wrap_around),
	    cmocka_unit_test(test_full_empty),
	    cmocka_unit_test(test_doorbell),
	    cmocka_unit_test(test_doorbell_pipes),
	    cmocka_unit_test(test_serve_spin),
	    cmocka_unit_test(test_serve_budget),
	    cmocka_unit_test(test_call_timeout),
	    cmocka_unit_test(test_malformed_requests),
	    cmocka_unit_test(test_corrupt_indices_device),
	    cmocka_unit_test(test_corrupt_indices_vcpu),
	    cmocka_unit_test(test_malformed_replies),
	    cmocka_unit_test(test_header_scribble),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
