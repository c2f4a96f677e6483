/* SPDX-License-Identifier: MIT */
/*
 * VNC server event loop: accept on the inherited listening socket(s), read
 * and write non-blocking client sockets through the WebSocket/TLS layers,
 * and produce updates on a frame tick. Per-client output is bounded: updates
 * are only generated while the backlog is below VNC_OUT_LOW (damage keeps
 * coalescing meanwhile, see vnc_damage.c), a client that has output pending
 * but accepts no byte of it for drain_timeout_ms is dropped (QEMU
 * CVE-2017-15124), and no buffer can grow past VNC_OUT_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vnc_int.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const uint8_t *vnc__map_display(int fd, size_t *size)
{
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		log__err("vnc: display memfd is not sealed against shrinking");
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)DISPLAY_STATE_SIZE)
		return NULL;
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*size = (size_t)st.st_size;
	return p;
}

void vsrv__input(struct vnc_server *s, const struct vnc_input_msg *m)
{
	const struct vnc_config *cfg = s->cfg;
	if (cfg->input) {
		cfg->input(cfg->input_opaque, m);
	} else if (cfg->input_fd >= 0) {
		/* a full channel drops the event rather than stalling every client */
		ssize_t r = send(cfg->input_fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(cfg->input_fd, m, sizeof(*m)); /* a pipe: must be O_NONBLOCK */
		(void)r;
	}
}

void vsrv__refresh_view(struct vnc_server *s)
{
	struct display_view v;
	int r = display__read(s->cfg->display_map, s->cfg->display_map_size, &v);
	if (r == -EAGAIN && s->view_valid)
		return; /* writer busy: the previous view is still inside the mapping */
	if (r != 0) {
		memset(&v, 0, sizeof(v));
		v.width = s->view_valid ? s->view.width : 640;
		v.height = s->view_valid ? s->view.height : 480;
	}
	if (!v.enabled) {
		v.pixels = s->blank; /* every line aliases one black line */
		v.stride = 0;
		v.bpp = 32;
	}
	if (s->view_valid && (v.width != s->view.width || v.height != s->view.height ||
			      v.bpp != s->view.bpp || v.stride != s->view.stride)) {
		for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++)
			if (s->clients[i])
				memset(s->clients[i]->force, 1, sizeof(s->clients[i]->force));
	}
	s->view = v;
	s->view_valid = true;
}

int vsrv__init(struct vnc_server *s, const struct vnc_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->tbuf.max = 8u << 20;
	if (!cfg->display_map || cfg->display_map_size < DISPLAY_STATE_SIZE)
		return -EINVAL;
	if (cfg->allow_none && !cfg->loopback) {
		log__err("vnc: security type None refused on a non-loopback listener");
		return -EPERM;
	}
	bool have_pw = cfg->password && cfg->password_len > 0;
	bool have_tls = cfg->tls_cert_pem && cfg->tls_key_pem;
	/* With TLS configured, plain types would let a man in the middle strip it. */
	bool tls_only = cfg->tls_only || (have_tls && !cfg->tls_plain_too);
	s->none_ok = cfg->allow_none && !tls_only;
	s->vncauth_ok = have_pw && !tls_only;
	s->vencrypt_sub = have_pw ? VENC_X509VNC : VENC_X509NONE;
	if (have_tls && (have_pw || cfg->allow_none)) {
		int r = vtls__init(s);
		if (r < 0)
			return r;
		s->vencrypt_ok = true;
	}
	if (tls_only && !s->vencrypt_ok)
		return -EINVAL;
	if (!s->none_ok && !s->vncauth_ok && !s->vencrypt_ok) {
		log__err("vnc: no security type configured");
		return -EINVAL;
	}
	vsrv__refresh_view(s);
	return 0;
}

void vsrv__fini(struct vnc_server *s)
{
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++)
		if (s->clients[i]) {
			vcli__free(s->clients[i]);
			s->clients[i] = NULL;
		}
	vtls__fini(s);
	vbuf__free(&s->tbuf);
}

