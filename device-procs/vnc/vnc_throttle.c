/* SPDX-License-Identifier: MIT */
/*
 * Authentication failure throttling per peer address: after
 * VNC_AUTH_FREE_FAILS failed VNC authentications from one address, further
 * connections from it are closed on accept for a back-off that doubles per
 * failure (1 s up to 10 min). A success forgets the address. The table is
 * small and fixed; when full, the entry whose ban ends first is reused.
 */
#include <string.h>

#include "vnc_int.h"

#define VNC_AUTH_FREE_FAILS 3
#define VNC_BAN_MAX_MS	    600000u

static struct vnc_peer_ban *lookup(struct vnc_server *s, const struct vnc_client *c, bool add)
{
	struct vnc_peer_ban *victim = &s->bans[0];
	for (unsigned i = 0; i < VNC_BAN_SLOTS; i++) {
		struct vnc_peer_ban *b = &s->bans[i];
		if (b->len && b->len == c->peer_len && !memcmp(b->addr, c->peer, b->len))
			return b;
		if (!b->len || (victim->len && b->until_ms < victim->until_ms))
			victim = b;
	}
	if (!add || c->peer_len == 0)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, c->peer, c->peer_len);
	victim->len = c->peer_len;
	return victim;
}

bool vthr__banned(struct vnc_server *s, const struct vnc_client *c)
{
	struct vnc_peer_ban *b = lookup(s, c, false);
	return b && s->now_ms < b->until_ms;
}

void vthr__auth_result(struct vnc_server *s, const struct vnc_client *c, bool ok)
{
	struct vnc_peer_ban *b = lookup(s, c, !ok);
	if (!b)
		return;
	if (ok) {
		memset(b, 0, sizeof(*b));
		return;
	}
	if (++b->fails < VNC_AUTH_FREE_FAILS)
		return;
	unsigned shift = b->fails - VNC_AUTH_FREE_FAILS;
	uint64_t ms = shift >= 10 ? VNC_BAN_MAX_MS : 1000ull << shift;
	if (ms > VNC_BAN_MAX_MS)
		ms = VNC_BAN_MAX_MS;
	b->until_ms = s->now_ms + ms;
}
