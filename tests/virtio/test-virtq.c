/* SPDX-License-Identifier: MIT */
/* Split virtqueue walker: well-formed chains and hostile ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdrv.h"

#define QS 8

struct fx {
	struct vdrv d;
	struct virtq vq;
	struct virtq_req req;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	vdrv__init_ram(&f->d);
	f->d.qsize = QS;
	assert_int_equal(virtq__init(&f->vq, &f->d.env.ram, QS, VDRV_DESC(0), VDRV_AVAIL(0),
				     VDRV_USED(0), false, true),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vdrv__free_ram(&f->d);
	free(f);
	return 0;
}

static void test_init_rejects(void **state)
{
	struct fx *f = *state;
	const struct gmem *ram = &f->d.env.ram;
	struct virtq vq;
	assert_int_equal(virtq__init(&vq, ram, 0, 0, 0x1000, 0x2000, 0, 0), -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, 6, 0, 0x1000, 0x2000, 0, 0), -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, VIRTQ_MAX_SIZE * 2, 0, 0x1000, 0x2000, 0, 0),
			 -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, 8, 8, 0x1000, 0x2000, 0, 0), -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, 8, 0, 0x1001, 0x2000, 0, 0), -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, 8, 0, 0x1000, 0x2002, 0, 0), -EINVAL);
	/* used ring running off the end of RAM */
	assert_int_equal(virtq__init(&vq, ram, 8, 0, 0x1000, VDRV_RAM_SIZE - 8, 0, 0), -EINVAL);
	/* wrap-around and far-away addresses */
	assert_int_equal(virtq__init(&vq, ram, 8, 0xfffffffffffffff0ull, 0x1000, 0x2000, 0, 0),
			 -EINVAL);
	/* used ring on top of the descriptor table */
	assert_int_equal(virtq__init(&vq, ram, 8, 0, 0x1000, 0x40, 0, 0), -EINVAL);
	assert_int_equal(virtq__init(&vq, ram, 8, 0, 0x1000, 0x2000, 0, 0), 0);
}

static void test_pop_empty(void **state)
{
	struct fx *f = *state;
	assert_int_equal(virtq__pop(&f->vq, &f->req), 0);
}

static void test_pop_direct(void **state)
{
	struct fx *f = *state;
	struct vbuf b[3] = {{VDRV_DATA, 16, false},
			    {VDRV_DATA + 0x1000, 512, false},
			    {VDRV_DATA + 0x2000, 1, true}};
	uint16_t head = vdrv__add(&f->d, 0, b, 3, false);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	assert_int_equal(f->req.head, head);
	assert_int_equal(f->req.nread, 2);
	assert_int_equal(f->req.nwrite, 1);
	assert_int_equal(f->req.read_len, 528);
	assert_int_equal(f->req.write_len, 1);
	assert_ptr_equal(f->req.iov[0].iov_base, f->d.mem + VDRV_DATA);
	assert_ptr_equal(f->req.iov[1].iov_base, f->d.mem + VDRV_DATA + 0x1000);
	assert_ptr_equal(f->req.iov[2].iov_base, f->d.mem + VDRV_DATA + 0x2000);
	assert_int_equal(f->req.iov[1].iov_len, 512);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 0);
}

static void test_pop_indirect(void **state)
{
	struct fx *f = *state;
	struct vbuf b[3] = {{VDRV_DATA, 16, false},
			    {VDRV_DATA + 0x1000, 4096, true},
			    {VDRV_DATA + 0x3000, 1, true}};
	vdrv__add(&f->d, 0, b, 3, true);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	assert_int_equal(f->req.nread, 1);
	assert_int_equal(f->req.nwrite, 2);
	assert_int_equal(f->req.write_len, 4097);
	assert_ptr_equal(f->req.iov[2].iov_base, f->d.mem + VDRV_DATA + 0x3000);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	f->vq.indirect = false;
	struct vbuf b[1] = {{VDRV_DATA, 16, false}};
	vdrv__add(&f->d, 0, b, 1, true);
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
}

static void test_zero_length_skipped(void **state)
{
	struct fx *f = *state;
	struct vbuf b[3] = {{VDRV_DATA, 0, false}, {VDRV_DATA, 16, false}, {0xdead0000, 0, true}};
	vdrv__add(&f->d, 0, b, 3, false);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	assert_int_equal(f->req.nread, 1);
	assert_int_equal(f->req.nwrite, 0);
}

/* Publish head 0 after `fn` wrote hostile descriptors: the walk must refuse. */
static void expect_proto(struct fx *f)
{
	vdrv__publish(&f->d, 0, 0);
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
}

static void test_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(0));
	avail[1] = QS + 1;
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
	avail[1] = 0xffff; /* "negative" jump */
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;
	vdrv__publish(&f->d, 0, QS);
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
}

static void test_next_out_of_range(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, QS);
	expect_proto(f);
}

