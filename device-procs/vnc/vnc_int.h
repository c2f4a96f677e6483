/* SPDX-License-Identifier: MIT */
/* VNC server internals shared by the vnc_*.c files (not a public API). */
#ifndef CELLVM_VNC_INT_H
#define CELLVM_VNC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

#include "display.h"
#include "vnc.h"

/* ---- bounded byte buffer (vnc_buf.c) ---- */
struct vnc_buf {
	uint8_t *data;
	size_t off, len, cap, max; /* unsent bytes are data[off, len) */
};
/* Space for n more bytes at data + len, or NULL if that would pass max. */
uint8_t *vbuf__reserve(struct vnc_buf *b, size_t n);
bool vbuf__put(struct vnc_buf *b, const void *p, size_t n);
bool vbuf__u8(struct vnc_buf *b, uint8_t v);
bool vbuf__u16(struct vnc_buf *b, uint16_t v); /* big endian */
bool vbuf__u32(struct vnc_buf *b, uint32_t v);
size_t vbuf__pending(const struct vnc_buf *b);
void vbuf__consume(struct vnc_buf *b, size_t n);
void vbuf__free(struct vnc_buf *b);

/* ---- pixel formats (vnc_pixel.c) ---- */
struct vnc_pixfmt {
	uint8_t bpp, depth, big_endian, true_colour;
	uint16_t rmax, gmax, bmax;
	uint8_t rshift, gshift, bshift;
};
/* Parse + validate the 16-byte PIXEL_FORMAT; false if unsupported/invalid. */
bool vpix__parse(struct vnc_pixfmt *pf, const uint8_t in[16]);
void vpix__write(const struct vnc_pixfmt *pf, uint8_t out[16]);
void vpix__default(struct vnc_pixfmt *pf);
/* Convert n native pixels (bpp 16 or 32) to the client format; returns bytes. */
size_t vpix__convert(const struct vnc_pixfmt *pf, uint32_t src_bpp, const uint8_t *src, uint32_t n,
		     uint8_t *dst);
/* ZRLE CPIXEL size and the byte offset of the CPIXEL inside a full pixel. */
unsigned vpix__cpixel(const struct vnc_pixfmt *pf, unsigned *skip);

/* ---- pixels of the display view, shared by the encoders ---- */
static inline const uint8_t *vpix__row(const struct display_view *v, uint32_t x, uint32_t y)
{
	return v->pixels + (size_t)y * v->stride + (size_t)x * (v->bpp / 8);
}

/* A pixel as a native value: 24-bit RGB (32 bpp) or RGB565 (16 bpp). */
static inline uint32_t vpix__native(const struct display_view *v, const uint8_t *p)
{
	if (v->bpp == 32) {
		uint32_t q;
		memcpy(&q, p, 4);
		return q & 0xffffff;
	}
	uint16_t q;
	memcpy(&q, p, 2);
	return q;
}

/*
 * Up to 16 distinct pixels of the w x h rectangle at (x, y): their values in
 * pal and a source pixel of each in palsrc. Returns the count, or 17 when
 * there are more (the scan stops there). Used by Hextile/ZRLE and Tight.
 */
unsigned vpal__scan(const struct display_view *v, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint32_t pal[16], const uint8_t *palsrc[16]);

/* ---- damage (vnc_damage.c) ---- */
#define VNC_TILE 64 /* ZRLE's tile size (RFC 6143 7.7.6): encoding only */
/* Damage tracking granularity: a one-character change ships a 32x32 tile. */
#define VNC_DTILE    32
#define VNC_TILES_X  (DISPLAY_MAX_WIDTH / VNC_DTILE)
#define VNC_TILES_Y  (DISPLAY_MAX_HEIGHT / VNC_DTILE)
#define VNC_MAX_TILE (VNC_TILES_X * VNC_TILES_Y)
uint64_t vdmg__hash_tile(const struct display_view *v, unsigned tx, unsigned ty);
void vdmg__hash_all(const struct display_view *v, uint64_t *hashes);

