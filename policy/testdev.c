/* SPDX-License-Identifier: MIT */
/*
 * testdev: the MMIO register block of the IPC benchmark and the confinement
 * tests (device-procs/testdev). Base, plus the SEQPACKET socket transport
 * that the benchmark compares the ring with.
 */
#include "profile.h"

static const struct sc_rule testdev_rules[] = {
    PROFILE_BASE_RULES,
    SC_ALLOW(recvfrom, "socket transport (benchmark peer): one request per recv"),
    SC_ALLOW(sendto, "socket transport (benchmark peer): one reply per send"),
};

const struct profile profile_testdev = {
    .type = "testdev",
    .desc = "test device: MMIO registers for the IPC benchmark and confinement tests",
    .selinux_type = "cellvm_testdev_t",
    .ring = true,
    PROFILE_RULES(testdev_rules),
    PROFILE_SMALL_DEVICE,
    PROFILE_SMALL_DEVICE_RLIMITS,
};
