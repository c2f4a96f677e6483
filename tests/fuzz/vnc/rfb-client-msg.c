/* SPDX-License-Identifier: MIT */
/*
 * rfb-client-msg: arbitrary bytes as a client stream through every server
 * state (WebSocket upgrade, version, security negotiation, VNC auth,
 * ClientInit, normal messages), with frame ticks, mode changes and update
 * generation in every encoding between chunks. The VNC auth challenge is
 * fixed at zero so that seeds can get past authentication.
 *
 * Input: flags byte (bit 0: WebSocket client, bit 1: start post-auth), then
 * chunks [len][len bytes]; len 0 switches the display mode.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vbe.h"
#include "vnc_int.h"

#define VRAM (128u << 10)

static uint8_t map[DISPLAY_STATE_SIZE + VRAM];
static struct vnc_server srv;

static void draw(uint32_t seed)
{
	for (size_t i = 0; i < VRAM; i += 4) {
		uint32_t v = (uint32_t)(i / 4 % 251) * (seed | 1) + (uint32_t)(i >> 12);
		memcpy(map + DISPLAY_STATE_SIZE + i, &v, 4);
	}
}

static void drain(struct vnc_client *c)
{
	vcli__flush_layers(c);
	vbuf__consume(&c->out, vbuf__pending(&c->out));
	vbuf__consume(&c->wire, vbuf__pending(&c->wire));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pw[] = "password";
	struct vnc_config cfg = {.listen_fd = -1,
				 .ws_listen_fd = -1,
				 .input_fd = -1,
				 .stop_fd = -1,
				 .loopback = true,
				 .allow_none = true,
				 .password = pw,
				 .password_len = 8,
				 .display_map = map,
				 .display_map_size = sizeof(map)};
	struct display_state *st = (struct display_state *)map;
	if (size < 1)
		return 0;
	display__init(st, VRAM);
	display__publish(st, 1, 100, 60, 32, 400, 0);
	draw(data[0]);
	if (vsrv__init(&srv, &cfg) != 0)
		abort();
	struct vnc_client *c = vcli__new(&srv, -1, data[0] & 1);
	if (!c)
		abort();
	memset(c->challenge, 0, sizeof(c->challenge));
	if (data[0] & 2) {
		c->websocket = false;
		vbuf__consume(&c->out, vbuf__pending(&c->out));
		c->state = CS_NORMAL;
		c->inited = true;
		c->w = srv.view.width;
		c->h = srv.view.height;
	}
	unsigned mode = 0;
	size_t i = 1;
	while (i < size && c->state != CS_DEAD) {
		size_t n = data[i++];
		if (n == 0) {
			/* mode change: 100x60x32, 64x64x16, disabled, 333x17x32 panned */
			mode = (mode + 1) % 4;
			if (mode == 0)
				display__publish(st, 1, 100, 60, 32, 400, 0);
			else if (mode == 1)
				display__publish(st, 1, 64, 64, 16, 128, 4096);
			else if (mode == 2)
				display__publish(st, 0, 320, 200, 32, 1280, 0);
			else
				display__publish(st, 1, 333, 17, 32, 2048, 4 * 7);
			continue;
		}
		if (n > size - i)
			n = size - i;
		vcli__input(c, data + i, n);
		i += n;
		draw((uint32_t)i);
		vsrv__tick(&srv);
		drain(c);
	}
	vsrv__tick(&srv);
	drain(c);
	vsrv__fini(&srv);
	return 0;
}
