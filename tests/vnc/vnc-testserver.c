/* SPDX-License-Identifier: MIT */
/*
 * Test VNC server: a sealed display memfd programmed through the VBE model
 * with a known picture (pattern.h), served by vnc__main on an ephemeral
 * loopback port. Prints "PORT n" (and "WSPORT n") on stdout, then serves
 * until killed. Options:
 *   --password PW   VNC authentication     --none        allow None
 *   --tls CERT KEY  VeNCrypt (PEM files)   --tls-only    VeNCrypt only
 *   --tls-plain-too with --tls, also offer plain types (TLS only is the default)
 *   --origin LIST   WebSocket Origins allowed (space-separated; default: any)
 *   --ws            WebSocket listener     --animate     change a block every 20 ms
 *   --mode WxHxBPP  (default 1024x768x32)  --drain-ms N  drop stuck clients after N ms
 *   --handshake-ms N  drop clients that have not finished the handshake after N ms
 *   --resize-after-ms N  switch to 800x600 after N ms (DesktopSize)
 *   --screendump F  write a PNG of the display (display__screendump_png) to F and exit
 *   --verbose       debug log (e.g. the encoding each client chose)
 *   --input-print   input messages go through a pipe and are printed as
 *                   "INPUT type down keysym buttons x y keycode" on stdout
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "pattern.h"
#include "vbe.h"
#include "vnc.h"

#define VRAM (16u << 20)

static struct vbe vbe;
static uint8_t *vram;
static int animate, resize_after_ms;
static pthread_mutex_t vbe_lock = PTHREAD_MUTEX_INITIALIZER;

static void draw(uint32_t w, uint32_t h, uint32_t bpp)
{
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t r, g, b;
			pattern_rgb(x, y, &r, &g, &b);
			if (bpp == 32) {
				uint32_t p = (uint32_t)r << 16 | g << 8 | b;
				memcpy(vram + ((size_t)y * w + x) * 4, &p, 4);
			} else {
				uint16_t p = (uint16_t)((r >> 3) << 11 | (g >> 2) << 5 | b >> 3);
				memcpy(vram + ((size_t)y * w + x) * 2, &p, 2);
			}
		}
}

static void set_mode(uint32_t w, uint32_t h, uint32_t bpp)
{
	pthread_mutex_lock(&vbe_lock);
	vbe__reg_write(&vbe, VBE_INDEX_ENABLE, 0);
	vbe__pio_write(&vbe, 0, 2, VBE_INDEX_XRES);
	vbe__pio_write(&vbe, 1, 2, w);
	vbe__pio_write(&vbe, 0, 2, VBE_INDEX_YRES);
	vbe__pio_write(&vbe, 1, 2, h);
	vbe__pio_write(&vbe, 0, 2, VBE_INDEX_BPP);
	vbe__pio_write(&vbe, 1, 2, bpp);
	draw(w, h, bpp);
	vbe__pio_write(&vbe, 0, 2, VBE_INDEX_ENABLE);
	vbe__pio_write(&vbe, 1, 2, VBE_ENABLED | VBE_LFB_ENABLED);
	struct vbe_mode m;
	vbe__mode(&vbe, &m);
	pthread_mutex_unlock(&vbe_lock);
	if (!m.enabled || m.width != w || m.height != h)
		log__die(1, "testserver: VBE refused mode %ux%ux%u", w, h, bpp);
}

static void *animator(void *arg)
{
	(void)arg;
	unsigned n = 0, elapsed = 0;
	for (;;) {
		usleep(20000);
		elapsed += 20;
		if (resize_after_ms && elapsed >= (unsigned)resize_after_ms) {
			set_mode(800, 600, 32);
			resize_after_ms = 0;
		}
		if (animate) {
			/* top-left 32x32 block cycles through grey levels */
			uint8_t v = (uint8_t)(n++ * 37);
			for (int y = 0; y < 32; y++)
				for (int x = 0; x < 32; x++) {
					uint32_t p = (uint32_t)v << 16 | v << 8 | v;
					memcpy(vram +
						   ((size_t)y * vbe.regs[VBE_INDEX_XRES] + x) * 4,
					       &p, 4);
				}
		}
	}
	return NULL;
}

static void *input_printer(void *arg)
{
	int fd = *(int *)arg;
	struct vnc_input_msg m;
	while (read(fd, &m, sizeof(m)) == sizeof(m)) {
		printf("INPUT %u %u 0x%x %u %u %u 0x%x\n", m.type, m.down, m.keysym, m.buttons, m.x,
		       m.y, m.keycode);
		fflush(stdout);
	}
	return NULL;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		log__die(1, "testserver: %s: cannot open", path);
	static uint8_t bufs[2][65536];
	static int which;
	uint8_t *b = bufs[which++ & 1];
	*len = fread(b, 1, sizeof(bufs[0]), f);
	fclose(f);
	return b;
}

