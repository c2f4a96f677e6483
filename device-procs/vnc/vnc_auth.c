/* SPDX-License-Identifier: MIT */
/*
 * VNC Authentication (RFC 6143 7.2.2): DES-encrypt the 16-byte challenge
 * with the password (first 8 bytes, zero padded) as key, each key byte
 * bit-reversed (the historical VNC quirk). DES comes from nettle; weak keys
 * (e.g. an empty password) are still usable, nettle only reports them.
 */
#include <nettle/des.h>
#include <string.h>

#include "vnc_int.h"

static uint8_t bitrev(uint8_t b)
{
	b = (uint8_t)((b & 0xf0) >> 4 | (b & 0x0f) << 4);
	b = (uint8_t)((b & 0xcc) >> 2 | (b & 0x33) << 2);
	return (uint8_t)((b & 0xaa) >> 1 | (b & 0x55) << 1);
}

void vnc__auth_response(const uint8_t *password, size_t len, const uint8_t challenge[16],
			uint8_t response[16])
{
	uint8_t key[8] = {0};
	for (size_t i = 0; i < 8 && i < len; i++)
		key[i] = bitrev(password[i]);
	struct des_ctx ctx;
	(void)des_set_key(&ctx, key);
	des_encrypt(&ctx, 16, response, challenge);
	memset(key, 0, sizeof(key));
	memset(&ctx, 0, sizeof(ctx));
}
