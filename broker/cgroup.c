/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* The controllers every VM is limited by (docs/security.md, "Resource limits"). */
enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_N };
static const char *const ctrl[CG_N] = {"memory", "pids", "cpu"};

#define CPU_PERIOD_US 100000

/*
 * Where each controller is, from /proc/self/mountinfo: a v1 hierarchy of
 * its own, else the v2 hierarchy when it offers the controller. dir[] is
 * the VM's directory in it (v2: the same one for all three).
 */
static struct {
	char mnt[512];
	bool v2;
	char dir[640];
	char origin[512]; /* the broker's cgroup before cgroup__enter */
} cg[CG_N];
static char v2mnt[512];

void cgroup__name(char *name, size_t n)
{
	snprintf(name, n, "cellvm/vm-%d", (int)getpid());
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int e = w < 0 ? -errno : (size_t)w != strlen(val) ? -EIO : 0;
	close(fd);
	return e;
}

/* Fail closed: a limit that cannot be set stops the VM from starting. */
static int must_write(const char *dir, const char *file, const char *val)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int e = write_file(path, val);
	if (e < 0)
		log__err("cgroup: cannot write '%s' to %s: %s: the VM would run without "
			 "this limit",
			 val, path, strerror(-e));
	return e;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static bool has_token(const char *list, const char *tok, const char *seps)
{
	size_t n = strlen(tok);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, seps);
		if (len == n && !strncmp(p, tok, n))
			return true;
		p += len;
		p += strspn(p, seps);
	}
	return false;
}

/* Find each controller's hierarchy; -1 (said why) when one has none. */
static int probe(void)
{
	char line[4096], v2ctl[256] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		log__err("cgroup: /proc/self/mountinfo: %s", strerror(errno));
		return -1;
	}
	memset(cg, 0, sizeof(cg));
	v2mnt[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
		char mnt[512], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		unescape(mnt);
		if (!strcmp(fstype, "cgroup2") && !v2mnt[0]) {
			snprintf(v2mnt, sizeof(v2mnt), "%s", mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			for (int c = 0; c < CG_N; c++)
				if (!cg[c].mnt[0] && has_token(super, ctrl[c], ","))
					snprintf(cg[c].mnt, sizeof(cg[c].mnt), "%s", mnt);
		}
	}
	fclose(f);
	if (v2mnt[0]) {
		char path[600];
		snprintf(path, sizeof(path), "%s/cgroup.controllers", v2mnt);
		FILE *c = fopen(path, "re");
		if (!c || !fgets(v2ctl, sizeof(v2ctl), c))
			v2ctl[0] = 0;
		if (c)
			fclose(c);
		v2ctl[strcspn(v2ctl, "\n")] = 0;
	}
	for (int c = 0; c < CG_N; c++) {
		if (cg[c].mnt[0])
			continue;
		if (v2mnt[0] && has_token(v2ctl, ctrl[c], " ")) {
			snprintf(cg[c].mnt, sizeof(cg[c].mnt), "%s", v2mnt);
			cg[c].v2 = true;
			continue;
		}
		log__err("cgroup: no hierarchy offers the %s controller (no v1 mount of it; v2 "
			 "%s%s%s%s): "
			 "cellvm does not run a VM without its limits",
			 ctrl[c], v2mnt[0] ? "at " : "not mounted", v2mnt,
			 v2mnt[0] ? " offers: " : "", v2mnt[0] ? (v2ctl[0] ? v2ctl : "none") : "");
		return -1;
	}
	return 0;
}

/* Remove the empty cgroups of brokers that died without cleaning up. */
static void reap_stale(const char *dir)
{
	char path[1024];
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int pid;
		char tail;
		if (sscanf(e->d_name, "vm-%d%c", &pid, &tail) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its broker is alive */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rmdir(path); /* fails (EBUSY) if a process is still in it */
	}
	if (d)
		closedir(d);
}

/* The first controller sharing c's directory (v2: one directory for all). */
static int first_of(int c)
{
	for (int i = 0; i < c; i++)
		if (!strcmp(cg[i].dir, cg[c].dir))
			return i;
	return c;
}

