/* SPDX-License-Identifier: MIT */
/*
 * Label life cycle against mock-libselinux.so (LD_PRELOAD, see
 * meson.build): modes, category pairs, exec/socket/fd contexts, image
 * labels with trusted.cellvm.* xattrs on real files (ext4 and tmpfs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>
#include <selinux/selinux.h>

#include "selinux/label.h"
#include "selinux/label-int.h"
#include "selinux/mcs.h"
#include "mock-libselinux.h"

static struct {
	mock_reset_fn reset;
	mock_int_fn set_enabled, set_loaded;
	mock_str_fn set_con, set_default_filecon;
	mock_pidcon_fn set_pidcon;
	mock_fail_fn fail_after;
	mock_calls_fn calls;
} mock;

static char logpath[256];
static char dirs[2][256]; /* ext4 (build dir), tmpfs (/dev/shm) */

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);
	if (!p)
		fail_msg("%s not found: is mock-libselinux.so preloaded?", name);
	return p;
}

static int setup(void **state)
{
	(void)state;
	mock.reset();
	unlink(logpath);
	label__fini();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	label__fini();
	return 0;
}

static void init_ok(void)
{
	char err[256] = "";
	int rc = label__init(LABEL_REQUIRE, err, sizeof(err));
	if (rc)
		fail_msg("label__init: %s", err);
	assert_true(label__active());
}

static void reserve_ok(struct vm_label *vl)
{
	char err[256] = "";
	if (label__vm_reserve(vl, err, sizeof(err)))
		fail_msg("reserve: %s", err);
	assert_true(vl->active);
}

/* ---- parsing ---- */

static void test_parse_mode(void **state)
{
	(void)state;
	enum label_mode m;
	assert_int_equal(label__parse_mode("auto", &m), 0);
	assert_int_equal(m, LABEL_AUTO);
	assert_int_equal(label__parse_mode("require", &m), 0);
	assert_int_equal(m, LABEL_REQUIRE);
	assert_int_equal(label__parse_mode("off", &m), 0);
	assert_int_equal(m, LABEL_OFF);
	assert_int_equal(label__parse_mode("on", &m), -1);
	assert_int_equal(label__parse_mode("", &m), -1);
	assert_int_equal(label__parse_mode(NULL, &m), -1);
}

static void test_mcs_parse(void **state)
{
	(void)state;
	unsigned int a, b;
	struct mcs_cats lo, hi;
	char sens[8];
	assert_int_equal(mcs__context_pair("u:r:t:s0:c3,c7", &a, &b), 1);
	assert_int_equal(a, 3);
	assert_int_equal(b, 7);
	assert_int_equal(mcs__context_pair("u:r:t:s0:c7,c1023\n", &a, &b), 1);
	assert_int_equal(a, 7);
	assert_int_equal(b, 1023);
	assert_int_equal(mcs__context_pair("u:r:t:s0-s0:c0.c1023", &a, &b), 0);
	assert_int_equal(mcs__context_pair("u:r:t:s0", &a, &b), 0);
	assert_int_equal(mcs__context_pair("u:r:t:s0:c1,c2,c3", &a, &b), 0);
	assert_int_equal(mcs__context_pair("u:r:t:s0:c1.c2", &a, &b), 1);
	/* malformed */
	const char *bad[] = {
	    "u:r:t",	      "u:r:t:",		 "u:r:t:s0:c1024,c1", "u:r:t:s0:c01,c2",
	    "u:r:t:s0:c5.c3", "u:r:t:s0:c1,,c2", "u:r:t:x0:c1,c2",    "u:r:t:s0:c1,c2-",
	    "u:r:t:s0:",      "u:r:t:s0:c",	 "u:r:t:s0:c-1,c2",   "u:r:t:s00000:c1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcs__context_pair(bad[i], &a, &b) != -1)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(mcs__context_levels("u:r:t:s0-s0:c0.c1023", sens, sizeof(sens), &lo, &hi),
			 0);
	assert_string_equal(sens, "s0");
	assert_int_equal(mcs__count(&lo), 0);
	assert_int_equal(mcs__count(&hi), 1024);
	assert_int_equal(
	    mcs__context_levels("u:r:t:s0-s0:c2,c5.c9,c11", sens, sizeof(sens), &lo, &hi), 0);
	assert_int_equal(mcs__count(&hi), 7);
	assert_true(mcs__has(&hi, 5) && mcs__has(&hi, 9) && !mcs__has(&hi, 10));
}