struct vnc_client *vcli__new(struct vnc_server *s, int fd, bool websocket)
{
	unsigned i = 0;
	while (i < VNC_MAX_CLIENTS && s->clients[i])
		i++;
	if (i == VNC_MAX_CLIENTS)
		return NULL;
	struct vnc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->websocket = websocket;
	c->out.max = VNC_OUT_MAX;
	c->wire.max = VNC_OUT_MAX;
	c->start_ms = s->now_ms;
	c->progress_ms = s->now_ms;
	c->enc = ENC_RAW;
	vpix__default(&c->pf);
	if (getrandom(c->challenge, sizeof(c->challenge), 0) != sizeof(c->challenge)) {
		free(c);
		return NULL;
	}
	s->clients[i] = c;
	if (websocket)
		c->state = CS_WS_HANDSHAKE;
	else
		vproto__start(c);
	return c;
}

void vcli__free(struct vnc_client *c)
{
	vtls__end(c);
	if (c->zinit)
		deflateEnd(&c->zs);
	for (unsigned i = 0; i < 2; i++)
		if (c->tz_init & (1u << i))
			deflateEnd(&c->tz[i]);
	vbuf__free(&c->out);
	vbuf__free(&c->wire);
	if (c->fd >= 0)
		close(c->fd);
	memset(c->challenge, 0, sizeof(c->challenge));
	free(c);
}

void vcli__kill(struct vnc_client *c, const char *why)
{
	if (c->state != CS_DEAD)
		c->why = why;
	c->state = CS_DEAD;
}

static size_t backlog(const struct vnc_client *c)
{
	return vbuf__pending(&c->out) + vbuf__pending(&c->wire);
}

static void client_write(struct vnc_client *c)
{
	vcli__flush_layers(c);
	struct vnc_buf *b = (c->tls || c->websocket) ? &c->wire : &c->out;
	while (vbuf__pending(b) && c->fd >= 0) {
		ssize_t r = send(c->fd, b->data + b->off, vbuf__pending(b), MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			vcli__kill(c, "write error");
			return;
		}
		vbuf__consume(b, (size_t)r);
		c->progress_ms = c->srv->now_ms;
		vcli__flush_layers(c);
	}
}

static void client_read(struct vnc_client *c)
{
	uint8_t buf[16384];
	/* bounded per round so one client cannot starve the others */
	for (int i = 0; i < 8 && c->state != CS_DEAD; i++) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			vcli__kill(c, r == 0 ? "client closed" : "read error");
			return;
		}
		vcli__input(c, buf, (size_t)r);
	}
}

/* Tile hashes of the previous tick: an unchanged screen lets the tick back off. */
static uint64_t prev_hashes[VNC_MAX_TILE];

bool vsrv__tick(struct vnc_server *s)
{
	vsrv__refresh_view(s);
	bool hashed = false, changed = false;
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = s->clients[i];
		if (!c || c->state != CS_NORMAL || !c->req || backlog(c) >= VNC_OUT_LOW)
			continue;
		if (!hashed) {
			vdmg__hash_all(&s->view, s->hashes);
			hashed = true;
			changed = memcmp(prev_hashes, s->hashes, sizeof(prev_hashes)) != 0;
			memcpy(prev_hashes, s->hashes, sizeof(prev_hashes));
		}
		if (!vproto__update(c))
			vcli__kill(c, "update exceeds output bound");
	}
	return changed;
}

/*
 * Room for a new client from key: at most VNC_PREAUTH_PER_PEER clients of one
 * address before ServerInit (else refused), at most VNC_PREAUTH_MAX in all and
 * a free slot (else the oldest client still in its handshake is dropped for
 * it). False when every slot holds a client past ServerInit.
 */
static bool make_room(struct vnc_server *s, const uint8_t *key, uint8_t len)
{
	unsigned pre = 0, mine = 0, used = 0;
	struct vnc_client *oldest = NULL;
	unsigned oi = 0;
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = s->clients[i];
		if (!c)
			continue;
		used++;
		if (c->inited && c->state != CS_DEAD)
			continue;
		pre++;
		if (len && c->peer_len == len && !memcmp(c->peer, key, len))
			mine++;
		if (!oldest || c->start_ms < oldest->start_ms)
			oldest = c, oi = i;
	}
	if (mine >= VNC_PREAUTH_PER_PEER) {
		log__info("vnc: refusing connection (%u unauthenticated from this address)", mine);
		return false;
	}
	if (pre < VNC_PREAUTH_MAX && used < VNC_MAX_CLIENTS)
		return true;
	if (!oldest) {
		log__info("vnc: refusing connection (client limit)");
		return false;
	}
	log__info("vnc: client %u dropped: oldest unauthenticated, for a new connection", oi);
	vcli__free(oldest);
	s->clients[oi] = NULL;
	return true;
}

