/* SPDX-License-Identifier: MIT */
#ifndef CELLVM_BLK_RAW_H
#define CELLVM_BLK_RAW_H

#include <stdbool.h>

#include "backend.h"

/*
 * A raw image on `fd` (regular file or block device, opened by the broker;
 * O_RDWR unless readonly). The disk size is the file size rounded down to
 * 512 bytes. Fills *b; returns 0 or -errno. b->ops->close does not close fd.
 * Open the image without O_DIRECT: guest buffers are only byte-aligned, and
 * O_DIRECT would fail them with EINVAL (the guest sees IOERR).
 */
int raw__open(struct blk_backend *b, int fd, bool readonly);

#endif
