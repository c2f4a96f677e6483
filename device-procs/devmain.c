/* SPDX-License-Identifier: MIT */
/*
 * main() of every device process. Reads the dev_plan, locks itself down
 * (Landlock, then seccomp: from here on it holds only the fds it was given),
 * then serves its channel: requests from the ring (or socket), ioeventfd
 * kicks and backend fds, each dispatched to the model's ops table.
 *
 * The path of a guest register access: vcpu-worker/vcpu.c (exit) ->
 * vcpu-worker/remote.c (ring message) -> here (validated request) -> the
 * model's ops->read/write.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "devplan.h"
#include "ipc/chan.h"
#include "ipc/sock.h"
#include "log.h"
#include "seccomp/jail.h"
#include "vmplan.h"

static struct dev_plan plan;
static struct dev_env env;
static void *dev;
static struct ipc_chan chan;
static struct ipc_sock sock;

void dev__irq(struct dev_env *e, unsigned i)
{
	if (i >= e->nirqfd || e->irqfd[i] < 0)
		return;
	uint64_t one = 1;
	ssize_t r = write(e->irqfd[i], &one, sizeof(one));
	(void)r;
}

void dev__shadow(struct dev_env *e, unsigned i, unsigned region, uint32_t off, unsigned size,
		 uint32_t inval, uint64_t value)
{
	(void)e;
	if (plan.transport == VM_DEV_RING)
		ipc_chan__shadow_publish(&chan, i, region, off, size, inval, value);
}

static void read_plan(void)
{
	ssize_t n = recv(DEV_FD_CONTROL, &plan, sizeof(plan), 0);
	if (n != (ssize_t)sizeof(plan))
		log__die(1, "control: short plan (%zd bytes)", n);
	if (plan.magic != DEV_PLAN_MAGIC || plan.version != DEV_PLAN_VERSION)
		log__die(1, "control: bad plan magic/version");
	if (plan.transport != VM_DEV_RING && plan.transport != VM_DEV_SOCKET)
		log__die(1, "control: bad transport %u", plan.transport);
	if (plan.nirqfd > DEV_MAX_EVENTFDS || plan.nkickfd > DEV_MAX_EVENTFDS ||
	    plan.nbackend > DEV_MAX_BACKENDS)
		log__die(1, "control: bad fd counts");
}

static void map_ram(void)
{
	if (!plan.ram_size)
		return;
	struct stat st;
	if (fstat(DEV_FD_RAM, &st) < 0 || (uint64_t)st.st_size != plan.ram_size)
		log__die(1, "guest RAM memfd does not match the plan");
	void *p = mmap(NULL, plan.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, DEV_FD_RAM, 0);
	if (p == MAP_FAILED)
		log__die(1, "mmap guest RAM: %s", strerror(errno));
	gmem__init(&env.ram, p, plan.ram_size);
	close(DEV_FD_RAM);
}

static void setup_env(void)
{
	int fd = DEV_FD_EXTRA;
	env.nirqfd = plan.nirqfd;
	for (unsigned i = 0; i < plan.nirqfd; i++)
		env.irqfd[i] = fd++;
	env.nkickfd = plan.nkickfd;
	for (unsigned i = 0; i < plan.nkickfd; i++)
		env.kickfd[i] = fd++;
	env.nbackend = plan.nbackend;
	for (unsigned i = 0; i < plan.nbackend; i++)
		env.backend_fd[i] = fd++;
	env.cfg = plan.cfg;
	env.index = plan.index;
}

static int32_t handle(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	const struct dev_ops *ops = dev__desc.ops;
	(void)opaque;
	switch (req->op) {
	case IPC_OP_MMIO_READ:
	case IPC_OP_PIO_READ:
		*data = ops->read ? ops->read(dev, req->region, req->off, req->size) : ~0ULL;
		return 0;
	case IPC_OP_MMIO_WRITE:
	case IPC_OP_PIO_WRITE:
		if (ops->write)
			ops->write(dev, req->region, req->off, req->size, req->data);
		return 0;
	case IPC_OP_CTRL_PING:
		return 0;
	case IPC_OP_CTRL_RESET:
		/* The fuzzer's end of an input: its coverage, then a clean device. */
		if (devcov__flush)
			devcov__flush();
		if (!ops->reset)
			return -EINVAL;
		ops->reset(dev);
		return 0;
	default:
		return -EINVAL;
	}
}

static void attach(void)
{
	char err[200];
	if (plan.transport == VM_DEV_RING) {
		if (ipc_chan__attach(&chan, DEV_FD_CHAN, DEV_FD_BELL_DEV, DEV_FD_BELL_VCPU,
				     IPC_SIDE_DEV, err, sizeof(err)) < 0)
			log__die(1, "channel: %s", err);
		ipc_chan__set_limits(&chan, &dev__desc.limits);
		/*
		 * A fixed window, not the adaptive one: between two exits of the same
		 * vCPU (20-60 us here) the adaptive estimate kept falling short and
		 * every request paid a sleep and a wake-up (~3x the in-process cost).
		 * The broker sets 0 when the device shares a CPU with a vCPU.
		 */
		ipc_chan__set_spin(&chan, plan.spin_max_us, plan.spin_max_us);
		close(DEV_FD_CHAN);
	} else {
		if (ipc_sock__init(&sock, DEV_FD_CHAN) < 0)
			log__die(1, "channel socket: cannot initialise");
		ipc_sock__set_limits(&sock, &dev__desc.limits);
	}
}

