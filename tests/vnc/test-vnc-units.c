/* SPDX-License-Identifier: MIT */
/* VNC server units: VNC auth DES vector, pixel format validation, damage hashing, screendump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vnc_int.h"

static void test_auth_vector(void **unused)
{
	(void)unused;
	/* reference: openssl enc -des-ecb -nopad -K 0e86ceceeef64e26 (bit-reversed "password") */
	static const uint8_t want[16] = {0xb8, 0x66, 0x92, 0x41, 0x25, 0xc8, 0xee, 0xbb,
					 0x9d, 0xeb, 0xc1, 0xdb, 0x61, 0xc5, 0x38, 0xe2};
	uint8_t ch[16], resp[16];
	for (int i = 0; i < 16; i++)
		ch[i] = (uint8_t)i;
	vnc__auth_response((const uint8_t *)"password", 8, ch, resp);
	assert_memory_equal(resp, want, 16);
	/* only the first 8 bytes count */
	vnc__auth_response((const uint8_t *)"password-and-more", 17, ch, resp);
	assert_memory_equal(resp, want, 16);
	vnc__auth_response((const uint8_t *)"passwore", 8, ch, resp);
	assert_memory_not_equal(resp, want, 16);
	/* empty password (a DES weak key) still yields a response */
	vnc__auth_response(NULL, 0, ch, resp);
}

static void fmt(uint8_t *p, uint8_t bpp, uint8_t depth, uint8_t tc, uint16_t rmax, uint16_t gmax,
		uint16_t bmax, uint8_t rs, uint8_t gs, uint8_t bs)
{
	memset(p, 0, 16);
	p[0] = bpp;
	p[1] = depth;
	p[3] = tc;
	p[4] = rmax >> 8;
	p[5] = (uint8_t)rmax;
	p[6] = gmax >> 8;
	p[7] = (uint8_t)gmax;
	p[8] = bmax >> 8;
	p[9] = (uint8_t)bmax;
	p[10] = rs;
	p[11] = gs;
	p[12] = bs;
}

static void test_pixel_format_validation(void **unused)
{
	(void)unused;
	struct vnc_pixfmt pf;
	uint8_t p[16];
	fmt(p, 32, 24, 1, 255, 255, 255, 16, 8, 0);
	assert_true(vpix__parse(&pf, p));
	fmt(p, 16, 16, 1, 31, 63, 31, 11, 5, 0);
	assert_true(vpix__parse(&pf, p));
	fmt(p, 8, 8, 1, 7, 7, 3, 0, 3, 6);
	assert_true(vpix__parse(&pf, p));
	fmt(p, 32, 32, 1, 65535, 255, 255, 17, 8, 0); /* red would overflow bpp */
	assert_false(vpix__parse(&pf, p));
	fmt(p, 24, 24, 1, 255, 255, 255, 16, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 0, 0, 1, 255, 255, 255, 16, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 32, 0, 1, 255, 255, 255, 16, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 16, 17, 1, 31, 63, 31, 11, 5, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 32, 24, 1, 0, 255, 255, 16, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 32, 24, 1, 254, 255, 255, 16, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 32, 24, 1, 255, 255, 255, 32, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 32, 24, 1, 255, 255, 255, 255, 8, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 16, 16, 1, 31, 63, 31, 12, 5, 0);
	assert_false(vpix__parse(&pf, p));
	fmt(p, 8, 8, 0, 0, 0, 0, 0, 0, 0); /* colour map */
	assert_false(vpix__parse(&pf, p));
	/* a rejected format leaves the previous one in place */
	assert_int_equal(pf.bpp, 8);
}

static void test_convert(void **unused)
{
	(void)unused;
	struct vnc_pixfmt pf;
	uint8_t p[16], out[8];
	uint32_t px = 0x00ff8001; /* r=255 g=128 b=1 */
	fmt(p, 16, 16, 1, 31, 63, 31, 11, 5, 0);
	p[2] = 1; /* big endian */
	assert_true(vpix__parse(&pf, p));
	assert_int_equal(vpix__convert(&pf, 32, (uint8_t *)&px, 1, out), 2);
	uint16_t v = (uint16_t)(out[0] << 8 | out[1]);
	assert_int_equal(v, 31 << 11 | 32 << 5 | 0);
	unsigned skip;
	vpix__default(&pf);
	assert_int_equal(vpix__cpixel(&pf, &skip), 3);
	assert_int_equal(skip, 0);
}

