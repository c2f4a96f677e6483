/* SPDX-License-Identifier: MIT */
#include "testdev.h"

static uint64_t mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

uint64_t testdev__read(struct testdev *t, uint64_t off, unsigned size)
{
	t->count++;
	switch (off) {
	case TESTDEV_REG_ID:
		return TESTDEV_ID & mask(size);
	case TESTDEV_REG_COUNT:
		return t->count & mask(size);
	case TESTDEV_REG_SCRATCH:
		return t->scratch & mask(size);
	default:
		return 0;
	}
}

void testdev__write(struct testdev *t, uint64_t off, unsigned size, uint64_t val)
{
	t->count++;
	if (off == TESTDEV_REG_SCRATCH)
		t->scratch = val & mask(size);
}
