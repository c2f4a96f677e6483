/* SPDX-License-Identifier: MIT */
/*
 * The coverage memfd shared by the device-process fuzzer
 * (tests/fuzz/devproc/) and a device binary of a -Dfuzzing=true build
 * (device-procs/devcov.c). The harness creates it, writes the header and
 * hands it to the device as its last backend fd; the device copies its
 * SanitizerCoverage 8-bit edge counters into `cnt` on each flush.
 */
#ifndef CELLVM_DEVCOV_H
#define CELLVM_DEVCOV_H

#include <stdint.h>

#define DEVCOV_MAGIC 0x766f6364u  /* "dcov" */
#define DEVCOV_MAX   (256u << 10) /* counters (edges); more are folded */
#define DEVCOV_SIZE  (sizeof(struct devcov_shm) + DEVCOV_MAX + DEVCOV_MAX * sizeof(uint64_t))

struct devcov_shm {
	uint32_t magic;	  /* written by the harness */
	uint32_t nedges;  /* written by the device: its edge count */
	uint32_t flushes; /* written by the device: flushes so far */
	uint32_t pad;
	uint8_t cnt[]; /* DEVCOV_MAX counters, written by the device */
		       /* then uint64_t pc[DEVCOV_MAX]: edge i's address in the binary (PIE
			* offset, for llvm-symbolizer), written once at attach */
};

static inline uint64_t *devcov__pcs(struct devcov_shm *s)
{
	return (uint64_t *)(s->cnt + DEVCOV_MAX);
}

#endif
