/* SPDX-License-Identifier: MIT */
/*
 * Every path a user names is opened once, here, without following a
 * symlink in any component (openat2 RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS); the broker then checks, labels and hands over
 * that same fd, never the name again (docs/security.md, "Paths").
 */
#ifndef CELLVM_PATH_H
#define CELLVM_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * openat2(dirfd, path, flags | O_CLOEXEC | O_NOCTTY, mode) with no symlink
 * or magic link in any component; beneath: and nothing outside dirfd
 * (absolute names and ".." that leave it fail with EXDEV). -1 and errno.
 */
int path__open(int dirfd, const char *path, int flags, mode_t mode, bool beneath);

/*
 * An input file the broker reads or hands over (image, kernel, initrd,
 * credentials): regular, or a block device when blockdev. Never blocks on
 * a FIFO. -1 with the reason in err.
 */
int path__open_input(int dirfd, const char *path, int flags, bool beneath, bool blockdev,
		     struct stat *st, char *err, size_t n);

/* The directory holding path (O_PATH), opened as path__open does. */
int path__open_parent(int dirfd, const char *path, bool beneath, const char **base);

/*
 * A log file the broker writes (--serial file:PATH): created 0600 if
 * absent; an existing one is reused (and truncated) only if it is a
 * regular file with one link owned by the broker's uid. -1, reason in err.
 */
int path__open_log(const char *path, char *err, size_t n);

#endif
