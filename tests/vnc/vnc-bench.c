/* SPDX-License-Identifier: MIT */
/*
 * VNC figures (meson benchmark, one JSON object per line, medians):
 *  - vnc.tile_hash_1024x768x32_us: hashing every 64x64 tile of a 1024x768x32
 *    screen (the per-tick damage cost), vs memcmp against a shadow copy
 *    plus refreshing it (the alternative damage scheme);
 *  - vnc.full_update_{raw,zrle}_fps: non-incremental full-screen 1024x768x32
 *    updates per second to a loopback client that reads and parses them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"
#include "vnc_int.h"

#define W    1024
#define H    768
#define RUNS 31

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

static uint8_t *map;
static size_t map_size;

static void bench_hash(void)
{
	struct display_view v = {.pixels = map + DISPLAY_STATE_SIZE,
				 .width = W,
				 .height = H,
				 .bpp = 32,
				 .stride = W * 4,
				 .enabled = 1};
	static uint64_t hashes[VNC_MAX_TILE];
	static uint8_t shadow[W * H * 4];
	double th[RUNS], tm[RUNS];
	volatile int sink = 0;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_us();
		vdmg__hash_all(&v, hashes);
		th[r] = now_us() - t0;
		t0 = now_us();
		for (int y = 0; y < H; y++) {
			const uint8_t *a = v.pixels + (size_t)y * v.stride;
			uint8_t *b = shadow + (size_t)y * W * 4;
			if (memcmp(a, b, W * 4)) {
				memcpy(b, a, W * 4);
				sink++;
			}
		}
		tm[r] = now_us() - t0;
	}
	(void)sink;
	double h = median(th, RUNS), m = median(tm, RUNS);
	printf("{\"metric\": \"vnc.tile_hash_1024x768x32_us\", \"value\": %.1f, \"unit\": \"us\", "
	       "\"vs\": \"memcmp_shadow\", \"vs_value\": %.1f, \"ratio\": %.3f}\n",
	       h, m, h / m);
}

static int port;

static void *server(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &l))
		exit(1);
	__atomic_store_n(&port, ntohs(a.sin_port), __ATOMIC_RELEASE);
	struct vnc_config cfg = {.listen_fd = fd,
				 .ws_listen_fd = -1,
				 .input_fd = -1,
				 .stop_fd = -1,
				 .loopback = true,
				 .allow_none = true,
				 .display_map = map,
				 .display_map_size = map_size,
				 .frame_interval_ms = 1};
	vnc__main(&cfg);
	return NULL;
}

static void rd(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n) {
		ssize_t r = read(fd, b, n);
		if (r <= 0)
			exit(1);
		b += r;
		n -= (size_t)r;
	}
}

static void wr(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		exit(1);
}

static void skip(int fd, size_t n)
{
	static uint8_t buf[1 << 16];
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		rd(fd, buf, k);
		n -= k;
	}
}

static double zbytes;

/* Skip one Tight rectangle body (32 bpp depth 24: 3-byte TPIXELs). */
static void skip_tight(int fd, uint32_t w, uint32_t h)
{
	uint8_t b[4];
	rd(fd, b, 1);
	unsigned ctl = b[0] >> 4;
	if (ctl == 8) {
		skip(fd, 3);
		return;
	}
	size_t rowlen = (size_t)w * 3;
	if (ctl & 4) {
		rd(fd, b, 2); /* filter id 1 (palette), colours - 1 */
		unsigned n = b[1] + 1u;
		skip(fd, n * 3);
		rowlen = n == 2 ? (w + 7) / 8 : w;
	}
	if (rowlen * h < 12) {
		skip(fd, rowlen * h);
		return;
	}
	size_t len = 0;
	for (int k = 0; k < 3; k++) {
		rd(fd, b, 1);
		len |= (size_t)(k < 2 ? b[0] & 0x7f : b[0]) << (7 * k);
		if (k < 2 && !(b[0] & 0x80))
			break;
	}
	skip(fd, len);
}

static double bench_updates(int32_t enc)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons((uint16_t)port)};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		exit(1);
	uint8_t b[64];
	rd(fd, b, 12);
	wr(fd, "RFB 003.008\n", 12);
	rd(fd, b, 1);
	rd(fd, b, b[0]);
	wr(fd, "\x01", 1);
	rd(fd, b, 4);
	wr(fd, "\x01", 1);
	rd(fd, b, 24);
	uint32_t nl = rd32(b + 20);
	skip(fd, nl);
	uint8_t se[8] = {
	    2,		 0, 0, 1, (uint8_t)(enc >> 24), (uint8_t)(enc >> 16), (uint8_t)(enc >> 8),
	    (uint8_t)enc};
	wr(fd, se, 8);
	static const uint8_t req[10] = {3, 0, 0, 0, 0, 0, W >> 8, W & 255, H >> 8, H & 255};
	double fps[5];
	for (int r = 0; r < 5; r++) {
		int n = 20;
		double t0 = now_us();
		for (int i = 0; i < n; i++) {
			wr(fd, req, 10);
			rd(fd, b, 4);
			unsigned nrect = rd16(b + 2);
			for (unsigned k = 0; k < nrect; k++) {
				rd(fd, b, 12);
				uint32_t w = rd16(b + 4), h = rd16(b + 6);
				if (enc == ENC_RAW) {
					skip(fd, (size_t)w * h * 4);
				} else if (enc == ENC_TIGHT) {
					skip_tight(fd, w, h);
				} else {
					rd(fd, b, 4);
					skip(fd, rd32(b));
					zbytes += rd32(b) / (5.0 * n);
				}
			}
		}
		fps[r] = n / ((now_us() - t0) / 1e6);
	}
	close(fd);
	return median(fps, 5);
}

int main(void)
{
	map_size = DISPLAY_STATE_SIZE + (8u << 20);
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct display_state *st = (struct display_state *)map;
	display__init(st, 8u << 20);
	display__publish(st, 1, W, H, 32, W * 4, 0);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint8_t r, g, bl;
			pattern_rgb(x, y, &r, &g, &bl);
			uint32_t p = (uint32_t)r << 16 | g << 8 | bl;
			memcpy(map + DISPLAY_STATE_SIZE + ((size_t)y * W + x) * 4, &p, 4);
		}
	bench_hash();
	pthread_t t;
	pthread_create(&t, NULL, server, NULL);
	while (!__atomic_load_n(&port, __ATOMIC_ACQUIRE))
		usleep(1000);
	double raw = bench_updates(ENC_RAW), zrle = bench_updates(ENC_ZRLE);
	double tight = bench_updates(ENC_TIGHT);
	printf("{\"metric\": \"vnc.full_update_raw_fps\", \"value\": %.1f, \"unit\": \"fps\"}\n",
	       raw);
	printf("{\"metric\": \"vnc.full_update_zrle_fps\", \"value\": %.1f, \"unit\": \"fps\", "
	       "\"vs\": \"raw\", \"vs_value\": %.1f, \"ratio\": %.3f}\n",
	       zrle, raw, zrle / raw);
	printf("{\"metric\": \"vnc.full_update_tight_fps\", \"value\": %.1f, \"unit\": \"fps\", "
	       "\"vs\": \"raw\", \"vs_value\": %.1f, \"ratio\": %.3f}\n",
	       tight, raw, tight / raw);
	printf("{\"metric\": \"vnc.full_update_zrle_bytes\", \"value\": %.0f, \"unit\": \"bytes\", "
	       "\"vs\": \"raw\", \"vs_value\": %d, \"ratio\": %.4f}\n",
	       zbytes, W * H * 4, zbytes / (W * H * 4));
	return 0;
}
