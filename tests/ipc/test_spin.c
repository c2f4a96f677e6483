/* SPDX-License-Identifier: MIT */
/*
 * The waiting-policy chooser (ipc/spin.h) on synthetic round-trip times: it
 * settles on the fastest arm, prefers the arm that spins less when two are
 * within 10%, looks at the others rarely, and follows a host that changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipc/spin.h"

/* Run n calls with per-arm costs; returns calls spent on arms other than `want`. */
static unsigned run(struct ipc_spin *s, const uint64_t cost[IPC_SPIN_ARMS], unsigned n,
		    unsigned want)
{
	unsigned off = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned a = ipc_spin__next(s);
		assert_true(a < IPC_SPIN_ARMS);
		off += a != want;
		ipc_spin__record(s, cost[a]);
	}
	return off;
}

static void test_box_like(void **state)
{
	(void)state;
	/* measured in the KVM box: neither spins 271 us ... both spin 2574 us */
	const uint64_t cost[4] = {271000, 2400000, 425000, 2574000};
	struct ipc_spin s;
	ipc_spin__init(&s);
	run(&s, cost, 200, 0);
	assert_int_equal(s.best, 0);
	unsigned off = run(&s, cost, 100000, 0);
	assert_true(off * 100 < 100000); /* under 1% of calls spent looking elsewhere */
}

static void test_dedicated_cpus(void **state)
{
	(void)state;
	/* a host with a free CPU each: spinning on both sides wins by far */
	const uint64_t cost[4] = {40000, 21000, 22000, 1200};
	struct ipc_spin s;
	ipc_spin__init(&s);
	run(&s, cost, 200, 3);
	assert_int_equal(s.best, IPC_SPIN_VCPU | IPC_SPIN_DEV);
}

static void test_prefers_less_spinning(void **state)
{
	(void)state;
	/* within 10%: do not burn a CPU for it */
	const uint64_t cost[4] = {1050, 1000, 1000, 980};
	struct ipc_spin s;
	ipc_spin__init(&s);
	run(&s, cost, 400, 0);
	assert_int_equal(s.best, 0);
}

static void test_follows_a_change(void **state)
{
	(void)state;
	const uint64_t before[4] = {271000, 2400000, 425000, 2574000};
	const uint64_t after[4] = {40000, 21000, 22000, 1200};
	struct ipc_spin s;
	ipc_spin__init(&s);
	run(&s, before, 5000, 0);
	assert_int_equal(s.best, 0);
	run(&s, after, 3 * IPC_SPIN_PERIOD, 3);
	assert_int_equal(s.best, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_box_like),
	    cmocka_unit_test(test_dedicated_cpus),
	    cmocka_unit_test(test_prefers_less_spinning),
	    cmocka_unit_test(test_follows_a_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