/* ---- encodings ---- */
enum {
	ENC_RAW = 0,
	ENC_COPYRECT = 1,
	ENC_HEXTILE = 5,
	ENC_TIGHT = 7,
	ENC_ZRLE = 16,
	ENC_DESKTOPSIZE = -223,
	ENC_EXT_DESKTOPSIZE = -308,
	ENC_LAST_RECT = -224,
	ENC_QEMU_EXT_KEY = -258,
};

enum vnc_cstate {
	CS_WS_HANDSHAKE, /* WebSocket upgrade request expected */
	CS_VERSION,	 /* waiting for "RFB 003.00x\n" */
	CS_SECTYPE,	 /* waiting for the security type byte (3.7/3.8) */
	CS_VNCAUTH,	 /* waiting for the 16-byte response */
	CS_VENCRYPT_VER,
	CS_VENCRYPT_SUB,
	CS_TLS_HANDSHAKE,
	CS_CLIENTINIT,
	CS_NORMAL,
	CS_SKIP,      /* skipping skip_left bytes of a message */
	CS_ENCODINGS, /* reading enc_left encodings */
	CS_DEAD,
};

struct vnc_server;

struct vnc_client {
	struct vnc_server *srv;
	int fd;
	uint8_t peer[8]; /* throttling key: IPv4 address, or IPv6 /64 prefix */
	uint8_t peer_len;
	enum vnc_cstate state;
	int minor;   /* RFB 3.minor */
	bool inited; /* past ServerInit: the handshake timeout no longer applies */
	bool websocket;
	bool tls;
	void *tls_session;		/* gnutls_session_t */
	struct vnc_buf tls_in;		/* ciphertext not yet consumed by gnutls */
	int vencrypt_sub;		/* chosen VeNCrypt subtype */
	uint64_t start_ms, progress_ms; /* progress: last byte the socket accepted */
	const char *why;		/* reason for CS_DEAD */

	/* decoded RFB bytes from the client (after WS deframing / TLS) */
	uint8_t in[4096];
	size_t in_len;
	/* raw bytes from the socket waiting for WS deframing or TLS */
	uint8_t wire_in[8192];
	size_t wire_in_len;
	/* WebSocket deframer state */
	uint64_t ws_left; /* payload bytes left in the current frame */
	uint8_t ws_mask[4];
	unsigned ws_mpos;
	uint8_t ws_op; /* opcode of the current frame */
	/* RFB output, and what goes on the wire (TLS records, WS frames) */
	struct vnc_buf out, wire;

	uint8_t challenge[16];
	uint32_t skip_left, enc_left;
	struct vnc_pixfmt pf;
	int enc; /* preferred encoding */
	bool want_desktopsize, want_ext_desktopsize, ext_sent;
	bool want_ext_key, ext_key_sent; /* QEMU extended key events */
	bool resize_pending;
	uint32_t w, h; /* size the client was last told */
	/* pending update request (bbox of requests) */
	bool req, req_full, enc_chosen;
	uint16_t rx, ry, rw, rh;
	uint64_t sent[VNC_MAX_TILE]; /* hash of each tile as last sent */
	uint8_t force[VNC_MAX_TILE];
	bool zinit;
	z_stream zs;
	z_stream tz[2]; /* Tight streams 0 (copy) and 1 (palette) */
	unsigned tz_init;
	uint8_t last_buttons;
};

#define VNC_BAN_SLOTS 64
struct vnc_peer_ban {
	uint8_t addr[8]; /* IPv4 address or IPv6 /64 prefix (vnc_client.peer) */
	uint8_t len;	 /* 0: free slot */
	unsigned fails;
	uint64_t until_ms, last_ms;
};

struct vnc_server {
	struct vnc_peer_ban bans[VNC_BAN_SLOTS];
	/* failures from every address in the current minute (vnc_throttle.c) */
	unsigned window_fails;
	uint64_t window_start_ms, global_until_ms;
	const struct vnc_config *cfg;
	bool none_ok, vncauth_ok, vencrypt_ok;
	uint32_t vencrypt_sub; /* VENC_X509VNC with a password, else VENC_X509NONE */
	uint64_t last_tick_ms;
	void *tls_cred; /* gnutls_certificate_credentials_t */
	struct display_view view;
	bool view_valid;
	uint32_t gen;
	uint64_t hashes[VNC_MAX_TILE];
	uint8_t blank[DISPLAY_MAX_WIDTH * 4];
	struct vnc_client *clients[VNC_MAX_CLIENTS];
	uint64_t now_ms;
	uint8_t scratch[VNC_TILE * VNC_TILE * 4 + 64]; /* also one 2048-pixel row */
	struct vnc_buf tbuf; /* Tight: compressed data before its length is known */
};

