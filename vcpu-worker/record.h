/* SPDX-License-Identifier: MIT */
/*
 * `cellvm run --record FILE`: the device traffic of a real run, for the
 * device-process fuzzer's seeds (tests/fuzz/devproc/rec2seeds.py). The
 * vcpu-worker writes every register access it forwards to a device process
 * and, before each virtio queue notification, the guest RAM the device is
 * about to read: the new avail entries, the descriptors of their chains
 * (indirect tables included), the device-readable buffers (their first
 * REC_BUF_MAX bytes) and the place and size of the device-writable ones.
 * While recording, queue notifications are not ioeventfds: they exit to the
 * vcpu-worker and reach the device as the register writes they are. One
 * notification adds at most 1 MiB (the guest makes its chains as long as it
 * likes) and the whole record at most 1 GiB: past that, recording stops.
 *
 * The file: REC_MAGIC, then records of struct rec_entry, each REC_RAM one
 * followed by its `len` bytes of RAM (none for REC_RAM_WBUF).
 */
#ifndef CELLVM_VCPU_RECORD_H
#define CELLVM_VCPU_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "vmplan.h"

#define REC_MAGIC   "CVREC001"
#define REC_BUF_MAX 4096u
/* What one notification may add at most: its chains are the guest's to make long. */
#define REC_KICK_MAX (1u << 20)

enum rec_type {
	REC_ACCESS = 1, /* a forwarded register access (after its reply) */
	REC_RAM = 2,	/* guest RAM the device will read next (before the kick) */
	REC_DEV = 3,	/* first, one per device: region = enum vm_dev_type, val = virtio id */
};

enum rec_ram_what {
	REC_RAM_AVAIL = 0,    /* avail ring header and entries (len 4 + 2 * n) */
	REC_RAM_DESC = 1,     /* one 16-byte descriptor of a queue's table */
	REC_RAM_INDIRECT = 2, /* an indirect table */
	REC_RAM_RBUF = 3,     /* a device-readable buffer (at most REC_BUF_MAX bytes) */
	REC_RAM_WBUF = 4,     /* a device-writable buffer: where and how long, no bytes */
};

struct rec_entry {
	uint8_t type;	/* enum rec_type */
	uint8_t dev;	/* device index in the plan */
	uint8_t flags;	/* REC_ACCESS: bit 0 port I/O, bit 1 write */
	uint8_t region; /* REC_ACCESS: the device's region; REC_RAM: enum rec_ram_what */
	uint8_t size;	/* REC_ACCESS: bytes accessed; REC_RAM: the queue */
	uint8_t pad[3];
	uint32_t len; /* REC_RAM: bytes of the range (and following, but for WBUF) */
	uint32_t pad2;
	uint64_t off; /* REC_ACCESS: offset in the region; REC_RAM: guest-physical address */
	uint64_t val; /* REC_ACCESS: value written or read */
};
_Static_assert(sizeof(struct rec_entry) == 32, "record entries are 32 bytes");

/* Start recording to fd (the plan's fd_record); false if it cannot. */
bool record__open(int fd, const struct vm_plan *plan, const struct gmem *ram);
/* Recording: queue notifications must exit (no ioeventfds). */
bool record__on(void);
/* Before a forwarded write: a queue notification records the RAM it makes visible. */
void record__before(unsigned dev, bool pio, unsigned region, uint64_t off, unsigned size,
		    bool write, uint64_t val);
/* After its reply: the access itself. */
void record__access(unsigned dev, bool pio, unsigned region, uint64_t off, unsigned size,
		    bool write, uint64_t val);

#endif
