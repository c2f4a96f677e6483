/* SPDX-License-Identifier: MIT */
/*
 * The broker's SELinux exec contexts fail closed (issue 10 #11): with
 * labelling on, a child whose context cannot be built is not started, where
 * before it ran in the broker's own domain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "broker/sel.h"

static void test_off(void **state)
{
	(void)state;
	struct vm_label vl = {0};
	char buf[LABEL_CON_MAX];
	const char *con = buf;
	assert_int_equal(sel__exec_con(&vl, "blk", buf, sizeof(buf), &con), 0);
	assert_null(con); /* labelling off: no context, and that is fine */
}

static void test_fails_closed(void **state)
{
	(void)state;
	struct vm_label vl = {.active = true, .c1 = 1, .c2 = 2};
	snprintf(vl.level, sizeof(vl.level), "s0:c1,c2");
	char buf[LABEL_CON_MAX];
	const char *con = buf;
	/* a context that does not fit */
	assert_int_equal(sel__exec_con(&vl, "blk", buf, 8, &con), -1);
	assert_null(con);
	/* a process type with no profile, hence no domain */
	con = buf;
	assert_int_equal(sel__exec_con(&vl, "nosuchproc", buf, sizeof(buf), &con), -1);
	assert_null(con);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off),
	    cmocka_unit_test(test_fails_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
