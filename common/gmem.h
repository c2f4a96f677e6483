/* SPDX-License-Identifier: MIT */
/*
 * Host view of guest RAM: one mapping of the RAM memfd, split over the
 * low and high GPA ranges of abi.h. Every access from device emulation goes
 * through gmem__ptr(), which refuses anything not wholly inside guest RAM
 * (including ranges that straddle the PCI hole or wrap around 2^64).
 */
#ifndef CELLVM_GMEM_H
#define CELLVM_GMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct gmem {
	uint8_t *host;	   /* mapping of the whole memfd (size bytes) */
	uint64_t size;	   /* total RAM bytes */
	uint64_t low_size; /* bytes at GPA 0; the rest sits at CV_HIGHMEM_BASE */
};

/* Fill in low_size for a RAM of `size` bytes mapped at `host`. */
void gmem__init(struct gmem *gm, void *host, uint64_t size);

/*
 * Host pointer for [gpa, gpa+len), or NULL if any byte of it is outside
 * guest RAM or the range crosses from low to high memory. len 0 is valid
 * for any gpa <= end of a region.
 */
void *gmem__ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* Copies with the same checks; return false (and copy nothing) if refused. */
bool gmem__read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len);
bool gmem__write(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len);

#endif
