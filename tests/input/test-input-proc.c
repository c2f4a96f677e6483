/* SPDX-License-Identifier: MIT */
/*
 * cellvm-input as a process, confined by its own profile: this test plays
 * the broker (plan and fds), the vcpu-worker (ring requests for ports 0x60
 * and 0x64, irqfds) and the vnc process (event messages on a
 * SOCK_SEQPACKET socket, some of them malformed). Blocked syscalls are
 * reported by name (seccomp_log) and fail the test through the exit status.
 *
 * Usage: test-input-proc PATH-TO-cellvm-input
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devplan.h"
#include "ipc/chan.h"
#include "vmplan.h"
#include "vnc/vnc.h"

static const char *exe;

struct proc {
	pid_t pid;
	int ctl, ev; /* our ends: control socket, event socket */
	int irq[3];  /* IRQ 1, IRQ 12, reset line */
	int bell_dev, bell_vcpu;
	struct ipc_chan chan;
};

static int efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(fd >= 0);
	return fd;
}

static void start(struct proc *p)
{
	int ctl[2], ev[2];
	char err[200];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ev), 0);
	int memfd = ipc_chan__create(8);
	assert_true(memfd >= 0);
	p->bell_dev = efd();
	p->bell_vcpu = efd();
	for (int i = 0; i < 3; i++)
		p->irq[i] = efd();
	/* the child's fd table: 3 control, 4 ring, 5/6 bells, 8.. irqfds, then the backend */
	int map[][2] = {{ctl[1], DEV_FD_CONTROL},	{memfd, DEV_FD_CHAN},
			{p->bell_dev, DEV_FD_BELL_DEV}, {p->bell_vcpu, DEV_FD_BELL_VCPU},
			{p->irq[0], DEV_FD_EXTRA},	{p->irq[1], DEV_FD_EXTRA + 1},
			{p->irq[2], DEV_FD_EXTRA + 2},	{ev[1], DEV_FD_EXTRA + 3}};
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int tmp[8];
		for (int i = 0; i < 8; i++)
			tmp[i] = fcntl(map[i][0], F_DUPFD_CLOEXEC, 64);
		for (int i = 0; i < 8; i++)
			if (tmp[i] < 0 || dup2(tmp[i], map[i][1]) < 0)
				_exit(120);
		execl(exe, exe, (char *)NULL);
		_exit(121);
	}
	close(ctl[1]);
	close(ev[1]);
	p->ctl = ctl[0];
	p->ev = ev[0];
	struct dev_plan plan = {.magic = DEV_PLAN_MAGIC,
				.version = DEV_PLAN_VERSION,
				.transport = VM_DEV_RING,
				.nirqfd = 3,
				.nbackend = 1,
				.seccomp_log = 1};
	assert_int_equal(send(p->ctl, &plan, sizeof(plan), 0), (ssize_t)sizeof(plan));
	assert_int_equal(ipc_chan__attach(&p->chan, memfd, p->bell_dev, p->bell_vcpu, IPC_SIDE_VCPU,
					  err, sizeof(err)),
			 0);
	close(memfd);
	ipc_chan__set_timeout(&p->chan, 10000);
}

