/* SPDX-License-Identifier: MIT */
/*
 * vnc: the RFB server. The broker binds and listens; this process only
 * accepts on the inherited listening socket and talks to clients on the
 * sockets accept4 returns. Never socket(), connect() or bind().
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "profile.h"

static const struct sc_rule vnc_rules[] = {
    PROFILE_BASE_RULES,
    SC_ALLOW_IF(accept4, "take a client from the inherited listening socket (nonblocking, cloexec)",
		SC_ARG_EQ(3, SOCK_NONBLOCK | SOCK_CLOEXEC)),
    SC_ALLOW_IF(sendto, "send to a connected client (no address)", SC_ARG_EQ(4, 0)),
    SC_ALLOW_IF(recvfrom, "receive from a connected client (no address)", SC_ARG_EQ(4, 0)),
    SC_ALLOW_IF(setsockopt, "TCP_NODELAY on a client socket", SC_ARG_EQ(1, IPPROTO_TCP),
		SC_ARG_EQ(2, TCP_NODELAY)),
    SC_ALLOW_IF(shutdown, "hang up on a client", SC_ARG_EQ(1, SHUT_RDWR)),
    SC_ALLOW_IF(getrandom, "TLS and VNC-auth challenges", SC_ARG_EQ(2, 0)),
    SC_ALLOW_IF(mremap,
		"realloc() of a large per-client output buffer (moves, never adds PROT_EXEC)",
		SC_ARG_EQ(3, MREMAP_MAYMOVE)),
    SC_ALLOW_IF(rt_sigaction, "ignore SIGPIPE: a client hanging up must not kill the server",
		SC_ARG_EQ(0, SIGPIPE)),
};

const struct profile profile_vnc = {
    .type = "vnc",
    .desc = "RFB server on an inherited listening socket; reads the VRAM memfd",
    .selinux_type = "cellvm_vnc_t",
    PROFILE_RULES(vnc_rules),
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
		    PROFILE_RL(RLIMIT_AS, 1ULL << 30)),
};
