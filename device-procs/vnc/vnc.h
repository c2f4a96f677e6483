/* SPDX-License-Identifier: MIT */
/*
 * The VNC server (RFB 3.3/3.7/3.8, RFC 6143) run by the confined vnc process.
 *
 * It holds only what vnc_config gives it: the listening socket(s) opened by
 * the broker, a read-only mapping of the display memfd (vga/display.h), the
 * input channel to the input device, and credentials as in-memory buffers.
 * It accepts connections and never opens files or creates/connects sockets.
 */
#ifndef CELLVM_VNC_H
#define CELLVM_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed-size messages to the input device (one per event, host endianness). */
enum { VNC_INPUT_KEY = 1, VNC_INPUT_POINTER = 2 };
struct vnc_input_msg {
	uint32_t type;	  /* VNC_INPUT_KEY or VNC_INPUT_POINTER */
	uint32_t down;	  /* KEY: 1 pressed, 0 released */
	uint32_t keysym;  /* KEY: X11 keysym */
	uint32_t buttons; /* POINTER: bit 0 left, 1 middle, 2 right, 3/4 wheel up/down */
	uint16_t x, y;	  /* POINTER: clipped to the current mode */
	uint32_t keycode; /* KEY: XT scancode from QEMU extended key events, 0 if unknown */
};
_Static_assert(sizeof(struct vnc_input_msg) == 24, "fixed-size input message");

#define VNC_MAX_CLIENTS	 16
#define VNC_PASSWORD_MAX 8	      /* VNC authentication uses the first 8 bytes */
#define VNC_OUT_LOW	 (256u << 10) /* produce updates only below this backlog */
#define VNC_OUT_MAX	 (48u << 20)  /* hard per-client output bound */
#define VNC_CUT_TEXT_MAX (1u << 20)   /* larger ClientCutText drops the client */

/* Clients before ServerInit: in all, and from one address (docs/security.md). */
#define VNC_PREAUTH_MAX	     8
#define VNC_PREAUTH_PER_PEER 4

struct vnc_config {
	int listen_fd;	  /* RFB listening socket (non-blocking), or -1 */
	int ws_listen_fd; /* WebSocket (RFC 6455) listening socket, or -1 */
	bool loopback;	  /* the broker bound the listener(s) to a loopback address */
	bool allow_none;  /* offer security type None (refused unless loopback) */
	/* VNC Authentication: password bytes (not NUL-terminated), 0 = disabled */
	const uint8_t *password;
	size_t password_len;
	/* VeNCrypt X.509: PEM buffers; NULL = VeNCrypt disabled */
	const uint8_t *tls_cert_pem;
	size_t tls_cert_pem_len;
	const uint8_t *tls_key_pem;
	size_t tls_key_pem_len;
	bool tls_only;	    /* offer only VeNCrypt (no plain VNC auth / None): */
	bool tls_plain_too; /* ...the default with TLS, unless this says otherwise */
	/*
	 * WebSocket: the Origins (space-separated, e.g. "http://127.0.0.1:6080")
	 * whose pages may connect. An upgrade request with any other Origin
	 * header is refused (NULL: every Origin); one without (not a browser)
	 * is served.
	 */
	const char *ws_origins;
	/* read-only mapping of the display memfd (vga/display.h layout) */
	const uint8_t *display_map;
	size_t display_map_size;
	/* input events: callback if set, else written to input_fd if >= 0 */
	void (*input)(void *opaque, const struct vnc_input_msg *m);
	void *input_opaque;
	int input_fd; /* SOCK_SEQPACKET (sent MSG_DONTWAIT) or an O_NONBLOCK pipe; full: dropped */
	int stop_fd;  /* readable => vnc__main returns 0; -1 if unused */
	const char *name;	   /* desktop name sent in ServerInit */
	unsigned drain_timeout_ms; /* drop a client that accepts no output this long (0: 10000) */
	unsigned handshake_timeout_ms; /* drop clients not past ServerInit by then (0: 10000) */
	unsigned frame_interval_ms;    /* damage check period (0: 30) */
};

/* Serve until stop_fd becomes readable or a fatal error. Returns 0 or -errno. */
int vnc__main(const struct vnc_config *cfg);

/*
 * Map the display memfd read-only, after checking that it is sealed against
 * shrinking (a shrink under our mapping would SIGBUS). Returns the mapping
 * or NULL; *size receives its size.
 */
const uint8_t *vnc__map_display(int fd, size_t *size);

/* VNC Authentication response for a 16-byte challenge (exposed for tests). */
void vnc__auth_response(const uint8_t *password, size_t len, const uint8_t challenge[16],
			uint8_t response[16]);

#endif