static void test_loop(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	vdrv__desc(&f->d, 0, 1, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	expect_proto(f);
}

static void test_self_loop(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	expect_proto(f);
}

static void test_write_before_read(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	vdrv__desc(&f->d, 0, 1, VDRV_DATA + 16, 16, 0, 0);
	expect_proto(f);
}

static void test_outside_ram(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_RAM_SIZE, 1, 0, 0);
	expect_proto(f);
}

static void test_straddles_end(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_RAM_SIZE - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_proto(f);
}

static void test_huge_length(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 0xffffffffu, 0, 0);
	expect_proto(f);
}

static void test_wrapping_address(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, 0xffffffffffffff00ull, 0x200, 0, 0);
	expect_proto(f);
}

static void test_overlaps_desc(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_DESC(0) + 16, 16, VIRTQ_DESC_F_WRITE, 0);
	expect_proto(f);
}

static void test_overlaps_avail(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_AVAIL(0) - 8, 16, 0, 0);
	expect_proto(f);
}

static void test_overlaps_used(void **state)
{
	struct fx *f = *state;
	/* last byte of the used ring (avail_event) */
	vdrv__desc(&f->d, 0, 0, VDRV_USED(0) + 6 + 8 * QS - 1, 1, VIRTQ_DESC_F_WRITE, 0);
	expect_proto(f);
}

static void test_indirect_bad_len(void **state)
{
	struct fx *f = *state;
	uint32_t lens[] = {0, 15, 24, 16 * (QS + 1)};
	for (unsigned i = 0; i < 4; i++) {
		vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), lens[i], VIRTQ_DESC_F_INDIRECT, 0);
		expect_proto(f);
		f->vq.last_avail = f->vq.avail_shadow; /* step past it for the next case */
	}
}

