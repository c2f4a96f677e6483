/* SPDX-License-Identifier: MIT */
/*
 * RFB protocol state machine (RFC 6143) after the handshake (vnc_handshake.c),
 * fed with decoded client bytes in c->in. Every message is parsed from a bounded buffer;
 * variable-length messages (SetEncodings, ClientCutText) are consumed incrementally so that no
 * allocation or wait ever depends on a client-supplied count.
 */
#include <string.h>

#include "log.h"
#include "vnc_int.h"

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
	case ENC_QEMU_EXT_KEY:
		c->want_ext_key = true;
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
		unsigned tx0 = x / VNC_DTILE, ty0 = y / VNC_DTILE;
		unsigned tx1 = (x + w + VNC_DTILE - 1) / VNC_DTILE;
		unsigned ty1 = (y + h + VNC_DTILE - 1) / VNC_DTILE;
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
		vproto__consume(c, 20);
		/* everything must be re-sent in the new format */
		memset(c->force, 1, sizeof(c->force));
		return true;
	case 2: /* SetEncodings */
		if (n < 4)
			return false;
		c->enc_left = rd16(p + 2);
		c->enc = ENC_RAW;
		c->enc_chosen = false;
		c->want_desktopsize = c->want_ext_desktopsize = c->want_ext_key = false;
		vproto__consume(c, 4);
		c->state = CS_ENCODINGS;
		return true;
	case 3: /* FramebufferUpdateRequest */
		if (n < 10)
			return false;
		do_request(c, p);
		vproto__consume(c, 10);
		return true;
	case 4: { /* KeyEvent */
		if (n < 8)
			return false;
		struct vnc_input_msg m = {
		    .type = VNC_INPUT_KEY, .down = p[1] != 0, .keysym = rd32(p + 4)};
		vproto__consume(c, 8);
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
		vproto__consume(c, 6);
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
		vproto__consume(c, 8);
		c->skip_left = len;
		c->state = CS_SKIP;
		return true;
	}
	case 255: { /* QEMU client message: only the extended key event */
		if (n < 2)
			return false;
		if (p[1] != 0 || !c->want_ext_key) {
			vcli__kill(c, "unsupported QEMU client message");
			return true;
		}
		if (n < 12)
			return false;
		struct vnc_input_msg m = {.type = VNC_INPUT_KEY,
					  .down = rd16(p + 2) != 0,
					  .keysym = rd32(p + 4),
					  .keycode = rd32(p + 8)};
		vproto__consume(c, 12);
		input_event(c, &m);
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
		vproto__consume(c, len);
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
			vproto__consume(c, k);
			c->skip_left -= (uint32_t)k;
			if (c->skip_left)
				return;
			c->state = CS_NORMAL;
			continue;
		}
		if (c->state == CS_ENCODINGS) {
			while (c->enc_left && c->in_len >= 4) {
				do_encoding(c, (int32_t)rd32(c->in), &c->enc_chosen);
				vproto__consume(c, 4);
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
			vproto__version(c);
			break;
		case CS_SECTYPE:
			vproto__sectype(c);
			break;
		case CS_VNCAUTH:
			if (n < 16)
				return;
			vproto__vncauth(c);
			break;
		case CS_VENCRYPT_VER:
			if (n < 2)
				return;
			vproto__vencrypt_ver(c);
			break;
		case CS_VENCRYPT_SUB:
			if (n < 4)
				return;
			vproto__vencrypt_sub(c);
			break;
		case CS_CLIENTINIT:
			vproto__clientinit(c);
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
