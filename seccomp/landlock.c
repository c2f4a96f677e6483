/* SPDX-License-Identifier: MIT */
/*
 * Landlock: a ruleset that handles every filesystem access right the
 * running kernel knows and grants none, so no path can be opened, created,
 * executed, renamed or truncated; TCP bind/connect denied where the ABI
 * has network rights (4+); abstract unix sockets and signals scoped to the
 * process where the ABI has scopes (6+). Bookworm's headers stop at ABI 2,
 * so the later constants are spelled out here.
 */
#include <errno.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

/* ABI 1 rights are bits 0..12, ABI 2 adds REFER (13), 3 TRUNCATE (14), 5 IOCTL_DEV (15). */
#define LL_FS_ABI1		      ((1ULL << 13) - 1)
#define LL_FS_REFER		      (1ULL << 13)
#define LL_FS_TRUNCATE		      (1ULL << 14)
#define LL_FS_IOCTL_DEV		      (1ULL << 15)
#define LL_NET_BIND_TCP		      (1ULL << 0)
#define LL_NET_CONNECT_TCP	      (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL		      (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

int jail__landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

int jail__landlock(const struct profile *p, char *err, size_t errlen)
{
	int abi = jail__landlock_abi();
	if (abi < 1) {
		snprintf(err, errlen, "landlock: unavailable (%s)",
			 strerror(abi < 0 ? -abi : ENOSYS));
		return -1;
	}
	struct ll_ruleset_attr attr = {0};
	size_t size = sizeof(attr.handled_access_fs);
	if (p->landlock_fs) {
		attr.handled_access_fs = LL_FS_ABI1;
		if (abi >= 2)
			attr.handled_access_fs |= LL_FS_REFER;
		if (abi >= 3)
			attr.handled_access_fs |= LL_FS_TRUNCATE;
		if (abi >= 5)
			attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	}
	if (p->landlock_net && abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (p->landlock_scope && abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped)
		return 0; /* the profile asks for nothing */
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0) {
		snprintf(err, errlen, "landlock: create_ruleset: %s", strerror(errno));
		return -1;
	}
	/* Required for an unprivileged restrict_self; jail__spawn set it already. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		snprintf(err, errlen, "landlock: restrict_self: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
