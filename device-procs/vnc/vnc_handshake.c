/* SPDX-License-Identifier: MIT */
/*
 * RFB handshake (RFC 6143 7.1-7.3): version, security negotiation (None,
 * VNC Authentication, VeNCrypt X509None/X509Vnc), ClientInit/ServerInit.
 * Each function is called by vproto__process() once enough bytes are in c->in.
 */
#include <stdio.h>
#include <string.h>

#include "vnc_int.h"

#define SEC_NONE     1
#define SEC_VNCAUTH  2
#define SEC_VENCRYPT 19

static void fail_reason(struct vnc_client *c, const char *why)
{
	vbuf__u32(&c->out, (uint32_t)strlen(why));
	vbuf__put(&c->out, why, strlen(why));
}

/* "too many authentication failures, try again in N s" while c's address is banned. */
static bool banned(struct vnc_client *c, char *why, size_t n)
{
	uint64_t left = vthr__ban_left(c->srv, c);
	if (left)
		snprintf(why, n, "too many authentication failures, try again in %u s",
			 (unsigned)((left + 999) / 1000));
	return left != 0;
}

/* SecurityResult "failed", with the reason for RFB 3.8 clients; log says what (static). */
static void auth_refused(struct vnc_client *c, const char *reason, const char *log)
{
	vbuf__u32(&c->out, 1);
	if (c->minor >= 8)
		fail_reason(c, reason);
	vcli__kill(c, log);
}

static void send_challenge(struct vnc_client *c)
{
	char why[96];
	if (banned(c, why, sizeof(why))) {
		auth_refused(c, why, "too many authentication failures from this address");
		return;
	}
	if (vthr__challenge_busy(c->srv, c)) {
		auth_refused(c, "another authentication from this address is in progress",
			     "another authentication from this address is in progress");
		return;
	}
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

void vproto__version(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	c->minor = parse_version(c->in);
	vproto__consume(c, 12);
	if (c->minor < 0) {
		vcli__kill(c, "bad protocol version");
		return;
	}
	/* A banned address that needs a password is told why and for how long. */
	char why[96];
	if (!s->none_ok && (s->vncauth_ok || s->vencrypt_sub == VENC_X509VNC) &&
	    banned(c, why, sizeof(why))) {
		if (c->minor == 3)
			vbuf__u32(&c->out, 0);
		else
			vbuf__u8(&c->out, 0);
		fail_reason(c, why);
		vcli__kill(c, "too many authentication failures from this address");
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

void vproto__sectype(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	uint8_t t = c->in[0];
	vproto__consume(c, 1);
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

void vproto__vncauth(struct vnc_client *c)
{
	const struct vnc_config *cfg = c->srv->cfg;
	uint8_t want[16];
	char why[96];
	/* Checked when the answer arrives: challenges taken in parallel do not help. */
	if (banned(c, why, sizeof(why))) {
		vproto__consume(c, 16);
		memset(c->challenge, 0, sizeof(c->challenge));
		auth_refused(c, why, "too many authentication failures from this address");
		return;
	}
	vnc__auth_response(cfg->password, cfg->password_len, c->challenge, want);
	uint8_t diff = 0;
	for (int i = 0; i < 16; i++)
		diff |= want[i] ^ c->in[i];
	vproto__consume(c, 16);
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

void vproto__vencrypt_ver(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	bool ok = c->in[0] == 0 && c->in[1] == 2;
	vproto__consume(c, 2);
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

void vproto__vencrypt_sub(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	uint32_t sub = rd32(c->in);
	vproto__consume(c, 4);
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

void vproto__clientinit(struct vnc_client *c)
{
	struct vnc_server *s = c->srv;
	vproto__consume(c, 1); /* shared flag: we always share */
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
