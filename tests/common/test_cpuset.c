/* SPDX-License-Identifier: MIT */
/* common/cpuset.h: vCPU and device CPUs counted within the allowed set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cpuset.h"

static cpu_set_t set_of(const int *cpus, unsigned n)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	for (unsigned i = 0; i < n; i++)
		CPU_SET(cpus[i], &s);
	return s;
}

/* taskset -c 2,3,5: vCPU 0 -> CPU 2, 1 -> 3, 2 -> 5; never CPU 0 or 1. */
static void test_nth_not_from_zero(void **state)
{
	(void)state;
	int cpus[] = {2, 3, 5};
	cpu_set_t s = set_of(cpus, 3);
	assert_int_equal(cpuset__nth(&s, 0), 2);
	assert_int_equal(cpuset__nth(&s, 1), 3);
	assert_int_equal(cpuset__nth(&s, 2), 5);
	assert_int_equal(cpuset__nth(&s, 3), -1);
	cpu_set_t empty;
	CPU_ZERO(&empty);
	assert_int_equal(cpuset__nth(&empty, 0), -1);
}

/* Devices get what the vCPUs leave, counted in the allowed set. */
static void test_drop_first(void **state)
{
	(void)state;
	int cpus[] = {4, 6, 7, 9};
	cpu_set_t s = set_of(cpus, 4);
	assert_int_equal(cpuset__drop_first(&s, 2), 2);
	assert_false(CPU_ISSET(4, &s));
	assert_false(CPU_ISSET(6, &s));
	assert_true(CPU_ISSET(7, &s));
	assert_true(CPU_ISSET(9, &s));
	assert_int_equal(CPU_COUNT(&s), 2);
	cpu_set_t t = set_of(cpus, 4);
	assert_int_equal(cpuset__drop_first(&t, 4), 0);
	assert_int_equal(CPU_COUNT(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nth_not_from_zero),
	    cmocka_unit_test(test_drop_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
