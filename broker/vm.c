/* SPDX-License-Identifier: MIT */
/*
 * `cellvm run`: open what the VM needs, plan it, start the vcpu-worker with an
 * exact fd table, then supervise: relay the console, act on control events,
 * watch the child through its pidfd.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "cgroup.h"
#include "console.h"
#include "ctl.h"
#include "devices.h"
#include "device-procs/blk/blk_cfg.h"
#include "device-procs/virtio/virtio_pci_regs.h"
#include "seccomp/jail.h"
#include "disk.h"
#include "display.h"
#include "guest_blob.h"
#include "log.h"
#include "net.h"
#include "path.h"
#include "sel.h"
#include "spawn.h"
#include "vmplan.h"
#include "worker.h"

extern uint64_t broker_start_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double self_cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		log__err("/dev/kvm does not exist: this host has no KVM (load kvm_intel, "
			 "kvm_amd or kvm_pvm)");
	else if (errno == EACCES || errno == EPERM)
		log__err("/dev/kvm: permission denied (run as root or join the kvm group)");
	else
		log__err("/dev/kvm: %s", strerror(errno));
	return -1;
}

/* Opened once without following symlinks; that fd is labelled and loaded. */
static int open_image(const char *what, const char *path, struct vm_label *vl)
{
	char why[256];
	struct stat st;
	int fd = path__open_input(AT_FDCWD, path, O_RDONLY, false, false, &st, why, sizeof(why));
	if (fd < 0) {
		log__err("%s %s: %s", what, path, why);
		return -1;
	}
	if (label__image_set_fd(vl, fd, path, IMAGE_READONLY, why, sizeof(why)) < 0) {
		log__err("selinux: %s", why);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		log__err("%s %s: empty file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The built-in demo guest, in a sealed read-only memfd. */
static int demo_kernel_fd(void)
{
	if (cv_guest_demo_len == 0) {
		log__err("this build has no built-in demo guest (-Dguest=false): use --kernel");
		return -1;
	}
	int fd = memfd_create("cellvm-demo-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < cv_guest_demo_len) {
		ssize_t w = write(fd, cv_guest_demo + off, cv_guest_demo_len - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	/* The vcpu-worker gets it read-only, like a --kernel file: SELinux
	 * checks an inherited fd against its open mode, and the worker's
	 * domain may read content, never write it. */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	int ro = open(self, O_RDONLY | O_CLOEXEC);
	close(fd);
	return ro;
}

static int create_ram(uint64_t size)
{
	int fd = memfd_create("cellvm-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		log__err("guest RAM: memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		log__err("guest RAM: cannot size %llu bytes: %s", (unsigned long long)size,
			 strerror(errno));
		close(fd);
		return -1;
	}
	/* Nobody may change its size (a shrink would SIGBUS every mapper). */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		log__err("guest RAM: cannot seal: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_serial_file(const char *path)
{
	char why[256];
	int fd = path__open_log(path, why, sizeof(why));
	if (fd < 0)
		log__err("--serial file:%s: %s", path, why);
	return fd;
}

struct vm_run {
	const struct run_opts *o;
	struct vm_plan *plan;
	struct devproc dev[MAX_DEVPROCS];
	unsigned ndev;		/* described in dev[] */
	unsigned next_pci_slot; /* the PCI slot allocator: next free device number on bus 0 */
	struct vm_label vl;
	struct vm_ids ids_store;
	char cgname[64];
	/*
	 * Every fd the broker opens for the run, owned here and closed once by
	 * run__close (or earlier, where it says so): the vcpu-worker's table,
	 * the console pipes until a device takes them, the display memfd.
	 */
	int kvm, kernel, initrd, ram, worker_ctl, exe, sink, ser_out, ser_in, display_fd, diag_w;
	/* --record: the file, and the pipe the vcpu-worker writes the record to
	 * (relayed here: the worker itself may write no file), or -1 */
	int record, record_r, record_w;
	struct spawn_fd fds[VM_WORKER_MAX_FDS]; /* the worker's table */
	unsigned nfds;
	int next_fd; /* next target fd number in the worker's table */
	struct console con;
	bool have_con;
	struct vncproc vnc;
	bool have_vnc;
	int input;	   /* index of the i8042 device in dev[], or -1 */
	int diag;	   /* read end of the children's stderr pipe */
	unsigned vnc_slot; /* uid slot of the vnc process */
	int ctl_listen;	   /* --control socket, or -1 */
	int display_ro;	   /* the display memfd, read-only (screendumps), or -1 */
	struct vm_ids *ids;
	int ctl;
	pid_t pid;
	int pidfd;
	int sfd;
	int status; /* exit status once known, else -1 */
	bool worker_gone, stopping, dev_failed, dev_death_seen;
	char dev_failed_text[224];
	uint64_t stop_deadline_ns;
};

static void set_status(struct vm_run *r, int status)
{
	if (r->status < 0)
		r->status = status;
	r->stopping = true;
}

static void on_event(struct vm_run *r, const struct vm_event *ev, ssize_t len)
{
	if (len != (ssize_t)sizeof(*ev)) {
		log__err("control: malformed event (%zd bytes) from the vcpu-worker", len);
		set_status(r, CV_EXIT_ERROR);
		return;
	}
	char text[sizeof(ev->text)];
	memcpy(text, ev->text, sizeof(text));
	text[sizeof(text) - 1] = 0;
	switch (ev->type) {
	case VM_EV_READY:
		log__debug("guest loaded");
		break;
	case VM_EV_BOOT_TIMER:
		log__info("boot-timer: guest started %.3f ms after cellvm, CPU %.2f ms broker + "
			  "%.2f ms vcpu-worker",
			  (double)(ev->mono_ns - broker_start_ns) / 1e6, self_cpu_ms(),
			  (double)ev->cpu_us / 1e3);
		break;
	case VM_EV_MARK:
		log__info("mark %llu %llu", (unsigned long long)ev->value,
			  (unsigned long long)ev->mono_ns);
		break;
	case VM_EV_EXIT:
		log__info("guest ended the run with status %llu (%s)",
			  (unsigned long long)ev->value, text);
		set_status(r, (int)(ev->value & 0xff));
		break;
	case VM_EV_CRASH:
		log__err("guest crashed on vcpu %u: %s", ev->cpu, text);
		set_status(r, CV_EXIT_CRASH);
		break;
	case VM_EV_ERROR:
		log__err("vcpu-worker: %s", text);
		set_status(r, CV_EXIT_ERROR);
		break;
	case VM_EV_DEV_FAILED:
		/* The vcpu-worker's view (a broken, silent or dead channel). A
		 * device death is reported from its pidfd, which says how. */
		log__debug("vcpu-worker: %s", text);
		if (!r->dev_failed)
			snprintf(r->dev_failed_text, sizeof(r->dev_failed_text), "%s", text);
		r->dev_failed = true;
		set_status(r, CV_EXIT_ERROR);
		break;
	default:
		log__err("control: unknown event type %u from the vcpu-worker", ev->type);
		set_status(r, CV_EXIT_ERROR);
	}
}

static void reap_worker(struct vm_run *r)
{
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	r->worker_gone = true;
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		return;
	if (si.si_code == CLD_EXITED) {
		if (r->status < 0) /* not already explained by an event */
			log__err("vcpu-worker exited with status %d", si.si_status);
	} else if (si.si_status == SIGSYS) {
		log__err("vcpu-worker killed by SIGSYS: a syscall outside its seccomp profile "
			 "(run with --seccomp-log to name it)");
	} else {
		log__err("vcpu-worker killed by signal %d (%s)", si.si_status,
			 strsignal(si.si_status));
	}
	set_status(r, CV_EXIT_ERROR);
}

static void on_device_death(struct vm_run *r, unsigned i)
{
	char how[200];
	bool clean;
	if (!devices__reap(&r->dev[i], how, sizeof(how), &clean))
		return;
	if (clean && r->stopping)
		return; /* expected: the VM is ending */
	/* Policy: a device that dies stops the VM cleanly. */
	log__err("device %u (%s) %s: stopping the VM", i, r->dev[i].type, how);
	r->dev_death_seen = true;
	r->status = r->status < 0 || r->dev_failed ? CV_EXIT_ERROR : r->status;
	r->stopping = true;
}

/* The VNC server is restartable: it holds no guest state. */
static void on_vnc_death(struct vm_run *r)
{
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)r->vnc.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	close(r->vnc.pidfd);
	r->vnc.pidfd = -1;
	if (r->vnc.ctl >= 0)
		close(r->vnc.ctl), r->vnc.ctl = -1;
	if (r->stopping)
		return;
	if (si.si_code == CLD_EXITED)
		log__err("vnc server exited with status %d", si.si_status);
	else
		log__err("vnc server killed by signal %d (%s)", si.si_status,
			 strsignal(si.si_status));
	if (++r->vnc.restarts > 5) {
		log__err("vnc server failed %u times: the VM runs on without a console",
			 r->vnc.restarts);
		return;
	}
	log__info("restarting the vnc server");
	display__spawn_vnc(&r->vnc, r->ids, r->vnc_slot);
}

/* One confined process writes one PNG of the display to out_fd. */
static int screendump(struct vm_run *r, int out_fd, char *text, size_t n)
{
	char path[4096], err[256];
	int pidfd = -1;
	if (r->display_ro < 0) {
		snprintf(text, n, "this VM has no display (--vga)");
		return -ENODEV;
	}
	int exe = spawn__find_helper("cellvm-screendump", path, sizeof(path));
	if (exe < 0) {
		snprintf(text, n, "cannot find cellvm-screendump");
		return -ENOENT;
	}
	struct jail_fd jf[] = {
	    {r->ids->diag_fd, STDERR_FILENO, "diagnostics, relayed by the broker"},
	    {r->display_ro, 3, "the display, read-only"},
	    {out_fd, 4, "the PNG file the requesting user opened"},
	};
	char *const argv[] = {"cellvm-screendump", NULL};
	char con[LABEL_CON_MAX];
	const char *xcon;
	if (sel__exec_con(r->ids->label, "screendump", con, sizeof(con), &xcon) < 0) {
		close(exe);
		snprintf(text, n, "no SELinux exec context for the screendump process");
		return -EPERM;
	}
	struct jail_spec spec = {.type = "screendump",
				 .selinux_exec_con = xcon,
				 .setexec = sel__setexec,
				 .exe_fd = exe,
				 .argv = argv,
				 .fds = jf,
				 .nfds = 3,
				 .uid = r->ids->uid_base + 31,
				 .gid = r->ids->gid,
				 .cgroup = r->ids->cgroup,
				 .seccomp_log = r->ids->seccomp_log};
	pid_t pid = jail__spawn(&spec, &pidfd, err, sizeof(err));
	close(exe);
	if (pid < 0) {
		snprintf(text, n, "%.190s", err);
		return -EPERM;
	}
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, 5000) <= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	siginfo_t si = {0};
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	if (si.si_code != CLD_EXITED || si.si_status != 0) {
		snprintf(text, n, "screendump failed (status %d)", si.si_status);
		return -EIO;
	}
	return 0;
}

/* One control connection: one fixed-size request, one reply. */
static void on_control(struct vm_run *r)
{
	int c = accept4(r->ctl_listen, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct timeval tv = {.tv_sec = 1};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct ctl_req req;
	struct ctl_rep rep = {.magic = CTL_MAGIC};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t len = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
	int fd = -1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); len > 0 && h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int x;
			memcpy(&x, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = x;
			else
				close(x); /* one fd at most */
		}
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != getuid() && cred.uid != 0)) {
		rep.status = -EPERM;
		snprintf(rep.text, sizeof(rep.text), "not the VM's owner");
	} else if (len != (ssize_t)sizeof(req) || req.magic != CTL_MAGIC) {
		rep.status = -EPROTO;
		snprintf(rep.text, sizeof(rep.text), "malformed request");
	} else if (req.cmd == CTL_STATUS) {
		snprintf(rep.text, sizeof(rep.text), "running, pid %d", (int)getpid());
	} else if (req.cmd == CTL_STOP) {
		log__info("stopping the VM (control socket)");
		set_status(r, 0);
	} else if (req.cmd == CTL_SCREENDUMP && fd >= 0) {
		rep.status = screendump(r, fd, rep.text, sizeof(rep.text));
	} else {
		rep.status = -EINVAL;
		snprintf(rep.text, sizeof(rep.text), "unknown request");
	}
	if (fd >= 0)
		close(fd);
	send(c, &rep, sizeof(rep), MSG_NOSIGNAL);
	close(c);
}

/* Copy the children's diagnostics to our stderr; they wrote whole lines. */
/* Copy up to `max` bytes a non-blocking pipe holds now to fd `to`; false
 * when a write fell short (the rest of what was read is lost). */
static bool relay(int from, int to, size_t max)
{
	char buf[65536];
	ssize_t n;
	for (size_t done = 0; done < max && (n = read(from, buf, sizeof(buf))) > 0; done += n)
		if (write(to, buf, (size_t)n) != n)
			return false;
	return true;
}

static void relay_diag(int fd)
{
	relay(fd, STDERR_FILENO, SIZE_MAX);
}

/*
 * The --record pipe, at most 1 MiB per call so that the supervise loop
 * keeps answering. A record with a hole would be misread from there on,
 * so a failed write ends the recording: the pipe closes, the vcpu-worker's
 * next write fails (EPIPE) and it stops recording; the VM runs on.
 */
static void relay_record(struct vm_run *r, size_t max)
{
	errno = 0;
	if (r->record_r < 0 || relay(r->record_r, r->record, max))
		return;
	log__err("--record %s: write failed (%s): the recording stops here", r->o->record,
		 errno ? strerror(errno) : "short write");
	close(r->record_r);
	r->record_r = -1;
	close(r->record_w); /* the worker holds its own copy; ours would keep the pipe open */
	r->record_w = -1;
}

enum {
	P_CTL,
	P_WORKER,
	P_CON,
	P_STDIN,
	P_SIG,
	P_VNC,
	P_CTLSOCK,
	P_RESET,
	P_DIAG,
	P_RECORD,
	P_DEV0
};

static int supervise(struct vm_run *r)
{
	struct pollfd p[P_DEV0 + MAX_DEVPROCS];
	int con_out = r->have_con ? r->con.guest_out : -1;

	while (!r->worker_gone) {
		p[P_CTL] = (struct pollfd){.fd = r->ctl, .events = POLLIN};
		p[P_WORKER] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
		p[P_CON] = (struct pollfd){.fd = con_out, .events = POLLIN};
		p[P_STDIN] =
		    (struct pollfd){.fd = r->have_con && r->con.stdin_open && !r->stopping ? 0 : -1,
				    .events = POLLIN};
		p[P_SIG] = (struct pollfd){.fd = r->sfd, .events = POLLIN};
		p[P_VNC] = (struct pollfd){.fd = r->have_vnc ? r->vnc.pidfd : -1, .events = POLLIN};
		p[P_CTLSOCK] =
		    (struct pollfd){.fd = r->stopping ? -1 : r->ctl_listen, .events = POLLIN};
		p[P_DIAG] = (struct pollfd){.fd = r->diag, .events = POLLIN};
		p[P_RECORD] = (struct pollfd){.fd = r->record_r, .events = POLLIN};
		p[P_RESET] = (struct pollfd){.fd = r->input >= 0 ? r->dev[r->input].kept_fd : -1,
					     .events = POLLIN};
		for (unsigned i = 0; i < r->ndev; i++)
			p[P_DEV0 + i] = (struct pollfd){.fd = r->dev[i].dead ? -1 : r->dev[i].pidfd,
							.events = POLLIN};
		if (r->stopping && !r->stop_deadline_ns) {
			/* Closing the control socket tells the worker to stop. */
			shutdown(r->ctl, SHUT_RDWR);
			r->stop_deadline_ns = now_ns() + 3000000000ull;
		}
		if (poll(p, P_DEV0 + r->ndev, r->stopping ? 100 : -1) < 0 && errno != EINTR)
			break;
		if (p[P_CTL].revents & POLLIN) {
			struct vm_event ev;
			ssize_t len = recv(r->ctl, &ev, sizeof(ev), MSG_DONTWAIT | MSG_TRUNC);
			if (len > 0)
				on_event(r, &ev, len);
			else if (len == 0)
				r->stopping = true;
		} else if (p[P_CTL].revents & (POLLHUP | POLLERR)) {
			r->ctl = -1;
		}
		if (p[P_CON].revents && !console__from_guest(&r->con))
			con_out = -1;
		if (p[P_STDIN].revents && console__from_user(&r->con)) {
			log__info("stopping the VM (Ctrl-A x)");
			set_status(r, 0);
		}
		if (p[P_SIG].revents) {
			struct signalfd_siginfo si;
			if (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
				log__info("stopping the VM (%s)", strsignal((int)si.ssi_signo));
				set_status(r, 0);
			}
		}
		for (unsigned i = 0; i < r->ndev; i++)
			if (p[P_DEV0 + i].revents)
				on_device_death(r, i);
		if (p[P_VNC].revents)
			on_vnc_death(r);
		if (p[P_CTLSOCK].revents)
			on_control(r);
		if (p[P_DIAG].revents)
			relay_diag(r->diag);
		if (p[P_RECORD].revents)
			relay_record(r, 1 << 20);
		if (p[P_RESET].revents) {
			/* The guest pulsed the CPU reset line through the i8042. */
			log__info("guest ended the run with status 0 (reset via i8042)");
			set_status(r, 0);
			close(r->dev[r->input].kept_fd);
			r->dev[r->input].kept_fd = -1;
		}
		if (p[P_WORKER].revents)
			reap_worker(r);
		if (r->stopping && !r->worker_gone && r->stop_deadline_ns &&
		    now_ns() > r->stop_deadline_ns) {
			log__err("vcpu-worker did not stop in time: killing it");
			syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
			r->stop_deadline_ns = now_ns() + 1000000000ull;
		}
	}
	relay_diag(r->diag);
	relay_record(r, SIZE_MAX);
	/* A device whose channel broke may be dying right now: give its pidfd a moment. */
	for (unsigned i = 0; r->dev_failed && i < r->ndev; i++) {
		struct pollfd q = {.fd = r->dev[i].pidfd, .events = POLLIN};
		if (!r->dev[i].dead && poll(&q, 1, 50) > 0)
			on_device_death(r, i);
	}
	/* A channel that broke while its device lived on: say so now. */
	if (r->dev_failed && !r->dev_death_seen)
		log__err("vcpu-worker: %s", r->dev_failed_text);
	/* What the guest printed before it ended. */
	for (int i = 0; con_out >= 0 && i < 64; i++) {
		struct pollfd q = {.fd = con_out, .events = POLLIN};
		if (poll(&q, 1, 20) <= 0 || !console__from_guest(&r->con))
			break;
	}
	return r->status < 0 ? 0 : r->status;
}

/* ---- the device table ---------------------------------------------------- */

/*
 * One entry per kind of device: how many the options ask for, and how to
 * describe device i of that kind (its fds, dev_plan.cfg, regions,
 * interrupts, kicks, and its PCI function without a slot). vm__run never
 * names a device: it walks this table, gives each PCI function the next
 * slot, and spawns what the entries described.
 */
struct dev_kind {
	const char *name;
	/* How many the options ask for; NULL: one per --device NAME. */
	unsigned (*count)(const struct vm_run *r);
	/* 0, or -1 with the reason printed. */
	int (*prepare)(struct vm_run *r, unsigned i, struct devproc *d);
};

static unsigned serial_count(const struct vm_run *r)
{
	return r->ser_out >= 0 && !r->o->serial_inproc;
}

static int serial_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	(void)i;
	d->type = "serial";
	d->dev_type = VM_DEV_SERIAL;
	d->transport = VM_DEV_RING;
	/* Posted writes: a console's THR writes need not wait for the device. */
	d->regions[0] =
	    (struct vm_region){VM_REGION_PIO, VM_REGION_F_POSTED, CV_PORT_COM1, CV_PORT_COM1_LEN};
	d->nregions = 1;
	d->irq = CV_IRQ_COM1;
	d->nirq = 1;
	/* The device description owns the pipes from here (devices__spawn closes them). */
	d->backend[d->nbackend] = r->ser_out;
	d->backend_why[d->nbackend++] = "console output pipe (relayed by the broker)";
	r->ser_out = -1;
	if (r->ser_in >= 0) {
		d->backend[d->nbackend] = r->ser_in;
		d->backend_why[d->nbackend++] = "console input pipe (relayed by the broker)";
		r->ser_in = -1;
	}
	return 0;
}

static unsigned testdev_count(const struct vm_run *r)
{
	return r->o->testdev && r->o->testdev != VM_DEV_INPROC;
}

static int testdev_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	(void)i;
	d->type = "testdev";
	d->dev_type = VM_DEV_TESTDEV;
	d->transport = (uint32_t)r->o->testdev;
	d->regions[0] = (struct vm_region){VM_REGION_MMIO, 0, CV_MMIO_TESTDEV, CV_MMIO_TESTDEV_LEN};
	d->nregions = 1;
	return 0;
}

static unsigned disk_count(const struct vm_run *r)
{
	return r->o->ndisks;
}

static int disk_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	return disk__prepare(&r->o->disks[i], d, &r->vl);
}

