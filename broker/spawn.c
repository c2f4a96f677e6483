/* SPDX-License-Identifier: MIT */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"

#define SPAWN_MAX_FDS 64
#define SCRATCH_FD_BASE 512

int spawn__find_helper(const char *name, char *path, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = 0;
		snprintf(path, n, "%s/%s", dirname(self), name);
		int fd = open(path, O_PATH | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	snprintf(path, n, "%s/%s", CV_LIBEXECDIR, name);
	return open(path, O_PATH | O_CLOEXEC);
}

static void child_fail(int pipe_w, const char *what)
{
	char msg[160];
	int len = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errno));
	ssize_t r = write(pipe_w, msg, (size_t)len);
	(void)r;
	_exit(127);
}

/* In the child: place every fd at its target, close everything else. */
static void child_fds(int exe_fd, const struct spawn_fd *fds, unsigned nfds, int pipe_w)
{
	int max_target = 2;
	/* Move sources out of the way first so no target clobbers a source. */
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i].fd >= 0 && dup3(fds[i].fd, SCRATCH_FD_BASE + (int)i, O_CLOEXEC) < 0)
			child_fail(pipe_w, "dup fd");
	if (dup3(exe_fd, SCRATCH_FD_BASE + SPAWN_MAX_FDS, O_CLOEXEC) < 0 ||
	    dup3(pipe_w, SCRATCH_FD_BASE + SPAWN_MAX_FDS + 1, O_CLOEXEC) < 0)
		child_fail(pipe_w, "dup fd");
	pipe_w = SCRATCH_FD_BASE + SPAWN_MAX_FDS + 1;
	for (unsigned i = 0; i < nfds; i++) {
		if (fds[i].fd < 0)
			continue;
		if (dup2(SCRATCH_FD_BASE + (int)i, fds[i].target) < 0)
			child_fail(pipe_w, "dup2 fd");
		if (fds[i].target > max_target)
			max_target = fds[i].target;
	}
	/* Close every fd that is not a target (the scratch copies are CLOEXEC). */
	for (int fd = 0; fd < SCRATCH_FD_BASE; fd++) {
		int keep = 0;
		for (unsigned i = 0; i < nfds; i++)
			keep |= fds[i].fd >= 0 && fds[i].target == fd;
		if (!keep)
			close(fd);
	}
	if (syscall(SYS_close_range, SCRATCH_FD_BASE + SPAWN_MAX_FDS + 2, ~0U, 0) < 0 &&
	    errno != ENOSYS)
		child_fail(pipe_w, "close_range");
	(void)max_target;
}

pid_t spawn__child(int exe_fd, const char *name, char *const argv[], const struct spawn_fd *fds,
		   unsigned nfds, int *pidfd, char *err, size_t n)
{
	int p[2];
	if (nfds > SPAWN_MAX_FDS) {
		snprintf(err, n, "%s: too many fds", name);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, n, "%s: pipe: %s", name, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, n, "%s: fork: %s", name, strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		/* Die with the broker: a device must never outlive its VM. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Own session: terminal and process-group signals reach only the
		 * broker, which stops the VM in order. */
		setsid();
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_fds(exe_fd, fds, nfds, p[1]);
		static char *const empty_env[] = {NULL};
		syscall(SYS_execveat, SCRATCH_FD_BASE + SPAWN_MAX_FDS, "", argv, empty_env,
			AT_EMPTY_PATH);
		child_fail(SCRATCH_FD_BASE + SPAWN_MAX_FDS + 1, "execveat");
	}
	close(p[1]);
	char msg[160];
	ssize_t len = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (len > 0) {
		msg[len] = 0;
		snprintf(err, n, "%s: %s", name, msg);
		return -1;
	}
	if (*pidfd < 0) {
		snprintf(err, n, "%s: pidfd_open: %s", name, strerror(errno));
		kill(pid, SIGKILL);
		return -1;
	}
	return pid;
}
