/* SPDX-License-Identifier: MIT */
/* Broker -> cellvm-vnc: its one fixed-size plan message and its fd table. */
#ifndef CELLVM_VNC_PLAN_H
#define CELLVM_VNC_PLAN_H

#include <stdint.h>

#define VNC_PLAN_MAGIC	 0x63766e70u /* "cvnp" */
#define VNC_PLAN_VERSION 2

enum {
	VNC_FD_CONTROL = 3, /* SEQPACKET: the plan in; hang-up = stop */
	VNC_FD_LISTEN = 4,  /* RFB listening socket (bound by the broker) */
	VNC_FD_WS = 5,	    /* WebSocket listening socket, if any */
	VNC_FD_DISPLAY = 6, /* the display memfd, opened read-only */
	VNC_FD_INPUT = 7,   /* SEQPACKET to the input device, if any */
	VNC_FD_CERT = 8,    /* sealed memfd: X.509 certificate (PEM), if any */
	VNC_FD_KEY = 9,	    /* sealed memfd: private key (PEM), if any */
};

#define VNC_PLAN_LOOPBACK   0x01
#define VNC_PLAN_ALLOW_NONE 0x02
#define VNC_PLAN_TLS_ONLY   0x04
#define VNC_PLAN_HAS_WS	    0x08
#define VNC_PLAN_HAS_INPUT  0x10
#define VNC_PLAN_HAS_TLS    0x20
#define VNC_PLAN_TLS_PLAIN  0x40 /* tls-only=off: plain types beside VeNCrypt */

struct vnc_plan {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t seccomp_log;
	uint32_t password_len; /* 0: no VNC authentication */
	uint8_t password[8];
	uint32_t cert_len, key_len;
	char name[64]; /* desktop name, NUL-terminated */
	/* WebSocket Origins allowed (origin=, space-separated; "": none), NUL-terminated */
	char origins[512];
};

#endif
