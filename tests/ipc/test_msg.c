/* SPDX-License-Identifier: MIT */
/* The message validators: every rule rejects with a reason, valid input passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"

static struct ipc_region_limits lim_mixed(void)
{
	struct ipc_region_limits lim = {0};
	lim.nregions = 3;
	lim.size[0] = 0x1000;	      /* MMIO */
	lim.size[1] = 8;	      /* PIO */
	lim.size[2] = UINT64_MAX - 3; /* huge MMIO: overflow checks */
	lim.pio_mask = 1u << 1;
	return lim;
}

static void expect_bad_req(const struct ipc_msg *m, const struct ipc_region_limits *lim,
			   const char *needle)
{
	char why[160] = "";
	assert_false(ipc_msg__check_request(m, lim, why, sizeof(why)));
	assert_non_null(strstr(why, needle));
}

static void test_valid_requests(void **state)
{
	(void)state;
	struct ipc_region_limits lim = lim_mixed();
	char why[160];
	struct ipc_msg m = mk_req(IPC_OP_MMIO_WRITE, 0, 0xff8, 8, UINT64_MAX);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	m = mk_req(IPC_OP_MMIO_READ, 0, 0xfff, 1, 0);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	m = mk_req(IPC_OP_PIO_WRITE, 1, 4, 4, 0xffffffff);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	m = mk_req(IPC_OP_MMIO_READ, 2, UINT64_MAX - 11, 8, 0);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	m = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	m = mk_req(IPC_OP_CTRL_SHUTDOWN, 0, 0, 0, 0);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
	lim.pci_cfg = true;
	m = mk_req(IPC_OP_PCI_CFG_READ, 0, 0xffc, 4, 0);
	assert_true(ipc_msg__check_request(&m, &lim, why, sizeof(why)));
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct ipc_region_limits lim = lim_mixed();
	struct ipc_msg m;

	m = mk_req(0, 0, 0, 4, 0);
	expect_bad_req(&m, &lim, "unknown op");
	m = mk_req(IPC_OP_REPLY, 0, 0, 4, 0);
	expect_bad_req(&m, &lim, "unknown op");
	m = mk_req(0xffffffff, 0, 0, 4, 0);
	expect_bad_req(&m, &lim, "unknown op");
	m = mk_req(IPC_OP_MMIO_READ, 3, 0, 4, 0);
	expect_bad_req(&m, &lim, "region 3 out of range");
	m = mk_req(IPC_OP_MMIO_READ, 0xffffffff, 0, 4, 0);
	expect_bad_req(&m, &lim, "out of range");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 3, 0);
	expect_bad_req(&m, &lim, "size 3");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 0, 0);
	expect_bad_req(&m, &lim, "size 0");
	m = mk_req(IPC_OP_PIO_READ, 1, 0, 8, 0);
	expect_bad_req(&m, &lim, "size 8");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0xffd, 4, 0);
	expect_bad_req(&m, &lim, "outside region");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0x1000, 1, 0);
	expect_bad_req(&m, &lim, "outside region");
	/* off + size wraps around 2^64 */
	m = mk_req(IPC_OP_MMIO_READ, 2, UINT64_MAX - 1, 4, 0);
	expect_bad_req(&m, &lim, "outside region");
	m = mk_req(IPC_OP_MMIO_READ, 0, UINT64_MAX, 8, 0);
	expect_bad_req(&m, &lim, "outside region");
	m = mk_req(IPC_OP_MMIO_WRITE, 1, 0, 4, 0);
	expect_bad_req(&m, &lim, "to a port region");
	m = mk_req(IPC_OP_PIO_WRITE, 0, 0, 4, 0);
	expect_bad_req(&m, &lim, "to a memory region");
	m = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 2, 0x10000);
	expect_bad_req(&m, &lim, "wider than 2 bytes");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 2, 1);
	expect_bad_req(&m, &lim, "read with non-zero data");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	m.status = -1;
	expect_bad_req(&m, &lim, "status");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	m.pad = 1;
	expect_bad_req(&m, &lim, "reserved");
	m = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	m.reserved[2] = 1;
	expect_bad_req(&m, &lim, "reserved");
	m = mk_req(IPC_OP_CTRL_PING, 0, 0, 0, 1);
	expect_bad_req(&m, &lim, "non-zero operands");
	m = mk_req(IPC_OP_PCI_CFG_READ, 0, 0, 4, 0);
	expect_bad_req(&m, &lim, "non-PCI");
	lim.pci_cfg = true;
	m = mk_req(IPC_OP_PCI_CFG_READ, 0, 0xffe, 4, 0);
	expect_bad_req(&m, &lim, "outside region");
	m = mk_req(IPC_OP_PCI_CFG_WRITE, 0, 0, 8, 0);
	expect_bad_req(&m, &lim, "size 8");
	m = mk_req(IPC_OP_PCI_CFG_WRITE, 1, 0, 4, 0);
	expect_bad_req(&m, &lim, "region 1");
	lim.nregions = 100;
	m = mk_req(IPC_OP_MMIO_READ, 50, 0, 4, 0);
	expect_bad_req(&m, &lim, "regions (max");
}

static void expect_bad_rep(const struct ipc_msg *m, uint32_t seq, uint32_t size, const char *needle)
{
	char why[160] = "";
	assert_false(ipc_msg__check_reply(m, seq, size, why, sizeof(why)));
	assert_non_null(strstr(why, needle));
}

static void test_replies(void **state)
{
	(void)state;
	struct ipc_msg req = mk_req(IPC_OP_MMIO_READ, 0, 0, 2, 0), rep;
	char why[160];
	req.seq = 7;
	ipc_msg__make_reply(&rep, &req, 0x12345, 0);
	assert_int_equal(rep.data, 0x2345); /* masked to the read size */
	assert_true(ipc_msg__check_reply(&rep, 7, 2, why, sizeof(why)));
	expect_bad_rep(&rep, 8, 2, "expected 8");
	expect_bad_rep(&rep, 7, 4, "size 2, expected 4");
	struct ipc_msg bad = rep;
	bad.data = 0x10000;
	expect_bad_rep(&bad, 7, 2, "wider than 2");
	bad = rep;
	bad.op = IPC_OP_MMIO_READ;
	expect_bad_rep(&bad, 7, 2, "not a reply");
	bad = rep;
	bad.off = 1;
	expect_bad_rep(&bad, 7, 2, "reserved");
	bad = rep;
	bad.reserved[0] = 1;
	expect_bad_rep(&bad, 7, 2, "reserved");
	bad = rep;
	bad.status = 5;
	expect_bad_rep(&bad, 7, 2, "not 0 or -errno");
	bad.status = -5000;
	expect_bad_rep(&bad, 7, 2, "not 0 or -errno");
	bad.status = -5;
	expect_bad_rep(&bad, 7, 2, "data with an error status");

	/* writes carry no data back; errors are clamped to -errno */
	struct ipc_msg w = mk_req(IPC_OP_MMIO_WRITE, 0, 0, 4, 1);
	w.seq = 9;
	ipc_msg__make_reply(&rep, &w, 0xdead, 1234);
	assert_int_equal(rep.status, -5);
	assert_int_equal(rep.data, 0);
	assert_true(ipc_msg__check_reply(&rep, 9, 0, why, sizeof(why)));
	ipc_msg__make_reply(&rep, &w, 1, 0);
	assert_int_equal(rep.data, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_requests),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
