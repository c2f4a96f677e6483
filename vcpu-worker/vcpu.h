/* SPDX-License-Identifier: MIT */
/* vCPUs: creation, initial register state, and the KVM_RUN loop. */
#ifndef CELLVM_VCPU_H
#define CELLVM_VCPU_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm.h"

/* Initial CPU state of the boot vCPU, in the loader's terms. */
struct boot_regs {
	int long_mode; /* 0: 32-bit protected mode, paging off (PVH); 1: 64-bit */
	uint64_t rip, rsi, rbx;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs_sel, ds_sel, tr_sel;
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

/* Install the signal that kicks a vCPU out of KVM_RUN (before lockdown). */
void vcpu__init_signals(void);
int vcpu__create(struct vm *vm, unsigned id, struct vcpu *v, char *err, size_t n);
int vcpu__set_boot_regs(struct vcpu *v, const struct boot_regs *b, char *err, size_t n);
/* Start the vCPU thread (pinned to a host CPU when the host has several). */
int vcpu__start(struct vcpu *v);
/* Ask every vCPU to leave KVM_RUN and stop; safe from any thread. */
void vcpu__stop_all(struct vcpu *v, unsigned n);
/* Set once the VM is ending; vCPU threads leave their loop. */
extern volatile int vcpu__stopping;

#endif
