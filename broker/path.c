/* SPDX-License-Identifier: MIT */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int path__open(int dirfd, const char *path, int flags, mode_t mode, bool beneath)
{
	/* openat2 refuses O_PATH with any flag it ignores (O_NOCTTY among them). */
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve =
		RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (beneath ? RESOLVE_BENEATH : 0),
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static const char *why_open(int e)
{
	/* openat2 says ELOOP for a symlink it refused: name the policy. */
	return e == ELOOP   ? "a symbolic link in the path (cellvm follows none)"
	       : e == EXDEV ? "leaves the directory it must stay below"
	       : e == ENXIO ? "not a regular file (a FIFO or device without a peer)"
			    : strerror(e);
}

int path__open_input(int dirfd, const char *path, int flags, bool beneath, bool blockdev,
		     struct stat *st, char *err, size_t n)
{
	/* O_NONBLOCK: a FIFO planted under the name must not hang the broker. */
	int fd = path__open(dirfd, path, flags | O_NONBLOCK, 0, beneath);
	if (fd < 0) {
		snprintf(err, n, "%s", why_open(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !(S_ISREG(st->st_mode) || (blockdev && S_ISBLK(st->st_mode)))) {
		snprintf(err, n, "%s",
			 S_ISBLK(st->st_mode) ? "a block device (give blockdev=on to use one)"
			 : blockdev	      ? "not a regular file or block device"
					      : "not a regular file");
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		snprintf(err, n, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int path__open_parent(int dirfd, const char *path, bool beneath, const char **base)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash) {
		*base = path;
		return path__open(dirfd, ".", O_PATH | O_DIRECTORY, 0, beneath);
	}
	if ((size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	*base = slash + 1;
	return path__open(dirfd, dir, O_PATH | O_DIRECTORY, 0, beneath);
}

int path__open_log(const char *path, char *err, size_t n)
{
	int fd = path__open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_NONBLOCK, 0600, false);
	struct stat st;
	if (fd < 0) {
		snprintf(err, n, "%s", why_open(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		snprintf(err, n,
			 "exists and is not a regular file with one link owned by uid %u "
			 "(remove it, or name a new file)",
			 (unsigned)geteuid());
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, O_APPEND) < 0) {
		snprintf(err, n, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
