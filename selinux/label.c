/* SPDX-License-Identifier: MIT */
/* Mode, per-VM category pairs, process/socket/fd labels. */
#include "label.h"
#include "label-int.h"
#include "mcs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <selinux/selinux.h>

#include "log.h"

struct pair {
	unsigned int c1, c2;
};

static struct {
	bool active;
	bool told_disabled; /* "auto" logged that SELinux is disabled */
	char user[64];
	char role[64];
	char sens[8];
	struct mcs_cats cats; /* categories the broker may hand out */
	pthread_mutex_t lock; /* reserved[] */
	struct pair *reserved;
	size_t nreserved, cap;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

void label__errf(char *err, size_t n, const char *fmt, ...)
{
	if (!err || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

bool label__type_ok(const char *type)
{
	size_t i = 0;
	if (!type)
		return false;
	for (; type[i]; i++)
		if (i >= 64 || !(islower((unsigned char)type[i]) ||
				 isdigit((unsigned char)type[i]) || type[i] == '_'))
			return false;
	return i > 0;
}

const char *label__sens(void)
{
	return g.sens;
}

int label__parse_mode(const char *s, enum label_mode *mode)
{
	if (s && !strcmp(s, "auto"))
		*mode = LABEL_AUTO;
	else if (s && !strcmp(s, "require"))
		*mode = LABEL_REQUIRE;
	else if (s && !strcmp(s, "off"))
		*mode = LABEL_OFF;
	else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

bool label__active(void)
{
	return g.active;
}

void label__fini(void)
{
	pthread_mutex_lock(&g.lock);
	free(g.reserved);
	g.reserved = NULL;
	g.nreserved = g.cap = 0;
	pthread_mutex_unlock(&g.lock);
	g.active = false;
	g.told_disabled = false;
	memset(&g.cats, 0, sizeof(g.cats));
	g.user[0] = g.role[0] = g.sens[0] = '\0';
}

/* "user:role:type:range" -> user, role; -1 when a field does not fit. */
static int split_user_role(const char *con)
{
	const char *c1 = strchr(con, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		return -1;
	size_t ul = (size_t)(c1 - con), rl = (size_t)(c2 - c1 - 1);
	if (!ul || !rl || ul >= sizeof(g.user) || rl >= sizeof(g.role))
		return -1;
	memcpy(g.user, con, ul);
	g.user[ul] = '\0';
	memcpy(g.role, c1 + 1, rl);
	g.role[rl] = '\0';
	return 0;
}

int label__init(enum label_mode mode, char *err, size_t n)
{
	label__fini();
	if (mode == LABEL_OFF)
		return 0;
	if (is_selinux_enabled() <= 0) {
		if (mode == LABEL_REQUIRE) {
			label__errf(err, n,
				    "--selinux=require: SELinux is disabled on this host "
				    "(no selinuxfs / no policy loaded)");
			return -1;
		}
		if (!g.told_disabled) {
			log__info("SELinux is disabled: VMs run without sVirt labels");
			g.told_disabled = true;
		}
		return 0;
	}
	/* From here on auto behaves like require: a half-labelled VM
	 * would only fail later, less clearly. */
	if (is_selinux_mls_enabled() <= 0) {
		label__errf(err, n, "SELinux policy has no MLS/MCS: per-VM categories impossible");
		return -1;
	}
	char *con = NULL;
	if (getcon_raw(&con) < 0 || !con) {
		label__errf(err, n, "getcon: %s", strerror(errno));
		return -1;
	}
	struct mcs_cats low;
	int rc = -1;
	if (split_user_role(con) < 0 ||
	    mcs__context_levels(con, g.sens, sizeof(g.sens), &low, &g.cats) < 0) {
		label__errf(err, n, "cannot parse own context '%s'", con);
		goto out;
	}
	if (mcs__count(&g.cats) < 2) {
		label__errf(err, n, "own range of '%s' has fewer than two categories", con);
		goto out;
	}
	/* The policy must know the per-VM domains. */
	char probe[LABEL_CON_MAX];
	snprintf(probe, sizeof(probe), "%s:%s:cellvm_vcpu_t:%s", g.user, g.role, g.sens);
	if (security_check_context_raw(probe) < 0) {
		label__errf(err, n, "policy does not accept '%s': is the cellvm module loaded?",
			    probe);
		goto out;
	}
	g.active = true;
	rc = 0;
out:
	freecon(con);
	return rc;
}

/* Caller holds g.lock. */
static bool reserved_locked(unsigned int c1, unsigned int c2)
{
	for (size_t i = 0; i < g.nreserved; i++)
		if (g.reserved[i].c1 == c1 && g.reserved[i].c2 == c2)
			return true;
	return false;
}

/* Pairs on running processes: /proc/PID/attr/current via getpidcon. */
static int running_pairs(struct pair **out, size_t *nout)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	size_t n = 0, cap = 0;
	struct pair *v = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || e->d_name[0] == '0')
			continue;
		char *con = NULL;
		if (getpidcon_raw((pid_t)pid, &con) < 0 || !con)
			continue; /* exited, or not readable */
		struct pair p;
		int r = mcs__context_pair(con, &p.c1, &p.c2);
		freecon(con);
		if (r != 1)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct pair *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = p;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return 0;
}

static bool in_list(const struct pair *v, size_t n, unsigned int c1, unsigned int c2)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].c1 == c1 && v[i].c2 == c2)
			return true;
	return false;
}

