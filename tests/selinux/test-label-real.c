/* SPDX-License-Identifier: MIT */
/*
 * --selinux=auto|require|off against the real libselinux on a host where
 * SELinux is disabled (this machine); skipped (77) where it is enabled.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>
#include <selinux/selinux.h>

#include "selinux/label.h"

static void test_off(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(label__init(LABEL_OFF, err, sizeof(err)), 0);
	assert_false(label__active());
}

static void test_require_refuses(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(label__init(LABEL_REQUIRE, err, sizeof(err)), -1);
	assert_false(label__active());
	assert_non_null(strstr(err, "--selinux=require"));
	assert_non_null(strstr(err, "disabled"));
}

static void test_auto_runs_unlabelled(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(label__init(LABEL_AUTO, err, sizeof(err)), 0);
	assert_false(label__active());
	/* every call is then a successful no-op */
	struct vm_label vl;
	assert_int_equal(label__vm_reserve(&vl, err, sizeof(err)), 0);
	assert_false(vl.active);
	assert_int_equal(label__setexec(&vl, "cellvm_blk_t"), 0);
	assert_int_equal(label__setsockcreate(&vl, "cellvm_vnc_socket_t"), 0);
	char out[LABEL_CON_MAX];
	assert_int_equal(label__exec_con(&vl, "cellvm_blk_t", out, sizeof(out)), -1);
	char path[] = "/tmp/cellvm-label-real.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	assert_int_equal(label__fd_set(&vl, fd, "cellvm_ram_t", err, sizeof(err)), 0);
	char buf[8];
	assert_true(fgetxattr(fd, "trusted.cellvm.ref", buf, sizeof(buf)) < 0);
	assert_int_equal(label__image_restore(&vl, path, err, sizeof(err)), 0);
	label__vm_release(&vl);
	close(fd);
	unlink(path);
}

int main(void)
{
	if (is_selinux_enabled() > 0) {
		fprintf(stderr, "SELinux is enabled here: this test is for disabled hosts\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off),
	    cmocka_unit_test(test_require_refuses),
	    cmocka_unit_test(test_auto_runs_unlabelled),
	};
	return cmocka_run_group_tests_name("selinux-label-real", tests, NULL, NULL);
}
