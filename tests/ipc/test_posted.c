/* SPDX-License-Identifier: MIT */
/*
 * Posted writes and register shadows (ipc_chan__post, ipc_chan__shadow_*):
 * order is kept (a read after posted writes sees them), replies to posted
 * writes are collected and still validated, a stalled device is caught when
 * the ring fills, and a shadow answers a read only when no outstanding write
 * may have changed it. A hostile device can only lose the shortcut.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"

static uint64_t regs[2][64];

/* A register file: writes store, reads load; LSR-like shadow of reg 5. */
static int32_t handler(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	struct ipc_chan *d = opaque;
	uint64_t *r = &regs[req->region][req->off / 8 % 64];
	if (req->op == IPC_OP_MMIO_WRITE)
		*r = req->data;
	else
		*data = *r & (req->size == 8 ? ~0ULL : (1ULL << (8 * req->size)) - 1);
	ipc_chan__shadow_publish(d, 0, 0, 40, 1, 1u << 2, regs[0][5] & 0xff);
	return 0;
}

struct server {
	struct ipc_chan *d;
	volatile int stop;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!s->stop) {
		int r = ipc_chan__serve_spin(s->d, handler, s->d);
		if (r < 0)
			break;
	}
	return NULL;
}

static struct ipc_msg wr(uint32_t region, uint64_t off, uint64_t val)
{
	struct ipc_msg m = {
	    .op = IPC_OP_MMIO_WRITE, .region = region, .size = 8, .off = off, .data = val};
	return m;
}

static void test_order_kept(void **state)
{
	(void)state;
	struct pair p;
	struct server s;
	pthread_t t;
	memset(regs, 0, sizeof(regs));
	assert_int_equal(pair_open(&p, 8), 0);
	ipc_chan__set_spin(&p.d, 50, 50);
	s = (struct server){.d = &p.d};
	assert_int_equal(pthread_create(&t, NULL, serve, &s), 0);
	/* 1000 posted writes to one register (more than the ring holds), then a read */
	for (uint64_t i = 1; i <= 1000; i++) {
		struct ipc_msg m = wr(1, 16, i);
		assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	}
	struct ipc_msg q = {.op = IPC_OP_MMIO_READ, .region = 1, .size = 8, .off = 16}, rep;
	assert_int_equal(ipc_chan__call(&p.v, &q, &rep), 0);
	assert_int_equal(rep.data, 1000);
	assert_int_equal(p.v.next_seq, p.v.expect_seq); /* every reply collected */
	s.stop = 1;
	pthread_join(t, NULL);
	pair_close(&p);
}

static void test_post_refuses_reads(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open(&p, 8), 0);
	struct ipc_msg q = {.op = IPC_OP_MMIO_READ, .region = 0, .size = 4};
	assert_int_equal(ipc_chan__post(&p.v, &q), -EINVAL);
	assert_false(ipc_chan__broken(&p.v));
	pair_close(&p);
}

static void test_stalled_device(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open(&p, 4), 0);
	ipc_chan__set_timeout(&p.v, 20);
	ipc_chan__set_spin(&p.v, 0, 10);
	for (int i = 0; i < 4; i++) {
		struct ipc_msg m = wr(0, 0, (uint64_t)i);
		assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	}
	struct ipc_msg m = wr(0, 0, 9);
	assert_int_equal(ipc_chan__post(&p.v, &m), -ETIMEDOUT);
	assert_true(ipc_chan__broken(&p.v));
	assert_non_null(strstr(ipc_chan__why(&p.v), "posted write"));
	pair_close(&p);
}

/* A slow device: flush returns once every posted write was handled. */
static int32_t slow_handler(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	usleep(2000);
	return handler(opaque, req, data);
}

static void *serve_slow(void *arg)
{
	struct server *s = arg;
	while (!s->stop) {
		int r = ipc_chan__serve_spin(s->d, slow_handler, s->d);
		if (r < 0)
			break;
	}
	return NULL;
}

static void test_flush(void **state)
{
	(void)state;
	struct pair p;
	struct server s;
	pthread_t t;
	memset(regs, 0, sizeof(regs));
	assert_int_equal(pair_open(&p, 8), 0);
	ipc_chan__set_spin(&p.d, 50, 50);
	assert_int_equal(ipc_chan__flush(&p.v), 0); /* nothing outstanding */
	s = (struct server){.d = &p.d};
	assert_int_equal(pthread_create(&t, NULL, serve_slow, &s), 0);
	for (uint64_t i = 1; i <= 6; i++) {
		struct ipc_msg m = wr(1, 8 * i, i);
		assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	}
	assert_int_equal(ipc_chan__flush(&p.v), 0);
	assert_int_equal(p.v.next_seq, p.v.expect_seq);
	for (uint64_t i = 1; i <= 6; i++)
		assert_int_equal(regs[1][i], i); /* handled before flush returned */
	s.stop = 1;
	pthread_join(t, NULL);
	pair_close(&p);
}

