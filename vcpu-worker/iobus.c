/* SPDX-License-Identifier: MIT */
#include "iobus.h"

#include <errno.h>
#include <stddef.h>

#include "log.h"

#define IOBUS_MAX 64

struct iobus_range {
	enum iobus_space space;
	uint64_t base, len;
	const struct iodev_ops *ops;
	void *priv;
	unsigned region;
	const char *name;
};

/* Written only before the vCPUs start; read-only afterwards (no lock). */
static struct iobus_range ranges[IOBUS_MAX];
static unsigned nranges;

static bool overlaps(const struct iobus_range *r, enum iobus_space space, uint64_t base,
		     uint64_t len)
{
	return r->space == space && base < r->base + r->len && r->base < base + len;
}

int iobus__register(enum iobus_space space, uint64_t base, uint64_t len,
		    const struct iodev_ops *ops, void *priv, unsigned region, const char *name)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	if (nranges == IOBUS_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < nranges; i++) {
		if (overlaps(&ranges[i], space, base, len)) {
			log__err("%s at %#llx overlaps %s", name, (unsigned long long)base,
				 ranges[i].name);
			return -EBUSY;
		}
	}
	ranges[nranges++] = (struct iobus_range){space, base, len, ops, priv, region, name};
	return 0;
}

static const struct iobus_range *find(enum iobus_space space, uint64_t addr, unsigned size)
{
	for (unsigned i = 0; i < nranges; i++) {
		const struct iobus_range *r = &ranges[i];
		if (r->space == space && addr >= r->base && addr - r->base < r->len &&
		    size <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

int iobus__access(enum iobus_space space, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
	const struct iobus_range *r = find(space, addr, size);
	if (!r) {
		if (!write)
			*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
		log__debug("unclaimed %s %s %#llx/%u", space == IOBUS_PIO ? "pio" : "mmio",
			   write ? "write" : "read", (unsigned long long)addr, size);
		return 0;
	}
	uint64_t off = addr - r->base;
	if (write)
		return r->ops->write(r->priv, r->region, off, size, *val);
	return r->ops->read(r->priv, r->region, off, size, val);
}
