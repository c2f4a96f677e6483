/* SPDX-License-Identifier: MIT */
/*
 * Two processes: millions of messages with no loss, duplication or
 * reordering; and a device killed mid-stream, seen through the peer fd
 * (pidfd, then socket) rather than by timing out.
 */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "helpers.h"

#define N_STREAM 2000000u

static uint64_t n_stream = N_STREAM;

static struct ipc_msg stream_req(uint64_t i)
{
	if (i & 1)
		return mk_req(IPC_OP_MMIO_READ, (uint32_t)(i >> 1) & 1, (i * 8) % 4096, 8, 0);
	return mk_req(IPC_OP_MMIO_WRITE, (uint32_t)(i >> 1) & 1, (i * 8) % 4096, 8, mix64(i));
}

/* Device child: checks each request is the next one expected. Exit 0 = all good. */
static int stream_device(struct pair *p)
{
	uint64_t i = 0;
	struct ipc_msg q;
	for (;;) {
		int r = ipc_chan__wait(&p->d, 10000);
		if (r)
			return 10;
		while ((r = ipc_chan__recv(&p->d, &q)) == 0) {
			if (q.op == IPC_OP_CTRL_SHUTDOWN) {
				ipc_chan__reply(&p->d, &q, 0, 0);
				return i == n_stream ? 0 : 11;
			}
			struct ipc_msg want = stream_req(i);
			if (q.seq != (uint32_t)(i + 1) || q.op != want.op ||
			    q.region != want.region || q.off != want.off || q.data != want.data)
				return 12;
			if (ipc_chan__reply(&p->d, &q, q.op == IPC_OP_MMIO_READ ? mix64(i) : 0, 0))
				return 13;
			i++;
		}
		if (r != -EAGAIN)
			return 14;
	}
}

static void run_stream(struct pair *pp)
{
	struct pair p = *pp;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(stream_device(&p));
	uint64_t sent = 0, done = 0, bad = 0;
	struct ipc_msg rep;
	while (done < n_stream) {
		while (sent < n_stream) {
			struct ipc_msg q = stream_req(sent);
			int r = ipc_chan__send(&p.v, &q);
			if (r == -EAGAIN)
				break;
			assert_int_equal(r, 0);
			sent++;
		}
		int r;
		while ((r = ipc_chan__poll_reply(&p.v, &rep)) == 0) {
			/* seq order is enforced by poll_reply; check the payload */
			if (rep.seq != (uint32_t)(done + 1) ||
			    rep.data != ((done & 1) ? mix64(done) : 0) || rep.status != 0)
				bad++;
			done++;
		}
		assert_int_equal(r, -EAGAIN);
		if (done < sent)
			assert_int_equal(ipc_chan__wait(&p.v, 10000), 0);
	}
	assert_int_equal(bad, 0);
	struct ipc_msg q = mk_req(IPC_OP_CTRL_SHUTDOWN, 0, 0, 0, 0);
	assert_int_equal(ipc_chan__call(&p.v, &q, &rep), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pair_close(&p);
}

static void test_stream_millions(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open(&p, 256), 0);
	n_stream = N_STREAM;
	run_stream(&p);
}

/* Small rings and pipe doorbells: many more sleeps and wake-ups. */
static void test_stream_pipes(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open_pipes(&p, 8), 0);
	ipc_chan__set_spin(&p.d, 0, 0); /* the device sleeps whenever the ring is empty */
	n_stream = N_STREAM / 40;	/* wake-up bound: ~N/8 sleeps */
	run_stream(&p);
}

/* Device child that serves `n` calls and dies on the next request. */
static void dying_device(struct pair *p, unsigned n)
{
	struct ipc_msg q;
	for (unsigned i = 0;;) {
		if (ipc_chan__wait(&p->d, 10000))
			_exit(20);
		while (ipc_chan__recv(&p->d, &q) == 0) {
			if (i++ == n)
				raise(SIGKILL);
			ipc_chan__reply(&p->d, &q, q.off, 0);
		}
	}
}

static void call_until_dead(struct pair *p, unsigned expect_ok)
{
	struct ipc_msg q, rep;
	unsigned ok = 0;
	int r;
	ipc_chan__set_timeout(&p->v, 60000); /* only the peer fd can end this quickly */
	for (;;) {
		q = mk_req(IPC_OP_MMIO_READ, 0, ok % 512 * 8, 8, 0);
		r = ipc_chan__call(&p->v, &q, &rep);
		if (r)
			break;
		assert_int_equal(rep.data, q.off);
		ok++;
	}
	assert_int_equal(r, -EPIPE);
	assert_int_equal(ok, expect_ok);
	assert_non_null(strstr(ipc_chan__why(&p->v), "peer is gone"));
	assert_int_equal(ipc_chan__call(&p->v, &q, &rep), -EPIPE);
}

static void test_peer_killed_pidfd(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open(&p, 16), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		dying_device(&p, 1000);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		skip();
	}
	ipc_chan__set_peer_fd(&p.v, pidfd);
	call_until_dead(&p, 1000);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	close(pidfd);
	pair_close(&p);
}

static void test_peer_killed_socket(void **state)
{
	(void)state;
	struct pair p;
	int sv[2];
	assert_int_equal(pair_open(&p, 16), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		dying_device(&p, 300);
	}
	close(sv[1]);
	ipc_chan__set_peer_fd(&p.v, sv[0]);
	call_until_dead(&p, 300);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	pair_close(&p);
}

/* Pipe doorbells and no peer fd: the hung-up doorbell reveals the death. */
static void test_peer_killed_pipe_hup(void **state)
{
	(void)state;
	struct pair p;
	assert_int_equal(pair_open_pipes(&p, 16), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		dying_device(&p, 200);
	/* the parent keeps only the vcpu side's ends */
	close(p.pipe_dev[0]);
	close(p.pipe_vcpu[1]);
	p.pipe_dev[0] = p.pipe_vcpu[1] = -1;
	call_until_dead(&p, 200);
	assert_non_null(strstr(ipc_chan__why(&p.v), "hung up"));
	waitpid(pid, NULL, 0);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream_millions),	 cmocka_unit_test(test_stream_pipes),
	    cmocka_unit_test(test_peer_killed_pidfd),	 cmocka_unit_test(test_peer_killed_socket),
	    cmocka_unit_test(test_peer_killed_pipe_hup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
