/* SPDX-License-Identifier: MIT */
/* dev_plan.cfg of the display adapter. */
#ifndef CELLVM_VGA_CFG_H
#define CELLVM_VGA_CFG_H

#include <stdint.h>

#include "devplan.h"

struct vga_cfg {
	uint32_t vram_size; /* bytes of video memory after the state page */
};
DEV_PLAN_CFG_FITS(struct vga_cfg);

#endif
