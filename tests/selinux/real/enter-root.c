/* SPDX-License-Identifier: MIT */
/*
 * enter-root ROOT CONTEXT PROGRAM [ARG...]: run PROGRAM (a path inside
 * ROOT) with ROOT as its / and in SELinux context CONTEXT, for
 * tests/selinux/real/selinux_real.py. A mount namespace of its own,
 * pivot_root (not chroot: a chrooted process may not create the user
 * namespaces cellvm's jailer makes), then /proc/self/attr/exec and exec.
 * In C rather than a Python preexec_fn, which may deadlock after fork in
 * the test's multi-threaded process.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "enter-root: %s: %s\n", what, strerror(errno));
	return 126;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: enter-root ROOT CONTEXT PROGRAM [ARG...]\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS) < 0)
		return die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return die("make / private");
	if (mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0)
		return die("bind ROOT");
	if (chdir(argv[1]) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return die("detach the old root");
	int fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, argv[2], strlen(argv[2])) != (ssize_t)strlen(argv[2]))
		return die("/proc/self/attr/exec");
	close(fd);
	execv(argv[3], argv + 3);
	return die(argv[3]);
}
