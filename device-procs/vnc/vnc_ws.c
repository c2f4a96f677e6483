/* SPDX-License-Identifier: MIT */
/*
 * WebSocket server side (RFC 6455) so that noVNC can connect directly:
 * the HTTP upgrade request is parsed from a bounded buffer, client frames must
 * be masked, only binary data frames are accepted, frame payloads are bounded
 * and streamed (never buffered whole). Ping/pong payloads are discarded.
 */
#include <stdio.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <string.h>
#include <strings.h>

#include "vnc_int.h"

#define WS_FRAME_MAX (1u << 20)

/* Value of header `name` in the request (NUL-terminated), or NULL. */
static const char *header(const char *req, const char *name, char *val, size_t valsz)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, nl) || h[nl] != ':')
			continue;
		const char *v = h + nl + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		const char *e = strstr(v, "\r\n");
		size_t n = (size_t)(e - v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n >= valsz)
			return NULL;
		memcpy(val, v, n);
		val[n] = 0;
		return val;
	}
	return NULL;
}

static bool has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n == tl && !strncasecmp(p, tok, tl))
			return true;
		p += n;
	}
	return false;
}

/* No Origin header (not a browser), or one the allow-list names exactly. */
static bool origin_ok(const char *allowed, const char *req)
{
	char origin[512];
	if (!allowed)
		return true;
	if (!header(req, "Origin", origin, sizeof(origin)))
		return !strcasestr(req, "\r\nOrigin:"); /* absent, or too long: refused */
	size_t n = strlen(origin);
	for (const char *p = allowed; *p;) {
		p += strspn(p, " ");
		size_t len = strcspn(p, " ");
		if (len && len == n && !strncasecmp(p, origin, n))
			return true;
		p += len;
	}
	return false;
}

void vws__handshake(struct vnc_client *c)
{
	char req[sizeof(c->wire_in) + 1];
	memcpy(req, c->wire_in, c->wire_in_len);
	req[c->wire_in_len] = 0;
	if (strlen(req) != c->wire_in_len) {
		vcli__kill(c, "NUL in WebSocket request");
		return;
	}
	char *end = strstr(req, "\r\n\r\n");
	if (!end)
		return; /* need more */
	size_t reqlen = (size_t)(end - req) + 4;
	end[2] = 0; /* keep the last header's CRLF */
	char key[64], upg[64], conn[256], proto[256];
	if (strncmp(req, "GET ", 4) || !header(req, "Upgrade", upg, sizeof(upg)) ||
	    strcasecmp(upg, "websocket") || !header(req, "Connection", conn, sizeof(conn)) ||
	    !has_token(conn, "upgrade") || !header(req, "Sec-WebSocket-Key", key, sizeof(key)) ||
	    strlen(key) != 24) {
		vbuf__put(&c->wire, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
		vcli__kill(c, "bad WebSocket upgrade request");
		return;
	}
	/* A page of any other site must not drive the console (docs/security.md). */
	if (!origin_ok(c->srv->cfg->ws_origins, req)) {
		vbuf__put(&c->wire, "HTTP/1.1 403 Forbidden\r\n\r\n", 26);
		vcli__kill(c, "WebSocket Origin not allowed");
		return;
	}
	bool binary = header(req, "Sec-WebSocket-Protocol", proto, sizeof(proto)) &&
		      has_token(proto, "binary");
	struct sha1_ctx sh;
	uint8_t dig[SHA1_DIGEST_SIZE];
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	sha1_init(&sh);
	sha1_update(&sh, 24, (const uint8_t *)key);
	sha1_update(&sh, sizeof(guid) - 1, (const uint8_t *)guid);
	sha1_digest(&sh, sizeof(dig), dig);
	char acc[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
	base64_encode_raw(acc, sizeof(dig), dig);
	acc[sizeof(acc) - 1] = 0;
	char resp[256];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
			 acc, binary ? "Sec-WebSocket-Protocol: binary\r\n" : "");
	vbuf__put(&c->wire, resp, (size_t)n);
	memmove(c->wire_in, c->wire_in + reqlen, c->wire_in_len - reqlen);
	c->wire_in_len -= reqlen;
	c->ws_left = 0;
	vproto__start(c);
}

size_t vws__deframe(struct vnc_client *c, const uint8_t *p, size_t n, uint8_t *out, size_t outcap,
		    size_t *used)
{
	size_t got = 0, i = 0;
	while (i < n && got < outcap && c->state != CS_DEAD) {
		if (c->ws_left == 0) {
			/* frame header, possibly split over reads */
			c->wire_in[c->wire_in_len++] = p[i++];
			const uint8_t *h = c->wire_in;
			if (c->wire_in_len < 2)
				continue;
			unsigned l7 = h[1] & 0x7f;
			size_t need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
			if (c->wire_in_len < need)
				continue;
			c->wire_in_len = 0;
			uint8_t op = h[0] & 0x0f;
			if ((h[0] & 0x70) || !(h[1] & 0x80)) {
				vcli__kill(c, "WebSocket: reserved bits or unmasked frame");
				break;
			}
			uint64_t len = l7;
			if (l7 == 126)
				len = (uint64_t)h[2] << 8 | h[3];
			else if (l7 == 127)
				len = (uint64_t)rd32(h + 2) << 32 | rd32(h + 6);
			memcpy(c->ws_mask, h + need - 4, 4);
			c->ws_mpos = 0;
			if (op >= 8 && (len > 125 || !(h[0] & 0x80))) {
				vcli__kill(c, "WebSocket: bad control frame");
				break;
			}
			if (op == 8) {
				vcli__kill(c, "WebSocket close");
				break;
			}
			if (op == 1 || (op > 2 && op < 8) || op > 10) {
				vcli__kill(c, "WebSocket: unsupported opcode");
				break;
			}
			if (len > WS_FRAME_MAX) {
				vcli__kill(c, "WebSocket: frame too large");
				break;
			}
			if (op != 0)
				c->ws_op = op;
			c->ws_left = len;
			continue;
		}
		size_t k = n - i;
		if (k > c->ws_left)
			k = (size_t)c->ws_left;
		bool data = c->ws_op == 2;
		if (data && k > outcap - got)
			k = outcap - got;
		for (size_t j = 0; j < k; j++) {
			uint8_t b = p[i + j] ^ c->ws_mask[c->ws_mpos++ & 3];
			if (data)
				out[got++] = b;
		}
		i += k;
		c->ws_left -= k;
	}
	*used = i;
	return got;
}

bool vws__frame(struct vnc_buf *wire, const uint8_t *p, size_t n)
{
	uint8_t h[10];
	size_t hl;
	h[0] = 0x82; /* FIN, binary */
	if (n < 126) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	return vbuf__put(wire, h, hl) && vbuf__put(wire, p, n);
}
