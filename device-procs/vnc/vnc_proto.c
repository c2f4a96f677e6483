/* SPDX-License-Identifier: MIT */
/*
 * RFB protocol state machine (RFC 6143), fed with decoded client bytes in
 * c->in. Every message is parsed from a bounded buffer; variable-length
 * messages (SetEncodings, ClientCutText) are consumed incrementally so that
 * no allocation or wait ever depends on a client-supplied count.
 */
#include <string.h>

#include "log.h"
#include "vnc_int.h"

#define SEC_NONE     1
#define SEC_VNCAUTH  2
#define SEC_VENCRYPT 19

static void consume(struct vnc_client *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static void fail_reason(struct vnc_client *c, const char *why)
{
	vbuf__u32(&c->out, (uint32_t)strlen(why));
	vbuf__put(&c->out, why, strlen(why));
}

static void send_challenge(struct vnc_client *c)
{
	vbuf__put(&c->out, c->challenge, 16);
	c->state = CS_VNCAUTH;
}

static void sec_ok(struct vnc_client *c, bool send_result)
{
	if (send_result)
		vbuf__u32(&c->out, 0);
	c->state = CS_CLIENTINIT;
}

void vproto__start(struct vnc_client *c)
{
	vbuf__put(&c->out, "RFB 003.008\n", 12);
	c->state = CS_VERSION;
}

static int parse_version(const uint8_t *p)
{
	if (memcmp(p, "RFB ", 4) || p[7] != '.' || p[11] != '\n')
		return -1;
	int major = 0, minor = 0;
	for (int i = 0; i < 3; i++) {
		if (p[4 + i] < '0' || p[4 + i] > '9' || p[8 + i] < '0' || p[8 + i] > '9')
			return -1;
		major = major * 10 + (p[4 + i] - '0');
		minor = minor * 10 + (p[8 + i] - '0');
	}
	if (major != 3 || minor < 3)
		return -1;
	if (minor == 7)
		return 7;
	if (minor >= 8)
		return 8;
	return 3; /* 3.3 and unknown 3.4..3.6 (RFC 6143 7.1.1) */
}

static void do_version(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	c->minor = parse_version(c->in);
	consume(c, 12);
	if (c->minor < 0) {
		vcli__kill(c, "bad protocol version");
		return;
	}
	if (c->minor == 3) {
		/* the server decides; VeNCrypt does not exist in 3.3 */
		if (s->vncauth_ok) {
			vbuf__u32(&c->out, SEC_VNCAUTH);
			send_challenge(c);
		} else if (s->none_ok) {
			vbuf__u32(&c->out, SEC_NONE);
			sec_ok(c, false);
		} else {
			vbuf__u32(&c->out, 0);
			fail_reason(c, "no security type available to RFB 3.3 clients");
			vcli__kill(c, "3.3 client, no usable security type");
		}
		return;
	}
	uint8_t types[3];
	unsigned n = 0;
	if (s->vencrypt_ok)
		types[n++] = SEC_VENCRYPT;
	if (s->vncauth_ok)
		types[n++] = SEC_VNCAUTH;
	if (s->none_ok)
		types[n++] = SEC_NONE;
	vbuf__u8(&c->out, n);
	if (n == 0) {
		fail_reason(c, "no security type configured");
		vcli__kill(c, "no security type");
		return;
	}
	vbuf__put(&c->out, types, n);
	c->state = CS_SECTYPE;
}

static void do_sectype(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	uint8_t t = c->in[0];
	consume(c, 1);
	if (t == SEC_NONE && s->none_ok) {
		sec_ok(c, c->minor >= 8);
	} else if (t == SEC_VNCAUTH && s->vncauth_ok) {
		send_challenge(c);
	} else if (t == SEC_VENCRYPT && s->vencrypt_ok) {
		vbuf__u8(&c->out, 0);
		vbuf__u8(&c->out, 2);
		c->state = CS_VENCRYPT_VER;
	} else {
		if (c->minor >= 8) {
			vbuf__u32(&c->out, 1);
			fail_reason(c, "security type not offered");
		}
		vcli__kill(c, "security type not offered");
	}
}

static void do_vncauth(struct vnc_client *c)
{
	const struct vnc_config *cfg = c->srv->cfg;
	uint8_t want[16];
	vnc__auth_response(cfg->password, cfg->password_len, c->challenge, want);
	uint8_t diff = 0;
	for (int i = 0; i < 16; i++)
		diff |= want[i] ^ c->in[i];
	consume(c, 16);
	memset(c->challenge, 0, sizeof(c->challenge)); /* one response per challenge */
	vthr__auth_result(c->srv, c, diff == 0);
	if (diff) {
		vbuf__u32(&c->out, 1);
		if (c->minor >= 8)
			fail_reason(c, "authentication failed");
		vcli__kill(c, "authentication failed");
		return;
	}
	sec_ok(c, true);
}

static void do_vencrypt_ver(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	bool ok = c->in[0] == 0 && c->in[1] == 2;
	consume(c, 2);
	if (!ok) {
		vbuf__u8(&c->out, 1);
		vcli__kill(c, "unsupported VeNCrypt version");
		return;
	}
	vbuf__u8(&c->out, 0);
	vbuf__u8(&c->out, 1); /* one subtype */
	vbuf__u32(&c->out, s->vencrypt_sub);
	c->state = CS_VENCRYPT_SUB;
}

static void do_vencrypt_sub(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	uint32_t sub = rd32(c->in);
	consume(c, 4);
	if (sub != s->vencrypt_sub) {
		vbuf__u8(&c->out, 0);
		vcli__kill(c, "VeNCrypt subtype not offered");
		return;
	}
	vbuf__u8(&c->out, 1);
	c->vencrypt_sub = (int)sub;
	/* everything so far, incl. the accept byte, goes out in clear; the rest is TLS */
	if (!vcli__wire_put(c, c->out.data + c->out.off, vbuf__pending(&c->out))) {
		vcli__kill(c, "output bound");
		return;
	}
	vbuf__consume(&c->out, vbuf__pending(&c->out));
	if (!vtls__start(c)) {
		vcli__kill(c, "TLS start failed");
		return;
	}
	c->state = CS_TLS_HANDSHAKE;
}

/* Called by the TLS layer once the handshake has completed. */
void vproto__tls_ready(struct vnc_client *c)
{
	if (c->vencrypt_sub == VENC_X509VNC)
		send_challenge(c);
	else
		sec_ok(c, c->minor >= 8);
}

static void do_clientinit(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	consume(c, 1); /* shared flag: we always share */
	vsrv__refresh_view(s);
	c->w = s->view.width;
	c->h = s->view.height;
	c->resize_pending = false;
	vbuf__u16(&c->out, c->w);
	vbuf__u16(&c->out, c->h);
	uint8_t pf[16];
	vpix__write(&c->pf, pf);
	vbuf__put(&c->out, pf, 16);
	const char *name = s->cfg->name ? s->cfg->name : "cellvm";
	size_t nl = strnlen(name, 256);
	vbuf__u32(&c->out, (uint32_t)nl);
	vbuf__put(&c->out, name, nl);
	c->state = CS_NORMAL;
	c->inited = true;
}

static void do_encoding(struct vnc_client *c, int32_t e, bool *chosen)
{
	switch (e) {
	case ENC_RAW:
	case ENC_HEXTILE:
	case ENC_TIGHT:
	case ENC_ZRLE:
		if (!*chosen) {
			c->enc = e;
			*chosen = true;
		}
		break;
	case ENC_DESKTOPSIZE:
		c->want_desktopsize = true;
		break;
	case ENC_EXT_DESKTOPSIZE:
		c->want_ext_desktopsize = true;
		break;
	}
}

static void input_event(struct vnc_client *c, const struct vnc_input_msg *m)
{
	vsrv__input(c->srv, m);
}

static void do_request(struct vnc_client *c, const uint8_t *p)
{
	bool incremental = p[1] != 0;
	uint32_t x = rd16(p + 2), y = rd16(p + 4), w = rd16(p + 6), h = rd16(p + 8);
	/* clip to what the client knows; the encoder clips again to the mode */
	if (x > c->w)
		x = c->w;
	if (y > c->h)
		y = c->h;
	if (w > c->w - x)
		w = c->w - x;
	if (h > c->h - y)
		h = c->h - y;
	if (!incremental) {
		unsigned tx0 = x / VNC_TILE, ty0 = y / VNC_TILE;
		unsigned tx1 = (x + w + VNC_TILE - 1) / VNC_TILE;
		unsigned ty1 = (y + h + VNC_TILE - 1) / VNC_TILE;
		for (unsigned ty = ty0; ty < ty1 && ty < VNC_TILES_Y; ty++)
			for (unsigned tx = tx0; tx < tx1 && tx < VNC_TILES_X; tx++)
				c->force[ty * VNC_TILES_X + tx] = 1;
		c->req_full = true;
	}
	if (!c->req) {
		c->rx = x;
		c->ry = y;
		c->rw = w;
		c->rh = h;
		c->req = true;
		return;
	}
	uint32_t x1 = c->rx + c->rw > x + w ? c->rx + c->rw : x + w;
	uint32_t y1 = c->ry + c->rh > y + h ? c->ry + c->rh : y + h;
	c->rx = c->rx < x ? c->rx : x;
	c->ry = c->ry < y ? c->ry : y;
	c->rw = x1 - c->rx;
	c->rh = y1 - c->ry;
}

static void do_set_desktop_size(struct vnc_client *c)
{
	/* the guest owns the mode: answer "prohibited" (RFB ExtendedDesktopSize) */
	vbuf__u8(&c->out, 0);
	vbuf__u8(&c->out, 0);
	vbuf__u16(&c->out, 1);
	vbuf__u16(&c->out, 1); /* reason: client request */
	vbuf__u16(&c->out, 1); /* status: prohibited */
	vbuf__u16(&c->out, c->w);
	vbuf__u16(&c->out, c->h);
	vbuf__u32(&c->out, (uint32_t)ENC_EXT_DESKTOPSIZE);
	vbuf__u8(&c->out, 1);
	vbuf__put(&c->out, "\0\0\0", 3);
	vbuf__u32(&c->out, 0);
	vbuf__u16(&c->out, 0);
	vbuf__u16(&c->out, 0);
	vbuf__u16(&c->out, c->w);
	vbuf__u16(&c->out, c->h);
	vbuf__u32(&c->out, 0);
}

/* One client-to-server message; returns false if more bytes are needed. */
static bool do_message(struct vnc_client *c)
{
	const uint8_t *p = c->in;
	size_t n = c->in_len;
	switch (p[0]) {
	case 0: /* SetPixelFormat */
		if (n < 20)
			return false;
		if (!vpix__parse(&c->pf, p + 4)) {
			vcli__kill(c, "invalid SetPixelFormat");
			return true;
		}
		consume(c, 20);
		/* everything must be re-sent in the new format */
		memset(c->force, 1, sizeof(c->force));
		return true;
	case 2: /* SetEncodings */
		if (n < 4)
			return false;
		c->enc_left = rd16(p + 2);
		c->enc = ENC_RAW;
		c->enc_chosen = false;
		c->want_desktopsize = c->want_ext_desktopsize = false;
		consume(c, 4);
		c->state = CS_ENCODINGS;
		return true;
	case 3: /* FramebufferUpdateRequest */
		if (n < 10)
			return false;
		do_request(c, p);
		consume(c, 10);
		return true;
	case 4: { /* KeyEvent */
		if (n < 8)
			return false;
		struct vnc_input_msg m = {
		    .type = VNC_INPUT_KEY, .down = p[1] != 0, .keysym = rd32(p + 4)};
		consume(c, 8);
		input_event(c, &m);
		return true;
	}
	case 5: { /* PointerEvent */
		if (n < 6)
			return false;
		uint32_t x = rd16(p + 2), y = rd16(p + 4);
		struct vnc_input_msg m = {.type = VNC_INPUT_POINTER, .buttons = p[1]};
		m.x = c->w ? (x < c->w ? x : c->w - 1) : 0;
		m.y = c->h ? (y < c->h ? y : c->h - 1) : 0;
		consume(c, 6);
		input_event(c, &m);
		return true;
	}
	case 6: { /* ClientCutText: skipped, bounded */
		if (n < 8)
			return false;
		uint32_t len = rd32(p + 4);
		if (len > VNC_CUT_TEXT_MAX) {
			vcli__kill(c, "oversized ClientCutText");
			return true;
		}
		consume(c, 8);
		c->skip_left = len;
		c->state = CS_SKIP;
		return true;
	}
	case 251: { /* SetDesktopSize */
		if (n < 8)
			return false;
		size_t len = 8 + (size_t)p[6] * 16;
		if (n < len)
			return false;
		if (!c->want_ext_desktopsize) {
			vcli__kill(c, "SetDesktopSize without ExtendedDesktopSize");
			return true;
		}
		consume(c, len);
		do_set_desktop_size(c);
		return true;
	}
	default:
		vcli__kill(c, "unknown client message");
		return true;
	}
}

void vproto__process(struct vnc_client *c)
{
	for (;;) {
		if (c->state == CS_DEAD || c->state == CS_TLS_HANDSHAKE ||
		    c->state == CS_WS_HANDSHAKE)
			return;
		size_t n = c->in_len;
		if (c->state == CS_SKIP) {
			size_t k = n < c->skip_left ? n : c->skip_left;
			consume(c, k);
			c->skip_left -= (uint32_t)k;
			if (c->skip_left)
				return;
			c->state = CS_NORMAL;
			continue;
		}
		if (c->state == CS_ENCODINGS) {
			while (c->enc_left && c->in_len >= 4) {
				do_encoding(c, (int32_t)rd32(c->in), &c->enc_chosen);
				consume(c, 4);
				c->enc_left--;
			}
			if (c->enc_left)
				return;
			log__debug("vnc: client uses encoding %d%s%s", c->enc,
				   c->want_desktopsize ? ", DesktopSize" : "",
				   c->want_ext_desktopsize ? ", ExtendedDesktopSize" : "");
			c->state = CS_NORMAL;
			continue;
		}
		if (n == 0)
			return;
		switch (c->state) {
		case CS_VERSION:
			if (n < 12)
				return;
			do_version(c);
			break;
		case CS_SECTYPE:
			do_sectype(c);
			break;
		case CS_VNCAUTH:
			if (n < 16)
				return;
			do_vncauth(c);
			break;
		case CS_VENCRYPT_VER:
			if (n < 2)
				return;
			do_vencrypt_ver(c);
			break;
		case CS_VENCRYPT_SUB:
			if (n < 4)
				return;
			do_vencrypt_sub(c);
			break;
		case CS_CLIENTINIT:
			do_clientinit(c);
			break;
		case CS_NORMAL:
			if (!do_message(c))
				return;
			break;
		default:
			return;
		}
	}
}