/* ---- modes ---- */

static void test_init_modes(void **state)
{
	(void)state;
	char err[256];
	int before = mock.calls("is_selinux_enabled");
	assert_int_equal(label__init(LABEL_OFF, err, sizeof(err)), 0);
	assert_false(label__active());
	assert_int_equal(mock.calls("is_selinux_enabled"), before);

	assert_int_equal(label__init(LABEL_AUTO, err, sizeof(err)), 0);
	assert_true(label__active());
	assert_int_equal(label__init(LABEL_REQUIRE, err, sizeof(err)), 0);
	assert_true(label__active());

	mock.set_enabled(0);
	assert_int_equal(label__init(LABEL_AUTO, err, sizeof(err)), 0);
	assert_false(label__active());
	err[0] = '\0';
	assert_int_equal(label__init(LABEL_REQUIRE, err, sizeof(err)), -1);
	assert_false(label__active());
	assert_non_null(strstr(err, "disabled"));

	/* enabled, but the policy lacks the module: both modes refuse */
	mock.set_enabled(1);
	mock.set_loaded(0);
	assert_int_equal(label__init(LABEL_AUTO, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cellvm module"));
	assert_false(label__active());
	mock.set_loaded(1);

	/* a broker range without categories cannot give VMs pairs */
	mock.set_con("system_u:system_r:cellvm_t:s0");
	assert_int_equal(label__init(LABEL_REQUIRE, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "categories"));
	mock.set_con("system_u:system_r:cellvm_t");
	assert_int_equal(label__init(LABEL_REQUIRE, err, sizeof(err)), -1);
}

/* ---- category pairs ---- */

static void test_pairs_unique_ordered(void **state)
{
	(void)state;
	enum { N = 1500 };
	init_ok();
	static struct vm_label vl[N];
	static unsigned char seen[1024][128];
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < N; i++) {
		reserve_ok(&vl[i]);
		assert_true(vl[i].c1 < vl[i].c2);
		assert_true(vl[i].c2 < 1024);
		unsigned char *bit = &seen[vl[i].c1][vl[i].c2 / 8];
		if (*bit & (1u << (vl[i].c2 % 8)))
			fail_msg("pair c%u,c%u handed out twice", vl[i].c1, vl[i].c2);
		*bit |= (unsigned char)(1u << (vl[i].c2 % 8));
		char want[40];
		snprintf(want, sizeof(want), "s0:c%u,c%u", vl[i].c1, vl[i].c2);
		assert_string_equal(vl[i].level, want);
	}
	for (int i = 0; i < N; i++)
		label__vm_release(&vl[i]);
}

static void test_pairs_within_range_and_exhaustion(void **state)
{
	(void)state;
	mock.set_con("system_u:system_r:cellvm_t:s0-s0:c10.c19");
	init_ok();
	struct vm_label vl[46];
	for (int i = 0; i < 45; i++) {
		reserve_ok(&vl[i]);
		assert_true(vl[i].c1 >= 10 && vl[i].c2 <= 19 && vl[i].c1 < vl[i].c2);
		for (int j = 0; j < i; j++)
			assert_false(vl[j].c1 == vl[i].c1 && vl[j].c2 == vl[i].c2);
	}
	char err[256] = "";
	assert_int_equal(label__vm_reserve(&vl[45], err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no free"));
	assert_false(vl[45].active);
	/* released at exit: the only free pair is the one just released */
	unsigned int c1 = vl[17].c1, c2 = vl[17].c2;
	label__vm_release(&vl[17]);
	assert_false(vl[17].active);
	reserve_ok(&vl[45]);
	assert_int_equal(vl[45].c1, c1);
	assert_int_equal(vl[45].c2, c2);
	for (int i = 0; i < 46; i++)
		label__vm_release(&vl[i]);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_pair_of_running_process_not_reused(void **state)
{
	(void)state;
	/* categories 5, 9, 10: pairs (5,9) (5,10) (9,10) */
	mock.set_con("system_u:system_r:cellvm_t:s0-s0:c5,c9,c10");
	init_ok();
	pid_t pid = spawn_sleeper();
	/* e.g. a vcpu-worker left by a broker that restarted */
	mock.set_pidcon(pid, "system_u:system_r:cellvm_vcpu_t:s0:c5,c9");
	struct vm_label a, b, c;
	reserve_ok(&a);
	reserve_ok(&b);
	char err[256] = "";
	assert_int_equal(label__vm_reserve(&c, err, sizeof(err)), -1);
	assert_false((a.c1 == 5 && a.c2 == 9) || (b.c1 == 5 && b.c2 == 9));
	assert_true(mock.calls("getpidcon_raw") > 0);
	/* the process exits: its pair is free again */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	reserve_ok(&c);
	assert_int_equal(c.c1, 5);
	assert_int_equal(c.c2, 9);
	label__vm_release(&a);
	label__vm_release(&b);
	label__vm_release(&c);
}

/* ---- process, socket, fd contexts ---- */

static bool log_has(const char *line)
{
	FILE *f = fopen(logpath, "r");
	if (!f)
		return false;
	char buf[512];
	bool found = false;
	while (!found && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		found = !strcmp(buf, line);
	}
	fclose(f);
	return found;
}

static void test_exec_con(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	char out[LABEL_CON_MAX], want[LABEL_CON_MAX];
	assert_int_equal(label__exec_con(&vl, "cellvm_blk_t", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "system_u:system_r:cellvm_blk_t:s0:c%u,c%u", vl.c1, vl.c2);
	assert_string_equal(out, want);
	assert_int_equal(label__obj_con(&vl, "cellvm_ram_t", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "system_u:object_r:cellvm_ram_t:s0:c%u,c%u", vl.c1, vl.c2);
	assert_string_equal(out, want);
	/* nothing can be smuggled in through the type */
	const char *bad[] = {
	    "",		"cellvm_t:s0",
	    "Cellvm_t", "a b",
	    "x-y",	"a2345678901234567890123456789012345678901234567890123456789012345"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(label__exec_con(&vl, bad[i], out, sizeof(out)), -1);
	assert_int_equal(label__exec_con(&vl, NULL, out, sizeof(out)), -1);
	assert_int_equal(label__exec_con(&vl, "cellvm_blk_t", out, 20), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* the broker's own user and role are kept */
	label__vm_release(&vl);
	mock.set_con("unconfined_u:unconfined_r:cellvm_t:s0-s0:c0.c1023");
	init_ok();
	reserve_ok(&vl);
	assert_int_equal(label__exec_con(&vl, "cellvm_vnc_t", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "unconfined_u:unconfined_r:cellvm_vnc_t:s0:c%u,c%u", vl.c1,
		 vl.c2);
	assert_string_equal(out, want);
	label__vm_release(&vl);
}

static void test_setexec_and_sockcreate(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* as the broker's fork+exec path does */
		int rc = label__setexec(&vl, "cellvm_vnc_t");
		rc |= label__setsockcreate(&vl, "cellvm_vnc_socket_t");
		rc |= label__setsockcreate(&vl, NULL);
		rc |= label__setexec(&vl, "bad:type") != -1;
		_exit(rc ? 1 : 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char want[512];
	snprintf(want, sizeof(want), "setexeccon_raw system_u:system_r:cellvm_vnc_t:s0:c%u,c%u",
		 vl.c1, vl.c2);
	assert_true(log_has(want));
	snprintf(want, sizeof(want),
		 "setsockcreatecon_raw system_u:object_r:cellvm_vnc_socket_t:s0:c%u,c%u", vl.c1,
		 vl.c2);
	assert_true(log_has(want));
	assert_true(log_has("setsockcreatecon_raw (null)"));
	assert_false(log_has("setexeccon_raw bad:type"));
	label__vm_release(&vl);
}

static void test_fd_set_memfd(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	char err[256];
	assert_int_equal(label__fd_set(&vl, fd, "cellvm_ram_t", err, sizeof(err)), 0);
	char *con = NULL;
	assert_int_equal(fgetfilecon_raw(fd, &con), 0);
	char want[LABEL_CON_MAX];
	snprintf(want, sizeof(want), "system_u:object_r:cellvm_ram_t:s0:c%u,c%u", vl.c1, vl.c2);
	assert_string_equal(con, want);
	freecon(con);
	assert_int_equal(label__fd_set(&vl, fd, "x:y", err, sizeof(err)), -1);
	close(fd);
	label__vm_release(&vl);
}

static void test_off_is_noop(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(label__init(LABEL_OFF, err, sizeof(err)), 0);
	struct vm_label vl;
	assert_int_equal(label__vm_reserve(&vl, err, sizeof(err)), 0);
	assert_false(vl.active);
	assert_int_equal(label__setexec(&vl, "cellvm_blk_t"), 0);
	assert_int_equal(label__setsockcreate(&vl, "cellvm_blk_t"), 0);
	char path[300];
	snprintf(path, sizeof(path), "%s/off.img", dirs[0]);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	char buf[8];
	assert_true(fgetxattr(fd, "trusted.cellvm.ref", buf, sizeof(buf)) < 0);
	close(fd);
	unlink(path);
	assert_int_equal(mock.calls("setexeccon_raw"), 0);
	assert_int_equal(mock.calls("setsockcreatecon_raw"), 0);
	assert_int_equal(mock.calls("fsetfilecon_raw"), 0);
}

/* ---- images ---- */

#define ORIG "unconfined_u:object_r:user_home_t:s0"

static void mkimage(char *path, size_t n, int d, const char *name)
{
	snprintf(path, n, "%s/%s", dirs[d], name);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void label_is(const char *path, const char *want)
{
	char *con = NULL;
	assert_int_equal(getfilecon_raw(path, &con), 0);
	assert_string_equal(con, want);
	freecon(con);
}

/* xattr value or "" when absent */
static void xattr_is(const char *path, const char *name, const char *want)
{
	char buf[256];
	ssize_t len = getxattr(path, name, buf, sizeof(buf) - 1);
	if (len < 0) {
		assert_int_equal(errno, ENODATA);
		assert_string_equal("", want);
		return;
	}
	buf[len] = '\0';
	assert_string_equal(buf, want);
}

static void image_con(const struct vm_label *vl, const char *type, bool private, char *out,
		      size_t n)
{
	if (private)
		snprintf(out, n, "unconfined_u:object_r:%s:s0:c%u,c%u", type, vl->c1, vl->c2);
	else
		snprintf(out, n, "unconfined_u:object_r:%s:s0", type);
}

static void image_private_cycle(int d)
{
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	char path[300], want[LABEL_CON_MAX], err[256];
	mkimage(path, sizeof(path), d, "private.img");
	label_is(path, ORIG);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	image_con(&vl, "cellvm_image_t", true, want, sizeof(want));
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.label", ORIG);
	xattr_is(path, "trusted.cellvm.ref", "1");
	/* the same VM uses it twice (two drives): one more reference */
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	xattr_is(path, "trusted.cellvm.ref", "2");
	assert_int_equal(label__image_restore(&vl, path, err, sizeof(err)), 0);
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.ref", "1");
	assert_int_equal(label__image_restore(&vl, path, err, sizeof(err)), 0);
	label_is(path, ORIG);
	xattr_is(path, "trusted.cellvm.label", "");
	xattr_is(path, "trusted.cellvm.ref", "");
	/* nothing left to restore */
	assert_int_equal(label__image_restore(&vl, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not labelled for this VM"));
	label__vm_release(&vl);
	unlink(path);
}

static void test_image_private_ext4(void **state)
{
	(void)state;
	image_private_cycle(0);
}

static void test_image_private_tmpfs(void **state)
{
	(void)state;
	image_private_cycle(1);
}

static void test_image_shared_refcount(void **state)
{
	(void)state;
	init_ok();
	struct vm_label a, b;
	reserve_ok(&a);
	reserve_ok(&b);
	char path[300], want[LABEL_CON_MAX], err[256];
	mkimage(path, sizeof(path), 0, "shared.img");
	assert_int_equal(label__image_set(&a, path, IMAGE_RW_SHARED, err, sizeof(err)), 0);
	assert_int_equal(label__image_set(&b, path, IMAGE_RW_SHARED, err, sizeof(err)), 0);
	image_con(&a, "cellvm_image_t", false, want, sizeof(want));
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.ref", "2");
	xattr_is(path, "trusted.cellvm.label", ORIG);
	/* a private use while shared is a conflict */
	struct vm_label c;
	reserve_ok(&c);
	assert_int_equal(label__image_set(&c, path, IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	assert_int_equal(errno, EBUSY);
	xattr_is(path, "trusted.cellvm.ref", "2");
	label__vm_release(&a); /* restores a's reference */
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.ref", "1");
	assert_int_equal(label__image_restore(&b, path, err, sizeof(err)), 0);
	label_is(path, ORIG);
	xattr_is(path, "trusted.cellvm.ref", "");
	label__vm_release(&b);
	label__vm_release(&c);
	unlink(path);
}

static void test_image_conflict_refused(void **state)
{
	(void)state;
	init_ok();
	struct vm_label a, b;
	reserve_ok(&a);
	reserve_ok(&b);
	char path[300], want[LABEL_CON_MAX], err[256];
	mkimage(path, sizeof(path), 0, "conflict.img");
	assert_int_equal(label__image_set(&a, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	image_con(&a, "cellvm_image_t", true, want, sizeof(want));
	enum image_kind kinds[] = {IMAGE_RW_PRIVATE, IMAGE_RW_SHARED, IMAGE_READONLY};
	for (size_t k = 0; k < 3; k++) {
		err[0] = '\0';
		assert_int_equal(label__image_set(&b, path, kinds[k], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "in use by another VM"));
		label_is(path, want);
		xattr_is(path, "trusted.cellvm.ref", "1");
	}
	/* b never got it, so b cannot restore it either */
	assert_int_equal(label__image_restore(&b, path, err, sizeof(err)), -1);
	label_is(path, want);
	label__vm_release(&b);
	label__vm_release(&a);
	label_is(path, ORIG);
	unlink(path);
}

static void test_image_readonly_content(void **state)
{
	(void)state;
	init_ok();
	struct vm_label a, b;
	reserve_ok(&a);
	reserve_ok(&b);
	char path[300], want[LABEL_CON_MAX], err[256];
	mkimage(path, sizeof(path), 1, "vmlinux");
	assert_int_equal(label__image_set(&a, path, IMAGE_READONLY, err, sizeof(err)), 0);
	assert_int_equal(label__image_set(&b, path, IMAGE_READONLY, err, sizeof(err)), 0);
	image_con(&a, "cellvm_content_t", false, want, sizeof(want));
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.ref", "2");
	label__vm_release(&a);
	label__vm_release(&b);
	label_is(path, ORIG);
	xattr_is(path, "trusted.cellvm.ref", "");
	unlink(path);
}

static void test_image_restore_on_failure(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	char path[300], err[256];
	mkimage(path, sizeof(path), 0, "fail.img");
	mock.fail_after(0, EACCES);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "setfilecon"));
	label_is(path, ORIG);
	xattr_is(path, "trusted.cellvm.label", "");
	xattr_is(path, "trusted.cellvm.ref", "");
	assert_int_equal(vl.nimages, 0);
	/* a VM whose start fails half-way: release restores what was set */
	char path2[300];
	mkimage(path2, sizeof(path2), 1, "ok.img");
	assert_int_equal(label__image_set(&vl, path2, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	assert_int_equal(label__image_set(&vl, path, IMAGE_READONLY, err, sizeof(err)), 0);
	label__vm_release(&vl);
	label_is(path, ORIG);
	label_is(path2, ORIG);
	xattr_is(path, "trusted.cellvm.ref", "");
	xattr_is(path2, "trusted.cellvm.ref", "");
	unlink(path);
	unlink(path2);
}

static void test_image_stale_label_reclaimed(void **state)
{
	(void)state;
	init_ok();
	char path[300], want[LABEL_CON_MAX], err[256];
	mkimage(path, sizeof(path), 0, "stale.img");
	/* what a broker that crashed with VM c900,c901 running leaves */
	const char *dead = "unconfined_u:object_r:cellvm_image_t:s0:c900,c901";
	assert_int_equal(setfilecon_raw(path, dead), 0);
	assert_int_equal(setxattr(path, "trusted.cellvm.label", ORIG, strlen(ORIG) + 1, 0), 0);
	assert_int_equal(setxattr(path, "trusted.cellvm.ref", "1", 1, 0), 0);
	/* while a process still runs at c900,c901 the label is respected */
	pid_t pid = spawn_sleeper();
	mock.set_pidcon(pid, "system_u:system_r:cellvm_blk_t:s0:c900,c901");
	struct vm_label vl;
	reserve_ok(&vl);
	if (vl.c1 == 900 && vl.c2 == 901)
		fail_msg("reserved the pair of a running process");
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	label_is(path, dead);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* gone: reclaimed, and the remembered original is kept */
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	image_con(&vl, "cellvm_image_t", true, want, sizeof(want));
	label_is(path, want);
	xattr_is(path, "trusted.cellvm.ref", "1");
	xattr_is(path, "trusted.cellvm.label", ORIG);
	label__vm_release(&vl);
	label_is(path, ORIG);
	unlink(path);
}

static void test_image_bad_inputs(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	char path[300], err[256];
	/* not a file */
	assert_int_equal(label__image_set(&vl, dirs[0], IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/fifo", dirs[0]);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(
	    label__image_set(&vl, "/nonexistent/x.img", IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	/* corrupt reference counts are refused, not trusted */
	mkimage(path, sizeof(path), 0, "corrupt.img");
	const char *bad[] = {"abc", "0", "01", "-1", "99999999999", "1x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setxattr(path, "trusted.cellvm.ref", bad[i], strlen(bad[i]), 0),
				 0);
		if (label__image_set(&vl, path, IMAGE_RW_SHARED, err, sizeof(err)) != -1)
			fail_msg("accepted ref '%s'", bad[i]);
		label_is(path, ORIG);
	}
	assert_int_equal(label__image_set(&vl, path, (enum image_kind)7, err, sizeof(err)), -1);
	assert_int_equal(vl.nimages, 0);
	label__vm_release(&vl);
	unlink(path);
}

static void test_image_locked_by_other_process(void **state)
{
	(void)state;
	init_ok();
	struct vm_label vl;
	reserve_ok(&vl);
	char path[300], err[256];
	mkimage(path, sizeof(path), 0, "locked.img");
	/* another broker (or a backend that flocks for the VM's lifetime) */
	int other = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX), 0);
	label__set_lock_wait_ms(60);
	err[0] = '\0';
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "held by another process"));
	label_is(path, ORIG);
	xattr_is(path, "trusted.cellvm.ref", "");
	/* released: goes through */
	close(other);
	assert_int_equal(label__image_set(&vl, path, IMAGE_RW_PRIVATE, err, sizeof(err)), 0);
	label__set_lock_wait_ms(10000);
	label__vm_release(&vl);
	label_is(path, ORIG);
	unlink(path);
}

int main(void)
{
	mock.reset = (mock_reset_fn)sym("mock_selinux_reset");
	mock.set_enabled = (mock_int_fn)sym("mock_selinux_set_enabled");
	mock.set_loaded = (mock_int_fn)sym("mock_selinux_set_cellvm_loaded");
	mock.set_con = (mock_str_fn)sym("mock_selinux_set_con");
	mock.set_default_filecon = (mock_str_fn)sym("mock_selinux_set_default_filecon");
	mock.set_pidcon = (mock_pidcon_fn)sym("mock_selinux_set_pidcon");
	mock.fail_after = (mock_fail_fn)sym("mock_selinux_fail_setfilecon_after");
	mock.calls = (mock_calls_fn)sym("mock_selinux_calls");
	const char *log = getenv("MOCK_SELINUX_LOG");
	if (!log)
		fail_msg("MOCK_SELINUX_LOG not set");
	snprintf(logpath, sizeof(logpath), "%s", log);
	snprintf(dirs[0], sizeof(dirs[0]), "%s.d", log);
	snprintf(dirs[1], sizeof(dirs[1]), "/dev/shm/cellvm-label-test.%d", (int)getpid());
	for (int i = 0; i < 2; i++)
		if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", dirs[i], strerror(errno));

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mcs_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pairs_unique_ordered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pairs_within_range_and_exhaustion, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pair_of_running_process_not_reused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_exec_con, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setexec_and_sockcreate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_set_memfd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_off_is_noop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_private_ext4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_private_tmpfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_shared_refcount, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_conflict_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_readonly_content, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_restore_on_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_stale_label_reclaimed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_bad_inputs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_image_locked_by_other_process, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("selinux-label", tests, NULL, NULL);
	rmdir(dirs[0]);
	rmdir(dirs[1]);
	return rc;
}
