/* SPDX-License-Identifier: MIT */
/* The SEQPACKET transport: round trips across a fork, and what it refuses. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "helpers.h"
#include "ipc/sock.h"

#define N_TRIPS 20000u

static int sock_device(int fd)
{
	struct ipc_sock s;
	struct ipc_region_limits lim;
	struct ipc_msg q;
	uint64_t i = 0;
	if (ipc_sock__init(&s, fd))
		return 30;
	limits_two_mmio(&lim);
	ipc_sock__set_limits(&s, &lim);
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		poll(&pf, 1, 10000);
		int r = ipc_sock__recv(&s, &q);
		if (r == -EAGAIN)
			continue;
		if (r == -EPIPE)
			return i == N_TRIPS ? 0 : 31;
		if (r)
			return 32;
		if (q.seq != (uint32_t)(i + 1) || q.off != (i * 4) % 4096)
			return 33;
		ipc_sock__reply(&s, &q, mix64(i) & 0xffffffff, 0);
		i++;
	}
}

static void test_sock_round_trips(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(sock_device(sv[1]));
	}
	close(sv[1]);
	struct ipc_sock s;
	assert_int_equal(ipc_sock__init(&s, sv[0]), 0);
	for (uint64_t i = 0; i < N_TRIPS; i++) {
		struct ipc_msg q = mk_req(IPC_OP_MMIO_READ, 1, (i * 4) % 4096, 4, 0), rep;
		assert_int_equal(ipc_sock__call(&s, &q, &rep), 0);
		assert_int_equal(rep.data, mix64(i) & 0xffffffff);
	}
	close(sv[0]); /* the device sees EOF and exits */
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void dev_rejects_raw(const void *buf, size_t len, int want, const char *needle)
{
	int sv[2];
	struct ipc_sock d;
	struct ipc_region_limits lim;
	struct ipc_msg q;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_sock__init(&d, sv[1]), 0);
	limits_two_mmio(&lim);
	ipc_sock__set_limits(&d, &lim);
	assert_int_equal(ipc_sock__recv(&d, &q), -EAGAIN);
	if (buf)
		assert_int_equal(send(sv[0], buf, len, 0), (ssize_t)len);
	else
		close(sv[0]);
	assert_int_equal(ipc_sock__recv(&d, &q), want);
	assert_non_null(strstr(ipc_sock__why(&d), needle));
	assert_int_equal(ipc_sock__recv(&d, &q), want); /* stays broken */
	if (buf)
		close(sv[0]);
	close(sv[1]);
}

static void test_sock_device_refuses(void **state)
{
	(void)state;
	uint8_t big[65] = {0};
	struct ipc_msg m = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0);
	dev_rejects_raw(&m, 63, -EPROTO, "63 bytes");
	dev_rejects_raw(big, sizeof(big), -EPROTO, "65 bytes");
	m.region = 5;
	dev_rejects_raw(&m, sizeof(m), -EPROTO, "region 5 out of range");
	dev_rejects_raw(NULL, 0, -EPIPE, "closed");
}

static void test_sock_vcpu_refuses(void **state)
{
	(void)state;
	int sv[2];
	struct ipc_sock v;
	struct ipc_msg q = mk_req(IPC_OP_MMIO_READ, 0, 0, 4, 0), rep, fake;
	/* a stream socket has no message boundaries: refused */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ipc_sock__init(&v, sv[0]), -EINVAL);
	close(sv[0]);
	close(sv[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_sock__init(&v, sv[0]), 0);
	/* a reply queued before the call: right seq (1) passes */
	q.seq = 1;
	ipc_msg__make_reply(&fake, &q, 0xabcd, 0);
	assert_int_equal(send(sv[1], &fake, sizeof(fake), 0), 64);
	assert_int_equal(ipc_sock__call(&v, &q, &rep), 0);
	assert_int_equal(rep.data, 0xabcd);
	/* wrong seq */
	fake.seq = 7;
	assert_int_equal(send(sv[1], &fake, sizeof(fake), 0), 64);
	assert_int_equal(ipc_sock__call(&v, &q, &rep), -EPROTO);
	assert_non_null(strstr(ipc_sock__why(&v), "seq 7, expected 2"));
	close(sv[0]);
	close(sv[1]);

	/* no reply: timeout */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_sock__init(&v, sv[0]), 0);
	ipc_sock__set_timeout(&v, 20);
	assert_int_equal(ipc_sock__call(&v, &q, &rep), -ETIMEDOUT);
	/* peer closed: EPIPE */
	assert_int_equal(ipc_sock__init(&v, sv[0]), 0);
	close(sv[1]);
	assert_int_equal(ipc_sock__call(&v, &q, &rep), -EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sock_round_trips),
	    cmocka_unit_test(test_sock_device_refuses),
	    cmocka_unit_test(test_sock_vcpu_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