bool label__pair_busy(unsigned int c1, unsigned int c2)
{
	pthread_mutex_lock(&g.lock);
	bool busy = reserved_locked(c1, c2);
	pthread_mutex_unlock(&g.lock);
	if (busy)
		return true;
	struct pair *run = NULL;
	size_t nrun = 0;
	if (running_pairs(&run, &nrun) < 0)
		return true; /* cannot tell: assume busy */
	busy = in_list(run, nrun, c1, c2);
	free(run);
	return busy;
}

static uint32_t rnd(void)
{
	uint32_t r;
	while (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		;
	return r;
}

int label__vm_reserve(struct vm_label *vl, char *err, size_t n)
{
	memset(vl, 0, sizeof(*vl));
	if (!g.active)
		return 0;
	unsigned int cats[MCS_NCATS], ncats = 0;
	for (unsigned int c = 0; c < MCS_NCATS; c++)
		if (mcs__has(&g.cats, c))
			cats[ncats++] = c;

	pthread_mutex_lock(&g.lock);
	struct pair *run = NULL;
	size_t nrun = 0;
	int rc = -1;
	if (running_pairs(&run, &nrun) < 0) {
		label__errf(err, n, "cannot list running processes: %s", strerror(errno));
		goto out;
	}
	if (g.nreserved == g.cap) {
		size_t ncap = g.cap ? g.cap * 2 : 16;
		struct pair *nv = realloc(g.reserved, ncap * sizeof(*nv));
		if (!nv) {
			label__errf(err, n, "out of memory");
			goto out;
		}
		g.reserved = nv;
		g.cap = ncap;
	}
	/* Random tries first, then a scan from a random start so that a
	 * nearly full space still finds the last free pair. */
	struct pair p = {0, 0};
	bool found = false;
	for (int t = 0; t < 256 && !found; t++) {
		unsigned int i = rnd() % ncats, j = rnd() % (ncats - 1);
		if (j >= i)
			j++;
		p.c1 = cats[i < j ? i : j];
		p.c2 = cats[i < j ? j : i];
		found = !reserved_locked(p.c1, p.c2) && !in_list(run, nrun, p.c1, p.c2);
	}
	uint64_t npairs = (uint64_t)ncats * (ncats - 1) / 2, start = rnd() % npairs;
	for (uint64_t k = 0; k < npairs && !found; k++) {
		uint64_t idx = (start + k) % npairs;
		/* idx -> (i, j), i < j, row by row */
		unsigned int i = 0;
		while (idx >= (uint64_t)(ncats - 1 - i)) {
			idx -= ncats - 1 - i;
			i++;
		}
		p.c1 = cats[i];
		p.c2 = cats[i + 1 + idx];
		found = !reserved_locked(p.c1, p.c2) && !in_list(run, nrun, p.c1, p.c2);
	}
	if (!found) {
		label__errf(err, n, "no free MCS category pair among %u categories", ncats);
		goto out;
	}
	g.reserved[g.nreserved++] = p;
	vl->active = true;
	vl->c1 = p.c1;
	vl->c2 = p.c2;
	snprintf(vl->level, sizeof(vl->level), "%s:c%u,c%u", g.sens, p.c1, p.c2);
	rc = 0;
out:
	pthread_mutex_unlock(&g.lock);
	free(run);
	return rc;
}

void label__vm_release(struct vm_label *vl)
{
	if (!vl->active)
		return;
	label__images_release(vl);
	pthread_mutex_lock(&g.lock);
	for (size_t i = 0; i < g.nreserved; i++)
		if (g.reserved[i].c1 == vl->c1 && g.reserved[i].c2 == vl->c2) {
			g.reserved[i] = g.reserved[--g.nreserved];
			break;
		}
	pthread_mutex_unlock(&g.lock);
	vl->active = false;
}

static int build_con(const struct vm_label *vl, const char *role, const char *type, char *out,
		     size_t n)
{
	if (!vl->active || !label__type_ok(type)) {
		errno = EINVAL;
		return -1;
	}
	int len = snprintf(out, n, "%s:%s:%s:%s", g.user, role, type, vl->level);
	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int label__exec_con(const struct vm_label *vl, const char *type, char *out, size_t n)
{
	return build_con(vl, g.role, type, out, n);
}

int label__vm_enter(const struct vm_label *vl, char *err, size_t n)
{
	if (!vl->active)
		return 0;
	char *con = NULL, want[LABEL_CON_MAX];
	const char *t, *e;
	if (getcon_raw(&con) < 0 || !con) {
		label__errf(err, n, "getcon: %s", strerror(errno));
		return -1;
	}
	/* USER:ROLE:TYPE:RANGE: keep TYPE, replace RANGE */
	t = strchr(con, ':');
	t = t ? strchr(t + 1, ':') : NULL;
	e = t ? strchr(t + 1, ':') : NULL;
	int len = e ? snprintf(want, sizeof(want), "%s:%s:%.*s:%s-%s", g.user, g.role,
			       (int)(e - t - 1), t + 1, g.sens, vl->level)
		    : -1;
	freecon(con);
	if (len < 0 || (size_t)len >= sizeof(want)) {
		label__errf(err, n, "cannot build the broker's VM context");
		return -1;
	}
	if (setcon_raw(want) < 0) {
		label__errf(err, n, "setcon %s: %s", want, strerror(errno));
		return -1;
	}
	return 0;
}

int label__obj_con(const struct vm_label *vl, const char *type, char *out, size_t n)
{
	return build_con(vl, "object_r", type, out, n);
}

int label__setexec(const struct vm_label *vl, const char *type)
{
	if (!vl->active)
		return 0;
	char con[LABEL_CON_MAX];
	if (label__exec_con(vl, type, con, sizeof(con)) < 0)
		return -1;
	return setexeccon_raw(con);
}

int label__setsockcreate(const struct vm_label *vl, const char *type)
{
	if (!vl->active)
		return 0;
	if (!type)
		return setsockcreatecon_raw(NULL);
	char con[LABEL_CON_MAX];
	if (label__obj_con(vl, type, con, sizeof(con)) < 0)
		return -1;
	return setsockcreatecon_raw(con);
}

int label__fd_set(const struct vm_label *vl, int fd, const char *type, char *err, size_t n)
{
	if (!vl->active)
		return 0;
	char con[LABEL_CON_MAX];
	if (label__obj_con(vl, type, con, sizeof(con)) < 0) {
		label__errf(err, n, "bad type '%s'", type ? type : "(null)");
		return -1;
	}
	if (fsetfilecon_raw(fd, con) < 0) {
		label__errf(err, n, "fsetfilecon(fd %d, %s): %s", fd, con, strerror(errno));
		return -1;
	}
	return 0;
}
