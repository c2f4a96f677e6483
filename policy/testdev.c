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
    PROFILE_RULES(testdev_rules),
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
