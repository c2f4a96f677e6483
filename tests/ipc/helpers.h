/* SPDX-License-Identifier: MIT */
/* Shared set-up for the ipc tests: one channel, both ends in this process. */
#ifndef CELLVM_TEST_IPC_HELPERS_H
#define CELLVM_TEST_IPC_HELPERS_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipc/chan-int.h"

struct pair {
	int memfd, bell_dev, bell_vcpu;
	int pipe_dev[2], pipe_vcpu[2]; /* pipe doorbells, or -1 */
	struct ipc_chan v, d;
};

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline void limits_two_mmio(struct ipc_region_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->nregions = 2;
	lim->size[0] = 4096;
	lim->size[1] = 4096;
}

/* Create + attach both sides; returns 0 or -errno. */
static inline int pair_open(struct pair *p, unsigned slots)
{
	char err[160];
	struct ipc_region_limits lim;
	memset(p, 0, sizeof(*p));
	p->memfd = ipc_chan__create(slots);
	if (p->memfd < 0)
		return p->memfd;
	p->bell_dev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->bell_vcpu = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = ipc_chan__attach(&p->v, p->memfd, p->bell_dev, p->bell_vcpu, IPC_SIDE_VCPU, err,
				 sizeof(err));
	if (r == 0)
		r = ipc_chan__attach(&p->d, p->memfd, p->bell_dev, p->bell_vcpu, IPC_SIDE_DEV, err,
				     sizeof(err));
	limits_two_mmio(&lim);
	ipc_chan__set_limits(&p->d, &lim);
	p->pipe_dev[0] = p->pipe_dev[1] = p->pipe_vcpu[0] = p->pipe_vcpu[1] = -1;
	return r;
}

/* The same with pipe doorbells: each side gets only the ends it uses. */
static inline int pair_open_pipes(struct pair *p, unsigned slots)
{
	char err[160];
	struct ipc_region_limits lim;
	memset(p, 0, sizeof(*p));
	p->memfd = ipc_chan__create(slots);
	if (p->memfd < 0)
		return p->memfd;
	p->bell_dev = p->bell_vcpu = -1;
	if (pipe2(p->pipe_dev, O_CLOEXEC | O_NONBLOCK) ||
	    pipe2(p->pipe_vcpu, O_CLOEXEC | O_NONBLOCK))
		return -1;
	int r = ipc_chan__attach(&p->v, p->memfd, p->pipe_dev[1], p->pipe_vcpu[0], IPC_SIDE_VCPU,
				 err, sizeof(err));
	if (r == 0)
		r = ipc_chan__attach(&p->d, p->memfd, p->pipe_dev[0], p->pipe_vcpu[1], IPC_SIDE_DEV,
				     err, sizeof(err));
	limits_two_mmio(&lim);
	ipc_chan__set_limits(&p->d, &lim);
	return r;
}

static inline void pair_close(struct pair *p)
{
	ipc_chan__detach(&p->v);
	ipc_chan__detach(&p->d);
	close(p->memfd);
	int fds[] = {p->bell_dev,    p->bell_vcpu,    p->pipe_dev[0],
		     p->pipe_dev[1], p->pipe_vcpu[0], p->pipe_vcpu[1]};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static inline struct ipc_msg mk_req(uint32_t op, uint32_t region, uint64_t off, uint32_t size,
				    uint64_t data)
{
	struct ipc_msg m;
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.region = region;
	m.off = off;
	m.size = size;
	m.data = data;
	return m;
}

#endif
