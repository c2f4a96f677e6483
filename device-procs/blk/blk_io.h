/* SPDX-License-Identifier: MIT */
/*
 * A small pool of I/O threads running blk jobs (blocking preadv/pwritev/
 * fdatasync/fallocate on the backend). Chosen over io_uring: see
 * docs/virtio.md for the measurements and the confinement argument.
 */
#ifndef CELLVM_BLK_IO_H
#define CELLVM_BLK_IO_H

struct blk_io_job {
	void (*fn)(struct blk_io_job *job);
	struct blk_io_job *next;
};

struct blk_io;

/* nthreads 0: jobs run inline in blk_io__submit (tests, fuzzing). */
struct blk_io *blk_io__new(unsigned nthreads);
void blk_io__submit(struct blk_io *io, struct blk_io_job *job);
/* Wait until every submitted job has finished. */
void blk_io__drain(struct blk_io *io);
/* Drain, stop and join the threads, free. */
void blk_io__free(struct blk_io *io);

#endif
