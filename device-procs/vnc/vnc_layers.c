/* SPDX-License-Identifier: MIT */
/*
 * The client byte-stream layers: socket bytes -> WebSocket deframing ->
 * TLS -> RFB input buffer, and RFB output -> TLS -> WebSocket framing ->
 * wire buffer. Every buffer on the way is bounded.
 */
#include <string.h>

#include "vnc_int.h"

/* Decoded RFB bytes into c->in, running the protocol as the buffer fills. */
static void rfb_feed(struct vnc_client *c, const uint8_t *p, size_t n)
{
	bool was_tls = c->tls;
	while (n > 0 && c->state != CS_DEAD) {
		size_t k = sizeof(c->in) - c->in_len;
		if (k > n)
			k = n;
		memcpy(c->in + c->in_len, p, k);
		c->in_len += k;
		p += k;
		n -= k;
		vproto__process(c);
		if (!was_tls && c->tls) {
			/* VeNCrypt just switched to TLS: what follows is TLS records */
			uint8_t rest[sizeof(c->in)];
			size_t r = c->in_len;
			memcpy(rest, c->in, r);
			c->in_len = 0;
			if (r)
				vtls__input(c, rest, r);
			if (n && c->state != CS_DEAD)
				vtls__input(c, p, n);
			return;
		}
		if (c->in_len == sizeof(c->in)) {
			vcli__kill(c, "client message too large");
			return;
		}
	}
}

/* Decoded bytes from below the TLS layer (or straight from the socket). */
static void below_tls(struct vnc_client *c, const uint8_t *p, size_t n)
{
	if (c->tls)
		vtls__input(c, p, n);
	else
		rfb_feed(c, p, n);
}

void vcli__rfb_feed(struct vnc_client *c, const uint8_t *p, size_t n)
{
	rfb_feed(c, p, n);
}

void vcli__input(struct vnc_client *c, const uint8_t *p, size_t n)
{
	if (!c->websocket) {
		below_tls(c, p, n);
		return;
	}
	while (n > 0 && c->state != CS_DEAD) {
		if (c->state == CS_WS_HANDSHAKE) {
			size_t k = sizeof(c->wire_in) - c->wire_in_len;
			if (k > n)
				k = n;
			memcpy(c->wire_in + c->wire_in_len, p, k);
			c->wire_in_len += k;
			p += k;
			n -= k;
			vws__handshake(c);
			if (c->state == CS_WS_HANDSHAKE && c->wire_in_len == sizeof(c->wire_in))
				vcli__kill(c, "WebSocket request too large");
			if (c->state != CS_WS_HANDSHAKE && c->wire_in_len) {
				/* frames that followed the request in the same read */
				uint8_t tmp[sizeof(c->wire_in)];
				size_t left = c->wire_in_len;
				memcpy(tmp, c->wire_in, left);
				c->wire_in_len = 0;
				vcli__input(c, tmp, left);
			}
			continue;
		}
		uint8_t dec[4096];
		size_t used = 0;
		size_t got = vws__deframe(c, p, n, dec, sizeof(dec), &used);
		p += used;
		n -= used;
		if (got)
			below_tls(c, dec, got);
		if (!got && !used)
			break;
	}
}

/* RFB output into the wire buffer (WebSocket frames), TLS is applied by vtls__send. */
bool vcli__wire_put(struct vnc_client *c, const uint8_t *p, size_t n)
{
	if (c->websocket)
		return vws__frame(&c->wire, p, n);
	return vbuf__put(&c->wire, p, n);
}

void vcli__flush_layers(struct vnc_client *c)
{
	if (!c->tls && !c->websocket)
		return; /* plain: written straight from c->out */
	while (vbuf__pending(&c->out) && vbuf__pending(&c->wire) < VNC_OUT_LOW) {
		size_t n = vbuf__pending(&c->out);
		if (n > 65536)
			n = 65536;
		const uint8_t *p = c->out.data + c->out.off;
		bool ok = c->tls ? vtls__send(c, p, n) : vcli__wire_put(c, p, n);
		if (!ok) {
			vcli__kill(c, "output layer failed");
			return;
		}
		vbuf__consume(&c->out, n);
	}
}