int cgroup__create(const char *name, uint64_t mem_limit, unsigned pids_max, unsigned cpus)
{
	char parent[600], val[64];
	if (probe() < 0)
		return -1;
	for (int c = 0; c < CG_N; c++) {
		snprintf(parent, sizeof(parent), "%.511s/cellvm", cg[c].mnt);
		snprintf(cg[c].dir, sizeof(cg[c].dir), "%.511s/%.100s", cg[c].mnt, name);
		if (first_of(c) != c)
			continue;
		if (cg[c].v2) {
			/* v2: a controller works in a child only if its parent enables it. */
			char on[64] = "";
			for (int i = 0; i < CG_N; i++)
				if (cg[i].v2)
					snprintf(on + strlen(on), sizeof(on) - strlen(on), "%s+%s",
						 on[0] ? " " : "", ctrl[i]);
			if (must_write(cg[c].mnt, "cgroup.subtree_control", on) < 0)
				goto fail;
			if (mkdir(parent, 0755) < 0 && errno != EEXIST)
				goto fail_mkdir;
			if (must_write(parent, "cgroup.subtree_control", on) < 0)
				goto fail;
		} else if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
			goto fail_mkdir;
		}
		reap_stale(parent);
		if (mkdir(cg[c].dir, 0755) < 0 && errno != EEXIST) {
			snprintf(parent, sizeof(parent), "%s", cg[c].dir);
			goto fail_mkdir;
		}
	}
	snprintf(val, sizeof(val), "%llu", (unsigned long long)mem_limit);
	if (must_write(cg[CG_MEMORY].dir, cg[CG_MEMORY].v2 ? "memory.max" : "memory.limit_in_bytes",
		       val) < 0)
		goto fail;
	snprintf(val, sizeof(val), "%u", pids_max);
	if (must_write(cg[CG_PIDS].dir, "pids.max", val) < 0)
		goto fail;
	unsigned long long quota = (unsigned long long)cpus * CPU_PERIOD_US;
	if (cg[CG_CPU].v2) {
		snprintf(val, sizeof(val), "%llu %u", quota, CPU_PERIOD_US);
		if (must_write(cg[CG_CPU].dir, "cpu.max", val) < 0)
			goto fail;
	} else {
		snprintf(val, sizeof(val), "%u", CPU_PERIOD_US);
		if (must_write(cg[CG_CPU].dir, "cpu.cfs_period_us", val) < 0)
			goto fail;
		snprintf(val, sizeof(val), "%llu", quota);
		if (must_write(cg[CG_CPU].dir, "cpu.cfs_quota_us", val) < 0)
			goto fail;
	}
	return 0;
fail_mkdir:
	log__err("cgroup: %s: %s", parent, strerror(errno));
fail:
	cgroup__remove(name);
	return -1;
}

void cgroup__remove(const char *name)
{
	(void)name; /* the directories cgroup__create made */
	for (int c = 0; c < CG_N; c++) {
		if (!cg[c].dir[0] || first_of(c) != c)
			continue;
		/* A child may still be leaving: retry briefly. */
		for (int t = 0; t < 50 && rmdir(cg[c].dir) < 0 && errno == EBUSY; t++)
			usleep(2000);
	}
	for (int c = CG_N - 1; c >= 0; c--)
		cg[c].dir[0] = 0;
}

/* Our own cgroup for controller c, from /proc/self/cgroup ("ID:CONTROLLERS:PATH"). */
static void own_cgroup(int c, char *out, size_t n)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	out[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = 0;
		b[strcspn(b + 1, "\n") + 1] = 0;
		bool v2 = a[1] == 0;
		if (v2 ? cg[c].v2 : (!cg[c].v2 && has_token(a + 1, ctrl[c], ",")))
			snprintf(out, n, "%s", b + 1);
	}
	if (f)
		fclose(f);
}

int cgroup__enter(const char *name)
{
	char path[800];
	(void)name; /* the directories cgroup__create made */
	for (int c = 0; c < CG_N; c++) {
		if (first_of(c) != c)
			continue;
		own_cgroup(c, cg[c].origin, sizeof(cg[c].origin));
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg[c].dir);
		int e = write_file(path, "0");
		if (e < 0) {
			log__err("cgroup %s: %s", path, strerror(-e));
			return -1;
		}
	}
	return 0;
}

void cgroup__leave(void)
{
	char path[1200];
	for (int c = 0; c < CG_N; c++) {
		if (!cg[c].origin[0] || first_of(c) != c)
			continue;
		snprintf(path, sizeof(path), "%.511s%.511s/cgroup.procs", cg[c].mnt, cg[c].origin);
		write_file(path, "0");
	}
}