static void test_damage_hash(void **unused)
{
	(void)unused;
	static uint8_t px[200 * 130 * 4];
	struct display_view v = {
	    .pixels = px, .width = 200, .height = 130, .bpp = 32, .stride = 200 * 4, .enabled = 1};
	static uint64_t h1[VNC_MAX_TILE], h2[VNC_MAX_TILE];
	vdmg__hash_all(&v, h1);
	px[(129 * 200 + 199) * 4] = 1; /* last pixel: its damage tile */
	vdmg__hash_all(&v, h2);
	unsigned ltx = 199 / VNC_DTILE, lty = 129 / VNC_DTILE;
	for (unsigned ty = 0; ty <= lty; ty++)
		for (unsigned tx = 0; tx <= ltx; tx++) {
			unsigned t = ty * VNC_TILES_X + tx;
			assert_true(h1[t] != 0);
			if (tx == ltx && ty == lty)
				assert_true(h1[t] != h2[t]);
			else
				assert_true(h1[t] == h2[t]);
		}
}

static void test_screendump(void **unused)
{
	(void)unused;
	static uint8_t px[16 * 8 * 2];
	struct display_view v = {
	    .pixels = px, .width = 16, .height = 8, .bpp = 16, .stride = 32, .enabled = 1};
	int fd = memfd_create("png", 0);
	assert_true(fd >= 0);
	assert_int_equal(display__screendump_png(&v, fd), 0);
	uint8_t sig[8];
	assert_int_equal(pread(fd, sig, 8, 0), 8);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
	v.bpp = 24;
	assert_int_not_equal(display__screendump_png(&v, fd), 0);
	close(fd);
	/* write errors are reported, not fatal */
	assert_int_not_equal(display__screendump_png(NULL, -1), 0);
}

/* A client whose throttling key is that of address a (IPv4 or IPv6 text). */
static void peer(struct vnc_client *c, const char *a)
{
	struct sockaddr_storage sa = {0};
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a, &s4->sin_addr), 1);
	}
	memset(c, 0, sizeof(*c));
	vthr__key(&sa, c->peer, &c->peer_len);
}

static void fail_n(struct vnc_server *s, const char *a, int n)
{
	struct vnc_client c;
	peer(&c, a);
	for (int i = 0; i < n; i++)
		vthr__auth_result(s, &c, false);
}

static uint64_t left(struct vnc_server *s, const char *a)
{
	struct vnc_client c;
	peer(&c, a);
	return vthr__ban_left(s, &c);
}

/* Issue 10 #4: bans per IPv4 address or IPv6 /64, and a server-wide bound. */
static void test_throttle(void **unused)
{
	(void)unused;
	static struct vnc_server s;
	memset(&s, 0, sizeof(s));
	s.now_ms = 1000000;
	/* three free failures, then banned; a neighbour is not */
	fail_n(&s, "192.0.2.1", 2);
	assert_int_equal(left(&s, "192.0.2.1"), 0);
	fail_n(&s, "192.0.2.1", 1);
	assert_true(left(&s, "192.0.2.1") > 0);
	assert_int_equal(left(&s, "192.0.2.2"), 0);
	/* the same address as IPv4-mapped IPv6 */
	assert_true(left(&s, "::ffff:192.0.2.1") > 0);
	/* IPv6: the whole /64 shares one key, the next /64 does not */
	fail_n(&s, "2001:db8:0:1::1", 1);
	fail_n(&s, "2001:db8:0:1::2", 1);
	fail_n(&s, "2001:db8:0:1:ffff:ffff:ffff:ffff", 1);
	assert_true(left(&s, "2001:db8:0:1::99") > 0);
	assert_int_equal(left(&s, "2001:db8:0:2::1"), 0);
	/* bans back off and expire */
	s.now_ms += 1001;
	assert_int_equal(left(&s, "192.0.2.1"), 0);
	/* more addresses than slots, one failure each: the server-wide limit holds */
	memset(&s, 0, sizeof(s));
	s.now_ms = 1000000;
	char a[32];
	unsigned i;
	for (i = 0; i < 200; i++) {
		snprintf(a, sizeof(a), "198.51.%u.%u", i / 250, i % 250 + 1);
		if (left(&s, a))
			break;
		fail_n(&s, a, 1);
	}
	assert_true(i <= 30);
	assert_true(left(&s, "203.0.113.7") > 0);
	s.now_ms += 60000;
	assert_int_equal(left(&s, "203.0.113.7"), 0);
	/* a full table keeps banned keys: 64 banned, then 100 other addresses */
	memset(&s, 0, sizeof(s));
	s.now_ms = 1000000;
	fail_n(&s, "192.0.2.77", 3);
	for (i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "198.51.100.%u", i + 1);
		s.window_fails = 0; /* this case is about the table, not the global limit */
		fail_n(&s, a, 1);
	}
	assert_true(left(&s, "192.0.2.77") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auth_vector), cmocka_unit_test(test_pixel_format_validation),
	    cmocka_unit_test(test_convert),	cmocka_unit_test(test_damage_hash),
	    cmocka_unit_test(test_screendump),	cmocka_unit_test(test_throttle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
