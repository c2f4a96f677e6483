/* SPDX-License-Identifier: MIT */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device-procs/blk/blk_cfg.h"
#include "log.h"

#define BLK_QUEUES     1
#define BLK_QUEUE_SIZE 256

static int open_image(const char *path, bool readonly)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log__err("--disk %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log__err("--disk %s: not a regular file or block device", path);
		close(fd);
		return -1;
	}
	return fd;
}

int disk__prepare(const struct disk_opt *o, unsigned n, struct devproc *d)
{
	struct blk_cfg c;
	memset(d, 0, sizeof(*d));
	memset(&c, 0, sizeof(c));

	int fd = open_image(o->path, o->readonly);
	if (fd < 0)
		return -1;
	d->backend[0] = fd;
	d->backend_why[0] = o->readonly ? "the disk image, read-only" : "the disk image";
	d->nbackend = 1;
	c.nchain = 1;
	c.format[0] = o->format == DISK_QCOW2 ? BLK_FMT_QCOW2 : BLK_FMT_RAW;
	if (o->format == DISK_QCOW2 && disk__backing_chain(o, d, &c) < 0) {
		close(fd);
		return -1;
	}
	c.readonly = o->readonly;
	c.nqueues = BLK_QUEUES;
	c.queue_size = BLK_QUEUE_SIZE;
	memcpy(c.serial, o->serial, sizeof(c.serial) < strlen(o->serial) ? sizeof(c.serial)
									 : strlen(o->serial));
	memcpy(d->cfg, &c, sizeof(c));

	d->type = "blk";
	d->dev_type = VM_DEV_VIRTIO_BLK;
	d->transport = VM_DEV_RING;
	d->needs_ram = true;
	d->nirq = BLK_QUEUES + 1; /* MSI-X: config change + one per queue */
	d->nkick = BLK_QUEUES;
	d->pci = (struct vm_pci){
		.present = 1,
		.virtio_id = 2,
		.subsystem = 2,
		.class_code = 0x018000, /* mass storage, other */
		.nvectors = BLK_QUEUES + 1,
		.slot = 1 + n,
	};
	return 0;
}
