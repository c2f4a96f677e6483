/* SPDX-License-Identifier: MIT */
/*
 * The contract between the device-process main loop (device-procs/devmain.c)
 * and one device model: an ops table, as in kvmtool. Each device binary
 * links devmain.c with one model that defines `dev__desc`.
 *
 * A device owns up to DEV_MAX_REGIONS guest-visible regions (PIO ranges,
 * MMIO ranges or PCI BARs) that it declares itself in `dev__desc.limits`.
 * Accesses reach the device as ring messages that the main loop has already
 * validated against those limits: `region` < nregions, `off` + `size`
 * inside the region, `size` in {1, 2, 4, 8}. Virtqueue notifications
 * arrive as ioeventfd events and interrupts leave through irqfds, never
 * through the vcpu-worker.
 */
#ifndef CELLVM_DEVICE_H
#define CELLVM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devplan.h"
#include "gmem.h"
#include "ipc/msg.h"
#include "vmplan.h"

#define DEV_MAX_REGIONS	 IPC_MAX_REGIONS
#define DEV_MAX_EVENTFDS VM_DEV_MAX_EVENTFDS
#define DEV_MAX_BACKENDS DEV_PLAN_MAX_BACKENDS

struct dev_env {
	struct gmem ram;	     /* guest RAM, only for devices that DMA (else host == NULL) */
	int irqfd[DEV_MAX_EVENTFDS]; /* interrupt lines / MSI-X vectors */
	unsigned nirqfd;
	int kickfd[DEV_MAX_EVENTFDS]; /* ioeventfds, e.g. one per virtqueue */
	unsigned nkickfd;
	int backend_fd[DEV_MAX_BACKENDS]; /* image, TAP, listening socket, ... */
	unsigned nbackend;
	const uint8_t *cfg; /* dev_plan.cfg: device-specific settings */
	unsigned index;
};

struct dev_ops {
	const char *name;
	/* Called once, after confinement is in place. Returns 0 or -errno. */
	int (*init)(void *dev, struct dev_env *env);
	uint64_t (*read)(void *dev, unsigned region, uint64_t off, unsigned size);
	void (*write)(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val);
	/* kickfd[i] became readable (already drained by the main loop). */
	void (*kick)(void *dev, unsigned i);
	/* backend_fd[i] is readable (sockets, TAP, console input); may be NULL. */
	void (*backend_ready)(void *dev, unsigned i);
	/* Should backend_fd[i] be polled now (e.g. room in a FIFO)? NULL: always. */
	bool (*backend_wanted)(void *dev, unsigned i);
	/*
	 * IPC_OP_CTRL_RESET: back to the state after init, as a guest's own
	 * reset would (virtio: status 0, which drains in-flight I/O; blk also
	 * flushes its backend). Sent by the device-process fuzzer between
	 * inputs (tests/fuzz/devproc/); NULL: the request fails with -EINVAL.
	 */
	void (*reset)(void *dev);
};

struct dev_desc {
	const char *type; /* confinement profile and log prefix: "serial", ... */
	const struct dev_ops *ops;
	struct ipc_region_limits limits;
	size_t priv_size; /* zeroed state passed as `dev` */
	/*
	 * Optional, instead of priv_size: build the device from its backend fds
	 * and dev_plan.cfg. Runs after lockdown (it may parse hostile images).
	 * NULL with a reason in err on failure.
	 */
	void *(*create)(struct dev_env *env, char *err, size_t n);
};

/*
 * Coverage for the device-process fuzzer (device-procs/devcov.c, linked only
 * in -Dfuzzing=true builds; weak, so NULL elsewhere). attach: before
 * lockdown, claim the harness's counter memfd if it is the last backend fd
 * (then removed from env); flush: copy this process's edge counters there and
 * clear them.
 */
void devcov__attach(struct dev_env *env) __attribute__((weak));
void devcov__flush(void) __attribute__((weak));

/* Defined by each device model. */
extern const struct dev_desc dev__desc;

/* Raise interrupt line/vector i (writes irqfd[i]); ignored if absent. */
void dev__irq(struct dev_env *env, unsigned i);

/*
 * Publish the value of a register whose reads have no side effect, so the
 * vcpu-worker answers its reads without asking (ipc_chan__shadow_publish:
 * slot i < IPC_MAX_SHADOWS, `inval` = offsets whose writes change it).
 * Call before returning from the read/write that changed it, and whenever
 * it changes on its own. No-op on a socket transport.
 */
void dev__shadow(struct dev_env *env, unsigned i, unsigned region, uint32_t off, unsigned size,
		 uint32_t inval, uint64_t value);

#endif
