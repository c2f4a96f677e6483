/* SPDX-License-Identifier: MIT */
/*
 * blk: virtio-blk over a raw or qcow2 image fd the broker opened. The
 * only device with threads (a small I/O pool; docs/virtio.md says why not
 * io_uring: seccomp cannot see what an io_uring ring does).
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/uio.h>

#include "profile.h"

static const struct sc_rule blk_rules[] = {
    PROFILE_BASE_RULES,
    PROFILE_THREAD_RULES,
    SC_ALLOW(pread64, "read image sectors and qcow2 metadata"),
    SC_ALLOW(pwrite64, "write image sectors and qcow2 metadata"),
    SC_ALLOW(preadv, "scatter reads straight into guest buffers"),
    SC_ALLOW(pwritev, "gather writes straight from guest buffers"),
    SC_ALLOW_IF(preadv2, "cached reads on the main loop; RWF_NOWAIT only, never blocks on a disk",
		SC_ARG_EQ(5, RWF_NOWAIT)),
    SC_ALLOW_IF(pwritev2, "cached writes on the main loop; RWF_NOWAIT only, never blocks on a disk",
		SC_ARG_EQ(5, RWF_NOWAIT)),
    SC_ALLOW(fdatasync, "VIRTIO_BLK_T_FLUSH"),
    SC_ALLOW_IF(fallocate, "discard / write-zeroes with UNMAP: punch a hole, keep the size",
		SC_ARG_EQ(1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)),
    SC_ALLOW_IF(fallocate, "write-zeroes without UNMAP: zero the range, keep it allocated",
		SC_ARG_EQ(1, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)),
    SC_ALLOW(fstat, "image size at start-up"),
    SC_ALLOW(lseek, "size of a block-device image (SEEK_END) at start-up"),
    SC_ALLOW_IF(newfstatat, "glibc's fstat(): image size at start-up (fd only, AT_EMPTY_PATH)",
		SC_ARG_EQ(3, AT_EMPTY_PATH)),
};

const struct profile profile_blk = {
    .type = "blk",
    .desc = "virtio-blk over a raw/qcow2 image fd; an I/O thread pool",
    .selinux_type = "cellvm_blk_t",
    .ring = true,
    PROFILE_RULES(blk_rules),
    .namespaces = PROFILE_ALL_NS,
    .caps = 0,
    .threads = true,
    .guest_ram = true,
    .landlock_fs = true,
    .landlock_net = true,
    .landlock_scope = true,
    PROFILE_RLIMITS(PROFILE_RL(RLIMIT_CORE, 0), PROFILE_RL(RLIMIT_NOFILE, 64),
		    PROFILE_RL(RLIMIT_NPROC, 32), PROFILE_RL(RLIMIT_MEMLOCK, 0),
		    PROFILE_RL(RLIMIT_MSGQUEUE, 0)),
    /* Guest RAM, the ring, qcow2 caches; a stack and a malloc arena per I/O thread. */
    .as_over_ram = 1ULL << 30,
};
