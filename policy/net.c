/* SPDX-License-Identifier: MIT */
/*
 * net: virtio-net. Frames go between virtqueues in guest RAM (mapped
 * before lockdown) and the TAP fd the broker opened and configured (vnet
 * header size, no offloads). The ioctls left act on those fds only as the
 * guest negotiates: its offloads, and which TAP queues feed it.
 */
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "profile.h"

static const struct sc_rule net_rules[] = {
    PROFILE_BASE_RULES,
    SC_ALLOW(writev, "send a frame to the TAP: our checked header + the guest's buffers"),
    SC_ALLOW_IF(ioctl, "TUNSETOFFLOAD: hand the guest only the offloads it accepted",
		SC_ARG_EQ(1, TUNSETOFFLOAD)),
    SC_ALLOW_IF(ioctl, "TUNSETQUEUE: attach/detach TAP queues as the guest enables queue pairs",
		SC_ARG_EQ(1, TUNSETQUEUE)),
};

const struct profile profile_net = {
    .type = "net",
    .desc = "virtio-net between guest RAM virtqueues and a TAP fd",
    .selinux_type = "cellvm_net_t",
    .ring = true,
    PROFILE_RULES(net_rules),
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
