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

#define CG_ROOT "/sys/fs/cgroup"

/* v1 hierarchies cellvm uses, and the v2 one (where controllers are delegated). */
static const char *const hier[] = {"memory", "cpu", "pids", "unified"};

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
	int e = w < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* Remove the empty cgroups of brokers that died without cleaning up. */
static void reap_stale(const char *h)
{
	char dir[300], path[600];
	snprintf(dir, sizeof(dir), CG_ROOT "/%s/cellvm", h);
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

int cgroup__create(const char *name, uint64_t mem_limit, unsigned pids_max)
{
	char path[512], file[600], val[32];
	for (unsigned i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		snprintf(path, sizeof(path), CG_ROOT "/%s", hier[i]);
		if (access(path, F_OK) < 0)
			continue; /* not mounted here */
		snprintf(path, sizeof(path), CG_ROOT "/%s/cellvm", hier[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto fail;
		reap_stale(hier[i]);
		snprintf(path, sizeof(path), CG_ROOT "/%s/%s", hier[i], name);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto fail;
		/* Limits, where this hierarchy has the controller (v2 may not). */
		snprintf(val, sizeof(val), "%llu", (unsigned long long)mem_limit);
		snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", path);
		if (write_file(file, val) == -EACCES)
			goto fail;
		snprintf(file, sizeof(file), "%s/memory.max", path);
		write_file(file, val);
		snprintf(val, sizeof(val), "%u", pids_max);
		snprintf(file, sizeof(file), "%s/pids.max", path);
		write_file(file, val);
	}
	return 0;
fail:
	log__err("cgroup %s: %s", path, strerror(errno));
	return -1;
}

void cgroup__remove(const char *name)
{
	char path[512];
	for (unsigned i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		snprintf(path, sizeof(path), CG_ROOT "/%s/%s", hier[i], name);
		/* A child may still be leaving: retry briefly. */
		for (int t = 0; t < 50 && rmdir(path) < 0 && errno == EBUSY; t++)
			usleep(2000);
	}
}

/* Where the broker was before it joined its VM's cgroup, per hierarchy. */
static char origin[sizeof(hier) / sizeof(hier[0])][512];

/* Our own cgroup in hierarchy h, from /proc/self/cgroup ("ID:CONTROLLERS:PATH"). */
static void own_cgroup(const char *h, char *out, size_t n)
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
		if ((v2 && !strcmp(h, "unified")) || (!v2 && strstr(a + 1, h)))
			snprintf(out, n, "%s", b + 1);
	}
	if (f)
		fclose(f);
}

int cgroup__enter(const char *name)
{
	char path[3072];
	for (unsigned i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		snprintf(path, sizeof(path), CG_ROOT "/%s/%s/cgroup.procs", hier[i], name);
		if (access(path, F_OK) < 0)
			continue;
		own_cgroup(hier[i], origin[i], sizeof(origin[i]));
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
	char path[3072];
	for (unsigned i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		if (!origin[i][0])
			continue;
		snprintf(path, sizeof(path), CG_ROOT "/%s%s/cgroup.procs", hier[i], origin[i]);
		write_file(path, "0");
	}
}
