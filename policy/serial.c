/* SPDX-License-Identifier: MIT */
/*
 * serial: a 16550 UART. Bytes go between the ring and a backend fd
 * (pty or pipe) the broker opened. Nothing but the base: no ioctl at all
 * (the broker puts the pty in raw mode before handing it over).
 */
#include "profile.h"

static const struct sc_rule serial_rules[] = {
    PROFILE_BASE_RULES,
};

const struct profile profile_serial = {
    .type = "serial",
    .desc = "16550 UART between the ring and a pty/pipe backend",
    .selinux_type = "cellvm_serial_t",
    PROFILE_RULES(serial_rules),
    .namespaces = PROFILE_ALL_NS,
    .caps = 0,
    .threads = false,
    .guest_ram = false,
    .landlock_fs = true,
    .landlock_net = true,
    .landlock_scope = true,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 32),
		    PROFILE_RL(RLIMIT_NPROC, 1), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_FSIZE, 0), PROFILE_RL(RLIMIT_MSGQUEUE, 0),
		    PROFILE_RL(RLIMIT_AS, 512ULL << 20), PROFILE_RL(RLIMIT_DATA, 256ULL << 20)),
};
