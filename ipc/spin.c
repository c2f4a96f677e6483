/* SPDX-License-Identifier: MIT */
/* Choosing a waiting policy by measurement: see spin.h. */
#include "ipc/spin.h"

#include <stdbool.h>
#include <string.h>

void ipc_spin__init(struct ipc_spin *s)
{
	memset(s, 0, sizeof(*s));
	s->best = s->arm = IPC_SPIN_VCPU | IPC_SPIN_DEV; /* until measured: both spin */
}

static unsigned popcount2(unsigned a)
{
	return (a & 1) + ((a >> 1) & 1);
}

/* The arm with the lowest round trip; one that spins less wins within 10%. */
static uint8_t pick(const struct ipc_spin *s)
{
	unsigned best = s->best;
	for (unsigned a = 0; a < IPC_SPIN_ARMS; a++) {
		uint64_t x = s->ewma_ns[a], y = s->ewma_ns[best];
		if (a == best || !s->samples[a])
			continue;
		bool fewer = popcount2(a)<popcount2(best), more = popcount2(a)> popcount2(best);
		if ((fewer && x * 10 <= y * 11) || (more && x * 11 < y * 10) ||
		    (!fewer && !more && x < y))
			best = a;
	}
	return (uint8_t)best;
}

unsigned ipc_spin__next(struct ipc_spin *s)
{
	unsigned arm = s->best;
	/* Warm-up: every arm gets IPC_SPIN_WARM counted samples. */
	for (unsigned a = 0; a < IPC_SPIN_ARMS; a++)
		if (s->samples[a] < IPC_SPIN_WARM) {
			arm = a;
			goto out;
		}
	/* Then a look at the three others every IPC_SPIN_PERIOD calls. */
	uint32_t phase = s->calls % IPC_SPIN_PERIOD;
	if (phase < 3 * IPC_SPIN_BURST)
		arm = (s->best + 1 + phase / IPC_SPIN_BURST) % IPC_SPIN_ARMS;
out:
	if (arm != s->arm) {
		s->arm = (uint8_t)arm;
		s->run = 0;
	}
	s->calls++;
	return arm;
}

void ipc_spin__record(struct ipc_spin *s, uint64_t ns)
{
	/* The first two calls after a switch pay for the switch (a peer asleep). */
	if (s->run < 2) {
		s->run++;
		return;
	}
	unsigned a = s->arm;
	/* A look at an arm starts its estimate afresh: the old one may be stale. */
	if (!s->samples[a] || (s->run == 2 && a != s->best))
		s->ewma_ns[a] = ns;
	else
		s->ewma_ns[a] = s->ewma_ns[a] - s->ewma_ns[a] / 8 + ns / 8;
	if (s->run < UINT8_MAX)
		s->run++;
	if (s->samples[a] < UINT32_MAX)
		s->samples[a]++;
	s->best = pick(s);
}
