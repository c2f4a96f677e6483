/* SPDX-License-Identifier: MIT */
/*
 * sVirt-style SELinux labels for a VM's processes, sockets, memfds and
 * images (see docs/selinux.md).
 *
 * Every VM gets a unique random MCS category pair (c1 < c2) inside the
 * broker's own range; its processes run as USER:ROLE:cellvm_X_t:s0:c1,c2
 * (USER and ROLE are the broker's own), its objects are labelled
 * USER:object_r:TYPE:s0:c1,c2.  With SELinux off or disabled every call
 * below is a no-op that succeeds (vl->active is false), except
 * label__exec_con/label__obj_con, which have no string to give (-1 EINVAL).
 *
 * Functions that take (char *err, size_t n) return 0 or -1 with a reason
 * in err; the others return 0 or -1 with errno set.  Not thread-safe
 * except label__vm_reserve/label__vm_release (the reservation set is
 * locked); setexeccon/setsockcreatecon are per thread by nature.
 */
#ifndef CELLVM_SELINUX_LABEL_H
#define CELLVM_SELINUX_LABEL_H

#include <stdbool.h>
#include <stddef.h>

enum label_mode {
	LABEL_OFF,     /* never label */
	LABEL_AUTO,    /* label when SELinux is enabled, else log once and go on */
	LABEL_REQUIRE, /* refuse to start without SELinux */
};

enum image_kind {
	IMAGE_RW_PRIVATE, /* cellvm_image_t:s0:c1,c2: this VM only */
	IMAGE_RW_SHARED,  /* cellvm_image_t:s0: every VM that shares it */
	IMAGE_READONLY,	  /* cellvm_content_t:s0: kernel, initrd, read-only disks */
};

/* Longest context this module builds or accepts. */
#define LABEL_CON_MAX 256

struct label_image;

struct vm_label {
	bool active;	 /* false: labelling is off; every call is a no-op */
	unsigned int c1; /* category pair, c1 < c2 */
	unsigned int c2;
	char level[40];		    /* "s0:c12,c345" */
	struct label_image *images; /* images labelled for this VM, restored on release */
	size_t nimages;
};

/* "auto" | "require" | "off" -> mode; -1 (EINVAL) otherwise. */
int label__parse_mode(const char *s, enum label_mode *mode);

/*
 * Decide whether to label.  off: nothing.  auto: label when
 * is_selinux_enabled(), otherwise log once that VMs run unlabelled.
 * require: error when SELinux is disabled.  When labelling, reads the
 * broker's context (getcon), its MLS range (the categories VMs may use)
 * and checks that the loaded policy knows the cellvm types.
 */
int label__init(enum label_mode mode, char *err, size_t n);
/* Whether label__init decided to label. */
bool label__active(void);
/* Forget everything label__init learnt (tests). */
void label__fini(void);

/*
 * Pick a random unused category pair for a new VM: unused by every
 * running process (read from /proc/PID/attr/current, so a restarted
 * broker sees its old VMs) and by every pair reserved in this process.
 * *vl is overwritten: pass a fresh one, or one label__vm_release()d.
 */
int label__vm_reserve(struct vm_label *vl, char *err, size_t n);
/*
 * The broker of one VM runs at that VM's pair from here on: its context
 * becomes USER:ROLE:TYPE:s0-s0:c1,c2 (setcon). Everything it creates after
 * this (pipes, sockets, memfds before their relabel) carries the VM's
 * level, which the VM's MCS-constrained children dominate; a pipe made at
 * the full range s0-s0:c0.c1023 they could neither read nor write. The
 * broker's own accesses are unchanged (cellvm_t is not MCS-constrained).
 */
int label__vm_enter(const struct vm_label *vl, char *err, size_t n);
/* Restore every image still labelled for vl, free its pair. */
void label__vm_release(struct vm_label *vl);

/* "USER:ROLE:TYPE:s0:c1,c2" for a child process of vl. */
int label__exec_con(const struct vm_label *vl, const char *type, char *out, size_t n);
/* "USER:object_r:TYPE:s0:c1,c2" for an object of vl. */
int label__obj_con(const struct vm_label *vl, const char *type, char *out, size_t n);

/* setexeccon(label__exec_con(vl, type)): call in the child before exec. */
int label__setexec(const struct vm_label *vl, const char *type);
/*
 * Label the sockets this thread creates next as object TYPE of vl (a
 * child's domain type for the broker<->child socketpairs,
 * "cellvm_vnc_socket_t" for the VNC listener); type NULL resets.
 */
int label__setsockcreate(const struct vm_label *vl, const char *type);
/*
 * Relabel an fd the broker created for vl (memfds: "cellvm_ram_t",
 * "cellvm_fb_t", "cellvm_blk_ring_t"...; console logs "cellvm_log_t").
 */
int label__fd_set(const struct vm_label *vl, int fd, const char *type, char *err, size_t n);

/*
 * Label an image (regular file or block device) for vl.  The original
 * label is remembered in trusted.cellvm.label with a reference count in
 * trusted.cellvm.ref; an image already labelled for a different, running
 * VM is refused.  A label left by a VM that no longer runs is reclaimed.
 */
int label__image_set(struct vm_label *vl, const char *path, enum image_kind kind, char *err,
		     size_t n);
/*
 * The same for an image the caller opened (the broker: without following
 * symlinks, path.c); labels that very file, never a name looked up again,
 * and keeps a duplicate of fd to restore it on release. name is for messages.
 */
int label__image_set_fd(struct vm_label *vl, int fd, const char *name, enum image_kind kind,
			char *err, size_t n);
/* Drop vl's reference; the last user puts the original label back. */
int label__image_restore(struct vm_label *vl, const char *path, char *err, size_t n);

#endif