/* Close the control socket: the device must exit 0 (no seccomp kill). */
static void stop(struct proc *p)
{
	int st;
	close(p->ctl);
	assert_int_equal(waitpid(p->pid, &st, 0), p->pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("cellvm-input ended badly: status 0x%x", st);
	close(p->ev);
	ipc_chan__detach(&p->chan);
	for (int i = 0; i < 3; i++)
		close(p->irq[i]);
	close(p->bell_dev);
	close(p->bell_vcpu);
}

static uint8_t pio(struct proc *p, bool write, unsigned region, uint8_t v)
{
	struct ipc_msg req = {.op = write ? IPC_OP_PIO_WRITE : IPC_OP_PIO_READ,
			      .region = region,
			      .size = 1,
			      .data = v};
	struct ipc_msg rep;
	int r = ipc_chan__call(&p->chan, &req, &rep);
	if (r != 0)
		fail_msg("ring call: %d (%s)", r, ipc_chan__why(&p->chan));
	assert_int_equal(rep.status, 0);
	return (uint8_t)rep.data;
}

static void out64(struct proc *p, uint8_t v)
{
	pio(p, true, 1, v);
}
static void out60(struct proc *p, uint8_t v)
{
	pio(p, true, 0, v);
}
static uint8_t in64(struct proc *p)
{
	return pio(p, false, 1, 0);
}
static uint8_t in60(struct proc *p)
{
	return pio(p, false, 0, 0);
}

/* Wait (bounded, generously) for irqfd i to be signalled; returns the count. */
static uint64_t wait_irq(struct proc *p, unsigned i)
{
	struct pollfd pfd = {.fd = p->irq[i], .events = POLLIN};
	if (poll(&pfd, 1, 10000) != 1)
		fail_msg("irqfd %u never signalled", i);
	uint64_t n = 0;
	assert_int_equal(read(p->irq[i], &n, sizeof(n)), (ssize_t)sizeof(n));
	return n;
}

static void drain_irq(struct proc *p, unsigned i)
{
	uint64_t n;
	while (read(p->irq[i], &n, sizeof(n)) > 0) {
	}
}

static void send_msg(struct proc *p, const void *m, size_t n)
{
	assert_int_equal(send(p->ev, m, n, 0), (ssize_t)n);
}

static void send_key(struct proc *p, uint32_t sym, bool down)
{
	struct vnc_input_msg m = {.type = VNC_INPUT_KEY, .down = down, .keysym = sym};
	send_msg(p, &m, sizeof(m));
}

static void send_ptr(struct proc *p, uint16_t x, uint16_t y, uint32_t b)
{
	struct vnc_input_msg m = {.type = VNC_INPUT_POINTER, .x = x, .y = y, .buttons = b};
	send_msg(p, &m, sizeof(m));
}

static void test_ports_and_events(void **state)
{
	(void)state;
	struct proc p;
	start(&p);
	/* controller self-test over the ring, IRQ 1 for the reply */
	out64(&p, 0xaa);
	assert_true(in64(&p) & 0x01);
	assert_int_equal(in60(&p), 0x55);
	assert_int_equal(wait_irq(&p, 0), 1);
	/* a key from the vnc process, translated to set 1 */
	send_key(&p, 'a', true);
	wait_irq(&p, 0);
	assert_int_equal(in60(&p), 0x1e);
	send_key(&p, 'a', false);
	wait_irq(&p, 0);
	assert_int_equal(in60(&p), 0x9e);
	/* the mouse: enable, move, IRQ 12 */
	out64(&p, 0xd4);
	out60(&p, 0xf4);
	assert_int_equal(in64(&p) & 0x21, 0x21);
	assert_int_equal(in60(&p), 0xfa);
	drain_irq(&p, 1);
	send_ptr(&p, 10, 10, 0);
	send_ptr(&p, 30, 5, 1);
	wait_irq(&p, 1);
	assert_int_equal(in60(&p), 0x09);
	assert_int_equal(in60(&p), 20);
	assert_int_equal(in60(&p), 5);
	/* hostile messages are dropped, the next good one still works */
	uint8_t junk[64];
	memset(junk, 0xff, sizeof(junk));
	send_msg(&p, junk, 23);
	send_msg(&p, junk, 64);
	send_msg(&p, junk, 24);
	send_msg(&p, junk, 1);
	send_key(&p, 0xff0d, true);
	drain_irq(&p, 0);
	/* The drain may have eaten the key's own interrupt: look first. */
	while (!(in64(&p) & 1))
		wait_irq(&p, 0);
	assert_int_equal(in60(&p), 0x1c);
	/* reset pulse: the reset line, not an interrupt */
	out64(&p, 0xfe);
	assert_int_equal(wait_irq(&p, 2), 1);
	stop(&p);
}

static void test_flood(void **state)
{
	(void)state;
	struct proc p;
	start(&p);
	/* 2000 events nobody reads: the device drops, stays bounded and alive */
	int sent = 0;
	for (int i = 0; i < 2000; i++) {
		struct vnc_input_msg m = {.type = VNC_INPUT_KEY, .down = i & 1, .keysym = 'q'};
		if (send(p.ev, &m, sizeof(m), MSG_DONTWAIT) == (ssize_t)sizeof(m))
			sent++;
	}
	assert_true(sent > 0);
	/* the ring is still served; the output holds at most one queue's worth */
	int n = 0;
	wait_irq(&p, 0);
	while ((in64(&p) & 1) && n < 1000) {
		(void)in60(&p);
		n++;
	}
	assert_true(n > 0);
	assert_true(n <= 64 + 16);
	/* the peer goes away: the device keeps serving the guest */
	close(p.ev);
	p.ev = -1;
	out64(&p, 0xaa);
	assert_int_equal(in60(&p), 0x55);
	stop(&p);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-cellvm-input\n", argv[0]);
		return 2;
	}
	exe = argv[1];
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports_and_events),
	    cmocka_unit_test(test_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
