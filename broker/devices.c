/* SPDX-License-Identifier: MIT */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpuset.h"
#include "devplan.h"
#include "ipc/chan.h"
#include "log.h"
#include "policy/profile.h"
#include "seccomp/jail.h"
#include "sel.h"

#define RING_SLOTS 64

static int efd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

bool devices__pin(pid_t pid, unsigned ncpus)
{
	/* vCPU i is pinned to the i-th allowed CPU (vcpu.c). A device that
	 * spins on its ring must not compete with them: give it the allowed
	 * CPUs after those (common/cpuset.h). */
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return false;
	unsigned left = cpuset__drop_first(&set, ncpus);
	return left && sched_setaffinity(pid, sizeof(set), &set) == 0;
}

void devices__virtio(struct devproc *d, const char *type, uint16_t virtio_id, uint32_t class_code,
		     unsigned nqueues)
{
	d->type = type;
	d->dev_type = VM_DEV_VIRTIO;
	d->transport = VM_DEV_RING;
	d->needs_ram = true;
	d->nirq = nqueues + 1;
	d->nkick = nqueues;
	d->pci = (struct vm_pci){
	    .present = 1,
	    .kind = VM_PCI_VIRTIO,
	    .virtio_id = virtio_id,
	    .subsystem = virtio_id,
	    .class_code = class_code,
	    .nvectors = nqueues + 1,
	};
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]), fds[i] = -1;
}

