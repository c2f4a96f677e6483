/* SPDX-License-Identifier: MIT */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device-procs/blk/blk_cfg.h"
#include "device-procs/qcow2/qcow2.h"
#include "device-procs/virtio/virtio_pci_regs.h"
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

/*
 * A qcow2 image's backing files, opened read-only by the broker. The header
 * probe reads only the backing name and format; a file already in the chain
 * (same device and inode) or a chain too deep is refused, and the backing
 * format is never guessed: it must be recorded in the image.
 */
static int backing_chain(const struct disk_opt *o, struct devproc *d, struct blk_cfg *c,
			 struct vm_label *vl)
{
	struct qcow2_chain chain;
	char dir[8192], name[4096], fmt[32], why[200], path[8192];
	qcow2__chain_init(&chain);
	snprintf(dir, sizeof(dir), "%s", o->path);
	int fd = d->backend[0];
	for (;;) {
		if (qcow2__chain_add(&chain, fd, why, sizeof(why)) < 0) {
			log__err("--disk %s: %s", o->path, why);
			return -1;
		}
		int r = qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), why,
					     sizeof(why));
		if (r < 0) {
			log__err("--disk %s: %s", o->path, why);
			return -1;
		}
		if (r == 0)
			return 0;
		if (c->nchain == BLK_MAX_CHAIN) {
			log__err("--disk %s: backing chain deeper than %d", o->path, BLK_MAX_CHAIN);
			return -1;
		}
		uint8_t f = !strcmp(fmt, "raw")	    ? BLK_FMT_RAW
			    : !strcmp(fmt, "qcow2") ? BLK_FMT_QCOW2
						    : 0;
		if (!f) {
			log__err(
			    "--disk %s: backing file %s has %s format; cellvm never guesses it "
			    "(qemu-img rebase -F raw|qcow2)",
			    o->path, name, fmt[0] ? "an unsupported" : "no recorded");
			return -1;
		}
		/*
		 * The header is writable by the disk process: a compromised one could
		 * name any host file here for the (root) broker to open on the next
		 * run. Only names below the image's own directory are accepted.
		 */
		if (name[0] == '/' || !strcmp(name, "..") || !strncmp(name, "../", 3) ||
		    strstr(name, "/../") ||
		    (strlen(name) >= 3 && !strcmp(name + strlen(name) - 3, "/.."))) {
			log__err("--disk %s: backing file name '%s' leaves the image's directory "
				 "(only relative names below it are accepted)",
				 o->path, name);
			return -1;
		}
		/* Relative names are relative to the image that names them. */
		char *slash = strrchr(dir, '/');
		if (name[0] == '/' || !slash)
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - dir), dir, name);
		if (label__image_set(vl, path, IMAGE_READONLY, why, sizeof(why)) < 0) {
			log__err("--disk %s: selinux: %s", o->path, why);
			return -1;
		}
		fd = open_image(path, true);
		if (fd < 0)
			return -1;
		d->backend[d->nbackend] = fd;
		d->backend_why[d->nbackend++] = "a read-only backing file of the disk";
		c->format[c->nchain++] = f;
		snprintf(dir, sizeof(dir), "%s", path);
		if (f == BLK_FMT_RAW)
			return 0;
	}
}

int disk__prepare(const struct disk_opt *o, struct devproc *d, struct vm_label *vl)
{
	struct blk_cfg c;
	memset(&c, 0, sizeof(c));

	char why[200];
	/* sVirt: this VM's image label (or the read-only content type) before use. */
	if (label__image_set(vl, o->path, o->readonly ? IMAGE_READONLY : IMAGE_RW_PRIVATE, why,
			     sizeof(why)) < 0) {
		log__err("--disk %s: selinux: %s", o->path, why);
		return -1;
	}
	int fd = open_image(o->path, o->readonly);
	if (fd < 0)
		return -1;
	d->backend[0] = fd;
	d->backend_why[0] = o->readonly ? "the disk image, read-only" : "the disk image";
	d->nbackend = 1;
	c.nchain = 1;
	c.format[0] = o->format == DISK_QCOW2 ? BLK_FMT_QCOW2 : BLK_FMT_RAW;
	if (o->format == DISK_QCOW2 && backing_chain(o, d, &c, vl) < 0) {
		for (unsigned i = 0; i < d->nbackend; i++)
			close(d->backend[i]);
		return -1;
	}
	c.readonly = o->readonly;
	c.nqueues = BLK_QUEUES;
	c.queue_size = BLK_QUEUE_SIZE;
	memcpy(c.serial, o->serial,
	       sizeof(c.serial) < strlen(o->serial) ? sizeof(c.serial) : strlen(o->serial));
	memcpy(d->cfg, &c, sizeof(c));

	devices__virtio(d, "blk", VIRTIO_ID_BLOCK, 0x018000 /* mass storage, other */, BLK_QUEUES);
	return 0;
}
