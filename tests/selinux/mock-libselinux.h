/* SPDX-License-Identifier: MIT */
/*
 * Control side of mock-libselinux.so (LD_PRELOADed by the 'selinux'
 * tests, as libvirt's securityselinuxhelper does).  Tests look these up
 * with dlsym(RTLD_DEFAULT, ...) so that they fail, rather than silently
 * use the real libselinux, when the mock is not preloaded.
 *
 * Every mocked call is appended to $MOCK_SELINUX_LOG as one line:
 *   "<function> <argument>", e.g. "setexeccon_raw system_u:...:s0:c1,c2".
 */
#ifndef CELLVM_TESTS_MOCK_LIBSELINUX_H
#define CELLVM_TESTS_MOCK_LIBSELINUX_H

/* enabled=1, own context system_u:system_r:cellvm_t:s0-s0:c0.c1023, no
 * file labels, no process labels, policy knows cellvm types, no faults. */
void mock_selinux_reset(void);
void mock_selinux_set_enabled(int enabled);
void mock_selinux_set_con(const char *con);
/* getpidcon(pid) returns con (NULL: forget); other pids are unconfined_t s0-s0:c0.c1023 */
void mock_selinux_set_pidcon(int pid, const char *con);
/* label files that have none yet with con */
void mock_selinux_set_default_filecon(const char *con);
/* the next `count` fsetfilecon calls succeed, the one after fails with err */
void mock_selinux_fail_setfilecon_after(int count, int err);
/* security_check_context rejects contexts naming cellvm types */
void mock_selinux_set_cellvm_loaded(int loaded);
/* number of mocked calls of that function so far */
int mock_selinux_calls(const char *fn);

typedef void (*mock_reset_fn)(void);
typedef void (*mock_int_fn)(int);
typedef void (*mock_str_fn)(const char *);
typedef void (*mock_pidcon_fn)(int, const char *);
typedef void (*mock_fail_fn)(int, int);
typedef int (*mock_calls_fn)(const char *);

#endif
