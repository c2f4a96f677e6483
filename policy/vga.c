/* SPDX-License-Identifier: MIT */
/*
 * vga: a linear framebuffer device. VRAM is its own memfd, shared with
 * the vnc process; the guest's register writes arrive over the ring. Base
 * only: no guest RAM, no ioctl.
 */
#include "profile.h"

static const struct sc_rule vga_rules[] = {
    PROFILE_BASE_RULES,
};

const struct profile profile_vga = {
    .type = "vga",
    .desc = "framebuffer device: VRAM memfd shared with vnc",
    .selinux_type = "cellvm_vga_t",
    .ring = true,
    PROFILE_RULES(vga_rules),
    PROFILE_SMALL_DEVICE,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 32),
		    PROFILE_RL(RLIMIT_NPROC, 1), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_FSIZE, 0), PROFILE_RL(RLIMIT_MSGQUEUE, 0),
		    PROFILE_RL(RLIMIT_AS, 1ULL << 30)),
};