static int rng_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	(void)r;
	(void)i;
	devices__virtio(d, "rng", VIRTIO_ID_RNG, 0xff0000 /* unclassified */, 1);
	return 0;
}

static unsigned net_count(const struct vm_run *r)
{
	return r->o->nnets;
}

static int net_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	return net__prepare(&r->o->nets[i], i, r->o->ncpus, d);
}

static unsigned vga_count(const struct vm_run *r)
{
	return r->o->vga;
}

static int vga_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	(void)i;
	if (display__prepare_vga(d, &r->display_fd, &r->vl) < 0)
		return -1;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", r->display_fd);
	r->display_ro = open(p, O_RDONLY | O_CLOEXEC);
	return 0;
}

static unsigned input_count(const struct vm_run *r)
{
	return r->o->vnc.enabled;
}

/* The i8042 that the vnc process feeds; the vnc process itself is no device. */
static int input_prepare(struct vm_run *r, unsigned i, struct devproc *d)
{
	(void)i;
	if (display__prepare_vnc(&r->o->vnc, r->display_fd, &r->vnc, &r->vl) < 0)
		return -1;
	r->have_vnc = true;
	if (display__prepare_input(d, &r->vnc) < 0)
		return -1;
	r->input = (int)r->ndev;
	r->plan->has_i8042 = 1;
	return 0;
}

