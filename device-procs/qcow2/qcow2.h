/* SPDX-License-Identifier: MIT */
/*
 * qcow2 (version 3, and version 2) as a virtio-blk backend: see docs/qcow2.md.
 *
 * The broker opens every file. It first calls qcow2__probe_backing() on the
 * image fd to learn the backing file name (nothing else is read), resolves and
 * opens that file itself, records each link with qcow2__chain_add() (refuses
 * loops and over-deep chains), opens the chain from the bottom up, and hands
 * each opened backend to the next qcow2__open() as `backing`.
 */
#ifndef CELLVM_QCOW2_H
#define CELLVM_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "device-procs/blk/backend.h"

/*
 * Open the qcow2 image on `fd`. `backing` is NULL or the already opened
 * backend of the image's backing file (read only; it must be given exactly
 * when the image names a backing file). On success *out is the backend and it
 * owns fd and backing (its close() closes both); on failure returns -errno,
 * writes a one-line reason to err, and fd and backing stay the caller's.
 */
int qcow2__open(int fd, bool readonly, struct blk_backend *backing, struct blk_backend **out,
		char *err, size_t n);

/*
 * Read and check the header on fd (pread only) and report the backing file:
 * returns 1 and fills name (and fmt, "" when the image does not record one),
 * 0 when the image has no backing file (name and fmt set to ""), or -errno
 * with a reason in err when the header is invalid or a buffer is too small.
 */
int qcow2__probe_backing(int fd, char *name, size_t n, char *fmt, size_t fn, char *err, size_t en);

/* Backing chains: at most QCOW2_CHAIN_MAX images, no file twice. */
#define QCOW2_CHAIN_MAX 16
struct qcow2_chain {
	int depth;
	struct {
		dev_t dev;
		ino_t ino;
	} link[QCOW2_CHAIN_MAX];
};
void qcow2__chain_init(struct qcow2_chain *c);
/*
 * Record the image open on fd as the next link of the chain (top first).
 * Refuses (-ELOOP) a file already in the chain (same device and inode) and
 * (-EMLINK) a chain longer than QCOW2_CHAIN_MAX.
 */
int qcow2__chain_add(struct qcow2_chain *c, int fd, char *err, size_t n);

#endif
