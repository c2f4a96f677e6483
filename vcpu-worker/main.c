/* SPDX-License-Identifier: MIT */
/*
 * cellvm-vcpu: the vcpu-worker. Exec'd by the broker with the fd table of
 * vmplan.h; it reads the VM plan, creates the VM (KVM ties VM and vCPU ioctls
 * to the creating process), loads the guest, wires up devices and runs one
 * thread per vCPU. It holds no path and opens no file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "remote.h"
#include "devices.h"
#include "kvm.h"
#include "loader/loader.h"
#include "log.h"
#include "platform.h"
#include "seccomp/jail.h"
#include "vcpu.h"
#include "vmplan.h"

static struct vm vm;
static struct vcpu vcpus[VM_MAX_CPUS];
static struct vm_plan plan;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	char text[224];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The broker reports it; print it ourselves only if it cannot. */
	if (control__event(VM_EV_ERROR, 0, 0, text) < 0)
		log__err("%s", text);
	exit(1);
}

/* The plan comes from the broker (trusted), but is still checked. */
static void read_plan(void)
{
	ssize_t n = recv(CV_FD_CONTROL, &plan, sizeof(plan), 0);
	if (n != (ssize_t)sizeof(plan))
		fatal("control: short plan (%zd bytes)", n);
	if (plan.magic != VM_PLAN_MAGIC || plan.version != VM_PLAN_VERSION)
		fatal("control: bad plan magic/version");
	if (plan.ncpus < 1 || plan.ncpus > VM_MAX_CPUS || plan.ndevs > VM_MAX_DEVS)
		fatal("control: bad plan counts");
	if (!memchr(plan.cmdline, 0, sizeof(plan.cmdline)))
		fatal("control: unterminated command line");
}

static void *map_file(int fd, size_t *len, const char *what)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		fatal("%s: fstat: %s", what, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		fatal("%s: not a regular non-empty file", what);
	*len = (size_t)st.st_size;
	void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		fatal("%s: mmap: %s", what, strerror(errno));
	return p;
}

static void check_ram_fd(void)
{
	struct stat st;
	if (fstat(CV_FD_RAM, &st) < 0 || (uint64_t)st.st_size != plan.mem_size)
		fatal("guest RAM memfd does not match the plan");
	int seals = fcntl(CV_FD_RAM, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW))
		fatal("guest RAM memfd is not sealed against shrink and grow");
}

/* Map the images before lockdown; they are parsed only after it. */
static struct boot_input images;

static void map_images(void)
{
	images.kernel = map_file(CV_FD_KERNEL, &images.kernel_len, "kernel");
	if (plan.has_initrd)
		images.initrd = map_file(CV_FD_INITRD, &images.initrd_len, "initrd");
}

static void load_guest(void)
{
	struct boot_input in = images;
	struct boot_setup bs;
	char err[200];

	in.cmdline = plan.cmdline;
	in.ncpus = plan.ncpus;
	if (plan.has_i8042)
		in.flags |= LOADER_F_I8042;
	if (loader__load(&vm.ram, &in, &bs, err, sizeof(err)) < 0)
		fatal("kernel: %s", err);
	munmap((void *)in.kernel, in.kernel_len);
	if (in.initrd)
		munmap((void *)in.initrd, in.initrd_len);
	log__debug("entry %#llx (%s)", (unsigned long long)bs.entry,
		   bs.mode == BOOT_PVH32 ? "PVH" : "Linux 64-bit");

	struct boot_regs br = {
	    .long_mode = bs.mode == BOOT_LINUX64,
	    .rip = bs.entry,
	    .rsi = bs.rsi,
	    .rbx = bs.rbx,
	    .cr0 = bs.cr0,
	    .cr3 = bs.cr3,
	    .cr4 = bs.cr4,
	    .efer = bs.efer,
	    .gdt_base = bs.gdt_base,
	    .gdt_limit = bs.gdt_limit,
	    .cs_sel = bs.cs_sel,
	    .ds_sel = bs.ds_sel,
	    .tr_sel = bs.tr_sel,
	};
	if (vcpu__set_boot_regs(&vcpus[0], &br, err, sizeof(err)) < 0)
		fatal("%s", err);
}

/* Until the VM ends: broker requests, serial input, vCPU exits. */
static void main_loop(void)
{
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = CV_FD_CONTROL, .events = POLLIN},
		    {.fd = control__done_efd, .events = POLLIN},
		    {.fd = devices__poll_fd(), .events = POLLIN},
		};
		if (poll(p, 3, devices__poll_timeout()) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (p[0].revents) {
			/* Any message or hang-up from the broker means stop. */
			char b[8];
			ssize_t r = recv(CV_FD_CONTROL, b, sizeof(b), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN) || r > 0)
				return;
		}
		if (p[1].revents)
			return;
		if (p[2].revents)
			devices__poll_ready();
	}
}

int main(int argc, char **argv)
{
	char err[224];
	(void)argc;
	(void)argv;
	log__set_role("vcpu");
	signal(SIGPIPE, SIG_IGN);

	read_plan();
	check_ram_fd();
	map_images();
	control__before_stop = remote__flush_all;
	control__done_efd = eventfd(0, EFD_CLOEXEC);
	if (control__done_efd < 0)
		fatal("eventfd: %s", strerror(errno));
	/* Set-up from the broker's trusted plan: the VM, vCPUs, device channels. */
	if (kvm__create_vm(&vm, CV_FD_KVM, CV_FD_RAM, plan.mem_size, plan.ncpus, err, sizeof(err)) <
	    0)
		fatal("%s", err);
	for (unsigned i = 0; i < plan.ncpus; i++)
		if (vcpu__create(&vm, i, &vcpus[i], err, sizeof(err)) < 0)
			fatal("%s", err);
	/* The VM and vCPUs exist: a compromised worker must not make more. */
	close(CV_FD_KVM);
	vcpu__init_signals();
	if (platform__init(plan.has_i8042) < 0)
		fatal("platform ports: cannot register");
	if (devices__init(&vm, &plan, err, sizeof(err)) < 0)
		fatal("%s", err);
	/* Everything below handles the kernel image and the guest: confine first. */
	if (jail__lockdown("vcpu", plan.seccomp_log, err, sizeof(err)) < 0)
		fatal("confinement: %s", err);
	load_guest();

	control__event(VM_EV_READY, 0, 0, NULL);
	for (unsigned i = 0; i < plan.ncpus; i++)
		if (vcpu__start(&vcpus[i]) < 0)
			fatal("vcpu %u: cannot start thread", i);
	main_loop();
	vcpu__stop_all(vcpus, plan.ncpus);
	for (unsigned i = 0; i < plan.ncpus; i++)
		pthread_join(vcpus[i].thread, NULL);
	return 0;
}
