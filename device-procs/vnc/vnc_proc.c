/* SPDX-License-Identifier: MIT */
/*
 * cellvm-vnc: the VNC server process, the most exposed part of cellvm. It
 * holds only its listening socket(s), a read-only mapping of the display
 * memfd, the input socket and its credentials (read from memfds before
 * lockdown); it may accept connections and nothing else.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "seccomp/jail.h"
#include "vnc.h"
#include "vnc_plan.h"

static struct vnc_plan plan;

static const uint8_t *map_pem(int fd, uint32_t len)
{
	if (!len || len > (1u << 20))
		log__die(1, "credentials: bad length %u", len);
	const uint8_t *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		log__die(1, "credentials: mmap: %s", strerror(errno));
	close(fd);
	return p;
}

int main(int argc, char **argv)
{
	char err[200];
	(void)argc;
	(void)argv;
	log__set_role("vnc");
	signal(SIGPIPE, SIG_IGN);

	ssize_t n = recv(VNC_FD_CONTROL, &plan, sizeof(plan), 0);
	if (n != (ssize_t)sizeof(plan) || plan.magic != VNC_PLAN_MAGIC ||
	    plan.version != VNC_PLAN_VERSION || plan.password_len > sizeof(plan.password) ||
	    !memchr(plan.name, 0, sizeof(plan.name)) ||
	    !memchr(plan.origins, 0, sizeof(plan.origins)))
		log__die(1, "control: bad plan");

	struct vnc_config c = {
	    .listen_fd = VNC_FD_LISTEN,
	    .ws_listen_fd = (plan.flags & VNC_PLAN_HAS_WS) ? VNC_FD_WS : -1,
	    .loopback = plan.flags & VNC_PLAN_LOOPBACK,
	    .allow_none = plan.flags & VNC_PLAN_ALLOW_NONE,
	    .tls_only = plan.flags & VNC_PLAN_TLS_ONLY,
	    .tls_plain_too = plan.flags & VNC_PLAN_TLS_PLAIN,
	    .ws_origins = plan.origins,
	    .password = plan.password_len ? plan.password : NULL,
	    .password_len = plan.password_len,
	    .input_fd = (plan.flags & VNC_PLAN_HAS_INPUT) ? VNC_FD_INPUT : -1,
	    .stop_fd = VNC_FD_CONTROL,
	    .name = plan.name,
	};
	if (plan.flags & VNC_PLAN_HAS_TLS) {
		c.tls_cert_pem = map_pem(VNC_FD_CERT, plan.cert_len);
		c.tls_cert_pem_len = plan.cert_len;
		c.tls_key_pem = map_pem(VNC_FD_KEY, plan.key_len);
		c.tls_key_pem_len = plan.key_len;
	}
	c.display_map = vnc__map_display(VNC_FD_DISPLAY, &c.display_map_size);
	if (!c.display_map)
		log__die(1, "display: cannot map the display memfd read-only");
	close(VNC_FD_DISPLAY);

	/*
	 * The seccomp profile (policy/vnc.c) has no mremap, but glibc's realloc
	 * of an mmap-backed chunk (a client's output buffer growing past the
	 * 128 KiB default threshold, e.g. during VNC auth then a full frame)
	 * calls mremap: the process died of SIGSYS on the first gvnccapture
	 * with a password. Serve buffers up to the largest threshold glibc
	 * allows (32 MiB, above a 16 MiB VRAM frame) from the brk heap instead.
	 */
	if (!mallopt(M_MMAP_THRESHOLD, 32 << 20))
		log__die(1, "mallopt(M_MMAP_THRESHOLD) refused");

	/* Everything below talks to the network: confine first. */
	if (jail__lockdown("vnc", plan.seccomp_log, err, sizeof(err)) < 0)
		log__die(1, "confinement: %s", err);
	int r = vnc__main(&c);
	if (r < 0)
		log__die(1, "server: %s", strerror(-r));
	return 0;
}
