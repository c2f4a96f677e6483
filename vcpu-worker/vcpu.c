/* SPDX-License-Identifier: MIT */
#include "vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "control.h"
#include "cpuset.h"
#include "iobus.h"
#include "log.h"

#define SIG_VCPU_KICK SIGUSR1

volatile int vcpu__stopping;

static int fail(char *err, size_t n, const char *what, unsigned id)
{
	int e = errno;
	snprintf(err, n, "vcpu %u: %s: %s", id, what, strerror(e));
	return -e;
}

/* Per-vCPU CPUID: the APIC id in leaf 1 and the x2APIC leaves. */
static int set_cpuid(struct vcpu *v, char *err, size_t n)
{
	const struct kvm_cpuid2 *src = v->vm->cpuid;
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return fail(err, n, "cpuid", v->id);
	memcpy(c, src, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffffu) | (v->id << 24);
			e->ecx |= 1u << 31; /* hypervisor present */
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = v->id;
		}
	}
	int r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r < 0 ? fail(err, n, "KVM_SET_CPUID2", v->id) : 0;
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI, as a PC's firmware leaves them. */
static int set_lint(struct vcpu *v, char *err, size_t n)
{
	struct kvm_lapic_state la;
	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		return fail(err, n, "KVM_GET_LAPIC", v->id);
	uint32_t *lvt0 = (uint32_t *)&la.regs[0x350];
	uint32_t *lvt1 = (uint32_t *)&la.regs[0x360];
	*lvt0 = (*lvt0 & ~0x700u) | (7u << 8);
	*lvt1 = (*lvt1 & ~0x700u) | (4u << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &la) < 0)
		return fail(err, n, "KVM_SET_LAPIC", v->id);
	return 0;
}

static int set_fpu(struct vcpu *v, char *err, size_t n)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? fail(err, n, "KVM_SET_FPU", v->id) : 0;
}

int vcpu__create(struct vm *vm, unsigned id, struct vcpu *v, char *err, size_t n)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return fail(err, n, "KVM_CREATE_VCPU", id);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		return fail(err, n, "mmap kvm_run", id);
	int r = set_cpuid(v, err, n);
	if (!r)
		r = set_lint(v, err, n);
	if (!r)
		r = set_fpu(v, err, n);
	return r;
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code64)
{
	*s = (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .s = 1,
	    .db = code64 ? 0 : 1,
	    .l = code64 ? 1 : 0,
	    .g = 1,
	};
}

int vcpu__set_boot_regs(struct vcpu *v, const struct boot_regs *b, char *err, size_t n)
{
	struct kvm_sregs s;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return fail(err, n, "KVM_GET_SREGS", v->id);
	flat_seg(&s.cs, b->cs_sel, 0xb, b->long_mode);
	flat_seg(&s.ds, b->ds_sel, 0x3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.gdt.base = b->gdt_base;
	s.gdt.limit = b->gdt_limit;
	s.tr = (struct kvm_segment){.selector = b->tr_sel, .limit = 0x67, .type = 11, .present = 1};
	s.ldt = (struct kvm_segment){.limit = 0xffff, .type = 2, .present = 1, .unusable = 1};
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = b->cr0;
	s.cr3 = b->cr3;
	s.cr4 = b->cr4;
	s.efer = b->efer;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return fail(err, n, "KVM_SET_SREGS", v->id);
	struct kvm_regs r = {.rip = b->rip, .rsi = b->rsi, .rbx = b->rbx, .rflags = 2};
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return fail(err, n, "KVM_SET_REGS", v->id);
	return 0;
}

static int handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	int write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;
		if (write)
			memcpy(&val, data, size);
		int r = iobus__access(IOBUS_PIO, run->io.port, size, write, &val);
		if (r)
			return r; /* < 0: device failed; > 0: stop this vCPU */
		if (!write)
			memcpy(data, &val, size);
	}
	return 0;
}

static int handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->mmio.len;
	uint64_t val = 0;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return 0; /* wider accesses: not a register access we model */
	if (run->mmio.is_write)
		memcpy(&val, run->mmio.data, size);
	int r = iobus__access(IOBUS_MMIO, run->mmio.phys_addr, size, run->mmio.is_write, &val);
	if (r)
		return r;
	if (!run->mmio.is_write)
		memcpy(run->mmio.data, &val, size);
	return 0;
}

/* A crash report with where the vCPU was: what a guest developer needs first. */
static void crash(struct vcpu *v, const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char text[200];
	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0)
		snprintf(text, sizeof(text),
			 "%s: rip %#llx rsp %#llx cs %#x cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx "
			 "efer %#llx idt %#llx/%#x",
			 what, (unsigned long long)r.rip, (unsigned long long)r.rsp, s.cs.selector,
			 (unsigned long long)s.cr0, (unsigned long long)s.cr2,
			 (unsigned long long)s.cr3, (unsigned long long)s.cr4,
			 (unsigned long long)s.efer, (unsigned long long)s.idt.base, s.idt.limit);
	else
		snprintf(text, sizeof(text), "%s", what);
	control__event(VM_EV_CRASH, v->id, 0, text);
}

/* Returns 0 to keep running, >0 when the vCPU stops. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char text[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v) ? 1 : 0;
	case KVM_EXIT_MMIO:
		return handle_mmio(v) ? 1 : 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_HLT:
		control__event(VM_EV_EXIT, v->id, 0, "guest halted");
		return 1;
	case KVM_EXIT_SHUTDOWN:
		crash(v, "triple fault (shutdown)");
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(text, sizeof(text), "system event %u", run->system_event.type);
		control__event(VM_EV_EXIT, v->id, 0, text);
		return 1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(text, sizeof(text), "entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		crash(v, text);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(text, sizeof(text), "KVM internal error, suberror %u",
			 run->internal.suberror);
		crash(v, text);
		return 1;
	default:
		snprintf(text, sizeof(text), "unhandled exit reason %u", run->exit_reason);
		control__event(VM_EV_CRASH, v->id, 0, text);
		return 1;
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	while (!vcpu__stopping) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char text[96];
			snprintf(text, sizeof(text), "KVM_RUN: %s", strerror(errno));
			control__event(VM_EV_CRASH, v->id, 0, text);
			break;
		}
		if (handle_exit(v))
			break;
	}
	vcpu__stopping = 1;
	control__vcpu_done();
	return NULL;
}

void vcpu__init_signals(void)
{
	struct sigaction sa = {.sa_handler = kick_handler};
	sigaction(SIG_VCPU_KICK, &sa, NULL);
}

int vcpu__start(struct vcpu *v)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	cpu_set_t allowed;
	long ncpu = 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		ncpu = CPU_COUNT(&allowed); /* no /sys to read in the jail */
	if (ncpu > 1) {
		/* Pin: the guest TSC offset shifts when a vCPU thread migrates.
		 * The (id mod n)-th allowed CPU (common/cpuset.h). */
		cpu_set_t set;
		CPU_ZERO(&set);
		int c = cpuset__nth(&allowed, v->id % (unsigned)ncpu);
		if (c >= 0)
			CPU_SET(c, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	int r = pthread_create(&v->thread, &attr, vcpu_thread, v);
	pthread_attr_destroy(&attr);
	return -r;
}

void vcpu__stop_all(struct vcpu *v, unsigned n)
{
	vcpu__stopping = 1;
	for (unsigned i = 0; i < n; i++) {
		if (v[i].run)
			v[i].run->immediate_exit = 1;
		if (v[i].thread)
			pthread_kill(v[i].thread, SIG_VCPU_KICK);
	}
}
