/* SPDX-License-Identifier: MIT */
/*
 * FramebufferUpdate generation for one client: resize notifications, then the
 * tiles whose hash differs from what this client was last sent (or that a
 * non-incremental request forced), merged into horizontal runs per tile row.
 */
#include <string.h>

#include "vnc_int.h"

#define UPDATE_BYTES_MAX (8u << 20) /* stop adding rectangles past this; rest stays dirty */

static bool rect_header(struct vnc_buf *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			int32_t enc)
{
	return vbuf__u16(b, x) && vbuf__u16(b, y) && vbuf__u16(b, w) && vbuf__u16(b, h) &&
	       vbuf__u32(b, (uint32_t)enc);
}

static bool ext_desktop_rect(struct vnc_client *c, uint16_t reason, uint16_t status)
{
	struct vnc_buf *b = &c->out;
	return rect_header(b, reason, status, c->w, c->h, ENC_EXT_DESKTOPSIZE) && vbuf__u8(b, 1) &&
	       vbuf__put(b, "\0\0\0", 3) && vbuf__u32(b, 0) && vbuf__u16(b, 0) && vbuf__u16(b, 0) &&
	       vbuf__u16(b, c->w) && vbuf__u16(b, c->h) && vbuf__u32(b, 0);
}

static bool tile_dirty(const struct vnc_client *c, unsigned t)
{
	return c->force[t] || c->sent[t] != c->srv->hashes[t];
}

bool vproto__update(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	const struct display_view *v = &s->view;
	struct vnc_buf *b = &c->out;
	bool resized = false;

	if (c->w != v->width || c->h != v->height) {
		if (c->want_ext_desktopsize || c->want_desktopsize) {
			c->w = v->width;
			c->h = v->height;
			memset(c->force, 1, sizeof(c->force));
			resized = true;
		}
	}
	uint32_t cw = c->w < v->width ? c->w : v->width;
	uint32_t ch = c->h < v->height ? c->h : v->height;

	/* header with the rectangle count patched at the end */
	if (!vbuf__u8(b, 0) || !vbuf__u8(b, 0) || !vbuf__u16(b, 0))
		return false;
	size_t count_pos = vbuf__pending(b) - 2;
	size_t start = vbuf__pending(b);
	uint32_t nrect = 0;

	if (resized) {
		bool ok = c->want_ext_desktopsize
			      ? ext_desktop_rect(c, 0, 0)
			      : rect_header(b, 0, 0, c->w, c->h, ENC_DESKTOPSIZE);
		if (!ok)
			return false;
		nrect++;
		c->ext_sent = true;
		/* the client re-requests the whole new screen */
		c->rx = 0;
		c->ry = 0;
		c->rw = c->w;
		c->rh = c->h;
	} else if (c->want_ext_desktopsize && !c->ext_sent) {
		/* tell the client we support it (RFB: first update after SetEncodings) */
		if (!ext_desktop_rect(c, 0, 0))
			return false;
		nrect++;
		c->ext_sent = true;
	}
	if (c->want_ext_key && !c->ext_key_sent) {
		/* acknowledges the pseudo-encoding: the client may now send scancodes */
		if (!rect_header(b, 0, 0, 0, 0, ENC_QEMU_EXT_KEY))
			return false;
		nrect++;
		c->ext_key_sent = true;
	}

	uint32_t x1 = (uint32_t)c->rx + c->rw, y1 = (uint32_t)c->ry + c->rh;
	if (x1 > cw)
		x1 = cw;
	if (y1 > ch)
		y1 = ch;
	if (!resized && c->rx < x1 && c->ry < y1) {
		unsigned tx0 = c->rx / VNC_DTILE, tx1 = (x1 + VNC_DTILE - 1) / VNC_DTILE;
		unsigned ty0 = c->ry / VNC_DTILE, ty1 = (y1 + VNC_DTILE - 1) / VNC_DTILE;
		for (unsigned ty = ty0; ty < ty1; ty++) {
			for (unsigned tx = tx0; tx < tx1;) {
				if (!tile_dirty(c, ty * VNC_TILES_X + tx)) {
					tx++;
					continue;
				}
				unsigned run = tx;
				while (run < tx1 && run - tx < VNC_RECT_MAX_W / VNC_DTILE &&
				       tile_dirty(c, ty * VNC_TILES_X + run))
					run++;
				if (vbuf__pending(b) - start > UPDATE_BYTES_MAX || nrect >= 0xfff0)
					goto done;
				uint32_t rx = tx * VNC_DTILE, ry = ty * VNC_DTILE;
				uint32_t rw =
				    run * VNC_DTILE > cw ? cw - rx : (run - tx) * VNC_DTILE;
				uint32_t rh = ry + VNC_DTILE > ch ? ch - ry : VNC_DTILE;
				if (!venc__rect(c, rx, ry, rw, rh))
					return false;
				nrect++;
				for (unsigned t = tx; t < run; t++) {
					c->sent[ty * VNC_TILES_X + t] =
					    s->hashes[ty * VNC_TILES_X + t];
					c->force[ty * VNC_TILES_X + t] = 0;
				}
				tx = run;
			}
		}
	}
done:
	if (nrect == 0 && !c->req_full) {
		/* nothing changed for an incremental request: answer later */
		b->len -= 4;
		return true;
	}
	uint8_t *cnt = b->data + b->off + count_pos;
	cnt[0] = nrect >> 8;
	cnt[1] = nrect;
	c->req = false;
	c->req_full = false;
	return true;
}
