/* SPDX-License-Identifier: MIT */
#include "kvm.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "abi.h"

#define MAX_CPUID_ENTRIES 256

static int fail(char *err, size_t n, const char *what)
{
	int e = errno;
	snprintf(err, n, "%s: %s", what, strerror(e));
	return -e;
}

int kvm__set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
	    .slot = slot,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int get_cpuid(struct vm *vm, char *err, size_t n)
{
	size_t sz = sizeof(struct kvm_cpuid2) + MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	vm->cpuid = calloc(1, sz);
	if (!vm->cpuid)
		return fail(err, n, "cpuid buffer");
	vm->cpuid->nent = MAX_CPUID_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0)
		return fail(err, n, "KVM_GET_SUPPORTED_CPUID");
	/*
	 * What KVM_GET_SUPPORTED_CPUID leaves to userspace (KVM's api.rst,
	 * "Known KVM API problems"): the TSC-deadline timer is emulated by the
	 * in-kernel LAPIC but not reported before Linux 6.14; without it a guest
	 * calibrates its LAPIC timer against the PIT, which fails under a slow
	 * or noisy host ("APIC timer disabled") and leaves it on the PIT. And
	 * FDP_EXCPTN_ONLY / ZERO_FCS_FDS are "feature absent" bits: set them.
	 */
	bool deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (unsigned i = 0; i < vm->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
		if (e->function == 1 && deadline)
			e->ecx |= 1u << 24;
		else if (e->function == 7 && e->index == 0)
			e->ebx |= 1u << 6 | 1u << 13;
	}
	return 0;
}

int kvm__create_vm(struct vm *vm, int kvm_fd, int ram_fd, uint64_t ram_size, unsigned ncpus,
		   char *err, size_t n)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = kvm_fd;
	vm->ncpus = ncpus;

	int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(err, n, "KVM API version %d, need %d", api, KVM_API_VERSION);
		return -ENOTSUP;
	}
	int max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && ncpus > (unsigned)max) {
		snprintf(err, n, "--cpus %u: this KVM supports at most %d", ncpus, max);
		return -EINVAL;
	}
	vm->run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return fail(err, n, "KVM_GET_VCPU_MMAP_SIZE");
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(err, n, "KVM_CREATE_VM");

	/* Needed by VMX for real-mode emulation; harmless elsewhere. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 && errno != EINVAL)
		return fail(err, n, "KVM_SET_TSS_ADDR");

	void *host = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	if (host == MAP_FAILED)
		return fail(err, n, "mmap guest RAM");
	gmem__init(&vm->ram, host, ram_size);
	if (kvm__set_slot(vm, 0, 0, vm->ram.low_size, host) < 0)
		return fail(err, n, "KVM_SET_USER_MEMORY_REGION (low RAM)");
	if (ram_size > vm->ram.low_size &&
	    kvm__set_slot(vm, 1, CV_HIGHMEM_BASE, ram_size - vm->ram.low_size,
			  (uint8_t *)host + vm->ram.low_size) < 0)
		return fail(err, n, "KVM_SET_USER_MEMORY_REGION (high RAM)");

	/* The PIT needs the irqchip first (ENOENT otherwise). */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail(err, n, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail(err, n, "KVM_CREATE_PIT2");
	return get_cpuid(vm, err, n);
}

int kvm__irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm__irqfd(struct vm *vm, int fd, unsigned gsi)
{
	struct kvm_irqfd r = {.fd = (uint32_t)fd, .gsi = gsi};
	return ioctl(vm->vm_fd, KVM_IRQFD, &r) < 0 ? -errno : 0;
}

int kvm__ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned len, int pio)
{
	struct kvm_ioeventfd r = {
	    .addr = addr,
	    .len = len,
	    .fd = fd,
	    .flags = pio ? KVM_IOEVENTFD_FLAG_PIO : 0,
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &r) < 0 ? -errno : 0;
}

int kvm__ioeventfd_del(struct vm *vm, int fd, uint64_t addr, unsigned len, int pio)
{
	struct kvm_ioeventfd r = {
	    .addr = addr,
	    .len = len,
	    .fd = fd,
	    .flags = KVM_IOEVENTFD_FLAG_DEASSIGN | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0),
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &r) < 0 ? -errno : 0;
}
