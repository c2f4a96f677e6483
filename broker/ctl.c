/* SPDX-License-Identifier: MIT */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "path.h"

static int addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log__err("--control %s: path too long", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* The socket's directory (opened without following symlinks) and name in it. */
static int listen_dir = -1;
static char listen_name[sizeof(((struct sockaddr_un *)0)->sun_path)];

int ctl__listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	const char *base;
	if (addr(path, &sa) < 0)
		return -1;
	int dir = path__open_parent(AT_FDCWD, path, false, &base);
	if (dir < 0 || !*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		log__err("--control %s: %s", path,
			 dir >= 0	  ? "not a file name"
			 : errno == ELOOP ? "a symbolic link in the path (cellvm follows none)"
					  : strerror(errno));
		if (dir >= 0)
			close(dir);
		return -1;
	}
	/* Bound through our directory fd: a path swapped after the check is not used. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir, base);
	if (strlen(base) >= sizeof(sa.sun_path) - 32) {
		log__err("--control %s: name too long", path);
		close(dir);
		return -1;
	}
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log__err("--control %s: exists and is not a socket", path);
			close(dir);
			return -1;
		}
		unlinkat(dir, base, 0); /* a stale socket of an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0077); /* the socket file: owner only */
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 4) < 0) {
		log__err("--control %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(dir);
		return -1;
	}
	listen_dir = dir;
	snprintf(listen_name, sizeof(listen_name), "%s", base);
	return fd;
}

void ctl__unlink(void)
{
	struct stat st;
	if (listen_dir < 0)
		return;
	if (fstatat(listen_dir, listen_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
		unlinkat(listen_dir, listen_name, 0);
	close(listen_dir);
	listen_dir = -1;
}

static int request(const char *path, uint32_t cmd, int pass_fd, struct ctl_rep *rep)
{
	struct sockaddr_un sa;
	if (addr(path, &sa) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log__err("control %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct ctl_req req = {.magic = CTL_MAGIC, .cmd = cmd};
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(req))
		n = recv(fd, rep, sizeof(*rep), 0);
	close(fd);
	if (n != (ssize_t)sizeof(*rep) || rep->magic != CTL_MAGIC) {
		log__err("control %s: no valid reply", path);
		return -1;
	}
	rep->text[sizeof(rep->text) - 1] = 0;
	return 0;
}

int ctl__client(int argc, char **argv)
{
	const char *cmd = argv[1], *path = NULL, *out = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc)
			path = argv[++i];
		else if (!out && argv[i][0] != '-')
			out = argv[i];
		else {
			log__err("%s: unexpected argument '%s'", cmd, argv[i]);
			return 125;
		}
	}
	if (!path) {
		log__err("%s: --control PATH is required", cmd);
		return 125;
	}
	uint32_t c = !strcmp(cmd, "stop")	  ? CTL_STOP
		     : !strcmp(cmd, "screendump") ? CTL_SCREENDUMP
						  : CTL_STATUS;
	int fd = -1;
	if (c == CTL_SCREENDUMP) {
		if (!out) {
			log__err("screendump: give the output file (PNG)");
			return 125;
		}
		/* Opened with the caller's own rights, not the broker's. */
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
		if (fd < 0) {
			log__err("screendump %s: %s", out, strerror(errno));
			return 125;
		}
	}
	struct ctl_rep rep;
	int r = request(path, c, fd, &rep);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return 125;
	if (rep.status) {
		log__err("%s: %s", cmd, rep.text);
		return 1;
	}
	if (rep.text[0])
		printf("%s\n", rep.text);
	return 0;
}
