/* SPDX-License-Identifier: MIT */
/*
 * A program for test-jail to spawn through jail__spawn under each profile.
 *
 *   jail-probe TYPE ACTION [log]
 *
 * It locks itself down with TYPE's profile (Landlock + seccomp; "log" picks
 * the logging mode), then performs ACTION:
 *   wait     write "ready\n" on fd 1, block in read(0) until EOF, exit 0
 *   openat socket execve ptrace kill tgkill ioctl fork mmapx
 *            one forbidden syscall; must die of SIGSYS (exit 3 if it survives)
 *   thread   create and join a thread (exit 0)
 *   tgkill-self  signal 0 to itself with tgkill (exit 0)
 *   kvm      KVM_GET_API_VERSION on fd 3, print "kvm api N" (exit 0)
 *   fs       before lockdown: describe / ; Landlock only; try to open / again
 *
 * Output goes to fd 1 with plain write(2): stdio would call fstat.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "seccomp/jail.h"

static void say(const char *s)
{
	ssize_t r = write(1, s, strlen(s));
	(void)r;
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* Before lockdown: list / and check what is (not) there; after Landlock,
 * even the empty root cannot be opened. */
static int probe_fs(const char *type)
{
	char out[512];
	int n = 0, entries = 0;
	char names[256] = "";
	DIR *d = opendir("/");
	if (!d)
		return 10;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		entries++;
		if (strlen(names) + strlen(de->d_name) + 2 < sizeof(names)) {
			strcat(names, de->d_name);
			strcat(names, ",");
		}
	}
	closedir(d);
	struct stat st;
	int proc = stat("/proc/self", &st) == 0;
	int etc = stat("/etc/passwd", &st) == 0;
	int fd = open("/x", O_CREAT | O_WRONLY, 0600);
	int ro = fd < 0 && errno == EROFS;
	if (fd >= 0)
		close(fd);
	char err[256];
	const struct profile *p = profile__find(type);
	if (!p || jail__landlock(p, err, sizeof(err)) < 0) {
		say(err);
		return 11;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY);
	int ll = fd < 0 ? errno : 0;
	int usr = open("/usr", O_RDONLY | O_DIRECTORY) >= 0;
	/* Landlock's TCP rules answer before routing (this netns has no route) */
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5900)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s1 = socket(AF_INET, SOCK_STREAM, 0), s2 = socket(AF_INET, SOCK_STREAM, 0);
	int con = connect(s1, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	int bnd = bind(s2, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	n = snprintf(
	    out, sizeof(out),
	    "fs: entries=%d names=%s proc=%d etc=%d ro=%d landlock_open_root=%s usr_after=%d "
	    "tcp_connect=%s tcp_bind=%s\n",
	    entries, names, proc, etc, ro, ll ? strerrorname_np(ll) : "ok", usr,
	    con ? strerrorname_np(con) : "ok", bnd ? strerrorname_np(bnd) : "ok");
	if (n > 0)
		say(out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		say("usage: jail-probe TYPE ACTION [log]\n");
		return 2;
	}
	const char *type = argv[1], *act = argv[2];
	bool logmode = argc > 3 && strcmp(argv[3], "log") == 0;
	char err[256];

	if (strcmp(act, "fs") == 0)
		return probe_fs(type);

	if (jail__lockdown(type, logmode, err, sizeof(err)) < 0) {
		say(err);
		say("\n");
		return 4;
	}

	if (strcmp(act, "wait") == 0) {
		say("ready\n");
		char c;
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (strcmp(act, "thread") == 0) {
		pthread_t t;
		void *ret = NULL;
		if (pthread_create(&t, NULL, thread_fn, (void *)42) != 0)
			return 5;
		if (pthread_join(t, &ret) != 0 || ret != (void *)42)
			return 6;
		say("thread ok\n");
		return 0;
	}
	if (strcmp(act, "kvm") == 0) {
		long v = syscall(SYS_ioctl, 3, KVM_GET_API_VERSION, 0);
		char out[64];
		snprintf(out, sizeof(out), "kvm api %ld\n", v);
		say(out);
		return v == 12 ? 0 : 7;
	}
	if (strcmp(act, "openat") == 0)
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
	else if (strcmp(act, "socket") == 0)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (strcmp(act, "execve") == 0)
		syscall(SYS_execve, "/jail-probe", argv, NULL);
	else if (strcmp(act, "ptrace") == 0)
		syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	else if (strcmp(act, "kill") == 0)
		syscall(SYS_kill, 2, SIGKILL);
	else if (strcmp(act, "tgkill") == 0) /* another thread group */
		syscall(SYS_tgkill, 2, 2, SIGKILL);
	else if (strcmp(act, "tgkill-self") == 0) {
		if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) == 0) {
			say("tgkill self ok\n");
			return 0;
		}
		return 8;
	} else if (strcmp(act, "ioctl") == 0)
		syscall(SYS_ioctl, 0, TCGETS, 0);
	else if (strcmp(act, "fork") == 0)
		syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	else if (strcmp(act, "mmapx") == 0)
		syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	else
		return 2;
	say("survived\n");
	return 3;
}
