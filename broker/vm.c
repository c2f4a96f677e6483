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

#include "console.h"
#include "guest_blob.h"
#include "log.h"
#include "spawn.h"
#include "vmplan.h"

extern uint64_t broker_start_ns;

struct run_state {
	int status;	 /* exit status once known, else -1 */
	bool worker_gone;
	bool stopping;
	uint64_t stop_deadline_ns;
};

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

static int open_image(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log__err("%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log__err("%s %s: not a regular file", what, path);
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
	return fd;
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
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		log__err("--serial file:%s: %s", path, strerror(errno));
	return fd;
}

static void on_event(const struct vm_event *ev, ssize_t len, struct run_state *st)
{
	if (len != (ssize_t)sizeof(*ev)) {
		log__err("control: malformed event (%zd bytes) from the vcpu-worker", len);
		st->status = CV_EXIT_ERROR;
		st->stopping = true;
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
		if (st->status < 0)
			st->status = (int)(ev->value & 0xff);
		st->stopping = true;
		break;
	case VM_EV_CRASH:
		log__err("guest crashed on vcpu %u: %s", ev->cpu, text);
		if (st->status < 0)
			st->status = CV_EXIT_CRASH;
		st->stopping = true;
		break;
	case VM_EV_ERROR:
		log__err("vcpu-worker: %s", text);
		if (st->status < 0)
			st->status = CV_EXIT_ERROR;
		st->stopping = true;
		break;
	default:
		log__err("control: unknown event type %u from the vcpu-worker", ev->type);
		if (st->status < 0)
			st->status = CV_EXIT_ERROR;
		st->stopping = true;
	}
}

static void reap(int pidfd, pid_t pid, struct run_state *st)
{
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	st->worker_gone = true;
	(void)pid;
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		return;
	if (si.si_code == CLD_EXITED) {
		if (st->status < 0) /* not already explained by an event */
			log__err("vcpu-worker exited with status %d", si.si_status);
	} else
		log__err("vcpu-worker killed by signal %d (%s)", si.si_status,
			 strsignal(si.si_status));
	if (st->status < 0)
		st->status = CV_EXIT_ERROR;
}

static int supervise(int ctl, int pidfd, pid_t pid, struct console *con, int sfd)
{
	struct run_state st = {.status = -1};
	int con_out = con ? con->guest_out : -1;

	while (!st.worker_gone) {
		struct pollfd p[5] = {
			{.fd = ctl, .events = POLLIN},
			{.fd = pidfd, .events = POLLIN},
			{.fd = con_out, .events = POLLIN},
			{.fd = con && con->stdin_open && !st.stopping ? 0 : -1, .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
		};
		if (st.stopping && !st.stop_deadline_ns) {
			/* Closing the control socket tells the worker to stop. */
			shutdown(ctl, SHUT_RDWR);
			st.stop_deadline_ns = now_ns() + 3000000000ull;
		}
		int timeout = st.stopping ? 100 : -1;
		if (poll(p, 5, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			struct vm_event ev;
			ssize_t len = recv(ctl, &ev, sizeof(ev), MSG_DONTWAIT | MSG_TRUNC);
			if (len > 0)
				on_event(&ev, len, &st);
			else if (len == 0)
				st.stopping = true;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			ctl = -1;
		}
		if (p[2].revents && !console__from_guest(con))
			con_out = -1;
		if (p[3].revents && console__from_user(con)) {
			log__info("stopping the VM (Ctrl-A x)");
			st.stopping = true;
			if (st.status < 0)
				st.status = 0;
		}
		if (p[4].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				log__info("stopping the VM (%s)", strsignal((int)si.ssi_signo));
				st.stopping = true;
				if (st.status < 0)
					st.status = 0;
			}
		}
		if (p[1].revents)
			reap(pidfd, pid, &st);
		if (st.stopping && !st.worker_gone && now_ns() > st.stop_deadline_ns &&
		    st.stop_deadline_ns) {
			log__err("vcpu-worker did not stop in time: killing it");
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			st.stop_deadline_ns = now_ns() + 1000000000ull;
		}
	}
	/* What the guest printed before it ended. */
	while (con_out >= 0 && console__from_guest(con)) {
		struct pollfd p = {.fd = con_out, .events = POLLIN};
		if (poll(&p, 1, 0) <= 0)
			break;
	}
	return st.status < 0 ? 0 : st.status;
}

int vm__run(const struct run_opts *o)
{
	char err[256], path[4096];
	int kvm = -1, kernel = -1, initrd = -1, ram = -1, ctl[2] = {-1, -1};
	int ser_out = -1, ser_in = -1, exe = -1, sfd = -1, pidfd = -1;
	struct console con, *conp = NULL;
	int status = CV_EXIT_ERROR;

	if ((kvm = open_kvm()) < 0)
		goto out;
	kernel = o->kernel ? open_image("--kernel", o->kernel) : demo_kernel_fd();
	if (kernel < 0)
		goto out;
	if (o->initrd && (initrd = open_image("--initrd", o->initrd)) < 0)
		goto out;
	if ((ram = create_ram(o->mem_size)) < 0)
		goto out;
	if (o->serial == SERIAL_STDIO) {
		if (console__open(&con, &ser_out, &ser_in, err, sizeof(err)) < 0) {
			log__err("%s", err);
			goto out;
		}
		conp = &con;
	} else if (o->serial == SERIAL_FILE && (ser_out = open_serial_file(o->serial_path)) < 0) {
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		log__err("control socket: %s", strerror(errno));
		goto out;
	}
	if ((exe = spawn__find_helper("cellvm-vcpu", path, sizeof(path))) < 0) {
		log__err("cannot find the vcpu-worker binary cellvm-vcpu: %s", strerror(errno));
		goto out;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	struct vm_plan *plan = calloc(1, sizeof(*plan));
	if (!plan)
		goto out;
	plan->magic = VM_PLAN_MAGIC;
	plan->version = VM_PLAN_VERSION;
	plan->mem_size = o->mem_size;
	plan->ncpus = o->ncpus;
	plan->has_initrd = initrd >= 0;
	plan->fd_serial_out = ser_out >= 0 ? CV_FD_FIRST_DEV : -1;
	plan->fd_serial_in = ser_in >= 0 ? CV_FD_FIRST_DEV + 1 : -1;
	snprintf(plan->cmdline, sizeof(plan->cmdline), "%s", o->cmdline);

	const struct spawn_fd fds[] = {
		/* Diagnostics go to the broker's stderr. */
		{STDERR_FILENO, STDERR_FILENO, "diagnostics"},
		{ctl[1], CV_FD_CONTROL, "control socket: plan in, events out"},
		{kvm, CV_FD_KVM, "create the VM (VM and vCPU fds belong to their creator)"},
		{ram, CV_FD_RAM, "guest RAM to map into the VM"},
		{kernel, CV_FD_KERNEL, "kernel image to load"},
		{initrd, CV_FD_INITRD, "initrd to load"},
		{ser_out, CV_FD_FIRST_DEV, "serial output (relayed by the broker)"},
		{ser_in, CV_FD_FIRST_DEV + 1, "serial input (relayed by the broker)"},
	};
	char *const argv[] = {"cellvm-vcpu", NULL};
	pid_t pid = spawn__child(exe, "vcpu-worker", argv, fds, sizeof(fds) / sizeof(fds[0]),
				 &pidfd, err, sizeof(err));
	close(ctl[1]);
	ctl[1] = -1;
	if (pid < 0) {
		log__err("%s", err);
		free(plan);
		goto out;
	}
	/* The child has its copies: drop ours of what only it needs. */
	close(kvm), kvm = -1;
	if (send(ctl[0], plan, sizeof(*plan), MSG_NOSIGNAL) != (ssize_t)sizeof(*plan))
		log__err("control: cannot send the plan: %s", strerror(errno));
	free(plan);
	if (ser_out >= 0)
		close(ser_out), ser_out = -1;
	if (ser_in >= 0)
		close(ser_in), ser_in = -1;

	status = supervise(ctl[0], pidfd, pid, conp, sfd);
out:
	if (conp)
		console__close(conp);
	int fds_to_close[] = {kvm, kernel, initrd, ram, ctl[0], ctl[1], ser_out, ser_in, exe,
			      sfd, pidfd};
	for (unsigned i = 0; i < sizeof(fds_to_close) / sizeof(int); i++)
		if (fds_to_close[i] >= 0)
			close(fds_to_close[i]);
	return status;
}
