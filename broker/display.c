/* SPDX-License-Identifier: MIT */
#include "display.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"
#include "device-procs/vga/display.h"
#include "device-procs/vga/vga_cfg.h"
#include "device-procs/vnc/vnc_plan.h"
#include "log.h"
#include "path.h"
#include "seccomp/jail.h"
#include "sel.h"

static int copy_opt(char *dst, size_t n, const char *v, const char *what)
{
	if (!*v || strlen(v) >= n) {
		log__err("--vnc: bad %s", what);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int display__parse_vnc(const char *s, struct vnc_opt *v)
{
	char buf[8192];
	memset(v, 0, sizeof(*v));
	if (strlen(s) >= sizeof(buf)) {
		log__err("--vnc: too long");
		return -1;
	}
	strcpy(buf, s);
	char *save = NULL, *tok = strtok_r(buf, ",", &save);
	/* HOST:PORT, with [v6]:PORT */
	char *colon = tok ? strrchr(tok, ':') : NULL;
	if (!colon || colon == tok || !colon[1]) {
		log__err("--vnc %s: expected HOST:PORT first", s);
		return -1;
	}
	*colon = 0;
	char *host = tok;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = 0;
		host++;
	}
	if (copy_opt(v->host, sizeof(v->host), host, "host") < 0 ||
	    copy_opt(v->port, sizeof(v->port), colon + 1, "port") < 0)
		return -1;
	while ((tok = strtok_r(NULL, ",", &save))) {
		int r = 0;
		if (!strncmp(tok, "password-file=", 14))
			r = copy_opt(v->password_file, sizeof(v->password_file), tok + 14,
				     "password-file");
		else if (!strncmp(tok, "tls-cert=", 9))
			r = copy_opt(v->tls_cert, sizeof(v->tls_cert), tok + 9, "tls-cert");
		else if (!strncmp(tok, "tls-key=", 8))
			r = copy_opt(v->tls_key, sizeof(v->tls_key), tok + 8, "tls-key");
		else if (!strncmp(tok, "websocket=", 10))
			r = copy_opt(v->ws_port, sizeof(v->ws_port), tok + 10, "websocket port");
		else if (!strcmp(tok, "tls-only") || !strcmp(tok, "tls-only=on"))
			v->tls_only = true;
		else if (!strcmp(tok, "tls-only=off"))
			v->tls_plain = true;
		else if (!strncmp(tok, "origin=", 7)) {
			/* scheme://host[:port], as a browser sends it; no spaces */
			const char *o = tok + 7;
			const char *h = !strncmp(o, "http://", 7)    ? o + 7
					: !strncmp(o, "https://", 8) ? o + 8
								     : NULL;
			if (!h || !*h || strpbrk(h, " \t/") ||
			    strlen(v->origins) + strlen(o) + 2 > sizeof(v->origins)) {
				log__err("--vnc: origin=%s: expected http[s]://HOST[:PORT]", o);
				return -1;
			}
			snprintf(v->origins + strlen(v->origins),
				 sizeof(v->origins) - strlen(v->origins), "%s%s",
				 v->origins[0] ? " " : "", o);
		} else if (!strcmp(tok, "auth=none"))
			v->auth_none = true;
		else {
			log__err("--vnc: unknown option '%s'", tok);
			return -1;
		}
		if (r < 0)
			return -1;
	}
	if (!v->tls_cert[0] != !v->tls_key[0]) {
		log__err("--vnc: tls-cert and tls-key go together");
		return -1;
	}
	if (v->origins[0] && !v->ws_port[0]) {
		log__err("--vnc: origin= is for websocket=");
		return -1;
	}
	if (v->tls_only && v->tls_plain) {
		log__err("--vnc: tls-only and tls-only=off");
		return -1;
	}
	if (v->tls_only && !v->tls_cert[0]) {
		log__err("--vnc: tls-only needs tls-cert and tls-key");
		return -1;
	}
	if (!v->auth_none && !v->password_file[0] && !v->tls_cert[0]) {
		log__err("--vnc: refusing an unauthenticated server: give password-file= or "
			 "tls-cert=/tls-key=, or auth=none on a loopback address");
		return -1;
	}
	v->enabled = true;
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* Bind and listen; *loopback tells whether only this host can connect. */
static int listen_on(const char *host, const char *port, bool *loopback, const struct vm_label *vl)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	int e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		log__err("--vnc %s:%s: %s", host, port, gai_strerror(e));
		return -1;
	}
	/* sVirt: the listening socket carries the VM's category pair. */
	label__setsockcreate(vl, "cellvm_vnc_socket_t");
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	label__setsockcreate(vl, NULL);
	int one = 1;
	*loopback = is_loopback(ai->ai_addr);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		log__err("--vnc %s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* A file's bytes in a sealed memfd (the vnc process cannot open files),
 * handed over read-only and labelled cellvm_vnc_cred_t at the VM's level
 * (SELinux checks an inherited fd against its open mode). */
static int sealed_copy(const char *path, uint32_t *len, const struct vm_label *vl)
{
	char why[200];
	struct stat st;
	int in = path__open_input(AT_FDCWD, path, O_RDONLY, false, false, &st, why, sizeof(why));
	if (in < 0 || st.st_size <= 0 || st.st_size > (1 << 20)) {
		log__err("--vnc %s: %s", path, in < 0 ? why : "not a small regular file");
		if (in >= 0)
			close(in);
		return -1;
	}
	int fd = memfd_create("cellvm-vnc-cred", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char buf[65536];
	ssize_t r;
	while (fd >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)r) != r)
			r = -1;
	close(in);
	if (fd < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		log__err("--vnc %s: cannot copy", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	int ro = open(self, O_RDONLY | O_CLOEXEC);
	close(fd);
	if (ro < 0 || sel__memfd(vl, ro, "vnc_cred", false) < 0) {
		log__err("--vnc %s: cannot hand over read-only", path);
		if (ro >= 0)
			close(ro);
		return -1;
	}
	*len = (uint32_t)st.st_size;
	return ro;
}

static int read_password(const char *path, uint8_t *pw, uint32_t *len)
{
	char buf[256], why[200];
	struct stat st;
	int fd = path__open_input(AT_FDCWD, path, O_RDONLY, false, false, &st, why, sizeof(why));
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		log__err("--vnc password-file %s: %s", path, fd < 0 ? why : strerror(errno));
		return -1;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	size_t l = strlen(buf);
	if (l == 0) {
		log__err("--vnc password-file %s: empty password", path);
		return -1;
	}
	if (l > 8)
		log__info("--vnc: VNC authentication uses only the first 8 bytes of the password");
	*len = (uint32_t)(l > 8 ? 8 : l);
	memcpy(pw, buf, *len);
	memset(buf, 0, sizeof(buf));
	return 0;
}

int display__prepare_vga(struct devproc *d, int *display_fd, const struct vm_label *vl)
{
	int fd = memfd_create("cellvm-display", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, DISPLAY_STATE_SIZE + (off_t)DISPLAY_VRAM) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
	    sel__memfd(vl, fd, "fb", false) < 0) {
		log__err("display memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->type = "vga";
	d->dev_type = VM_DEV_VGA;
	d->transport = VM_DEV_RING;
	d->regions[0] = (struct vm_region){VM_REGION_PIO, 0, CV_PORT_VBE_INDEX, 3};
	d->regions[1] = (struct vm_region){0, 0, 0, 0x1000}; /* BAR2: placed by the vcpu-worker */
	d->nregions = 2;
	d->backend[0] = dup(fd);
	d->backend_why[0] = "the display memfd: publish each mode in its state page";
	d->nbackend = 1;
	d->pci_mem_fd = fd;
	struct vga_cfg c = {.vram_size = DISPLAY_VRAM};
	memcpy(d->cfg, &c, sizeof(c));
	d->pci = (struct vm_pci){
	    .present = 1,
	    .kind = VM_PCI_BOCHS_DISPLAY,
	    .mem_size = DISPLAY_VRAM,
	};
	*display_fd = fd;
	return 0;
}

int display__prepare_vnc(const struct vnc_opt *v, int display_fd, struct vncproc *vp,
			 const struct vm_label *vl)
{
	bool lo = false, ws_lo = true;
	char path[64];
	memset(vp, 0, sizeof(*vp));
	vp->ws_fd = vp->cert_fd = vp->key_fd = vp->input_fd = vp->pidfd = vp->ctl = -1;
	vp->listen_fd = listen_on(v->host, v->port, &lo, vl);
	if (vp->listen_fd < 0)
		return -1;
	if (v->ws_port[0] && (vp->ws_fd = listen_on(v->host, v->ws_port, &ws_lo, vl)) < 0)
		return -1;
	if (v->auth_none && !lo) {
		log__err("--vnc %s: auth=none is refused on a non-loopback address", v->host);
		return -1;
	}
	if (v->password_file[0] &&
	    read_password(v->password_file, vp->password, &vp->password_len) < 0)
		return -1;
	if (v->tls_cert[0]) {
		vp->cert_fd = sealed_copy(v->tls_cert, &vp->cert_len, vl);
		vp->key_fd = vp->cert_fd < 0 ? -1 : sealed_copy(v->tls_key, &vp->key_len, vl);
		if (vp->key_fd < 0)
			return -1;
		vp->flags |= VNC_PLAN_HAS_TLS;
	}
	/* Read-only, so the vnc process can never map the pixels writable. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", display_fd);
	vp->display_ro = open(path, O_RDONLY | O_CLOEXEC);
	if (vp->display_ro < 0) {
		log__err("display memfd: reopen read-only: %s", strerror(errno));
		return -1;
	}
	if (lo)
		vp->flags |= VNC_PLAN_LOOPBACK;
	if (v->auth_none)
		vp->flags |= VNC_PLAN_ALLOW_NONE;
	if (v->tls_only)
		vp->flags |= VNC_PLAN_TLS_ONLY;
	if (v->tls_plain)
		vp->flags |= VNC_PLAN_TLS_PLAIN;
	snprintf(vp->origins, sizeof(vp->origins), "%s", v->origins);
	if (vp->ws_fd >= 0)
		vp->flags |= VNC_PLAN_HAS_WS;
	return 0;
}

int display__spawn_vnc(struct vncproc *vp, const struct vm_ids *ids, unsigned slot)
{
	char path[4096], err[256], con[LABEL_CON_MAX];
	int ctl[2];
	int exe = spawn__find_helper("cellvm-vnc", path, sizeof(path));
	if (exe < 0) {
		log__err("cannot find cellvm-vnc: %s", strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		close(exe);
		return -1;
	}
	struct jail_fd jf[10];
	unsigned nj = 0;
	jf[nj++] =
	    (struct jail_fd){ids->diag_fd, STDERR_FILENO, "diagnostics, relayed by the broker"};
	jf[nj++] = (struct jail_fd){ctl[1], VNC_FD_CONTROL, "its plan; hang-up = stop"};
	jf[nj++] = (struct jail_fd){vp->listen_fd, VNC_FD_LISTEN,
				    "accept RFB clients (bound by the broker)"};
	if (vp->ws_fd >= 0)
		jf[nj++] = (struct jail_fd){vp->ws_fd, VNC_FD_WS, "accept WebSocket clients"};
	jf[nj++] = (struct jail_fd){vp->display_ro, VNC_FD_DISPLAY, "the display, read-only"};
	if (vp->input_fd >= 0)
		jf[nj++] = (struct jail_fd){vp->input_fd, VNC_FD_INPUT,
					    "key/pointer events to the input device"};
	if (vp->cert_fd >= 0) {
		jf[nj++] =
		    (struct jail_fd){vp->cert_fd, VNC_FD_CERT, "TLS certificate (sealed memfd)"};
		jf[nj++] =
		    (struct jail_fd){vp->key_fd, VNC_FD_KEY, "TLS private key (sealed memfd)"};
	}
	char *const argv[] = {"cellvm-vnc", NULL};
	const char *xcon;
	if (sel__exec_con(ids->label, "vnc", con, sizeof(con), &xcon) < 0) {
		close(exe);
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	struct jail_spec spec = {
	    .type = "vnc",
	    .exe_fd = exe,
	    .argv = argv,
	    .fds = jf,
	    .nfds = nj,
	    .uid = ids->uid_base + slot,
	    .gid = ids->gid,
	    .cgroup = ids->cgroup,
	    .seccomp_log = ids->seccomp_log,
	    .selinux_exec_con = xcon,
	    .setexec = sel__setexec,
	};
	vp->pid = jail__spawn(&spec, &vp->pidfd, err, sizeof(err));
	close(exe);
	close(ctl[1]);
	if (vp->pid < 0) {
		log__err("%s", err);
		close(ctl[0]);
		return -1;
	}
	struct vnc_plan plan = {
	    .magic = VNC_PLAN_MAGIC,
	    .version = VNC_PLAN_VERSION,
	    .flags = vp->flags | (vp->input_fd >= 0 ? VNC_PLAN_HAS_INPUT : 0),
	    .seccomp_log = ids->seccomp_log,
	    .password_len = vp->password_len,
	    .cert_len = vp->cert_len,
	    .key_len = vp->key_len,
	};
	memcpy(plan.password, vp->password, sizeof(plan.password));
	snprintf(plan.name, sizeof(plan.name), "cellvm");
	snprintf(plan.origins, sizeof(plan.origins), "%s", vp->origins);
	if (send(ctl[0], &plan, sizeof(plan), MSG_NOSIGNAL) != (ssize_t)sizeof(plan))
		log__err("vnc: cannot send its plan");
	memset(&plan, 0, sizeof(plan));
	vp->ctl = ctl[0];
	return 0;
}

void display__stop_vnc(struct vncproc *vp)
{
	if (vp->ctl >= 0)
		close(vp->ctl), vp->ctl = -1;
	if (vp->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, vp->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		waitid(P_PIDFD, (id_t)vp->pidfd, &si, WEXITED);
		close(vp->pidfd);
		vp->pidfd = -1;
	}
}

int display__prepare_input(struct devproc *d, struct vncproc *vp)
{
	int sv[2];
	/* SEQPACKET: one fixed-size event per datagram, dropped when full. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		log__err("input socket: %s", strerror(errno));
		return -1;
	}
	d->type = "input";
	d->dev_type = VM_DEV_INPUT;
	d->transport = VM_DEV_RING;
	d->regions[0] = (struct vm_region){VM_REGION_PIO, 0, CV_PORT_I8042_DATA, 1};
	d->regions[1] = (struct vm_region){VM_REGION_PIO, 0, CV_PORT_I8042_CMD, 1};
	d->nregions = 2;
	/* irqfd 0: IRQ 1 (keyboard), 1: IRQ 12 (mouse), 2: the CPU reset line,
	 * which only the broker watches. */
	d->nirq = 3;
	d->irq_gsi[0] = 1;
	d->irq_gsi[1] = 12;
	d->irq_gsi[2] = VM_IRQ_NOT_GSI;
	d->keep_irq = 3;
	d->backend[0] = sv[0];
	d->backend_why[0] = "key and pointer events from the vnc process";
	d->nbackend = 1;
	vp->input_fd = sv[1];
	return 0;
}
