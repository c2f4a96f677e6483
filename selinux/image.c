/* SPDX-License-Identifier: MIT */
/*
 * Image labels with remembered originals, as libvirt's
 * trusted.libvirt.security.* does: trusted.cellvm.label holds the label
 * the image had before its first user, trusted.cellvm.ref how many VM
 * uses hold it now.  Every step runs on one open fd under flock(LOCK_EX),
 * so two brokers cannot interleave on the same image; the lock is held
 * for a few syscalls only, and waited for at most lock_wait_ms (a disk
 * backend must not flock() its image for the VM's lifetime: use OFD
 * byte-range locks for that, as QEMU does).
 */
#include "label.h"
#include "label-int.h"
#include "mcs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <selinux/selinux.h>

#include "log.h"

#define XATTR_LABEL "trusted.cellvm.label"
#define XATTR_REF   "trusted.cellvm.ref"
#define REF_MAX	    1000000ul

/* How long to wait for another broker's flock before giving up. */
static unsigned int lock_wait_ms = 10000;

void label__set_lock_wait_ms(unsigned int ms)
{
	lock_wait_ms = ms;
}

/* flock(LOCK_EX) with a bound: never hang the broker on a held lock. */
static int lock_bounded(int fd)
{
	const struct timespec step = {0, 20 * 1000 * 1000};
	for (unsigned int waited = 0;; waited += 20) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || waited >= lock_wait_ms)
			return -1;
		nanosleep(&step, NULL);
	}
}

struct label_image {
	char *path;
	enum image_kind kind;
	dev_t dev;
	ino_t ino;
	int fd; /* the broker's own fd of it (label__image_set_fd), or -1 */
};

