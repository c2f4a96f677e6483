/* SPDX-License-Identifier: MIT */
/*
 * input: virtio-input keyboard and tablet. Events arrive from the vnc
 * process over a ring; virtqueues live in guest RAM (mapped before
 * lockdown). Base only.
 */
#include "profile.h"

static const struct sc_rule input_rules[] = {
    PROFILE_BASE_RULES,
};

const struct profile profile_input = {
    .type = "input",
    .desc = "virtio-input keyboard/tablet fed by the vnc process",
    .selinux_type = "cellvm_input_t",
    PROFILE_RULES(input_rules),
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
