/* SPDX-License-Identifier: MIT */
/*
 * vencrypt-handshake: negotiate VeNCrypt X509Vnc, then feed arbitrary bytes
 * as the client's TLS stream (ClientHello and beyond) in chunks, through the
 * server's gnutls glue (bounded ciphertext buffer, push/pull, handshake and
 * record states).
 *
 * Input: chunks [len][len bytes] of TLS stream.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-cert.h"
#include "fuzz.h"
#include "vnc_int.h"

static uint8_t map[DISPLAY_STATE_SIZE + (1u << 20)];
static struct vnc_server srv;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pw[] = "password";
	struct vnc_config cfg = {.listen_fd = -1,
				 .ws_listen_fd = -1,
				 .input_fd = -1,
				 .stop_fd = -1,
				 .loopback = true,
				 .password = pw,
				 .password_len = 8,
				 .tls_cert_pem = (const uint8_t *)fuzz_cert_pem,
				 .tls_cert_pem_len = sizeof(fuzz_cert_pem) - 1,
				 .tls_key_pem = (const uint8_t *)fuzz_key_pem,
				 .tls_key_pem_len = sizeof(fuzz_key_pem) - 1,
				 .tls_only = true,
				 .display_map = map,
				 .display_map_size = sizeof(map)};
	struct display_state *st = (struct display_state *)map;
	display__init(st, 1u << 20);
	display__publish(st, 1, 64, 48, 32, 256, 0);
	if (vsrv__init(&srv, &cfg) != 0)
		abort();
	struct vnc_client *c = vcli__new(&srv, -1, false);
	if (!c)
		abort();
	static const uint8_t nego[] = "RFB 003.008\n\x13\x00\x02\x00\x00\x01\x05";
	vcli__input(c, nego, sizeof(nego) - 1);
	if (c->state != CS_TLS_HANDSHAKE)
		abort();
	size_t i = 0;
	while (i < size && c->state != CS_DEAD) {
		size_t n = data[i++];
		if (n > size - i)
			n = size - i;
		vcli__input(c, data + i, n);
		i += n;
		vcli__flush_layers(c);
		vbuf__consume(&c->out, vbuf__pending(&c->out));
		vbuf__consume(&c->wire, vbuf__pending(&c->wire));
	}
	vsrv__fini(&srv);
	return 0;
}