static void accept_clients(struct vnc_server *s, int lfd, bool websocket)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		uint8_t key[8], len;
		vthr__key(&sa, key, &len);
		struct vnc_client *c = make_room(s, key, len) ? vcli__new(s, fd, websocket) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		memcpy(c->peer, key, len);
		c->peer_len = len;
	}
}

static void reap(struct vnc_server *s)
{
	const struct vnc_config *cfg = s->cfg;
	uint64_t hs = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : 10000;
	uint64_t drain = cfg->drain_timeout_ms ? cfg->drain_timeout_ms : 10000;
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = s->clients[i];
		if (!c)
			continue;
		if (c->state != CS_DEAD && !c->inited && s->now_ms - c->start_ms > hs)
			vcli__kill(c, "handshake timeout");
		/* stuck: output pending and not one byte accepted for `drain` ms */
		if (c->state != CS_DEAD && backlog(c) == 0)
			c->progress_ms = s->now_ms;
		if (c->state != CS_DEAD && s->now_ms - c->progress_ms > drain)
			vcli__kill(c, "client not reading its updates");
		if (c->state == CS_DEAD) {
			/* last words (failure reasons) are best effort */
			client_write(c);
			log__info("vnc: client %u dropped: %s", i, c->why ? c->why : "?");
			vcli__free(c);
			s->clients[i] = NULL;
		}
	}
}

int vnc__main(const struct vnc_config *cfg)
{
	/* a closed input pipe must not kill the server (sockets use MSG_NOSIGNAL) */
	signal(SIGPIPE, SIG_IGN);
	struct vnc_server *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->now_ms = now_ms();
	int r = vsrv__init(s, cfg);
	if (r < 0) {
		free(s);
		return r;
	}
	s->now_ms = now_ms();
	unsigned base = cfg->frame_interval_ms ? cfg->frame_interval_ms : 30;
	/* Idle back-off: each tick that finds the screen unchanged doubles the
	 * period, up to 8x; a change (or a new client) restores it. */
	unsigned idle = 0;
	for (;;) {
		unsigned interval = base << idle;
		struct pollfd pf[3 + VNC_MAX_CLIENTS];
		int idx[3 + VNC_MAX_CLIENTS];
		unsigned n = 0;
		bool any = false;
		pf[n] = (struct pollfd){.fd = cfg->stop_fd, .events = POLLIN};
		idx[n++] = -1;
		pf[n] = (struct pollfd){.fd = cfg->listen_fd, .events = POLLIN};
		idx[n++] = -2;
		pf[n] = (struct pollfd){.fd = cfg->ws_listen_fd, .events = POLLIN};
		idx[n++] = -3;
		for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
			struct vnc_client *c = s->clients[i];
			if (!c)
				continue;
			any = true;
			short ev = POLLIN;
			if (backlog(c))
				ev |= POLLOUT;
			pf[n] = (struct pollfd){.fd = c->fd, .events = ev};
			idx[n++] = (int)i;
		}
		int pr = poll(pf, n, any ? (int)interval : -1);
		if (pr < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		s->now_ms = now_ms();
		if (cfg->stop_fd >= 0 && (pf[0].revents & POLLIN)) {
			r = 0;
			break;
		}
		if (pf[1].revents & POLLIN) {
			accept_clients(s, cfg->listen_fd, false);
			idle = 0;
		}
		if (pf[2].revents & POLLIN) {
			accept_clients(s, cfg->ws_listen_fd, true);
			idle = 0;
		}
		for (unsigned k = 3; k < n; k++) {
			struct vnc_client *c = s->clients[idx[k]];
			/* Client messages do not end the back-off: an idle client
			 * re-asking for updates must not make the server hash at
			 * full rate (a full refresh waits at most 8 periods). */
			if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
				client_read(c);
		}
		if (s->now_ms - s->last_tick_ms >= interval) {
			s->last_tick_ms = s->now_ms;
			if (vsrv__tick(s))
				idle = 0;
			else if (idle < 3)
				idle++;
		}
		for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++)
			if (s->clients[i] && s->clients[i]->state != CS_DEAD)
				client_write(s->clients[i]);
		reap(s);
	}
	vsrv__fini(s);
	free(s);
	return r;
}
