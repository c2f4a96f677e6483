/* SPDX-License-Identifier: MIT */
/*
 * ipc-host: round trips between a "vcpu" process (CPU 0) and a "device"
 * process (CPU 1), no VM involved:
 *   ring spin   the ipc channel with its default adaptive spin
 *   ring sleep  the ipc channel with spin window 0 (eventfd doorbell every time)
 *   ring gap20  adaptive spin with 20 us of simulated guest time between calls
 *               (time per call excludes the gap; median call of each round)
 *   eventfd     a bare eventfd ping-pong (the floor of any sleeping path)
 *   socket      the SEQPACKET transport (ipc/sock.h), the crosvm/vmd model
 * Each: ROUNDS rounds after a warm-up, the median of the per-round mean round
 * trip. Prints one JSON object per metric.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/chan.h"
#include "ipc/sock.h"

#define ROUNDS 7

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void pin(int cpu)
{
	cpu_set_t set;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "ipc-host: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static pid_t spawn_device(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin(1);
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "ipc-host: device process failed\n");
		exit(1);
	}
}

/* --- ring ---------------------------------------------------------------- */

struct ring_bench {
	int memfd, bell_dev, bell_vcpu;
	unsigned spin_max_us;
};

static int32_t ring_handler(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	bool *stop = opaque;
	if (req->op == IPC_OP_CTRL_SHUTDOWN)
		*stop = true;
	*data = req->off;
	return 0;
}

static void ring_device(void *arg)
{
	struct ring_bench *rb = arg;
	struct ipc_chan d;
	struct ipc_region_limits lim = {.nregions = 1, .size = {4096}};
	char err[160];
	bool stop = false;

	if (ipc_chan__attach(&d, rb->memfd, rb->bell_dev, rb->bell_vcpu, IPC_SIDE_DEV, err,
			     sizeof(err)))
		_exit(2);
	ipc_chan__set_limits(&d, &lim);
	ipc_chan__set_spin(&d, rb->spin_max_us ? IPC_SPIN_MIN_US : 0, rb->spin_max_us);
	while (!stop) {
		int n = ipc_chan__serve_spin(&d, ring_handler, &stop);
		if (n < 0)
			_exit(3);
		if (stop)
			break;
		if (ipc_chan__arm(&d)) {
			struct pollfd p = {.fd = ipc_chan__fd(&d), .events = POLLIN};
			poll(&p, 1, 10000);
			ipc_chan__disarm(&d);
			d.n_sleeps++;
		}
	}
	if (getenv("IPC_BENCH_DEBUG"))
		fprintf(stderr, "device: %llu sleeps, gap ewma %llu ns\n",
			(unsigned long long)d.n_sleeps, (unsigned long long)d.gap_ewma_ns);
	_exit(0);
}

/* Busy-wait `us` microseconds: the guest running between two exits. */
static void guest_runs(double us)
{
	double end = now_us() + us;
	while (now_us() < end)
		;
}

static double gap_us; /* simulated guest time between two calls (0: back to back) */

/*
 * Mean round trip over n calls; with a gap, the median call instead (the
 * mean of a few hundred spaced-out calls is dominated by the rare wake-up
 * that the host's other load delays by milliseconds).
 */
static double ring_round(struct ipc_chan *v, unsigned n)
{
	struct ipc_msg q, rep;
	double total = 0;
	double *lat = gap_us > 0 ? calloc(n, sizeof(double)) : NULL;
	for (unsigned i = 0; i < n; i++) {
		if (gap_us > 0)
			guest_runs(gap_us);
		double t0 = now_us();
		memset(&q, 0, sizeof(q));
		q.op = IPC_OP_MMIO_READ;
		q.size = 4;
		q.off = (i * 4) % 4096;
		if (ipc_chan__call(v, &q, &rep) || rep.data != q.off) {
			fprintf(stderr, "ipc-host: ring call failed: %s\n", ipc_chan__why(v));
			exit(1);
		}
		double dt = now_us() - t0;
		total += dt;
		if (lat)
			lat[i] = dt;
	}
	if (lat) {
		double m = median(lat, (int)n);
		free(lat);
		return m;
	}
	return total / n;
}

static double bench_ring(unsigned spin_max_us, unsigned n)
{
	struct ring_bench rb = {.spin_max_us = spin_max_us};
	struct ipc_chan v;
	char err[160];
	double r[ROUNDS];

	rb.memfd = ipc_chan__create(64);
	rb.bell_dev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rb.bell_vcpu = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rb.memfd < 0 || rb.bell_dev < 0 || rb.bell_vcpu < 0 ||
	    ipc_chan__attach(&v, rb.memfd, rb.bell_dev, rb.bell_vcpu, IPC_SIDE_VCPU, err,
			     sizeof(err))) {
		fprintf(stderr, "ipc-host: ring set-up failed\n");
		exit(1);
	}
	ipc_chan__set_spin(&v, spin_max_us ? IPC_SPIN_MIN_US : 0, spin_max_us);
	pid_t pid = spawn_device(ring_device, &rb);
	ring_round(&v, n / 10);
	for (int i = 0; i < ROUNDS; i++)
		r[i] = ring_round(&v, n);
	struct ipc_msg q = {.op = IPC_OP_CTRL_SHUTDOWN}, rep;
	ipc_chan__call(&v, &q, &rep);
	reap(pid);
	if (getenv("IPC_BENCH_DEBUG"))
		fprintf(stderr, "vcpu: %llu sleeps, gap ewma %llu ns\n",
			(unsigned long long)v.n_sleeps, (unsigned long long)v.gap_ewma_ns);
	ipc_chan__detach(&v);
	close(rb.memfd);
	close(rb.bell_dev);
	close(rb.bell_vcpu);
	return median(r, ROUNDS);
}

