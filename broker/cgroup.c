/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
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
