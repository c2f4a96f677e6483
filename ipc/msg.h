/* SPDX-License-Identifier: MIT */
/*
 * The one message that crosses between the vcpu-worker and a device process,
 * over a shared-memory ring (ipc/chan.h) or a SEQPACKET socket (ipc/sock.h).
 *
 * Fixed size (64 bytes, one cache line), binary, no text, no pointers, no
 * lengths that index anything. Each reader copies the message out of shared
 * memory first and then validates the copy with the checkers below: the
 * device checks requests against its own region table (the vcpu-worker may be
 * compromised too), and the vcpu-worker checks replies even more strictly
 * (device processes are the likely-compromised side).
 */
#ifndef CELLVM_IPC_MSG_H
#define CELLVM_IPC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ipc_op {
	IPC_OP_NONE = 0, /* never valid */
	/* Guest accesses forwarded by the vcpu-worker (requests). */
	IPC_OP_MMIO_READ = 1,
	IPC_OP_MMIO_WRITE = 2,
	IPC_OP_PIO_READ = 3,
	IPC_OP_PIO_WRITE = 4,
	/* Reserved for PCI configuration space forwarding (region 0, off < 4096). */
	IPC_OP_PCI_CFG_READ = 5,
	IPC_OP_PCI_CFG_WRITE = 6,
	/* Control requests (region, off, size, data all zero). */
	IPC_OP_CTRL_PING = 16,
	IPC_OP_CTRL_SHUTDOWN = 17,
	IPC_OP_CTRL_RESET = 18,
	/* The only op a device may send. */
	IPC_OP_REPLY = 32,
};

struct ipc_msg {
	uint32_t op;	      /* enum ipc_op */
	uint32_t seq;	      /* set by the sender of a request; echoed by the reply */
	uint32_t region;      /* device region index (requests only) */
	uint32_t size;	      /* access size 1, 2, 4 or 8; in a reply: bytes of data */
	uint64_t off;	      /* offset inside the region */
	uint64_t data;	      /* write value / read result, zero above `size` bytes */
	int32_t status;	      /* reply: 0 or -errno; request: 0 */
	uint32_t pad;	      /* reserved, 0 */
	uint64_t reserved[3]; /* reserved, 0 */
};
_Static_assert(sizeof(struct ipc_msg) == 64, "ipc_msg must be one 64-byte cache line");

#define IPC_MAX_REGIONS	 8
#define IPC_PCI_CFG_SIZE 4096u

/* What a device exposes, as the device (not the sender) knows it. */
struct ipc_region_limits {
	uint32_t nregions;		/* <= IPC_MAX_REGIONS */
	uint32_t pio_mask;		/* bit i: region i is a port range (PIO ops only) */
	uint64_t size[IPC_MAX_REGIONS]; /* bytes in region i */
	bool pci_cfg;			/* accept PCI_CFG_READ/WRITE */
};

/* True for the two ops whose reply carries `size` bytes of data. */
bool ipc_msg__is_read(uint32_t op);
const char *ipc_msg__op_name(uint32_t op);

/*
 * Device side: is `m` a well-formed request for a device with limits `lim`?
 * On false, a one-line reason is written to why[n] (if why != NULL).
 */
bool ipc_msg__check_request(const struct ipc_msg *m, const struct ipc_region_limits *lim, char *why,
			    size_t n);

/*
 * vcpu side: is `m` the reply to request `expected_seq` carrying
 * `expected_size` bytes of data (the request's size for reads, 0 otherwise)?
 */
bool ipc_msg__check_reply(const struct ipc_msg *m, uint32_t expected_seq, uint32_t expected_size,
			  char *why, size_t n);

/* Fill `rep` as the reply to `req`; data is masked to the read size. */
void ipc_msg__make_reply(struct ipc_msg *rep, const struct ipc_msg *req, uint64_t data,
			 int32_t status);

#endif
