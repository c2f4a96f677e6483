/* SPDX-License-Identifier: MIT */
/*
 * A hostile peer thread producing messages *while* the other side reads, and
 * now and then rewriting a field of a slot in place (possibly while the
 * reader copies it) or publishing a wrong index for a moment. Every message
 * a reader accepts must satisfy the validator (it checked a private copy, so
 * no double fetch can let a bad value through); every corruption it notices
 * breaks the channel with a reason; nothing crashes or hangs. Each episode
 * uses a fresh channel (as a restarted device would) and ends when the
 * reader breaks.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "helpers.h"

#define SLOTS	      8u
#define WANT_ACCEPTED 20000u
#define WANT_BROKEN   30u
#define MAX_EPISODES  5000u
#define EPISODE_ITER  20000u

struct scribbler {
	uint8_t *raw;
	enum ipc_side victim;
	uint64_t seed;
	volatile int stop;
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* After producing one message: maybe corrupt a slot field or the index. */
static void maybe_corrupt(struct ipc_msg *ring, uint32_t *head, uint32_t good_head, uint64_t *x)
{
	uint64_t r = xorshift(x);
	if (r % 64 == 0) {
		uint32_t *w = (uint32_t *)&ring[(r >> 8) % SLOTS] + (r >> 16) % 16;
		__atomic_store_n(w, (uint32_t)(r >> 32) % 64, __ATOMIC_RELAXED);
	} else if (r % 4096 == 1) {
		__atomic_store_n(head, (uint32_t)(r >> 32), __ATOMIC_RELAXED);
		for (int i = 0; i < 64; i++)
			ipc__cpu_relax();
		__atomic_store_n(head, good_head, __ATOMIC_RELEASE);
	}
}

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	struct ipc_ring_ctl *req = (void *)(s->raw + IPC_OFF_REQ_CTL);
	struct ipc_ring_ctl *rep = (void *)(s->raw + IPC_OFF_REP_CTL);
	struct ipc_msg *req_ring = (void *)(s->raw + IPC_OFF_RINGS), *rep_ring = req_ring + SLOTS;
	uint32_t head = 0, req_tail = 0, seq = 1;
	uint64_t x = 0x1234567887654321ull ^ (s->seed * 0x9e3779b97f4a7c15ull);

	while (!s->stop) {
		struct ipc_msg m;
		memset(&m, 0, sizeof(m));
		if (s->victim == IPC_SIDE_DEV) {
			/* a vcpu side: eat the replies, send requests while there is room */
			__atomic_store_n(&rep->tail, __atomic_load_n(&rep->head, __ATOMIC_ACQUIRE),
					 __ATOMIC_RELEASE);
			if (head - __atomic_load_n(&req->tail, __ATOMIC_ACQUIRE) >= SLOTS) {
				sched_yield(); /* the reader may share our CPU */
				continue;
			}
			uint64_t r = xorshift(&x);
			m.op = IPC_OP_MMIO_WRITE;
			m.seq = seq++;
			m.region = r & 1;
			m.size = 4;
			m.off = (r >> 8) % 1024 * 4;
			m.data = (r >> 20) & 0xffffffff;
			req_ring[head % SLOTS] = m;
			__atomic_store_n(&req->head, ++head, __ATOMIC_RELEASE);
			maybe_corrupt(req_ring, &req->head, head, &x);
		} else {
			/* a device: answer what the vcpu side sent */
			uint32_t h = __atomic_load_n(&req->head, __ATOMIC_ACQUIRE);
			if (h == req_tail) {
				sched_yield(); /* the reader may share our CPU */
				continue;
			}
			struct ipc_msg q = req_ring[req_tail % SLOTS];
			__atomic_store_n(&req->tail, ++req_tail, __ATOMIC_RELEASE);
			m.op = IPC_OP_REPLY;
			m.seq = q.seq;
			m.size = 4;
			m.data = xorshift(&x) & 0xffffffff;
			rep_ring[head % SLOTS] = m;
			__atomic_store_n(&rep->head, ++head, __ATOMIC_RELEASE);
			maybe_corrupt(rep_ring, &rep->head, head, &x);
		}
	}
	return NULL;
}

/* One episode on a fresh channel; adds to *accepted and *broken. */
static void episode(enum ipc_side side, unsigned seed, uint64_t *accepted, uint64_t *broken)
{
	int memfd = ipc_chan__create(SLOTS);
	assert_true(memfd >= 0);
	int b1 = eventfd(0, EFD_NONBLOCK), b2 = eventfd(0, EFD_NONBLOCK);
	size_t len = ipc_chan__layout_size(SLOTS);
	struct scribbler s = {.victim = side, .seed = seed + 1};
	s.raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(s.raw != MAP_FAILED);
	struct ipc_region_limits lim;
	limits_two_mmio(&lim);
	struct ipc_chan c;
	char err[160];
	assert_int_equal(ipc_chan__attach(&c, memfd, b1, b2, side, err, sizeof(err)), 0);
	ipc_chan__set_limits(&c, &lim);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, scribble, &s), 0);

	for (unsigned i = 0; i < EPISODE_ITER; i++) {
		struct ipc_msg m;
		int r;
		if (side == IPC_SIDE_DEV) {
			r = ipc_chan__recv(&c, &m);
			if (r == 0) {
				assert_true(ipc_msg__check_request(&m, &lim, NULL, 0));
				(*accepted)++;
				r = ipc_chan__reply(&c, &m, 0, 0);
			}
		} else {
			struct ipc_msg q = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
			r = ipc_chan__send(&c, &q);
			if (r == 0 || r == -EAGAIN)
				r = ipc_chan__poll_reply(&c, &m);
			if (r == 0) {
				assert_int_equal(m.op, IPC_OP_REPLY);
				assert_true(m.data <= 0xffffffffu);
				assert_int_equal(m.size, 4);
				(*accepted)++;
			}
		}
		assert_true(r == 0 || r == -EAGAIN || r == -EPROTO);
		if (r == -EAGAIN)
			sched_yield(); /* the peer thread may share our CPU */
		if (r == -EPROTO) {
			assert_true(ipc_chan__broken(&c));
			assert_true(ipc_chan__why(&c)[0] != '\0');
			if ((*broken)++ < 2)
				print_message("  break: %s\n", ipc_chan__why(&c));
			break;
		}
	}
	s.stop = 1;
	pthread_join(th, NULL);
	ipc_chan__detach(&c);
	munmap(s.raw, len);
	close(memfd);
	close(b1);
	close(b2);
}

static void run_race(enum ipc_side side)
{
	uint64_t accepted = 0, broken = 0;
	unsigned n;
	for (n = 0; n < MAX_EPISODES && (accepted < WANT_ACCEPTED || broken < WANT_BROKEN); n++)
		episode(side, n, &accepted, &broken);
	print_message("side %d: %u episodes, %llu accepted, %llu breaks\n", (int)side, n,
		      (unsigned long long)accepted, (unsigned long long)broken);
	/* both outcomes happened: accepted messages and detected corruption */
	assert_true(accepted >= WANT_ACCEPTED);
	assert_true(broken >= WANT_BROKEN);
}

static void test_race_device_reader(void **state)
{
	(void)state;
	run_race(IPC_SIDE_DEV);
}

static void test_race_vcpu_reader(void **state)
{
	(void)state;
	run_race(IPC_SIDE_VCPU);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_race_device_reader),
	    cmocka_unit_test(test_race_vcpu_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
