/* SPDX-License-Identifier: MIT */
/* dev_plan.cfg of a disk: what the broker tells cellvm-blk about its fds. */
#ifndef CELLVM_BLK_CFG_H
#define CELLVM_BLK_CFG_H

#include <stdint.h>

#include "devplan.h"

#define BLK_FMT_RAW   1
#define BLK_FMT_QCOW2 2
#define BLK_MAX_CHAIN 4 /* image + backing files (backend fds 0..3) */
#define BLK_THREADS   8 /* I/O threads per disk (docs/virtio.md: the pool's knee on this host) */

struct blk_cfg {
	uint8_t nchain;	  /* backend fds: [0] the image, [i+1] backing of [i] */
	uint8_t readonly; /* the guest may not write */
	uint8_t nqueues;  /* virtqueues */
	uint8_t pad;
	uint16_t queue_size;	       /* power of two */
	uint8_t format[BLK_MAX_CHAIN]; /* BLK_FMT_* of each fd */
	char serial[20];	       /* VIRTIO_BLK_T_GET_ID, NUL-padded */
};
DEV_PLAN_CFG_FITS(struct blk_cfg);
_Static_assert(BLK_MAX_CHAIN <= DEV_PLAN_MAX_BACKENDS, "one backend fd per chain layer");

#endif