static int open_image(const char *path, struct stat *st, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		label__errf(err, n, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !(S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))) {
		label__errf(err, n, "%s: not a regular file or block device", path);
		close(fd);
		return -1;
	}
	if (lock_bounded(fd) < 0) {
		label__errf(err, n, "%s: flock: %s (held by another process)", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* 0 when absent; -1 when unreadable or not a decimal in 1..REF_MAX. */
static int read_ref(int fd, unsigned long *ref)
{
	char buf[16];
	ssize_t len = fgetxattr(fd, XATTR_REF, buf, sizeof(buf) - 1);
	if (len < 0) {
		if (errno != ENODATA)
			return -1;
		*ref = 0;
		return 0;
	}
	buf[len] = '\0';
	char *end;
	errno = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (len == 0 || *end || errno || buf[0] < '1' || buf[0] > '9' || v > REF_MAX) {
		errno = EBADMSG;
		return -1;
	}
	*ref = v;
	return 0;
}

static int write_ref(int fd, unsigned long ref)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%lu", ref);
	return fsetxattr(fd, XATTR_REF, buf, (size_t)len, 0);
}

/* Label kind k of vl would give an image now labelled cur (keeps its user). */
static int target_con(const struct vm_label *vl, const char *cur, enum image_kind k, char *out,
		      size_t n)
{
	const char *colon = strchr(cur, ':');
	if (!colon || colon == cur || (size_t)(colon - cur) > 64)
		return -1;
	const char *type = k == IMAGE_READONLY ? "cellvm_content_t" : "cellvm_image_t";
	const char *level = k == IMAGE_RW_PRIVATE ? vl->level : label__sens();
	int len = snprintf(out, n, "%.*s:object_r:%s:%s", (int)(colon - cur), cur, type, level);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static int remember(struct vm_label *vl, const char *path, enum image_kind kind,
		    const struct stat *st, int keep_fd)
{
	struct label_image *v = realloc(vl->images, (vl->nimages + 1) * sizeof(*v));
	if (!v)
		return -1;
	vl->images = v;
	char *p = strdup(path);
	if (!p)
		return -1;
	v[vl->nimages++] = (struct label_image){p, kind, st->st_dev, st->st_ino, keep_fd};
	return 0;
}

/* Label the image open (and flocked) as fd; keep_fd goes into vl's record. */
static int image_set(struct vm_label *vl, int fd, const struct stat *stp, const char *path,
		     enum image_kind kind, int keep_fd, char *err, size_t n)
{
	const struct stat st = *stp;
	int rc = -1;
	char *cur = NULL;
	char want[LABEL_CON_MAX];
	unsigned long ref;
	if (fgetfilecon_raw(fd, &cur) < 0 || !cur) {
		label__errf(err, n, "%s: getfilecon: %s", path, strerror(errno));
		goto out;
	}
	if (target_con(vl, cur, kind, want, sizeof(want)) < 0) {
		label__errf(err, n, "%s: unusable label '%s'", path, cur);
		goto out;
	}
	if (read_ref(fd, &ref) < 0) {
		label__errf(err, n, "%s: %s: %s", path, XATTR_REF, strerror(errno));
		goto out;
	}
	bool stale = false;
	if (ref > 0 && strcmp(cur, want)) {
		unsigned int c1, c2;
		if (mcs__context_pair(cur, &c1, &c2) != 1 || label__pair_busy(c1, c2)) {
			errno = EBUSY;
			label__errf(err, n, "%s: in use by another VM (label %s, wanted %s)", path,
				    cur, want);
			goto out;
		}
		/* Its VM is gone (broker crash): keep the remembered original. */
		log__info("%s: reclaiming label %s left by a VM that no longer runs", path, cur);
		stale = true;
		ref = 0;
	}
	if (ref > 0) {
		if (ref >= REF_MAX || write_ref(fd, ref + 1) < 0) {
			label__errf(err, n, "%s: %s: %s", path, XATTR_REF, strerror(errno));
			goto out;
		}
	} else {
		if ((!stale && fsetxattr(fd, XATTR_LABEL, cur, strlen(cur) + 1, 0) < 0) ||
		    write_ref(fd, 1) < 0) {
			label__errf(err, n, "%s: cannot remember label in trusted xattrs: %s", path,
				    strerror(errno));
			goto undo;
		}
		if (strcmp(cur, want) && fsetfilecon_raw(fd, want) < 0) {
			label__errf(err, n, "%s: setfilecon %s: %s", path, want, strerror(errno));
			goto undo;
		}
	}
	if (remember(vl, path, kind, &st, keep_fd) < 0) {
		label__errf(err, n, "out of memory");
		/* give the reference back */
		if (ref > 0)
			write_ref(fd, ref);
		else
			goto undo_label;
		goto out;
	}
	rc = 0;
	goto out;
undo_label:
	if (strcmp(cur, want))
		fsetfilecon_raw(fd, cur);
undo:
	if (!stale)
		fremovexattr(fd, XATTR_LABEL);
	fremovexattr(fd, XATTR_REF);
out:
	freecon(cur);
	return rc;
}

int label__image_set(struct vm_label *vl, const char *path, enum image_kind kind, char *err,
		     size_t n)
{
	if (!vl->active)
		return 0;
	if (kind != IMAGE_RW_PRIVATE && kind != IMAGE_RW_SHARED && kind != IMAGE_READONLY) {
		label__errf(err, n, "%s: bad image kind", path);
		return -1;
	}
	struct stat st;
	int fd = open_image(path, &st, err, n);
	if (fd < 0)
		return -1;
	int rc = image_set(vl, fd, &st, path, kind, -1, err, n);
	close(fd);
	return rc;
}

int label__image_set_fd(struct vm_label *vl, int image_fd, const char *name, enum image_kind kind,
			char *err, size_t n)
{
	if (!vl->active)
		return 0;
	if (kind != IMAGE_RW_PRIVATE && kind != IMAGE_RW_SHARED && kind != IMAGE_READONLY) {
		label__errf(err, n, "%s: bad image kind", name);
		return -1;
	}
	/* Our own description of the same open file: kept to restore the label. */
	int fd = fcntl(image_fd, F_DUPFD_CLOEXEC, 3);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		label__errf(err, n, "%s: not a regular file or block device", name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (lock_bounded(fd) < 0) {
		label__errf(err, n, "%s: flock: %s (held by another process)", name,
			    strerror(errno));
		close(fd);
		return -1;
	}
	int rc = image_set(vl, fd, &st, name, kind, fd, err, n);
	flock(fd, LOCK_UN);
	if (rc < 0)
		close(fd);
	return rc;
}

static void forget(struct vm_label *vl, size_t i)
{
	free(vl->images[i].path);
	if (vl->images[i].fd >= 0)
		close(vl->images[i].fd);
	vl->images[i] = vl->images[--vl->nimages];
	if (!vl->nimages) {
		free(vl->images);
		vl->images = NULL;
	}
}

static int image_restore(struct vm_label *vl, int fd, const struct stat *stp, const char *path,
			 char *err, size_t n)
{
	const struct stat st = *stp;
	int rc = -1;
	char *cur = NULL;
	size_t i;
	for (i = 0; i < vl->nimages; i++)
		if (vl->images[i].dev == st.st_dev && vl->images[i].ino == st.st_ino)
			break;
	if (i == vl->nimages) {
		label__errf(err, n, "%s: not labelled for this VM", path);
		goto out;
	}
	enum image_kind kind = vl->images[i].kind;
	forget(vl, i);
	char want[LABEL_CON_MAX], orig[LABEL_CON_MAX];
	unsigned long ref;
	if (fgetfilecon_raw(fd, &cur) < 0 || !cur ||
	    target_con(vl, cur, kind, want, sizeof(want)) < 0) {
		label__errf(err, n, "%s: getfilecon: %s", path, strerror(errno));
		goto out;
	}
	if (strcmp(cur, want)) {
		label__errf(err, n, "%s: relabelled behind our back (%s, expected %s): left alone",
			    path, cur, want);
		goto out;
	}
	if (read_ref(fd, &ref) < 0 || ref == 0) {
		label__errf(err, n, "%s: no valid %s: left alone", path, XATTR_REF);
		goto out;
	}
	if (ref > 1) {
		if (write_ref(fd, ref - 1) < 0) {
			label__errf(err, n, "%s: %s: %s", path, XATTR_REF, strerror(errno));
			goto out;
		}
		rc = 0;
		goto out;
	}
	ssize_t len = fgetxattr(fd, XATTR_LABEL, orig, sizeof(orig) - 1);
	if (len <= 0) {
		label__errf(err, n, "%s: no remembered label: left as %s", path, cur);
		goto out;
	}
	orig[len] = '\0';
	if (strcmp(orig, cur) && fsetfilecon_raw(fd, orig) < 0) {
		label__errf(err, n, "%s: setfilecon %s: %s", path, orig, strerror(errno));
		goto out;
	}
	fremovexattr(fd, XATTR_REF);
	fremovexattr(fd, XATTR_LABEL);
	rc = 0;
out:
	freecon(cur);
	return rc;
}

int label__image_restore(struct vm_label *vl, const char *path, char *err, size_t n)
{
	if (!vl->active)
		return 0;
	struct stat st;
	int fd = open_image(path, &st, err, n);
	if (fd < 0)
		return -1;
	int rc = image_restore(vl, fd, &st, path, err, n);
	close(fd);
	return rc;
}

/* Restore the last image of vl through the fd kept for it: never by name. */
static int restore_kept(struct vm_label *vl, char *err, size_t n)
{
	struct label_image *im = &vl->images[vl->nimages - 1];
	int fd = fcntl(im->fd, F_DUPFD_CLOEXEC, 3);
	char *path = strdup(im->path);
	struct stat st;
	int rc = -1;
	if (fd < 0 || !path || fstat(fd, &st) < 0)
		label__errf(err, n, "%s: %s", path ? path : "image", strerror(errno));
	else if (lock_bounded(fd) < 0)
		label__errf(err, n, "%s: flock: %s (held by another process)", path,
			    strerror(errno));
	else
		rc = image_restore(vl, fd, &st, path, err, n);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void label__images_release(struct vm_label *vl)
{
	while (vl->nimages) {
		char err[512] = "out of memory";
		size_t before = vl->nimages;
		char *path = strdup(vl->images[before - 1].path);
		int rc = !path ? -1
			 : vl->images[before - 1].fd >= 0
			     ? restore_kept(vl, err, sizeof(err))
			     : label__image_restore(vl, path, err, sizeof(err));
		if (rc < 0)
			log__err("restoring image label: %s", err);
		/* the image could not even be opened: drop it all the same */
		if (vl->nimages == before)
			forget(vl, before - 1);
		free(path);
	}
}