/* A device that never answers: flush gives up after the timeout. */
static void test_flush_stalled(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open(&p, 4), 0);
	ipc_chan__set_timeout(&p.v, 20);
	ipc_chan__set_spin(&p.v, 0, 10);
	struct ipc_msg m = wr(0, 0, 1);
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_int_equal(ipc_chan__flush(&p.v), -ETIMEDOUT);
	assert_true(ipc_chan__broken(&p.v));
	pair_close(&p);
}

static void test_bad_reply_to_posted(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg m = wr(0, 0, 1), req;
	assert_int_equal(pair_open(&p, 8), 0);
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_int_equal(ipc_chan__recv(&p.d, &req), 0);
	/* a reply carrying data for a write: refused when collected */
	struct ipc_msg bad = {.op = IPC_OP_REPLY, .seq = req.seq, .size = 8, .data = 7};
	p.d.out_ring[p.d.out_head & (p.d.slots - 1)] = bad;
	p.d.out_head++;
	__atomic_store_n(&p.d.out_ctl->head, p.d.out_head, __ATOMIC_RELEASE);
	m = wr(0, 8, 2);
	assert_int_equal(ipc_chan__post(&p.v, &m), -EPROTO);
	assert_true(ipc_chan__broken(&p.v));
	pair_close(&p);
}

static void test_shadow(void **state)
{
	(void)state;
	struct pair p;
	struct ipc_msg req;
	uint64_t v = 0;
	assert_int_equal(pair_open(&p, 8), 0);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v)); /* nothing published */
	ipc_chan__shadow_publish(&p.d, 1, 0, 40, 1, 1u << 2, 0x1ff);
	assert_true(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	assert_int_equal(v, 0xff);				 /* masked to the access size */
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 2, &v)); /* another size */
	assert_false(ipc_chan__shadow_read(&p.v, 0, 41, 1, &v)); /* another offset */
	assert_false(ipc_chan__shadow_read(&p.v, 1, 40, 1, &v)); /* another region */

	/* a posted write outside the mask leaves it usable, one inside does not */
	struct ipc_msg m = wr(0, 0, 1);
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_true(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	m = wr(0, 2, 1);
	m.size = 1;
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	/* the device handles both and republishes: usable again */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ipc_chan__recv(&p.d, &req), 0);
		assert_int_equal(ipc_chan__reply(&p.d, &req, 0, 0), 0);
	}
	ipc_chan__shadow_publish(&p.d, 1, 0, 40, 1, 1u << 2, 0x21);
	assert_true(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	assert_int_equal(v, 0x21);
	assert_int_equal(p.v.next_seq, p.v.expect_seq);

	/* writes to another region, or beyond offset 31, always count */
	m = wr(1, 0, 1);
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	assert_int_equal(ipc_chan__recv(&p.d, &req), 0);
	assert_int_equal(ipc_chan__reply(&p.d, &req, 0, 0), 0);
	m = wr(0, 64, 1);
	assert_int_equal(ipc_chan__post(&p.v, &m), 0);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	assert_int_equal(ipc_chan__recv(&p.d, &req), 0);
	assert_int_equal(ipc_chan__reply(&p.d, &req, 0, 0), 0);
	assert_true(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));

	/* size 0 withdraws the slot */
	ipc_chan__shadow_publish(&p.d, 1, 0, 40, 0, 0, 0);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	pair_close(&p);
}

static void test_shadow_hostile(void **state)
{
	(void)state;
	struct pair p;
	uint64_t v = 0;
	assert_int_equal(pair_open(&p, 8), 0);
	struct ipc_shadow *sh = (struct ipc_shadow *)((uint8_t *)p.d.map + IPC_OFF_SHADOW);
	/* a lock held odd for ever: no hang, no answer */
	ipc_chan__shadow_publish(&p.d, 0, 0, 40, 1, 0, 0x60);
	__atomic_store_n(&sh[0].seq, 7, __ATOMIC_RELEASE);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	/* an impossible size or a huge region never matches a real access */
	for (unsigned i = 0; i < IPC_MAX_SHADOWS; i++) {
		sh[i] = (struct ipc_shadow){
		    .seq = 2, .region = 0, .off = 40, .size = 3, .value = ~0ULL};
	}
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 1, &v));
	assert_false(ipc_chan__shadow_read(&p.v, 0, 40, 4, &v));
	sh[3].size = 4;
	assert_true(ipc_chan__shadow_read(&p.v, 0, 40, 4, &v));
	assert_int_equal(v, 0xffffffffULL);
	assert_false(ipc_chan__broken(&p.v));
	/* the device side cannot publish beyond the slots */
	ipc_chan__shadow_publish(&p.d, IPC_MAX_SHADOWS, 0, 40, 1, 0, 1);
	/* and the vcpu side cannot publish at all */
	ipc_chan__shadow_publish(&p.v, 0, 0, 48, 1, 0, 1);
	assert_false(ipc_chan__shadow_read(&p.v, 0, 48, 1, &v));
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_kept),	   cmocka_unit_test(test_post_refuses_reads),
	    cmocka_unit_test(test_stalled_device), cmocka_unit_test(test_bad_reply_to_posted),
	    cmocka_unit_test(test_shadow),	   cmocka_unit_test(test_shadow_hostile),
	    cmocka_unit_test(test_flush),	   cmocka_unit_test(test_flush_stalled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