static const struct dev_kind dev_kinds[] = {
    {"serial", serial_count, serial_prepare},
    {"testdev", testdev_count, testdev_prepare},
    {"disk", disk_count, disk_prepare},
    {"net", net_count, net_prepare},
    {"rng", NULL, rng_prepare},
    {"vga", vga_count, vga_prepare},
    {"input", input_count, input_prepare},
};

/* The next free PCI device number on bus 0, or 0 when the bus is full. */
static unsigned pci_slot__alloc(struct vm_run *r)
{
	if (!r->next_pci_slot)
		r->next_pci_slot = 1; /* 0: the host bridge */
	return r->next_pci_slot < VM_PCI_SLOTS ? r->next_pci_slot++ : 0;
}

#define NKINDS (sizeof(dev_kinds) / sizeof(dev_kinds[0]))

/* The --device TYPE options naming kind dk; -1 (printed) for one naming no such kind. */
static int plain_count(const struct vm_run *r, const struct dev_kind *dk)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->o->ndevices; i++) {
		const struct dev_kind *k = dev_kinds;
		while (k < dev_kinds + NKINDS && (k->count || strcmp(k->name, r->o->devices[i])))
			k++;
		if (k == dev_kinds + NKINDS) {
			char names[128] = "";
			for (k = dev_kinds; k < dev_kinds + NKINDS; k++)
				if (!k->count)
					snprintf(names + strlen(names),
						 sizeof(names) - strlen(names), " %s", k->name);
			log__err("--device %s: no such device (--device takes:%s)",
				 r->o->devices[i], names);
			return -1;
		}
		n += k == dk;
	}
	return (int)n;
}

