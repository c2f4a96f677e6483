/* SPDX-License-Identifier: MIT */
/*
 * Device processes: the broker creates each device's channel, doorbells,
 * irqfds and backend fds, spawns the device binary confined by its profile,
 * sends it its dev_plan, and describes the vcpu-worker's half in vm_plan.
 */
#ifndef CELLVM_BROKER_DEVICES_H
#define CELLVM_BROKER_DEVICES_H

#include <stdbool.h>
#include <sys/types.h>

#include "selinux/label.h"
#include "devplan.h"
#include "spawn.h"
#include "vmplan.h"

#define MAX_DEVPROCS	    VM_MAX_DEVS
#define DEV_MAX_BACKEND_FDS DEV_PLAN_MAX_BACKENDS

struct devproc {
	const char *type;   /* profile / binary suffix: "serial", "testdev", ... */
	uint32_t dev_type;  /* enum vm_dev_type */
	uint32_t transport; /* enum vm_dev_transport */
	struct vm_region regions[VM_DEV_MAX_REGIONS];
	unsigned nregions;
	unsigned irq, nirq;		       /* legacy GSI base and count of irqfds */
	uint32_t irq_gsi[VM_DEV_MAX_EVENTFDS]; /* per irqfd GSI (0: irq + i; VM_IRQ_NOT_GSI) */
	unsigned keep_irq; /* 1 + index of an irqfd the broker keeps a copy of; 0: none */
	int kept_fd;	   /* that copy (e.g. the i8042 reset line), -1 */
	int backend[DEV_MAX_BACKEND_FDS]; /* fds handed to the device */
	const char *backend_why[DEV_MAX_BACKEND_FDS];
	unsigned nbackend;
	bool needs_ram;
	unsigned nkick;	   /* ioeventfds (PCI queue notifications) */
	struct vm_pci pci; /* PCI function the vcpu-worker presents (if present) */
	uint8_t cfg[256];  /* dev_plan.cfg */
	int pci_mem_fd;	   /* bochs-display: the display memfd for the vcpu-worker, or -1 */
	/* filled in by devices__spawn */
	pid_t pid;
	int pidfd;
	int ctl;
	int vcpu_fds[4 + 2 * VM_DEV_MAX_EVENTFDS]; /* chan, bells, pidfd, irqfds, kicks */
	unsigned nvcpu_fds;
	bool dead;
};

struct vm_ids {
	uid_t uid_base; /* per VM: uid_base + slot for each process */
	gid_t gid;
	bool seccomp_log;
	const char *cgroup;	      /* every child joins it */
	const struct vm_label *label; /* SELinux: the VM's category pair (inactive: none) */
	unsigned ncpus;		      /* vCPUs: host CPUs 0..ncpus-1 are theirs */
	/* Children's stderr: a non-blocking pipe the broker relays. Not the
	 * broker's own stderr: a child's RLIMIT_FSIZE 0 would lose every line
	 * written to a log file, and a child must never block on it. */
	int diag_fd;
};

/*
 * Describe a virtio-pci device process of `type` (its profile and binary
 * suffix): guest RAM for DMA, nqueues queues with one ioeventfd each, one
 * MSI-X vector for configuration changes plus one per queue. The PCI slot
 * is given by vm__run's allocator.
 */
void devices__virtio(struct devproc *d, const char *type, uint16_t virtio_id, uint32_t class_code,
		     unsigned nqueues);

/* Keep a device process off the vCPUs' host CPUs, if any are left; true if pinned. */
bool devices__pin(pid_t pid, unsigned ncpus);

/*
 * Spawn device `d` (the VM's device number `index`). On success, plan->devs[index]
 * describes the vcpu-worker's side, whose fds are appended to `fds` (from
 * *next_target on). Returns 0 or -1 with the reason in err.
 */
int devices__spawn(struct devproc *d, unsigned index, int ram_fd, uint64_t ram_size,
		   const struct vm_ids *ids, struct vm_plan *plan, struct spawn_fd *fds,
		   unsigned *nfds, int *next_target, char *err, size_t n);
/* The vcpu-worker has its copies: close the broker's. */
void devices__close_vcpu_fds(struct devproc *d);
/* Describe how a dead device ended (pidfd readable). Returns false if not dead yet. */
bool devices__reap(struct devproc *d, char *how, size_t n, bool *clean);
void devices__stop(struct devproc *d);

#endif