int devices__spawn(struct devproc *d, unsigned index, int ram_fd, uint64_t ram_size,
		   const struct vm_ids *ids, struct vm_plan *plan, struct spawn_fd *fds,
		   unsigned *nfds, int *next_target, char *err, size_t n)
{
	/*
	 * Doorbells are pipes, not eventfds: each side gets its own end, so a
	 * hostile device cannot flip O_NONBLOCK on a file description the
	 * vcpu-worker also uses, and a dead peer shows up as a hang-up.
	 * to_dev: [0] device reads, [1] vcpu-worker writes; to_vcpu: the reverse.
	 */
	int chan[2] = {-1, -1}, to_dev[2] = {-1, -1}, to_vcpu[2] = {-1, -1}, ctl[2] = {-1, -1};
	int irq[VM_DEV_MAX_EVENTFDS], kick[VM_DEV_MAX_EVENTFDS];
	int exe = -1, rc = -1;
	char path[4096], bin[64];

	d->pidfd = -1;
	d->ctl = -1;
	d->kept_fd = -1;
	if (d->nirq > VM_DEV_MAX_EVENTFDS || d->nkick > VM_DEV_MAX_EVENTFDS) {
		snprintf(err, n, "%s: too many interrupt or kick fds", d->type);
		return -1;
	}
	/* Its vcpu-worker half: channel, two doorbells, pidfd, irqfds, kicks, video memory. */
	if (*nfds + 5 + d->nirq + d->nkick > VM_WORKER_MAX_FDS) {
		snprintf(err, n,
			 "%s: the vcpu-worker's fd table is full (%d fds): too many devices",
			 d->type, VM_WORKER_MAX_FDS);
		return -1;
	}
	for (unsigned i = 0; i < d->nirq; i++)
		irq[i] = efd();
	for (unsigned i = 0; i < d->nkick; i++)
		kick[i] = efd();
	if (d->transport == VM_DEV_RING) {
		/* Its ring's SELinux type exists only for a profile that says ring. */
		const struct profile *prof = profile__find(d->type);
		if (!prof || !prof->ring) {
			snprintf(err, n, "%s: its profile (policy/%s.c) is not a ring device's",
				 d->type, d->type);
			goto out;
		}
		chan[0] = ipc_chan__create(RING_SLOTS);
		if (chan[0] < 0) {
			snprintf(err, n, "%s: channel: %s", d->type, strerror(-chan[0]));
			goto out;
		}
		chan[1] = dup(chan[0]);
		if (sel__memfd(ids->label, chan[0], d->type, true) < 0) {
			snprintf(err, n, "%s: cannot label its ring", d->type);
			goto out;
		}
	} else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0) {
		snprintf(err, n, "%s: channel socket: %s", d->type, strerror(errno));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    (d->transport == VM_DEV_RING && (pipe2(to_dev, O_CLOEXEC | O_NONBLOCK) < 0 ||
					     pipe2(to_vcpu, O_CLOEXEC | O_NONBLOCK) < 0))) {
		snprintf(err, n, "%s: control socket/eventfds: %s", d->type, strerror(errno));
		goto out;
	}
	snprintf(bin, sizeof(bin), "cellvm-%s", d->type);
	if ((exe = spawn__find_helper(bin, path, sizeof(path))) < 0) {
		snprintf(err, n, "cannot find the device binary %s: %s", bin, strerror(errno));
		goto out;
	}

	/* The device's whole fd table; each entry says why it is there. */
	struct jail_fd jf[8 + 2 * VM_DEV_MAX_EVENTFDS + DEV_MAX_BACKEND_FDS];
	unsigned nj = 0;
	jf[nj++] =
	    (struct jail_fd){ids->diag_fd, STDERR_FILENO, "diagnostics, relayed by the broker"};
	jf[nj++] = (struct jail_fd){ctl[1], DEV_FD_CONTROL, "its dev_plan; hang-up = VM ending"};
	jf[nj++] = (struct jail_fd){chan[1], DEV_FD_CHAN, "register accesses from the vcpu-worker"};
	if (d->transport == VM_DEV_RING) {
		jf[nj++] =
		    (struct jail_fd){to_dev[0], DEV_FD_BELL_DEV, "doorbell: requests waiting"};
		jf[nj++] =
		    (struct jail_fd){to_vcpu[1], DEV_FD_BELL_VCPU, "doorbell: replies waiting"};
	}
	if (d->needs_ram)
		jf[nj++] = (struct jail_fd){ram_fd, DEV_FD_RAM, "guest RAM for DMA"};
	int t = DEV_FD_EXTRA;
	for (unsigned i = 0; i < d->nirq; i++)
		jf[nj++] = (struct jail_fd){irq[i], t++, "irqfd: raise its interrupt"};
	for (unsigned i = 0; i < d->nkick; i++)
		jf[nj++] = (struct jail_fd){kick[i], t++, "ioeventfd: the guest notified a queue"};
	for (unsigned i = 0; i < d->nbackend; i++)
		jf[nj++] = (struct jail_fd){d->backend[i], t++, d->backend_why[i]};

	char *const argv[] = {bin, NULL};
	char con[LABEL_CON_MAX];
	const char *xcon;
	if (sel__exec_con(ids->label, d->type, con, sizeof(con), &xcon) < 0) {
		snprintf(err, n, "device %s: no SELinux exec context", d->type);
		goto out;
	}
	struct jail_spec spec = {
	    .selinux_exec_con = xcon,
	    .setexec = sel__setexec,
	    .type = d->type,
	    .exe_fd = exe,
	    .argv = argv,
	    .fds = jf,
	    .nfds = nj,
	    .uid = ids->uid_base + 1 + index,
	    .gid = ids->gid,
	    .cgroup = ids->cgroup,
	    .seccomp_log = ids->seccomp_log,
	    .guest_ram = d->needs_ram ? ram_size : 0,
	    .ncpus = ids->ncpus,
	};
	d->pid = jail__spawn(&spec, &d->pidfd, err, n);
	if (d->pid < 0)
		goto out;
	/* A device may spin for its next request only on a CPU of its own. */
	bool pinned = devices__pin(d->pid, ids->ncpus);

	struct dev_plan dp = {
	    .magic = DEV_PLAN_MAGIC,
	    .version = DEV_PLAN_VERSION,
	    .transport = d->transport,
	    .index = index,
	    .ram_size = d->needs_ram ? ram_size : 0,
	    .nirqfd = d->nirq,
	    .nkickfd = d->nkick,
	    .nbackend = d->nbackend,
	    .seccomp_log = ids->seccomp_log,
	    .spin_max_us = pinned ? 250 : 0, /* covers the gap between two exits (20-60 us) */
	};
	memcpy(dp.cfg, d->cfg, sizeof(dp.cfg));
	if (send(ctl[0], &dp, sizeof(dp), MSG_NOSIGNAL) != (ssize_t)sizeof(dp)) {
		snprintf(err, n, "%s: cannot send its plan: %s", d->type, strerror(errno));
		goto out;
	}
	d->ctl = ctl[0];
	ctl[0] = -1;

	/* The vcpu-worker's half. */
	struct vm_dev *vd = &plan->devs[index];
	memset(vd, 0, sizeof(*vd));
	vd->type = d->dev_type;
	vd->transport = d->transport;
	vd->nregions = d->nregions;
	memcpy(vd->regions, d->regions, sizeof(vd->regions));
	vd->irq = d->irq;
	vd->fd_bell_dev = vd->fd_bell_vcpu = -1;
	d->nvcpu_fds = 0;