static void test_indirect_outside_ram(void **state)
{
	struct fx *f = *state;
	vdrv__desc(&f->d, 0, 0, VDRV_RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_proto(f);
}

static void test_indirect_nested(void **state)
{
	struct fx *f = *state;
	struct virtq_desc t[2] = {{VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 1},
				  {VDRV_SCRATCH(0) + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	expect_proto(f);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	struct virtq_desc t[1] = {{VDRV_DATA, 16, 0, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	vdrv__desc(&f->d, 0, 1, VDRV_DATA, 16, 0, 0);
	expect_proto(f);
}

static void test_indirect_after_direct(void **state)
{
	struct fx *f = *state;
	/* valid, if unusual: direct descriptors, then one indirect (2.7.5.3.2) */
	struct virtq_desc t[2] = {{VDRV_DATA + 0x100, 32, VIRTQ_DESC_F_NEXT, 1},
				  {VDRV_DATA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	/* the WRITE flag of the pointer descriptor is ignored */
	vdrv__desc(&f->d, 0, 1, VDRV_SCRATCH(0), sizeof(t),
		   VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	vdrv__publish(&f->d, 0, 0);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	assert_int_equal(f->req.nread, 2);
	assert_int_equal(f->req.nwrite, 1);
	assert_int_equal(f->req.read_len, 48);
	assert_ptr_equal(f->req.iov[1].iov_base, f->d.mem + VDRV_DATA + 0x100);
	assert_ptr_equal(f->req.iov[2].iov_base, f->d.mem + VDRV_DATA + 0x200);
}

static void test_indirect_after_writable(void **state)
{
	struct fx *f = *state;
	/* a readable buffer in the table after a writable direct one */
	struct virtq_desc t[1] = {{VDRV_DATA + 0x100, 32, 0, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	vdrv__desc(&f->d, 0, 1, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	expect_proto(f);
}

static void test_indirect_full_table(void **state)
{
	struct fx *f = *state;
	/* a table of exactly queue-size entries is fine from the head ... */
	struct virtq_desc t[QS];
	for (unsigned i = 0; i < QS; i++)
		t[i] = (struct virtq_desc){VDRV_DATA + 64 * i, 64, VIRTQ_DESC_F_NEXT, i + 1};
	t[QS - 1].flags = VIRTQ_DESC_F_WRITE;
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	vdrv__publish(&f->d, 0, 0);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	assert_int_equal(f->req.nread + f->req.nwrite, QS);
	/* ... but not after a direct descriptor: the chain would exceed the queue size */
	vdrv__desc(&f->d, 0, 1, VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 2);
	vdrv__desc(&f->d, 0, 2, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	vdrv__publish(&f->d, 0, 1);
	assert_int_equal(virtq__pop(&f->vq, &f->req), -EPROTO);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	struct virtq_desc t[2] = {{VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 1},
				  {VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	expect_proto(f);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;
	struct virtq_desc t[2] = {{VDRV_DATA, 16, VIRTQ_DESC_F_NEXT, 2}, {VDRV_DATA, 16, 0, 0}};
	memcpy(vdrv__ptr(&f->d, VDRV_SCRATCH(0)), t, sizeof(t));
	vdrv__desc(&f->d, 0, 0, VDRV_SCRATCH(0), sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
	expect_proto(f);
}

static void test_push_and_notify(void **state)
{
	struct fx *f = *state;
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(0));
	uint32_t id, len;
	virtq__push(&f->vq, 5, 77);
	assert_true(vdrv__used(&f->d, 0, &id, &len));
	assert_int_equal(id, 5);
	assert_int_equal(len, 77);
	assert_true(virtq__should_notify(&f->vq));
	avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq__push(&f->vq, 6, 0);
	assert_false(virtq__should_notify(&f->vq));
	assert_true(vdrv__used(&f->d, 0, &id, &len));
	assert_int_equal(id, 6);
	/* used ring wraps around the queue size */
	for (unsigned i = 0; i < 3 * QS; i++) {
		virtq__push(&f->vq, i % QS, i);
		assert_true(vdrv__used(&f->d, 0, &id, &len));
		assert_int_equal(len, i);
	}
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;
	uint16_t *avail = vdrv__ptr(&f->d, VDRV_AVAIL(0));
	uint16_t *used = vdrv__ptr(&f->d, VDRV_USED(0));
	f->vq.event_idx = true;
	avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored with EVENT_IDX */
	avail[2 + QS] = 2;		       /* used_event: interrupt when used idx passes 2 */
	virtq__push(&f->vq, 0, 0);
	assert_true(virtq__should_notify(&f->vq)); /* first one always */
	virtq__push(&f->vq, 1, 0);		   /* used idx 2: crossed? new-1-event = -1 */
	assert_false(virtq__should_notify(&f->vq));
	virtq__push(&f->vq, 2, 0); /* used idx 3 > used_event 2 */
	assert_true(virtq__should_notify(&f->vq));
	virtq__push(&f->vq, 3, 0);
	assert_false(virtq__should_notify(&f->vq));
	/* avail_event follows what the device consumed */
	struct vbuf b[1] = {{VDRV_DATA, 16, false}};
	f->d.qsize = QS;
	vdrv__add(&f->d, 0, b, 1, false);
	assert_int_equal(virtq__pop(&f->vq, &f->req), 1);
	virtq__disable_notify(&f->vq); /* nothing to do with EVENT_IDX */
	assert_int_equal(used[0], 0);
	virtq__enable_notify(&f->vq);
	assert_int_equal(used[2 + 4 * QS], 1);
}

static void test_no_notify_flag(void **state)
{
	struct fx *f = *state;
	uint16_t *used = vdrv__ptr(&f->d, VDRV_USED(0));
	virtq__disable_notify(&f->vq);
	assert_int_equal(used[0], VIRTQ_USED_F_NO_NOTIFY);
	virtq__enable_notify(&f->vq);
	assert_int_equal(used[0], 0);
	assert_int_equal(used[2 + 4 * QS], 0); /* avail_event untouched without EVENT_IDX */
}

static void test_iov_helpers(void **state)
{
	(void)state;
	uint8_t a[4] = {1, 2, 3, 4}, b[3] = {5, 6, 7}, out[7];
	struct iovec iov[2] = {{a, 4}, {b, 3}}, s[2];
	assert_int_equal(iov__to_buf(iov, 2, 2, out, 4), 4);
	assert_memory_equal(out, ((uint8_t[]){3, 4, 5, 6}), 4);
	assert_int_equal(iov__to_buf(iov, 2, 6, out, 4), 1);
	assert_int_equal(iov__slice(iov, 2, 3, 3, s, 2), 2);
	assert_ptr_equal(s[0].iov_base, a + 3);
	assert_int_equal(s[0].iov_len, 1);
	assert_int_equal(s[1].iov_len, 2);
	assert_int_equal(iov__slice(iov, 2, 3, 5, s, 2), -1); /* past the end */
	assert_int_equal(iov__slice(iov, 2, 3, 3, s, 1), -1); /* too many pieces */
	assert_int_equal(iov__from_buf(iov, 2, 3, (uint8_t[]){9, 9}, 2), 2);
	assert_int_equal(a[3], 9);
	assert_int_equal(b[0], 9);
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_rejects),
	    T(test_pop_empty),
	    T(test_pop_direct),
	    T(test_pop_indirect),
	    T(test_indirect_not_negotiated),
	    T(test_zero_length_skipped),
	    T(test_avail_idx_jump),
	    T(test_head_out_of_range),
	    T(test_next_out_of_range),
	    T(test_loop),
	    T(test_self_loop),
	    T(test_write_before_read),
	    T(test_outside_ram),
	    T(test_straddles_end),
	    T(test_huge_length),
	    T(test_wrapping_address),
	    T(test_overlaps_desc),
	    T(test_overlaps_avail),
	    T(test_overlaps_used),
	    T(test_indirect_bad_len),
	    T(test_indirect_outside_ram),
	    T(test_indirect_nested),
	    T(test_indirect_with_next),
	    T(test_indirect_after_direct),
	    T(test_indirect_after_writable),
	    T(test_indirect_full_table),
	    T(test_indirect_loop),
	    T(test_indirect_next_out_of_table),
	    T(test_push_and_notify),
	    T(test_event_idx),
	    T(test_no_notify_flag),
	    T(test_iov_helpers),
	};
	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
