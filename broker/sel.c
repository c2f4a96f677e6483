/* SPDX-License-Identifier: MIT */
#include "sel.h"

#include <selinux/selinux.h>
#include <stdio.h>

#include "log.h"
#include "policy/profile.h"

const char *sel__exec_con(const struct vm_label *vl, const char *type, char *buf, size_t n)
{
	const struct profile *p = profile__find(type);
	if (!vl->active || !p || !p->selinux_type)
		return NULL;
	return label__exec_con(vl, p->selinux_type, buf, n) < 0 ? NULL : buf;
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
