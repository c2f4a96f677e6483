/* SPDX-License-Identifier: MIT */
/*
 * rng: virtio-rng. Fills the guest's buffers in RAM (mapped before lockdown)
 * from getrandom; no backend fd, no file, no socket.
 */
#include "profile.h"

static const struct sc_rule rng_rules[] = {
    PROFILE_BASE_RULES,
    SC_ALLOW(getrandom, "fill the guest's requestq buffers with entropy"),
};

/* No RLIMIT_AS: it maps guest RAM. */
const struct profile profile_rng = {
    .type = "rng",
    .desc = "virtio-rng: guest RAM virtqueue filled from getrandom",
    .selinux_type = "cellvm_rng_t",
    .ring = true,
    PROFILE_RULES(rng_rules),
    .namespaces = PROFILE_ALL_NS,
    .caps = 0,
    .threads = false,
    .guest_ram = true,
    .landlock_fs = true,
    .landlock_net = true,
    .landlock_scope = true,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 32),
		    PROFILE_RL(RLIMIT_NPROC, 1), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_FSIZE, 0), PROFILE_RL(RLIMIT_MSGQUEUE, 0)),
};
