/* SPDX-License-Identifier: MIT */
/* SEQPACKET transport: one 64-byte datagram per message, validated like the ring. */
#include "ipc/sock.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int sock_fail(struct ipc_sock *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sock_fail(struct ipc_sock *s, int err, const char *fmt, ...)
{
	if (!s->broken) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
		s->broken = true;
		s->err = err;
	}
	return s->err;
}

int ipc_sock__init(struct ipc_sock *s, int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EINVAL;
	s->fd = fd;
	s->next_seq = 1;
	s->timeout_ms = 5000;
	return 0;
}

void ipc_sock__set_limits(struct ipc_sock *s, const struct ipc_region_limits *lim)
{
	s->lim = *lim;
}

void ipc_sock__set_timeout(struct ipc_sock *s, int ms)
{
	s->timeout_ms = ms;
}

const char *ipc_sock__why(const struct ipc_sock *s)
{
	return s->broken ? s->why : "";
}

static int send_msg(struct ipc_sock *s, const struct ipc_msg *m)
{
	ssize_t r;
	do
		r = send(s->fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sock_fail(s, errno == EPIPE || errno == ECONNRESET ? -EPIPE : -errno,
				 "send failed");
	if (r != (ssize_t)sizeof(*m))
		return sock_fail(s, -EPROTO, "short send");
	return 0;
}

/* One datagram: 0, -EAGAIN, or an error that breaks the socket. */
static int recv_msg(struct ipc_sock *s, struct ipc_msg *m)
{
	ssize_t r;
	do
		/* MSG_TRUNC: r is the datagram's real length, so oversize is seen */
		r = recv(s->fd, m, sizeof(*m), MSG_DONTWAIT | MSG_TRUNC);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return sock_fail(s, errno == ECONNRESET ? -EPIPE : -errno, "recv failed");
	}
	if (r == 0)
		return sock_fail(s, -EPIPE, "peer closed the socket");
	if (r != (ssize_t)sizeof(*m))
		return sock_fail(s, -EPROTO, "datagram of %zd bytes, expected %zu", r, sizeof(*m));
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ipc_sock__call(struct ipc_sock *s, struct ipc_msg *req, struct ipc_msg *rep)
{
	struct ipc_msg m;
	char why[128];

	if (s->broken)
		return s->err;
	req->seq = s->next_seq++;
	int r = send_msg(s, req);
	if (r)
		return r;
	uint64_t deadline = now_ms() + (uint64_t)(s->timeout_ms > 0 ? s->timeout_ms : 0);
	for (;;) {
		r = recv_msg(s, &m);
		if (r == 0)
			break;
		if (r != -EAGAIN)
			return r;
		uint64_t now = now_ms();
		if (now >= deadline)
			return sock_fail(s, -ETIMEDOUT, "no reply to seq %u within %d ms", req->seq,
					 s->timeout_ms);
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return sock_fail(s, -errno, "poll failed");
	}
	uint32_t size = ipc_msg__is_read(req->op) && req->size <= 8 ? req->size : 0;
	if (!ipc_msg__check_reply(&m, req->seq, size, why, sizeof(why)))
		return sock_fail(s, -EPROTO, "%s", why);
	*rep = m;
	return 0;
}

int ipc_sock__recv(struct ipc_sock *s, struct ipc_msg *req)
{
	struct ipc_msg m;
	char why[128];

	if (s->broken)
		return s->err;
	int r = recv_msg(s, &m);
	if (r)
		return r;
	if (!ipc_msg__check_request(&m, &s->lim, why, sizeof(why)))
		return sock_fail(s, -EPROTO, "%s", why);
	*req = m;
	return 0;
}

int ipc_sock__reply(struct ipc_sock *s, const struct ipc_msg *req, uint64_t data, int32_t status)
{
	struct ipc_msg rep;

	if (s->broken)
		return s->err;
	ipc_msg__make_reply(&rep, req, data, status);
	return send_msg(s, &rep);
}
