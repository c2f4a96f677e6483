/* SPDX-License-Identifier: MIT */
/*
 * input: an i8042 PS/2 controller with keyboard and mouse. Port accesses
 * arrive over the ring; key and pointer events arrive from the vnc process
 * as fixed 24-byte messages on a SOCK_SEQPACKET socket (backend fd 0), one
 * recv per message; interrupts leave through irqfds (write). No guest RAM.
 */
#include <sys/socket.h>

#include "profile.h"

static const struct sc_rule input_rules[] = {
    PROFILE_BASE_RULES,
    SC_ALLOW_IF(recvfrom, "recv one event message from the vnc process (no address)",
		SC_ARG_EQ(3, MSG_DONTWAIT | MSG_TRUNC), SC_ARG_EQ(4, 0)),
};

const struct profile profile_input = {
    .type = "input",
    .desc = "i8042 PS/2 keyboard and mouse fed by the vnc process",
    .selinux_type = "cellvm_input_t",
    .ring = true,
    PROFILE_RULES(input_rules),
    PROFILE_SMALL_DEVICE,
    PROFILE_SMALL_DEVICE_RLIMITS,
};
