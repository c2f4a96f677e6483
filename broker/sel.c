/* SPDX-License-Identifier: MIT */
#include "sel.h"

#include <errno.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policy/profile.h"

int sel__exec_con(const struct vm_label *vl, const char *type, char *buf, size_t n,
		  const char **con)
{
	*con = NULL;
	if (!vl->active)
		return 0;
	/* Fail closed: a child that would run in the broker's own domain is not started. */
	const struct profile *p = profile__find(type);
	if (!p || !p->selinux_type) {
		log__err("selinux: the %s process has no domain: not started unlabelled", type);
		return -1;
	}
	if (label__exec_con(vl, p->selinux_type, buf, n) < 0) {
		log__err("selinux: exec context %s for the %s process: %s: not started unlabelled",
			 p->selinux_type, type, strerror(errno));
		return -1;
	}
	*con = buf;
	return 0;
}

int sel__setexec(const char *con)
{
	return setexeccon_raw(con);
}

int sel__memfd(const struct vm_label *vl, int fd, const char *what, bool ring)
{
	char type[64], err[200];
	if (!vl->active)
		return 0;
	snprintf(type, sizeof(type), ring ? "cellvm_%s_ring_t" : "cellvm_%s_t", what);
	if (label__fd_set(vl, fd, type, err, sizeof(err)) < 0) {
		log__err("selinux: %s", err);
		return -1;
	}
	return 0;
}
