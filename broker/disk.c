/* SPDX-License-Identifier: MIT */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "device-procs/blk/blk_cfg.h"
#include "device-procs/qcow2/qcow2.h"
#include "device-procs/virtio/virtio_pci_regs.h"
#include "log.h"

#define BLK_QUEUES     1
#define BLK_QUEUE_SIZE 256

/*
 * Open an image once (no symlink in any component; below dirfd for a
 * backing file), label that fd and hand over that fd: the name is never
 * looked up again.
 */
static int open_image(int dirfd, const char *path, const char *what, bool readonly, bool beneath,
		      bool blockdev, struct vm_label *vl, enum image_kind kind)
{
	char why[200];
	struct stat st;
	int fd = path__open_input(dirfd, path, readonly ? O_RDONLY : O_RDWR, beneath, blockdev, &st,
				  why, sizeof(why));
	if (fd < 0) {
		log__err("--disk %s: %s", what, why);
		return -1;
	}
	/* sVirt: this VM's image label (or the read-only content type) before use. */
	if (label__image_set_fd(vl, fd, path, kind, why, sizeof(why)) < 0) {
		log__err("--disk %s: selinux: %s", what, why);
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
	char name[4096], fmt[32], why[200];
	const char *base;
	qcow2__chain_init(&chain);
	/* Each backing name is opened below the directory of the image naming it. */
	int dir = path__open_parent(AT_FDCWD, o->path, false, &base);
	if (dir < 0) {
		log__err("--disk %s: its directory: %s", o->path,
			 errno == ELOOP ? "a symbolic link in the path (cellvm follows none)"
					: strerror(errno));
		return -1;
	}
	int fd = d->backend[0], rc = -1;
	for (;;) {
		if (qcow2__chain_add(&chain, fd, why, sizeof(why)) < 0) {
			log__err("--disk %s: %s", o->path, why);
			goto out;
		}
		int r = qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), why,
					     sizeof(why));
		if (r < 0) {
			log__err("--disk %s: %s", o->path, why);
			goto out;
		}
		if (r == 0)
			break;
		if (c->nchain == BLK_MAX_CHAIN) {
			log__err("--disk %s: backing chain deeper than %d", o->path, BLK_MAX_CHAIN);
			goto out;
		}
		uint8_t f = !strcmp(fmt, "raw")	    ? BLK_FMT_RAW
			    : !strcmp(fmt, "qcow2") ? BLK_FMT_QCOW2
						    : 0;
		if (!f) {
			log__err(
			    "--disk %s: backing file %s has %s format; cellvm never guesses it "
			    "(qemu-img rebase -F raw|qcow2)",
			    o->path, name, fmt[0] ? "an unsupported" : "no recorded");
			goto out;
		}
		/*
		 * The header is writable by the disk process: a compromised one could
		 * name any host file here for the (root) broker to open on the next
		 * run. Only names below the image's own directory are accepted, and
		 * openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS enforces it on the
		 * file itself (this check only gives the clearer message).
		 */
		if (name[0] == '/' || !strcmp(name, "..") || !strncmp(name, "../", 3) ||
		    strstr(name, "/../") ||
		    (strlen(name) >= 3 && !strcmp(name + strlen(name) - 3, "/.."))) {
			log__err("--disk %s: backing file name '%s' leaves the image's directory "
				 "(only relative names below it are accepted)",
				 o->path, name);
			goto out;
		}
		char what[8300];
		snprintf(what, sizeof(what), "%s: backing file %s", o->path, name);
		fd = open_image(dir, name, what, true, true, false, vl, IMAGE_READONLY);
		if (fd < 0)
			goto out;
		d->backend[d->nbackend] = fd;
		d->backend_why[d->nbackend++] = "a read-only backing file of the disk";
		c->format[c->nchain++] = f;
		if (f == BLK_FMT_RAW)
			break;
		/* Its own backing name is relative to its directory (below ours). */
		int next = path__open_parent(dir, name, true, &base);
		if (next < 0) {
			log__err("--disk %s: %s", what, strerror(errno));
			goto out;
		}
		close(dir);
		dir = next;
	}
	rc = 0;
out:
	close(dir);
	return rc;
}

int disk__prepare(const struct disk_opt *o, struct devproc *d, struct vm_label *vl)
{
	struct blk_cfg c;
	memset(&c, 0, sizeof(c));

	int fd = open_image(AT_FDCWD, o->path, o->path, o->readonly, false, o->blockdev, vl,
			    o->readonly ? IMAGE_READONLY : IMAGE_RW_PRIVATE);
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
