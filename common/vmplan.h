/* SPDX-License-Identifier: MIT */
/*
 * Broker <-> vcpu-worker control protocol: fixed-size binary messages over a
 * SOCK_SEQPACKET socketpair (fd CV_FD_CONTROL in the child), as OpenBSD vmd
 * does. The broker sends exactly one struct vm_plan; the vcpu-worker sends
 * struct vm_event messages. The broker treats every event as hostile: it
 * checks the size, the type and every field before acting on it.
 */
#ifndef CELLVM_VMPLAN_H
#define CELLVM_VMPLAN_H

#include <stddef.h>
#include <stdint.h>

#define VM_PLAN_MAGIC	0x63766d70u /* "cvmp" */
#define VM_PLAN_VERSION 2

/* The vcpu-worker's fd table (set up by the broker before exec). */
enum {
	CV_FD_CONTROL = 3,  /* SEQPACKET socket to the broker */
	CV_FD_KVM = 4,	    /* /dev/kvm */
	CV_FD_RAM = 5,	    /* guest RAM memfd, sealed against shrink/grow */
	CV_FD_KERNEL = 6,   /* kernel image, read-only */
	CV_FD_INITRD = 7,   /* initrd, read-only (absent: not open) */
	CV_FD_FIRST_DEV = 8 /* device fds, as listed in vm_plan.devs */
};

/*
 * The limits, each defined once: the broker, the vcpu-worker and the device
 * processes derive theirs from these.
 */
#define VM_MAX_CPUS	    64
#define VM_CMDLINE_MAX	    4096
#define VM_MAX_DEVS	    16 /* device processes + in-process devices of one VM */
#define VM_DEV_MAX_REGIONS  8
#define VM_DEV_MAX_EVENTFDS 16 /* per device: irqfds (MSI-X vectors), and ioeventfds (queues) */
#define VM_PCI_SLOTS	    32 /* device numbers on bus 0; 0 is the host bridge */
/* The vcpu-worker's fd table: its own, then per device its channel, two
 * doorbells, pidfd, irqfds and kicks (eight disks take 5 + 8 * 7). */
#define VM_WORKER_MAX_FDS 192

enum vm_region_kind { VM_REGION_PIO = 1, VM_REGION_MMIO = 2 };

/* vm_region.flags */
#define VM_REGION_F_POSTED 0x1 /* writes are posted: the vCPU does not wait for the device */

struct vm_region {
	uint32_t kind;	/* enum vm_region_kind */
	uint32_t flags; /* VM_REGION_F_* */
	uint64_t base;
	uint64_t len;
};

/* How the vcpu-worker reaches a device's registers. */
enum vm_dev_transport {
	VM_DEV_INPROC = 1, /* handled inside the vcpu-worker (baseline, debug) */
	VM_DEV_RING = 2,   /* shared-memory ring + doorbells */
	VM_DEV_SOCKET = 3, /* SEQPACKET request/reply (benchmark peer) */
};

enum vm_dev_type {
	VM_DEV_SERIAL = 1,
	VM_DEV_TESTDEV = 2,
	VM_DEV_VIRTIO = 3, /* any virtio-pci device process (vm_pci.virtio_id says which) */
	VM_DEV_VGA = 4,
	VM_DEV_INPUT = 5,
};

/* vm_dev.irq_gsi[i]: 0 = irq + i; VM_IRQ_NOT_GSI = an eventfd KVM must not see. */
#define VM_IRQ_NOT_GSI 0xffffffffu

enum vm_pci_kind { VM_PCI_VIRTIO = 1, VM_PCI_BOCHS_DISPLAY = 2 };

/* A PCI function the vcpu-worker presents for a device process. */
struct vm_pci {
	uint32_t present;
	uint32_t kind;	    /* enum vm_pci_kind */
	int32_t fd_mem;	    /* bochs-display: the display memfd (state page + video memory) */
	uint32_t mem_size;  /* bochs-display: bytes of video memory (BAR0) */
	uint16_t virtio_id; /* virtio device type (2 = block) */
	uint16_t subsystem;
	uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
	uint32_t nvectors;   /* MSI-X vectors: one irqfd each */
	uint32_t nkicks;     /* queue notifications: one ioeventfd each */
	uint32_t slot;	     /* PCI device number on bus 0 */
	int32_t fd_kick[VM_DEV_MAX_EVENTFDS];
};

struct vm_dev {
	uint32_t type;	    /* enum vm_dev_type */
	uint32_t transport; /* enum vm_dev_transport */
	uint32_t nregions;
	uint32_t irq; /* legacy GSI for irqfd[0], or 0 */
	struct vm_region regions[VM_DEV_MAX_REGIONS];
	/* fds in the vcpu-worker's table; -1 when unused */
	int32_t fd_chan;      /* ring memfd or socket */
	int32_t fd_bell_dev;  /* doorbell vcpu -> device (pipe write end) */
	int32_t fd_bell_vcpu; /* doorbell device -> vcpu (pipe read end) */
	int32_t fd_peer;      /* pidfd of the device process: readable when it dies */
	uint32_t nirqfd;
	int32_t fd_irq[VM_DEV_MAX_EVENTFDS];   /* irqfds: legacy GSI irq + i, or MSI-X vector i */
	uint32_t irq_gsi[VM_DEV_MAX_EVENTFDS]; /* legacy GSI of irqfd i, if not irq + i */
	struct vm_pci pci;
};

enum vm_serial_mode { VM_SERIAL_NONE = 0, VM_SERIAL_FD = 1 };

struct vm_plan {
	uint32_t magic;
	uint32_t version;
	uint64_t mem_size;
	uint32_t ncpus;
	uint32_t has_initrd;
	uint32_t ndevs;
	/* Serial console handled in-process (transport inproc): fds or -1. */
	int32_t fd_serial_out;
	int32_t fd_serial_in;
	uint32_t seccomp_log; /* 1: name a blocked syscall before dying */
	uint32_t has_i8042;   /* an i8042 device process owns ports 0x60/0x64 */
	int32_t fd_record;    /* --record: the device traffic record (record.h), or -1 */
	struct vm_dev devs[VM_MAX_DEVS];
	char cmdline[VM_CMDLINE_MAX]; /* NUL-terminated */
};

enum vm_event_type {
	VM_EV_READY = 1,      /* guest loaded, vCPUs about to run */
	VM_EV_BOOT_TIMER = 2, /* guest wrote the boot-timer port */
	VM_EV_EXIT = 3,	      /* guest ended the run: value = status */
	VM_EV_CRASH = 4,      /* triple fault / emulation failure: text says which */
	VM_EV_ERROR = 5,      /* the vcpu-worker failed: text says why */
	VM_EV_MARK = 6,	      /* benchmark mark: value = mark id */
	VM_EV_DEV_FAILED = 7, /* a device stopped answering: value = device index */
};

/* The plan is one SEQPACKET message: far below the default socket buffer. */
_Static_assert(sizeof(struct vm_plan) <= 64 * 1024, "vm_plan must stay one small message");

struct vm_event {
	uint32_t type;
	uint32_t cpu;
	uint64_t value;
	uint64_t mono_ns; /* CLOCK_MONOTONIC when it happened */
	uint64_t cpu_us;  /* vcpu-worker user+system CPU time so far */
	char text[224];	  /* NUL-terminated */
};

#endif
