/* SPDX-License-Identifier: MIT */
/*
 * The display: the vga device process (Bochs VBE / bochs-display), the
 * display memfd it shares with the vcpu-worker (video memory as a KVM memory
 * slot) and the vnc process (read-only), and the vnc process itself, which
 * the broker starts with its listening socket and credentials.
 */
#ifndef CELLVM_DISPLAY_BROKER_H
#define CELLVM_DISPLAY_BROKER_H

#include <stdbool.h>
#include <sys/types.h>

#include "devices.h"
#include "options.h"
#include "selinux/label.h"

#define DISPLAY_VRAM (16u << 20)

struct vncproc {
	int listen_fd, ws_fd; /* bound by the broker */
	int display_ro;	      /* the display memfd, read-only */
	int input_fd;	      /* SEQPACKET to the input device, or -1 */
	int cert_fd, key_fd;  /* sealed memfds, or -1 */
	uint32_t cert_len, key_len;
	uint8_t password[8];
	uint32_t password_len;
	uint32_t flags; /* VNC_PLAN_* */
	char origins[512];
	pid_t pid;
	int pidfd, ctl;
	unsigned restarts;
};

/* Parse "HOST:PORT[,password-file=F][,tls-cert=F,tls-key=F][,tls-only[=off]]
 * [,websocket=PORT][,origin=URL]...[,auth=none]". */
int display__parse_vnc(const char *s, struct vnc_opt *v);
/* Create the display memfd and describe the vga device; *display_fd is kept by the caller. */
int display__prepare_vga(struct devproc *d, int *display_fd, const struct vm_label *vl);
/* Open the listener(s) and read the credentials. */
int display__prepare_vnc(const struct vnc_opt *v, int display_fd, struct vncproc *vp,
			 const struct vm_label *vl);
/* The i8042 keyboard/mouse device fed by the vnc process. */
int display__prepare_input(struct devproc *d, struct vncproc *vp);
/* (Re)start the vnc process. */
int display__spawn_vnc(struct vncproc *vp, const struct vm_ids *ids, unsigned slot);
void display__stop_vnc(struct vncproc *vp);

#endif
