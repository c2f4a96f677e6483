/* SPDX-License-Identifier: MIT */
/*
 * Every blk backend under the real blk seccomp filter (policy/blk.c,
 * installed by jail__seccomp as the device process does): raw on a file,
 * raw on a block device (a loop device, when root can make one), qcow2,
 * qcow2 over a raw backing file. Each runs in a child that opens its
 * backends after the filter is on, as cellvm-blk does, then does every
 * request a guest can send: read, write, the non-blocking variants,
 * flush, discard, write-zeroes with and without UNMAP. A syscall the
 * profile does not allow kills the child with SIGSYS: the case fails,
 * naming the syscall (seccomp_log).
 *
 * usage: test-blk-seccomp [QEMU_IMG]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device-procs/blk/raw.h"
#include "device-procs/qcow2/qcow2.h"
#include "policy/profile.h"
#include "seccomp/jail.h"

#define DISK (4u << 20)

static char dir[] = "/tmp/cellvm-blk-sc-XXXXXX";
static int failed;

static int check(bool ok, const char *what, const char *how)
{
	if (!ok)
		fprintf(stderr, "  %s: %s\n", what, how);
	return ok ? 0 : 1;
}

/* Every request, on an opened backend; 0 when each did what it should. */
static int exercise(struct blk_backend *b)
{
	static char buf[65536], back[65536];
	struct iovec w = {buf, sizeof(buf)}, r = {back, sizeof(back)};
	int bad = 0;
	memset(buf, 0xa5, sizeof(buf));
	bad |=
	    check(b->ops->pwritev(b, &w, 1, 1 << 20) == (ssize_t)sizeof(buf), "pwritev", "short");
	bad |= check(b->ops->preadv(b, &r, 1, 1 << 20) == (ssize_t)sizeof(back) &&
			 !memcmp(buf, back, sizeof(buf)),
		     "preadv", "wrong data");
	if (b->ops->pwritev_nowait) {
		ssize_t n = b->ops->pwritev_nowait(b, &w, 1, 2 << 20);
		bad |= check(n >= 0 || n == -EAGAIN || n == -EOPNOTSUPP, "pwritev_nowait", "error");
	}
	if (b->ops->preadv_nowait) {
		ssize_t n = b->ops->preadv_nowait(b, &r, 1, 1 << 20);
		bad |= check(n >= 0 || n == -EAGAIN || n == -EOPNOTSUPP, "preadv_nowait", "error");
	}
	bad |= check(b->ops->flush(b) == 0, "flush", "error");
	if (b->ops->discard)
		bad |= check(b->ops->discard(b, 2 << 20, 65536) == 0, "discard", "error");
	for (int unmap = 0; unmap < 2; unmap++) {
		bad |= check(b->ops->write_zeroes(b, 1 << 20, 65536, unmap) == 0,
			     unmap ? "write-zeroes (unmap)" : "write-zeroes", "error");
		memset(back, 1, sizeof(back));
		bool zero = b->ops->preadv(b, &r, 1, 1 << 20) == (ssize_t)sizeof(back);
		for (size_t i = 0; zero && i < sizeof(back); i++)
			zero = back[i] == 0;
		bad |= check(zero, unmap ? "write-zeroes (unmap)" : "write-zeroes", "not zero");
		bad |= check(b->ops->pwritev(b, &w, 1, 1 << 20) == (ssize_t)sizeof(buf), "rewrite",
			     "short");
	}
	bad |= check(b->ops->flush(b) == 0, "flush", "error");
	return bad;
}

/* In the child: the real filter first, then open and use the chain. */
static int child(int top, int base, bool qcow2)
{
	char err[200];
	const struct profile *p = profile__find("blk");
	if (!p || jail__seccomp(p, true, err, sizeof(err)) < 0) {
		fprintf(stderr, "  seccomp: %s\n", p ? err : "no blk profile");
		return 2;
	}
	struct blk_backend raw, *b = &raw, *below = NULL;
	if (base >= 0) {
		if (raw__open(&raw, base, true) < 0)
			return 3;
		below = &raw;
	}
	if (!qcow2) {
		int e = raw__open(&raw, top, false);
		if (e < 0) {
			fprintf(stderr, "  raw__open: %s\n", strerror(-e));
			return 3;
		}
	} else if (qcow2__open(top, false, below, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "  qcow2__open: %s\n", err);
		return 3;
	}
	int bad = exercise(b);
	b->ops->close(b);
	return bad ? 1 : 0;
}

static void run(const char *name, int top, int base, bool qcow2)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(top, base, qcow2));
	int st = 0;
	waitpid(pid, &st, 0);
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%s %s", ok ? "ok  " : "FAIL", name);
	if (WIFSIGNALED(st))
		printf(": killed by %s (a syscall outside the blk profile)",
		       WTERMSIG(st) == SIGSYS ? "SIGSYS" : strsignal(WTERMSIG(st)));
	else if (!ok)
		printf(": exit %d", WEXITSTATUS(st));
	printf("\n");
	failed += !ok;
}

static int make_file(const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, DISK) < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static int sh(const char *cmd, char *out, size_t n)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && !fgets(out, (int)n, f))
		out[0] = 0;
	if (out)
		out[strcspn(out, "\n")] = 0;
	return pclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *qemu_img = argc > 1 ? argv[1] : NULL;
	char path[512], base[512], loop[64] = "", cmd[1200];
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	int fd = make_file("raw.img", path, sizeof(path));
	run("raw file", fd, -1, false);
	close(fd);

	/* A block device: a loop device over the same kind of file. */
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", path);
	if (geteuid() == 0 && sh(cmd, loop, sizeof(loop)) == 0 && loop[0]) {
		fd = open(loop, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			run("raw block device", fd, -1, false);
			close(fd);
		}
		snprintf(cmd, sizeof(cmd), "losetup -d %s", loop);
		sh(cmd, NULL, 0);
	} else {
		printf("skip raw block device: not root or no loop device\n");
	}

	if (qemu_img) {
		int bfd = make_file("base.raw", base, sizeof(base));
		snprintf(path, sizeof(path), "%s/top.qcow2", dir);
		snprintf(cmd, sizeof(cmd), "%s create -q -f qcow2 %s 4M", qemu_img, path);
		if (sh(cmd, NULL, 0) < 0) {
			printf("FAIL qemu-img create\n");
			return 1;
		}
		fd = open(path, O_RDWR | O_CLOEXEC);
		run("qcow2", fd, -1, true);
		close(fd);
		snprintf(cmd, sizeof(cmd), "%s create -q -f qcow2 -u -b %s -F raw %s/over.qcow2 4M",
			 qemu_img, base, dir);
		if (sh(cmd, NULL, 0) < 0) {
			printf("FAIL qemu-img create (backing)\n");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/over.qcow2", dir);
		fd = open(path, O_RDWR | O_CLOEXEC);
		run("qcow2 over a raw backing file", fd, bfd, true);
		close(fd);
		close(bfd);
	} else {
		printf("skip qcow2: no qemu-img\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd, NULL, 0);
	return failed ? 1 : 0;
}