static int prepare_devices(struct vm_run *r)
{
	for (unsigned k = 0; k < NKINDS; k++) {
		const struct dev_kind *dk = &dev_kinds[k];
		int plain = plain_count(r, dk);
		if (plain < 0)
			return -1;
		unsigned n = dk->count ? dk->count(r) : (unsigned)plain;
		for (unsigned i = 0; i < n; i++) {
			/* The plan also holds the in-process devices. */
			if (r->ndev == MAX_DEVPROCS || r->plan->ndevs + r->ndev >= VM_MAX_DEVS) {
				log__err("%s: too many devices (at most %d per VM)", dk->name,
					 VM_MAX_DEVS);
				return -1;
			}
			struct devproc *d = &r->dev[r->ndev];
			memset(d, 0, sizeof(*d));
			d->pci_mem_fd = d->pidfd = d->ctl = d->kept_fd = -1;
			if (dk->prepare(r, i, d) < 0)
				return -1;
			r->ndev++; /* its fds are owned by the description now */
			if (d->pci.present && !(d->pci.slot = pci_slot__alloc(r))) {
				log__err("%s: no PCI slot left (%d per VM)", dk->name,
					 VM_PCI_SLOTS - 1);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- the phases of a run ----------------------------------------------- */

/* Per-VM ids: distinct unprivileged uids for each of the VM's processes. */
static void vm_ids(struct vm_ids *ids, bool seccomp_log)
{
	ids->uid_base = 0x40000000u + (uid_t)getpid() * 32u;
	ids->gid = 0x40000000u + (gid_t)getpid();
	ids->seccomp_log = seccomp_log;
}

static void give_worker(struct vm_run *r, int fd, int target, const char *why)
{
	r->fds[r->nfds++] = (struct spawn_fd){fd, target, why};
}

/* Open: everything the user named, the VM's RAM, console, sockets, labels. */
static int run__open(struct vm_run *r)
{
	const struct run_opts *o = r->o;
	char err[256], path[4096];
	int diag[2], ctl[2];

	/* From here on the broker runs at the VM's pair: the pipes and sockets
	 * it makes for the children carry a level they dominate. */
	if (label__init((enum label_mode)o->selinux, err, sizeof(err)) < 0 ||
	    label__vm_reserve(&r->vl, err, sizeof(err)) < 0 ||
	    label__vm_enter(&r->vl, err, sizeof(err)) < 0) {
		log__err("selinux: %s", err);
		return -1;
	}
	if (pipe2(diag, O_CLOEXEC | O_NONBLOCK) < 0) {
		log__err("diagnostics pipe: %s", strerror(errno));
		return -1;
	}
	r->diag = diag[0];
	r->diag_w = r->ids_store.diag_fd = diag[1];
	r->ids_store.label = &r->vl;
	cgroup__name(r->cgname, sizeof(r->cgname));
	/*
	 * RAM is charged to the VM where its pages are touched; the rest is
	 * overhead. Tasks: the processes and vCPU threads, plus every disk's
	 * I/O threads (eight disks would not start under a flat 64).
	 */
	unsigned pids = 64 + 2 * o->ncpus + BLK_THREADS * o->ndisks;
	/* CPU: the vCPUs plus one CPU's worth for the device processes and broker. */
	if (cgroup__create(r->cgname, o->mem_size + (512ULL << 20), pids, o->ncpus + 1) < 0 ||
	    cgroup__enter(r->cgname) < 0)
		return -1;
	/* Children inherit the VM's cgroup from the broker: no per-child join. */
	r->ids_store.cgroup = NULL;

	r->kernel = o->kernel ? open_image("--kernel", o->kernel, &r->vl) : demo_kernel_fd();
	if (r->kernel < 0)
		return -1;
	if (!o->kernel && r->vl.active &&
	    label__fd_set(&r->vl, r->kernel, "cellvm_content_t", err, sizeof(err)) < 0) {
		log__err("selinux: %s", err);
		return -1;
	}
	if (o->initrd && (r->initrd = open_image("--initrd", o->initrd, &r->vl)) < 0)
		return -1;
	/* A new file only, and no symbolic link anywhere in its path (path.h):
	 * the record is never written over or through something that exists. */
	if (o->record && (r->record = path__open(AT_FDCWD, o->record, O_WRONLY | O_CREAT | O_EXCL,
						 0600, false)) < 0) {
		log__err("--record %s: %s", o->record,
			 errno == ELOOP ? "a symbolic link in the path (cellvm follows none)"
					: strerror(errno));
		return -1;
	}
	if (o->record) {
		int rp[2];
		if (pipe2(rp, O_CLOEXEC) < 0) {
			log__err("--record: pipe: %s", strerror(errno));
			return -1;
		}
		r->record_r = rp[0];
		r->record_w = rp[1];
		/* the broker drains it between events; a deeper pipe stalls the guest less */
		(void)fcntl(rp[0], F_SETPIPE_SZ, 1 << 20);
		if (fcntl(rp[0], F_SETFL, O_NONBLOCK) < 0) {
			log__err("--record: pipe: %s", strerror(errno));
			return -1;
		}
	}
	if ((r->ram = create_ram(o->mem_size)) < 0 || sel__memfd(&r->vl, r->ram, "ram", false) < 0)
		return -1;
	if (o->serial != SERIAL_NONE) {
		r->sink = o->serial == SERIAL_FILE ? open_serial_file(o->serial_path)
						   : dup(STDOUT_FILENO);
		if (r->sink < 0)
			return -1;
		if (console__open(&r->con, r->sink, o->serial == SERIAL_STDIO, &r->ser_out,
				  &r->ser_in, err, sizeof(err)) < 0) {
			log__err("%s", err);
			return -1;
		}
		r->have_con = true;
		if (o->serial == SERIAL_FILE)
			r->con.limit = o->serial_limit;
		if (o->serial != SERIAL_STDIO)
			close(r->ser_in), r->ser_in = -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		log__err("control socket: %s", strerror(errno));
		return -1;
	}
	r->ctl = ctl[0];
	r->worker_ctl = ctl[1];
	if ((r->exe = spawn__find_helper("cellvm-vcpu", path, sizeof(path))) < 0) {
		log__err("cannot find the vcpu-worker binary cellvm-vcpu: %s", strerror(errno));
		return -1;
	}
	if (o->control && (r->ctl_listen = ctl__listen(o->control)) < 0)
		return -1;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return 0;
}

/* Plan: the vcpu-worker's plan and fd table, every device described. */
static int run__plan(struct vm_run *r)
{
	const struct run_opts *o = r->o;
	struct vm_plan *plan = r->plan;

	plan->magic = VM_PLAN_MAGIC;
	plan->version = VM_PLAN_VERSION;
	plan->mem_size = o->mem_size;
	plan->ncpus = o->ncpus;
	plan->has_initrd = r->initrd >= 0;
	plan->seccomp_log = o->seccomp_log;
	plan->fd_serial_out = plan->fd_serial_in = plan->fd_record = -1;
	snprintf(plan->cmdline, sizeof(plan->cmdline), "%s", o->cmdline);

	/* The vcpu-worker's fd table; each entry says why it is there. */
	give_worker(r, r->diag_w, STDERR_FILENO, "diagnostics, relayed by the broker");
	give_worker(r, r->worker_ctl, CV_FD_CONTROL, "control: plan in, events out");
	give_worker(r, r->ram, CV_FD_RAM, "guest RAM to map into the VM");
	give_worker(r, r->kernel, CV_FD_KERNEL, "kernel image to load");
	if (r->initrd >= 0)
		give_worker(r, r->initrd, CV_FD_INITRD, "initrd to load");
	r->next_fd = CV_FD_FIRST_DEV;
	if (r->ser_out >= 0 && o->serial_inproc) {
		give_worker(r, r->ser_out, r->next_fd, "serial output (relayed)");
		plan->fd_serial_out = r->next_fd++;
		if (r->ser_in >= 0) {
			give_worker(r, r->ser_in, r->next_fd, "serial input (relayed)");
			plan->fd_serial_in = r->next_fd++;
		}
	}
	if (r->record_w >= 0) {
		give_worker(r, r->record_w, r->next_fd,
			    "--record: the device traffic record (a pipe the broker relays)");
		plan->fd_record = r->next_fd++;
	}
	if (o->testdev == VM_DEV_INPROC)
		plan->devs[plan->ndevs++] =
		    (struct vm_dev){.type = VM_DEV_TESTDEV, .transport = VM_DEV_INPROC};
	if (prepare_devices(r) < 0)
		return -1;
	/* /dev/kvm last: every mistake in what the user named is reported first. */
	if ((r->kvm = open_kvm()) < 0)
		return -1;
	give_worker(r, r->kvm, CV_FD_KVM, "create the VM (its creator owns it)");
	return 0;
}

/* Spawn: every device, then the vcpu-worker with its plan, then the vnc server. */
static int run__spawn(struct vm_run *r)
{
	char err[256], vcpu_con[LABEL_CON_MAX];
	struct vm_plan *plan = r->plan;

	for (unsigned i = 0; i < r->ndev; i++) {
		unsigned index = plan->ndevs;
		if (devices__spawn(&r->dev[i], index, r->ram, r->o->mem_size, &r->ids_store, plan,
				   r->fds, &r->nfds, &r->next_fd, err, sizeof(err)) < 0) {
			log__err("%s", err);
			return -1;
		}
		plan->ndevs++;
	}
	const char *vcpu_xcon;
	if (sel__exec_con(&r->vl, "vcpu", vcpu_con, sizeof(vcpu_con), &vcpu_xcon) < 0)
		return -1;
	/* Its address space also holds the kernel and initrd it maps to load them. */
	struct stat kst = {0}, ist = {0};
	if (fstat(r->kernel, &kst) < 0 || (r->initrd >= 0 && fstat(r->initrd, &ist) < 0)) {
		log__err("kernel/initrd: fstat: %s", strerror(errno));
		return -1;
	}
	struct vm_spawn vs = {
	    .exe = r->exe,
	    .fds = r->fds,
	    .nfds = r->nfds,
	    .uid = r->ids_store.uid_base,
	    .gid = r->ids_store.gid,
	    .seccomp_log = r->o->seccomp_log,
	    .cgroup = NULL, /* inherited from the broker */
	    .selinux_exec_con = vcpu_xcon,
	    .guest_ram = r->o->mem_size + (uint64_t)kst.st_size + (uint64_t)ist.st_size,
	    .ncpus = r->o->ncpus,
	};
	r->pid = vm_spawn_worker(&vs, &r->pidfd, err, sizeof(err));
	/* The child has its copies (or failed): drop ours of what only it needs. */
	close(r->worker_ctl), r->worker_ctl = -1;
	close(r->kvm), r->kvm = -1;
	if (r->pid < 0) {
		log__err("%s", err);
		return -1;
	}
	for (unsigned i = 0; i < r->ndev; i++)
		devices__close_vcpu_fds(&r->dev[i]);
	if (send(r->ctl, plan, sizeof(*plan), MSG_NOSIGNAL) != (ssize_t)sizeof(*plan))
		log__err("control: cannot send the plan: %s", strerror(errno));
	r->ids = &r->ids_store;
	/* Its uid slot follows the devices' (which count plan entries, incl. in-process ones). */
	r->vnc_slot = plan->ndevs + 1;
	if (r->have_vnc && display__spawn_vnc(&r->vnc, r->ids, r->vnc_slot) < 0)
		set_status(r, CV_EXIT_ERROR);
	if (r->ser_out >= 0)
		close(r->ser_out), r->ser_out = -1;
	if (r->ser_in >= 0)
		close(r->ser_in), r->ser_in = -1;
	return 0;
}

/* The one owner of the run's fds and processes: stop, close, release. */
static void run__close(struct vm_run *r)
{
	for (unsigned i = 0; i < r->ndev; i++) {
		struct devproc *d = &r->dev[i];
		devices__close_vcpu_fds(d);
		/* Spawned (even if its spawn failed after the process started): stop it. */
		devices__stop(d);
		/* Never spawned: its fds are still ours (devices__spawn closes them). */
		for (unsigned b = 0; b < d->nbackend; b++)
			if (d->backend[b] >= 0)
				close(d->backend[b]), d->backend[b] = -1;
		if (d->pci_mem_fd >= 0)
			close(d->pci_mem_fd);
		if (d->kept_fd >= 0)
			close(d->kept_fd);
	}
	if (r->diag >= 0)
		relay_diag(r->diag); /* last words of the children */
	if (r->have_con)
		console__close(&r->con);
	if (r->have_vnc) {
		display__stop_vnc(&r->vnc);
		int vfds[] = {r->vnc.listen_fd, r->vnc.ws_fd,  r->vnc.display_ro,
			      r->vnc.cert_fd,	r->vnc.key_fd, r->vnc.input_fd};
		for (unsigned i = 0; i < sizeof(vfds) / sizeof(vfds[0]); i++)
			if (vfds[i] >= 0)
				close(vfds[i]);
	}
	if (r->ctl_listen >= 0)
		ctl__unlink();
	int fds[] = {r->ctl,	r->pidfd,      r->sfd,	   r->ctl_listen, r->display_ro,
		     r->kvm,	r->kernel,     r->initrd,  r->ram,	  r->worker_ctl,
		     r->exe,	r->sink,       r->ser_out, r->ser_in,	  r->diag,
		     r->diag_w, r->display_fd, r->record,  r->record_r,	  r->record_w};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (r->cgname[0]) {
		cgroup__leave();
		cgroup__remove(r->cgname);
	}
	label__vm_release(&r->vl); /* restores every image label it changed */
}

int vm__run(const struct run_opts *o)
{
	struct vm_run *r = calloc(1, sizeof(*r));
	struct vm_plan *plan = calloc(1, sizeof(*plan));
	int status = CV_EXIT_ERROR;

	if (!r || !plan) {
		log__err("out of memory");
		free(r);
		free(plan);
		return status;
	}
	r->o = o;
	r->plan = plan;
	r->status = -1;
	r->ctl = r->pidfd = r->sfd = r->ctl_listen = r->display_ro = r->input = r->diag = -1;
	r->kvm = r->kernel = r->initrd = r->ram = r->worker_ctl = r->exe = r->sink = -1;
	r->ser_out = r->ser_in = r->display_fd = r->diag_w = -1;
	r->record = r->record_r = r->record_w = -1;
	r->vnc.listen_fd = r->vnc.ws_fd = r->vnc.display_ro = -1;
	r->vnc.cert_fd = r->vnc.key_fd = r->vnc.input_fd = r->vnc.pidfd = r->vnc.ctl = -1;
	vm_ids(&r->ids_store, o->seccomp_log);
	r->ids_store.ncpus = o->ncpus;

	if (run__open(r) == 0 && run__plan(r) == 0 && run__spawn(r) == 0)
		status = supervise(r);
	run__close(r);
	free(r);
	free(plan);
	return status;
}