/* fd_ is evaluated once: GIVE(dup(x), ...) must make one copy, not two. */
#define GIVE(fd_, field_, why_)                                                                    \
	do {                                                                                       \
		int given_ = (fd_);                                                                \
		fds[*nfds] = (struct spawn_fd){given_, *next_target, (why_)};                      \
		(*nfds)++;                                                                         \
		field_ = (*next_target)++;                                                         \
		d->vcpu_fds[d->nvcpu_fds++] = given_;                                              \
	} while (0)
	GIVE(chan[0], vd->fd_chan, "device channel: forward register accesses");
	chan[0] = -1;
	if (d->transport == VM_DEV_RING) {
		GIVE(to_dev[1], vd->fd_bell_dev, "doorbell: ring the device");
		GIVE(to_vcpu[0], vd->fd_bell_vcpu, "doorbell: the device rings us");
		to_dev[1] = to_vcpu[0] = -1;
	}
	GIVE(dup(d->pidfd), vd->fd_peer, "device pidfd: notice its death at once");
	vd->nirqfd = d->nirq;
	memcpy(vd->irq_gsi, d->irq_gsi, sizeof(vd->irq_gsi));
	for (unsigned i = 0; i < d->nirq; i++) {
		if (d->keep_irq == i + 1)
			d->kept_fd = dup(irq[i]);
		GIVE(irq[i], vd->fd_irq[i], "irqfd to register with KVM for the device");
		irq[i] = -1;
	}
	vd->pci = d->pci;
	vd->pci.nkicks = d->nkick;
	vd->pci.fd_mem = -1;
	if (d->pci.kind == VM_PCI_BOCHS_DISPLAY) {
		GIVE(d->pci_mem_fd, vd->pci.fd_mem, "the display memfd: video memory for BAR0");
		d->pci_mem_fd = -1; /* closed with the other vcpu fds */
	}
	for (unsigned i = 0; i < d->nkick; i++) {
		GIVE(kick[i], vd->pci.fd_kick[i],
		     "ioeventfd to register on the queue's notify address");
		kick[i] = -1;
	}
#undef GIVE
	rc = 0;
out:
	close_all(chan, 2);
	close_all(ctl, 2);
	close_all(to_dev, 2);
	close_all(to_vcpu, 2);
	close_all(irq, d->nirq);
	close_all(kick, d->nkick);
	if (exe >= 0)
		close(exe);
	/* The device has its backend fds now (or failed): the broker keeps none. */
	close_all(d->backend, d->nbackend);
	return rc;
}

void devices__close_vcpu_fds(struct devproc *d)
{
	close_all(d->vcpu_fds, d->nvcpu_fds);
	d->nvcpu_fds = 0;
}

bool devices__reap(struct devproc *d, char *how, size_t n, bool *clean)
{
	siginfo_t si = {0};
	if (d->dead || waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return false;
	d->dead = true;
	*clean = si.si_code == CLD_EXITED && si.si_status == 0;
	if (si.si_code == CLD_EXITED)
		snprintf(how, n, "exited with status %d", si.si_status);
	else if (si.si_status == SIGSYS)
		snprintf(how, n,
			 "killed by SIGSYS: a syscall outside its seccomp profile "
			 "(run with --seccomp-log to name it)");
	else
		snprintf(how, n, "killed by signal %d (%s)", si.si_status, strsignal(si.si_status));
	return true;
}

void devices__stop(struct devproc *d)
{
	if (d->ctl >= 0)
		close(d->ctl), d->ctl = -1;
	if (!d->dead && d->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
	if (d->pidfd >= 0) {
		siginfo_t si;
		waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED);
		close(d->pidfd);
		d->pidfd = -1;
	}
}
