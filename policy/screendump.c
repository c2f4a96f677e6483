/* SPDX-License-Identifier: MIT */
/*
 * screendump: a one-shot process that reads the display memfd (read-only)
 * and writes one PNG to an fd the requesting user opened. It exists so the
 * broker never interprets the display state a (hostile) vga process wrote.
 */
#include "profile.h"

static const struct sc_rule screendump_rules[] = {
    PROFILE_BASE_RULES,
};

const struct profile profile_screendump = {
    .type = "screendump",
    .desc = "one PNG of the display, written to an fd the user opened",
    .selinux_type = "cellvm_screendump_t",
    PROFILE_RULES(screendump_rules),
    PROFILE_SMALL_DEVICE,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 16),
		    PROFILE_RL(RLIMIT_NPROC, 1), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_MSGQUEUE, 0), PROFILE_RL(RLIMIT_AS, 512ULL << 20)),
};
