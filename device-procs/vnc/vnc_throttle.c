/* SPDX-License-Identifier: MIT */
/*
 * Password guessing limits (docs/security.md, "VNC"). Per peer key (an IPv4
 * address, or an IPv6 /64: one host owns a whole /64): after
 * VNC_AUTH_FREE_FAILS failed answers, the key is banned for a back-off that
 * doubles per failure (1 s up to 10 min); a success forgets it. Across all
 * keys, more than VNC_GLOBAL_FAILS failures in a minute ban everyone until
 * the minute is over, so that many addresses (or a full table) do not buy
 * more guesses. The ban is checked when an answer arrives, so answers to
 * challenges taken before the ban are never checked; a banned client is told
 * why and for how long (RFB 3.8 reason). One challenge per key is in flight.
 */
#include <netinet/in.h>
#include <string.h>

#include "vnc_int.h"

#define VNC_AUTH_FREE_FAILS 3
#define VNC_BAN_MAX_MS	    600000u
#define VNC_GLOBAL_FAILS    30
#define VNC_WINDOW_MS	    60000u

void vthr__key(const struct sockaddr_storage *sa, uint8_t key[8], uint8_t *len)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	*len = 0;
	if (sa->ss_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*len = 4;
	} else if (sa->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (!memcmp(a, mapped, 12)) {
			memcpy(key, a + 12, 4);
			*len = 4;
		} else {
			memcpy(key, a, 8);
			*len = 8;
		}
	}
}

static bool same(const struct vnc_client *a, const struct vnc_client *b)
{
	return a->peer_len && a->peer_len == b->peer_len && !memcmp(a->peer, b->peer, a->peer_len);
}

static struct vnc_peer_ban *lookup(struct vnc_server *s, const struct vnc_client *c, bool add)
{
	struct vnc_peer_ban *free_slot = NULL, *lru = NULL;
	for (unsigned i = 0; i < VNC_BAN_SLOTS; i++) {
		struct vnc_peer_ban *b = &s->bans[i];
		if (b->len && b->len == c->peer_len && !memcmp(b->addr, c->peer, b->len))
			return b;
		/* reuse a free slot, else the one unused longest that is not banned */
		if (!b->len) {
			if (!free_slot)
				free_slot = b;
		} else if (b->until_ms <= s->now_ms && (!lru || b->last_ms < lru->last_ms)) {
			lru = b;
		}
	}
	struct vnc_peer_ban *victim = free_slot ? free_slot : lru;
	/* A full table of banned keys: the global limit still bounds guesses. */
	if (!add || c->peer_len == 0 || !victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, c->peer, c->peer_len);
	victim->len = c->peer_len;
	return victim;
}

uint64_t vthr__ban_left(struct vnc_server *s, const struct vnc_client *c)
{
	uint64_t left = s->global_until_ms > s->now_ms ? s->global_until_ms - s->now_ms : 0;
	struct vnc_peer_ban *b = lookup(s, c, false);
	if (b && b->until_ms > s->now_ms && b->until_ms - s->now_ms > left)
		left = b->until_ms - s->now_ms;
	return left;
}

bool vthr__challenge_busy(struct vnc_server *s, const struct vnc_client *c)
{
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		const struct vnc_client *o = s->clients[i];
		if (o && o != c && o->state == CS_VNCAUTH && same(o, c))
			return true;
	}
	return false;
}

void vthr__auth_result(struct vnc_server *s, const struct vnc_client *c, bool ok)
{
	if (!ok) {
		if (s->now_ms - s->window_start_ms >= VNC_WINDOW_MS) {
			s->window_start_ms = s->now_ms;
			s->window_fails = 0;
		}
		if (++s->window_fails >= VNC_GLOBAL_FAILS)
			s->global_until_ms = s->window_start_ms + VNC_WINDOW_MS;
	}
	struct vnc_peer_ban *b = lookup(s, c, !ok);
	if (!b)
		return;
	if (ok) {
		memset(b, 0, sizeof(*b));
		return;
	}
	b->last_ms = s->now_ms;
	if (++b->fails < VNC_AUTH_FREE_FAILS)
		return;
	unsigned shift = b->fails - VNC_AUTH_FREE_FAILS;
	uint64_t ms = shift >= 10 ? VNC_BAN_MAX_MS : 1000ull << shift;
	if (ms > VNC_BAN_MAX_MS)
		ms = VNC_BAN_MAX_MS;
	b->until_ms = s->now_ms + ms;
}
