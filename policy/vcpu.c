/* SPDX-License-Identifier: MIT */
/*
 * vcpu-worker: receives the /dev/kvm fd and the guest RAM memfd, creates the
 * VM and its vCPUs (one thread each), runs KVM_RUN and forwards device exits
 * over rings. The only process allowed KVM ioctls, and only these. With
 * `cellvm run --record`, the base rules' write also carries the device
 * traffic record into a pipe the broker gave it (no file: RLIMIT_FSIZE 0).
 */
#include <linux/kvm.h>
#include <signal.h>

#include "profile.h"

/* Spelled out so that `policy show` names the request, not its expansion. */
#define KVM_IOCTL(req, w)                                                                          \
	{                                                                                          \
		.name = "ioctl", .why = (w), .ncmp = 1,                                            \
		.cmp = {{.arg = 1, .op = SC_EQ, .val = (req), .what = #req}},                      \
	}

static const struct sc_rule vcpu_rules[] = {
    PROFILE_BASE_RULES,
    PROFILE_THREAD_RULES,
    /* KVM system ioctls on the /dev/kvm fd */
    KVM_IOCTL(KVM_GET_API_VERSION, "check the KVM API is 12"),
    KVM_IOCTL(KVM_CHECK_EXTENSION, "probe capabilities (vCPU limit, TSC-deadline timer)"),
    KVM_IOCTL(KVM_CREATE_VM, "create this VM (the broker cannot: VM fds are per process)"),
    KVM_IOCTL(KVM_GET_VCPU_MMAP_SIZE, "size of the kvm_run area to mmap"),
    KVM_IOCTL(KVM_GET_SUPPORTED_CPUID, "base for the guest's CPUID"),
    /* VM ioctls */
    KVM_IOCTL(KVM_CREATE_VCPU, "one vCPU per thread"),
    KVM_IOCTL(KVM_SET_USER_MEMORY_REGION, "map the guest RAM memfd into the VM"),
    KVM_IOCTL(KVM_SET_TSS_ADDR, "x86 needs a TSS page outside guest RAM"),
    KVM_IOCTL(KVM_CREATE_IRQCHIP, "in-kernel PIC/IOAPIC/LAPIC"),
    KVM_IOCTL(KVM_CREATE_PIT2, "in-kernel PIT (after the irqchip)"),
    KVM_IOCTL(KVM_IRQ_LINE, "raise/lower a legacy interrupt line"),
    KVM_IOCTL(KVM_SET_GSI_ROUTING, "MSI-X routes for devices' irqfds"),
    KVM_IOCTL(KVM_IOEVENTFD, "register a device's kick eventfd on its doorbell address"),
    KVM_IOCTL(KVM_IRQFD, "register a device's interrupt eventfd"),
    /* vCPU ioctls */
    KVM_IOCTL(KVM_RUN, "run the vCPU"),
    KVM_IOCTL(KVM_GET_REGS, "where the vCPU was, for a crash report"),
    KVM_IOCTL(KVM_SET_REGS, "boot set-up: entry point, boot params pointer"),
    KVM_IOCTL(KVM_GET_SREGS, "boot set-up: segments, paging; crash reports"),
    KVM_IOCTL(KVM_SET_SREGS, "boot set-up: long mode"),
    KVM_IOCTL(KVM_SET_CPUID2, "set the vCPU's CPUID"),
    KVM_IOCTL(KVM_SET_FPU, "initial FPU state"),
    KVM_IOCTL(KVM_GET_LAPIC, "read the local APIC"),
    KVM_IOCTL(KVM_SET_LAPIC, "LINT0/LINT1 set-up"),
    /* guest RAM and kvm_run are mmapped through the base mmap rule (never PROT_EXEC) */
    SC_ALLOW(pread64, "read the kernel/initrd images from fds the broker opened"),
    SC_ALLOW(recvfrom, "control socket: the broker's stop request (recv)"),
    SC_ALLOW(sendto, "control socket: events to the broker (send)"),
    SC_ALLOW(getrusage, "the vcpu-worker's CPU time for the boot-timer report"),
    SC_ALLOW(getpid, "pthread_kill needs the thread group id"),
    SC_ALLOW(gettid, "name and pin vCPU threads"),
    SC_ALLOW_IF(tgkill, "kick a vCPU thread out of KVM_RUN: own thread group only, no kill()",
		SC_ARG_SELF_PID(0)),
    SC_ALLOW(sched_setaffinity, "pin vCPU threads (the guest TSC shifts when a thread moves)"),
    SC_ALLOW(sched_getaffinity, "learn the CPUs the cgroup allows before pinning"),
};

const struct profile profile_vcpu = {
    .type = "vcpu",
    .desc = "vcpu-worker: KVM VM and vCPU threads, PCI config space, MSI-X, exit forwarding",
    .selinux_type = "cellvm_vcpu_t",
    PROFILE_RULES(vcpu_rules),
    .namespaces = PROFILE_ALL_NS,
    .caps = 0,
    .threads = true,
    .guest_ram = true,
    .landlock_fs = true,
    .landlock_net = true,
    .landlock_scope = true,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 256),
		    PROFILE_RL(RLIMIT_NPROC, 256), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_FSIZE, 0), PROFILE_RL(RLIMIT_MSGQUEUE, 0)),
    /* Guest RAM, the binary, rings and maps; a stack and a malloc arena per vCPU thread. */
    .as_over_ram = 512ULL << 20,
    .as_per_vcpu = 96ULL << 20,
};
