/* SPDX-License-Identifier: MIT */
/*
 * The same messages and request/reply API over an AF_UNIX SOCK_SEQPACKET
 * socket (the crosvm / vmd / QEMU multi-process model): one datagram per
 * message, exactly 64 bytes. Kept for comparison (bench/ipc) and as a
 * fallback; the shared-memory ring (ipc/chan.h) is the fast path.
 */
#ifndef CELLVM_IPC_SOCK_H
#define CELLVM_IPC_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

struct ipc_sock {
	int fd;
	uint32_t next_seq;
	int timeout_ms;
	struct ipc_region_limits lim; /* device side */
	bool broken;
	int err;
	char why[160];
};

/* Refuses (-EINVAL) anything but a SOCK_SEQPACKET socket. */
int ipc_sock__init(struct ipc_sock *s, int fd);
void ipc_sock__set_limits(struct ipc_sock *s, const struct ipc_region_limits *lim);
void ipc_sock__set_timeout(struct ipc_sock *s, int ms);
const char *ipc_sock__why(const struct ipc_sock *s);

/* vcpu side: 0, -EPIPE, -EPROTO, -ETIMEDOUT (any error breaks the socket). */
int ipc_sock__call(struct ipc_sock *s, struct ipc_msg *req, struct ipc_msg *rep);
/* device side: 0, -EAGAIN (nothing queued), -EPROTO, -EPIPE (peer closed). */
int ipc_sock__recv(struct ipc_sock *s, struct ipc_msg *req);
int ipc_sock__reply(struct ipc_sock *s, const struct ipc_msg *req, uint64_t data, int32_t status);

#endif
