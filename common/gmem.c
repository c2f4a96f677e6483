/* SPDX-License-Identifier: MIT */
#include "gmem.h"
#include "abi.h"

#include <string.h>

void gmem__init(struct gmem *gm, void *host, uint64_t size)
{
	gm->host = host;
	gm->size = size;
	gm->low_size = size < CV_LOWMEM_MAX ? size : CV_LOWMEM_MAX;
}

void *gmem__ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t high_size = gm->size - gm->low_size;

	if (gpa <= gm->low_size && len <= gm->low_size - gpa)
		return gm->host + gpa;
	if (gpa >= CV_HIGHMEM_BASE) {
		uint64_t off = gpa - CV_HIGHMEM_BASE;
		if (off <= high_size && len <= high_size - off)
			return gm->host + gm->low_size + off;
	}
	return NULL;
}

bool gmem__read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem__ptr(gm, gpa, len);
	if (!p)
		return false;
	memcpy(dst, p, len);
	return true;
}

bool gmem__write(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem__ptr(gm, gpa, len);
	if (!p)
		return false;
	memcpy(p, src, len);
	return true;
}
