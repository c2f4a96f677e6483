/* SPDX-License-Identifier: MIT */
/*
 * probe: what a compromised per-VM process could try, one attempt per
 * argument, run by tests/selinux/real/selinux_real.py in a per-VM domain at
 * a VM's category pair (the test writes /proc/self/attr/exec, then execs a
 * copy of this program labelled with that domain's entrypoint type). No
 * seccomp, no Landlock, no namespaces, uid 0 with every capability: only
 * SELinux stands between it and its targets.
 *
 *   probe OP:ARG...   OP one of open-r, open-w, exec, read-fd, write-fd,
 *                     map-fd, kill, unix, tcp
 *
 * Prints one line per attempt: "OP:ARG ok" or "OP:ARG ERRNO-NAME".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd_arg(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* Returns 0 or an errno value. */
static int attempt(const char *op, const char *arg)
{
	char buf[64];
	int fd, r = 0;
	if (!strcmp(op, "open-r") || !strcmp(op, "open-w")) {
		fd = open(arg, (op[5] == 'r' ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
		if (fd < 0)
			return errno;
		if (op[5] == 'r' && read(fd, buf, 1) < 0)
			r = errno;
		close(fd);
		return r;
	}
	if (!strcmp(op, "exec")) {
		pid_t pid = fork();
		if (pid < 0)
			return errno;
		if (pid == 0) {
			execl(arg, arg, (char *)NULL);
			_exit(errno);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return errno;
		return WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
	}
	if (!strcmp(op, "read-fd"))
		return pread(fd_arg(arg), buf, 1, 0) < 0 ? errno : 0;
	if (!strcmp(op, "write-fd")) {
		/* writes back what is there: a successful attempt changes nothing */
		int f = fd_arg(arg);
		if (pread(f, buf, 1, 0) != 1)
			buf[0] = 0;
		return pwrite(f, buf, 1, 0) < 0 ? errno : 0;
	}
	if (!strcmp(op, "map-fd")) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd_arg(arg), 0);
		if (p == MAP_FAILED)
			return errno;
		munmap(p, 4096);
		return 0;
	}
	if (!strcmp(op, "kill"))
		return kill((pid_t)strtol(arg, NULL, 10), SIGTERM) < 0 ? errno : 0;
	if (!strcmp(op, "unix") || !strcmp(op, "tcp")) {
		bool un = op[0] == 'u';
		int s = socket(un ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return errno;
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = htons((uint16_t)strtol(arg, NULL, 10)),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", arg);
		if (un ? connect(s, (struct sockaddr *)&sun, sizeof(sun))
		       : connect(s, (struct sockaddr *)&sin, sizeof(sin)))
			r = errno;
		close(s);
		return r;
	}
	return EINVAL;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char op[32];
		const char *colon = strchr(argv[i], ':');
		size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
		if (len >= sizeof(op))
			len = sizeof(op) - 1;
		memcpy(op, argv[i], len);
		op[len] = 0;
		int e = attempt(op, colon ? colon + 1 : "");
		printf("%s %s\n", argv[i], e ? strerrorname_np(e) : "ok");
		fflush(stdout);
	}
	return 0;
}
