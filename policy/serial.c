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
    .ring = true,
    PROFILE_RULES(serial_rules),
    PROFILE_SMALL_DEVICE,
    PROFILE_SMALL_DEVICE_RLIMITS,
};
