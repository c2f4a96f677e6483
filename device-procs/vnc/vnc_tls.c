/* SPDX-License-Identifier: MIT */
/*
 * VeNCrypt TLS (gnutls): X.509 server certificate and key from PEM buffers
 * passed in by the broker. gnutls never touches the socket: ciphertext from
 * the client is pushed into a bounded per-client buffer and pulled by gnutls,
 * records gnutls produces go to the client's wire buffer.
 */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "log.h"
#include "vnc_int.h"

#define TLS_IN_MAX (64u << 10)

int vtls__init(struct vnc_server *s)
{
	const struct vnc_config *cfg = s->cfg;
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	gnutls_datum_t cert = {(unsigned char *)cfg->tls_cert_pem, (unsigned)cfg->tls_cert_pem_len};
	gnutls_datum_t key = {(unsigned char *)cfg->tls_key_pem, (unsigned)cfg->tls_key_pem_len};
	int r = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		log__err("vnc: TLS certificate/key rejected: %s", gnutls_strerror(r));
		gnutls_certificate_free_credentials(cred);
		return -EINVAL;
	}
	s->tls_cred = cred;
	return 0;
}

void vtls__fini(struct vnc_server *s)
{
	if (s->tls_cred)
		gnutls_certificate_free_credentials(s->tls_cred);
	s->tls_cred = NULL;
}

static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *p, size_t n)
{
	struct vnc_client *c = ptr;
	if (!vcli__wire_put(c, p, n)) {
		gnutls_transport_set_errno(c->tls_session, ENOBUFS);
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *p, size_t n)
{
	struct vnc_client *c = ptr;
	size_t have = vbuf__pending(&c->tls_in);
	if (have == 0) {
		gnutls_transport_set_errno(c->tls_session, EAGAIN);
		return -1;
	}
	if (n > have)
		n = have;
	memcpy(p, c->tls_in.data + c->tls_in.off, n);
	vbuf__consume(&c->tls_in, n);
	return (ssize_t)n;
}

bool vtls__start(struct vnc_client *c)
{
	gnutls_session_t sess;
	if (!c->srv->tls_cred || gnutls_init(&sess, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0)
		return false;
	c->tls_session = sess;
	if (gnutls_set_default_priority(sess) < 0 ||
	    gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, c->srv->tls_cred) < 0)
		return false;
	gnutls_certificate_server_set_request(sess, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_ptr(sess, c);
	gnutls_transport_set_push_function(sess, tls_push);
	gnutls_transport_set_pull_function(sess, tls_pull);
	c->tls_in.max = TLS_IN_MAX;
	c->tls = true;
	return true;
}

void vtls__end(struct vnc_client *c)
{
	if (c->tls_session)
		gnutls_deinit(c->tls_session);
	c->tls_session = NULL;
	vbuf__free(&c->tls_in);
}

void vtls__input(struct vnc_client *c, const uint8_t *p, size_t n)
{
	gnutls_session_t sess = c->tls_session;
	while (n > 0 && c->state != CS_DEAD) {
		size_t room = TLS_IN_MAX - vbuf__pending(&c->tls_in);
		size_t k = n < room ? n : room;
		if (k == 0 || !vbuf__put(&c->tls_in, p, k)) {
			vcli__kill(c, "TLS input overflow");
			return;
		}
		p += k;
		n -= k;
		if (c->state == CS_TLS_HANDSHAKE) {
			int r = gnutls_handshake(sess);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				continue;
			if (r < 0) {
				log__info("vnc: TLS handshake failed: %s", gnutls_strerror(r));
				vcli__kill(c, "TLS handshake failed");
				return;
			}
			c->state = CS_CLIENTINIT;
			vproto__tls_ready(c);
		}
		for (;;) {
			uint8_t buf[16384];
			ssize_t r = gnutls_record_recv(sess, buf, sizeof(buf));
			if (r > 0) {
				vcli__rfb_feed(c, buf, (size_t)r);
				if (c->state == CS_DEAD)
					return;
				continue;
			}
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				break;
			vcli__kill(c, r == 0 ? "TLS closed" : "TLS record error");
			return;
		}
	}
}

bool vtls__send(struct vnc_client *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = gnutls_record_send(c->tls_session, p, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}
