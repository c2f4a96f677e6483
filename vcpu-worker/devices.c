/* SPDX-License-Identifier: MIT */
/* Wiring the plan's devices onto the I/O bus. */
#include "devices.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "device-procs/testdev/testdev.h"
#include "iobus.h"
#include "pci.h"
#include "record.h"
#include "remote.h"
#include "serial_inproc.h"

/* The in-process test device: the baseline of the IPC benchmark. */
static struct testdev inproc_testdev;
static pthread_mutex_t testdev_lock = PTHREAD_MUTEX_INITIALIZER;

static int td_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	pthread_mutex_lock(&testdev_lock);
	*val = testdev__read(&inproc_testdev, off, size);
	pthread_mutex_unlock(&testdev_lock);
	return 0;
}

static int td_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	pthread_mutex_lock(&testdev_lock);
	testdev__write(&inproc_testdev, off, size, val);
	pthread_mutex_unlock(&testdev_lock);
	return 0;
}

static const struct iodev_ops testdev_ops = {td_read, td_write};

int devices__init(struct vm *vm, const struct vm_plan *plan, char *err, size_t n)
{
	if (plan->fd_serial_out >= 0 || plan->fd_serial_in >= 0) {
		if (serial_inproc__init(vm, plan->fd_serial_out, plan->fd_serial_in) < 0) {
			snprintf(err, n, "serial: cannot register COM1");
			return -1;
		}
	}
	if (plan->fd_record >= 0 && !record__open(plan->fd_record, plan, &vm->ram)) {
		snprintf(err, n, "--record: cannot write the record");
		return -1;
	}
	if (pci__init(vm) < 0) {
		snprintf(err, n, "pci: cannot register the host bridge");
		return -1;
	}
	for (unsigned i = 0; i < plan->ndevs; i++) {
		const struct vm_dev *d = &plan->devs[i];
		if (d->nregions > VM_DEV_MAX_REGIONS || d->nirqfd > VM_DEV_MAX_EVENTFDS) {
			snprintf(err, n, "device %u: bad plan", i);
			return -1;
		}
		if (d->transport == VM_DEV_INPROC) {
			if (d->type != VM_DEV_TESTDEV ||
			    iobus__register(IOBUS_MMIO, CV_MMIO_TESTDEV, CV_MMIO_TESTDEV_LEN,
					    &testdev_ops, NULL, 0, "testdev") < 0) {
				snprintf(err, n, "device %u: no in-process model", i);
				return -1;
			}
			continue;
		}
		if (d->pci.present) {
			struct remote *r = remote__open(d, i, err, n);
			if (!r)
				return -1;
			if (d->pci.kind == VM_PCI_BOCHS_DISPLAY) {
				/* Its port pair is a plain region; BAR2 is forwarded by pci.c. */
				if (remote__claim(r, d, err, n) < 0 ||
				    pci__add_vga(vm, d, r, i, err, n) < 0)
					return -1;
			} else if (pci__add_virtio(vm, d, r, i, err, n) < 0) {
				return -1;
			}
			continue;
		}
		if (remote__attach(vm, d, i, err, n) < 0)
			return -1;
	}
	return 0;
}

int devices__poll_fd(void)
{
	return serial_inproc__in_fd();
}

int devices__poll_timeout(void)
{
	/* Input is pending but the guest has not drained the FIFO yet. */
	return serial_inproc__blocked() ? 20 : -1;
}

void devices__poll_ready(void)
{
	serial_inproc__input();
}