/* --- eventfd ping-pong ----------------------------------------------------- */

static int efd_ping, efd_pong;

static void efd_device(void *arg)
{
	(void)arg;
	uint64_t v;
	for (;;) {
		if (read(efd_ping, &v, 8) != 8)
			_exit(4);
		if (v == 2)
			_exit(0);
		if (write(efd_pong, &v, 8) != 8)
			_exit(5);
	}
}

static double bench_eventfd(unsigned n)
{
	double r[ROUNDS];
	efd_ping = eventfd(0, EFD_CLOEXEC);
	efd_pong = eventfd(0, EFD_CLOEXEC);
	pid_t pid = spawn_device(efd_device, NULL);
	for (int k = -1; k < ROUNDS; k++) {
		unsigned cnt = k < 0 ? n / 10 : n;
		double t0 = now_us();
		for (unsigned i = 0; i < cnt; i++) {
			uint64_t v = 1;
			if (write(efd_ping, &v, 8) != 8 || read(efd_pong, &v, 8) != 8)
				exit(1);
		}
		if (k >= 0)
			r[k] = (now_us() - t0) / cnt;
	}
	uint64_t stop = 2;
	if (write(efd_ping, &stop, 8) != 8)
		exit(1);
	reap(pid);
	close(efd_ping);
	close(efd_pong);
	return median(r, ROUNDS);
}

/* --- SEQPACKET ---------------------------------------------------------------- */

static void sock_device(void *arg)
{
	int *sv = arg, fd = sv[1];
	struct ipc_sock s;
	struct ipc_region_limits lim = {.nregions = 1, .size = {4096}};
	struct ipc_msg q;
	close(sv[0]); /* else EOF never comes */
	if (ipc_sock__init(&s, fd))
		_exit(6);
	ipc_sock__set_limits(&s, &lim);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 10000);
		int r = ipc_sock__recv(&s, &q);
		if (r == -EAGAIN)
			continue;
		if (r == -EPIPE)
			_exit(0);
		if (r || ipc_sock__reply(&s, &q, q.off, 0))
			_exit(7);
	}
}

static double bench_socket(unsigned n)
{
	int sv[2];
	struct ipc_sock s;
	double r[ROUNDS];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || ipc_sock__init(&s, sv[0]))
		exit(1);
	pid_t pid = spawn_device(sock_device, sv);
	close(sv[1]);
	for (int k = -1; k < ROUNDS; k++) {
		unsigned cnt = k < 0 ? n / 10 : n;
		double t0 = now_us();
		for (unsigned i = 0; i < cnt; i++) {
			struct ipc_msg q = {.op = IPC_OP_MMIO_READ,
					    .size = 4,
					    .off = (i * 4) % 4096},
				       rep;
			if (ipc_sock__call(&s, &q, &rep) || rep.data != q.off) {
				fprintf(stderr, "ipc-host: socket call failed: %s\n",
					ipc_sock__why(&s));
				exit(1);
			}
		}
		if (k >= 0)
			r[k] = (now_us() - t0) / cnt;
	}
	close(sv[0]);
	reap(pid);
	return median(r, ROUNDS);
}

static void emit(const char *metric, double v, const char *vs, double vs_v)
{
	if (vs)
		printf("{\"metric\": \"%s\", \"value\": %.3f, \"unit\": \"us\", \"vs\": \"%s\", "
		       "\"vs_value\": %.3f, \"ratio\": %.3f}\n",
		       metric, v, vs, vs_v, v / vs_v);
	else
		printf("{\"metric\": \"%s\", \"value\": %.3f, \"unit\": \"us\"}\n", metric, v);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	/* optional scale factor for quick or long runs: ipc-host [scale] */
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	if (!(scale > 0))
		scale = 1.0;
	pin(0);
	/* context for the numbers: other load on this 2-CPU host inflates every sleeping path */
	FILE *la = fopen("/proc/loadavg", "r");
	char load[64] = "?";
	if (la) {
		if (!fgets(load, sizeof(load), la))
			load[0] = 0;
		fclose(la);
	}
	fprintf(stderr, "ipc-host: loadavg %s", load);
	double spin = bench_ring(IPC_SPIN_MAX_US, (unsigned)(50000 * scale));
	double sleep = bench_ring(0, (unsigned)(2000 * scale));
	/* exits 20 us apart: the device's adaptive window must stretch to catch them */
	gap_us = 20;
	double gap = bench_ring(IPC_SPIN_MAX_US, (unsigned)(3000 * scale));
	gap_us = 0;
	double efd = bench_eventfd((unsigned)(2000 * scale));
	double sock = bench_socket((unsigned)(2000 * scale));
	emit("ipc.host_ring_spin_rtt_us", spin, NULL, 0);
	emit("ipc.host_ring_sleep_rtt_us", sleep, "ring_spin", spin);
	emit("ipc.host_ring_gap20_rtt_us", gap, "eventfd", efd);
	emit("ipc.host_eventfd_rtt_us", efd, NULL, 0);
	emit("ipc.host_socket_rtt_us", sock, "ring_spin", spin);
	return 0;
}