static int listener(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		log__die(1, "testserver: cannot listen");
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
	struct vnc_config cfg = {.listen_fd = -1,
				 .ws_listen_fd = -1,
				 .input_fd = -1,
				 .stop_fd = -1,
				 .loopback = true,
				 .name = "cellvm-test"};
	uint32_t w = 1024, h = 768, bpp = 32;
	int ws = 0, input_print = 0;
	const char *dump = NULL;
	static int input_pipe[2];
	log__set_role("vnc-test");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--password") && i + 1 < argc) {
			cfg.password = (const uint8_t *)argv[++i];
			cfg.password_len = strlen(argv[i]);
		} else if (!strcmp(argv[i], "--none")) {
			cfg.allow_none = true;
		} else if (!strcmp(argv[i], "--tls") && i + 2 < argc) {
			cfg.tls_cert_pem = slurp(argv[++i], &cfg.tls_cert_pem_len);
			cfg.tls_key_pem = slurp(argv[++i], &cfg.tls_key_pem_len);
		} else if (!strcmp(argv[i], "--tls-only")) {
			cfg.tls_only = true;
		} else if (!strcmp(argv[i], "--tls-plain-too")) {
			cfg.tls_plain_too = true;
		} else if (!strcmp(argv[i], "--origin") && i + 1 < argc) {
			cfg.ws_origins = argv[++i];
		} else if (!strcmp(argv[i], "--ws")) {
			ws = 1;
		} else if (!strcmp(argv[i], "--screendump") && i + 1 < argc) {
			dump = argv[++i];
		} else if (!strcmp(argv[i], "--verbose")) {
			log__set_level(2);
		} else if (!strcmp(argv[i], "--input-print")) {
			input_print = 1;
		} else if (!strcmp(argv[i], "--animate")) {
			animate = 1;
		} else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			if (sscanf(argv[++i], "%ux%ux%u", &w, &h, &bpp) != 3)
				log__die(2, "bad --mode");
		} else if (!strcmp(argv[i], "--handshake-ms") && i + 1 < argc) {
			cfg.handshake_timeout_ms = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--drain-ms") && i + 1 < argc) {
			cfg.drain_timeout_ms = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--resize-after-ms") && i + 1 < argc) {
			resize_after_ms = atoi(argv[++i]);
		} else {
			log__die(2, "usage: see the comment at the top of vnc-testserver.c");
		}
	}
	int mfd = memfd_create("display", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, DISPLAY_STATE_SIZE + VRAM) ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		log__die(1, "testserver: memfd");
	uint8_t *map =
	    mmap(NULL, DISPLAY_STATE_SIZE + VRAM, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED)
		log__die(1, "testserver: mmap");
	vram = map + DISPLAY_STATE_SIZE;
	if (vbe__init(&vbe, VRAM, (struct display_state *)map))
		log__die(1, "testserver: vbe init");
	set_mode(w, h, bpp);
	if (dump) {
		struct display_view v;
		int fd = open(dump, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || display__read(map, DISPLAY_STATE_SIZE + VRAM, &v) ||
		    display__screendump_png(&v, fd))
			log__die(1, "testserver: screendump failed");
		close(fd);
		return 0;
	}

	/* the server side sees only a read-only mapping, as in the vnc process */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	int rofd = open(path, O_RDONLY | O_CLOEXEC);
	cfg.display_map = vnc__map_display(rofd, &cfg.display_map_size);
	if (!cfg.display_map)
		log__die(1, "testserver: map display");

	cfg.listen_fd = listener();
	printf("PORT %d\n", port_of(cfg.listen_fd));
	if (ws) {
		cfg.ws_listen_fd = listener();
		printf("WSPORT %d\n", port_of(cfg.ws_listen_fd));
	}
	fflush(stdout);
	pthread_t t;
	if (input_print) {
		/* a packet pipe: one message per write, as on the real input channel */
		if (pipe2(input_pipe, O_DIRECT | O_CLOEXEC))
			log__die(1, "testserver: pipe");
		fcntl(input_pipe[1], F_SETFL, O_NONBLOCK);
		cfg.input_fd = input_pipe[1];
		pthread_create(&t, NULL, input_printer, &input_pipe[0]);
	}
	if (animate || resize_after_ms)
		pthread_create(&t, NULL, animator, NULL);
	int r = vnc__main(&cfg);
	log__err("vnc__main returned %d", r);
	return 1;
}