/* Returns false when the channel is finished (peer gone or broken). */
static bool serve_channel(void)
{
	if (plan.transport == VM_DEV_RING) {
		ipc_chan__disarm(&chan);
		int r = ipc_chan__serve_spin(&chan, handle, NULL);
		if (r < 0 && r != -EAGAIN) {
			log__err("channel: %s", ipc_chan__why(&chan));
			return false;
		}
		return true;
	}
	struct ipc_msg req;
	int r = ipc_sock__recv(&sock, &req);
	if (r == -EAGAIN)
		return true;
	if (r < 0)
		return r == -EPIPE ? false : (log__err("channel socket: bad request"), false);
	uint64_t data = 0;
	int32_t st = handle(NULL, &req, &data);
	return ipc_sock__reply(&sock, &req, data, st) == 0;
}

/*
 * After a queue kick, poll without sleeping for this long: a guest that is
 * doing I/O kicks again within a guest exit or two (~20 us each here), and
 * a sleep in poll() costs ~17 us per wake-up (docs/virtio.md). The device
 * runs on a host CPU away from the vCPUs (broker/devices.c pins it), so
 * this only burns a CPU the guest does not run on, and only while busy.
 */
#define DEV_KICK_SPIN_NS 100000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void loop(void)
{
	const struct dev_ops *ops = dev__desc.ops;
	enum { MAXP = 2 + DEV_MAX_EVENTFDS + DEV_MAX_BACKENDS };
	struct pollfd p[MAXP];
	/* plan.spin_max_us 0 means "never spin" for the kick path too. */
	uint64_t spin_ns = plan.spin_max_us ? DEV_KICK_SPIN_NS : 0, kicked_at = 0;

	for (;;) {
		unsigned n = 0;
		p[n++] = (struct pollfd){.fd = DEV_FD_CONTROL, .events = POLLIN};
		int chan_fd = plan.transport == VM_DEV_RING ? ipc_chan__fd(&chan) : DEV_FD_CHAN;
		p[n++] = (struct pollfd){.fd = chan_fd, .events = POLLIN};
		for (unsigned i = 0; i < env.nkickfd; i++)
			p[n++] = (struct pollfd){.fd = env.kickfd[i], .events = POLLIN};
		for (unsigned i = 0; i < env.nbackend; i++) {
			/*
			 * Only fds someone reads: a regular-file disk image is
			 * always "readable", and polling it turned this loop
			 * into a syscall spin that starved the I/O threads.
			 */
			bool want = ops->backend_ready &&
				    (!ops->backend_wanted || ops->backend_wanted(dev, i));
			p[n++] =
			    (struct pollfd){.fd = want ? env.backend_fd[i] : -1, .events = POLLIN};
		}
		/* Sleep only after telling the vcpu side to ring the doorbell. */
		if (plan.transport == VM_DEV_RING && !ipc_chan__arm(&chan)) {
			if (!serve_channel())
				return;
			continue;
		}
		int timeout = -1;
		if (kicked_at && now_ns() - kicked_at < spin_ns)
			timeout = 0; /* still in the spin window after a kick */
		int ready = poll(p, n, timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			log__die(1, "poll: %s", strerror(errno));
		}
		if (ready == 0)
			continue;
		if (p[0].revents)
			return; /* the broker closed our control socket: VM is ending */
		/* Only when the doorbell rang: serve_spin spins for the next request
		 * after each one, and must not hold up a kick it did not need to. */
		if (p[1].revents) {
			if (!serve_channel())
				return;
		}
		unsigned k = 2;
		for (unsigned i = 0; i < env.nkickfd; i++, k++) {
			if (!p[k].revents)
				continue;
			uint64_t cnt;
			ssize_t r = read(env.kickfd[i], &cnt, sizeof(cnt));
			(void)r;
			kicked_at = spin_ns ? now_ns() : 0;
			if (ops->kick)
				ops->kick(dev, i);
		}
		for (unsigned i = 0; i < env.nbackend; i++, k++)
			if (p[k].revents && ops->backend_ready)
				ops->backend_ready(dev, i);
	}
}

int main(int argc, char **argv)
{
	char err[200];
	(void)argc;
	(void)argv;
	log__set_role(dev__desc.type);
	signal(SIGPIPE, SIG_IGN);

	read_plan();
	map_ram();
	setup_env();
	if (devcov__attach)
		devcov__attach(&env);
	attach();
	/* Everything below handles hostile input: confine first. */
	if (jail__lockdown(dev__desc.type, plan.seccomp_log, err, sizeof(err)) < 0)
		log__die(1, "confinement: %s", err);
	if (dev__desc.create)
		dev = dev__desc.create(&env, err, sizeof(err));
	else
		dev = calloc(1, dev__desc.priv_size ? dev__desc.priv_size : 1);
	if (!dev)
		log__die(1, "%s", dev__desc.create ? err : "out of memory");
	if (dev__desc.ops->init) {
		int r = dev__desc.ops->init(dev, &env);
		if (r < 0)
			log__die(1, "init: %s", strerror(-r));
	}
	loop();
	return 0;
}