#define VENC_X509NONE 260
#define VENC_X509VNC  261

/* vnc_server.c */
void vsrv__input(struct vnc_server *s, const struct vnc_input_msg *m);
/* Frame tick: refresh the view, hash if needed, send updates. */
/* One damage check; true if the screen changed since the last one. */
bool vsrv__tick(struct vnc_server *s);
int vsrv__init(struct vnc_server *s, const struct vnc_config *cfg);
void vsrv__fini(struct vnc_server *s);
void vsrv__refresh_view(struct vnc_server *s);
struct vnc_client *vcli__new(struct vnc_server *s, int fd, bool websocket);
void vcli__free(struct vnc_client *c);
void vcli__kill(struct vnc_client *c, const char *why);
/* Feed socket bytes (through WS/TLS layers) and run the protocol. */
void vcli__input(struct vnc_client *c, const uint8_t *p, size_t n);
/* Move RFB output through TLS/WS framing into c->wire. */
void vcli__flush_layers(struct vnc_client *c);
void vcli__rfb_feed(struct vnc_client *c, const uint8_t *p, size_t n);
bool vcli__wire_put(struct vnc_client *c, const uint8_t *p, size_t n);

/* vnc_throttle.c */
/* The throttling key of a peer address: IPv4 (also v4-mapped), or an IPv6 /64. */
void vthr__key(const struct sockaddr_storage *sa, uint8_t key[8], uint8_t *len);
/* ms until c's address (or everyone, after a burst of failures) may try a password. */
uint64_t vthr__ban_left(struct vnc_server *s, const struct vnc_client *c);
/* Whether another client from c's address is waiting to answer a challenge. */
bool vthr__challenge_busy(struct vnc_server *s, const struct vnc_client *c);
void vthr__auth_result(struct vnc_server *s, const struct vnc_client *c, bool ok);

/* vnc_handshake.c: one handshake step each, given enough bytes in c->in */
void vproto__version(struct vnc_client *c);
void vproto__sectype(struct vnc_client *c);
void vproto__vncauth(struct vnc_client *c);
void vproto__vencrypt_ver(struct vnc_client *c);
void vproto__vencrypt_sub(struct vnc_client *c);
void vproto__clientinit(struct vnc_client *c);

static inline void vproto__consume(struct vnc_client *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* vnc_proto.c */
void vproto__start(struct vnc_client *c);
void vproto__tls_ready(struct vnc_client *c);
void vproto__process(struct vnc_client *c);
bool vproto__update(struct vnc_client *c);

/* vnc_enc.c: append one rectangle to c->out in the client's encoding */
bool venc__rect(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
/* vnc_tight.c: the body of one Tight rectangle (w <= VNC_RECT_MAX_W) */
bool venc__tight(struct vnc_client *c, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
#define VNC_RECT_MAX_W 2048

/* vnc_ws.c */
void vws__handshake(struct vnc_client *c);
size_t vws__deframe(struct vnc_client *c, const uint8_t *p, size_t n, uint8_t *out, size_t outcap,
		    size_t *used);
bool vws__frame(struct vnc_buf *wire, const uint8_t *p, size_t n);

/* vnc_tls.c */
int vtls__init(struct vnc_server *s);
void vtls__fini(struct vnc_server *s);
bool vtls__start(struct vnc_client *c);
void vtls__end(struct vnc_client *c);
/* Push wire bytes into TLS, pull decrypted bytes into c->in. */
void vtls__input(struct vnc_client *c, const uint8_t *p, size_t n);
bool vtls__send(struct vnc_client *c, const uint8_t *p, size_t n);

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
