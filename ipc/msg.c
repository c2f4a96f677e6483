/* SPDX-License-Identifier: MIT */
/* Validators for struct ipc_msg: every field is checked, nothing is trusted. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t n, const char *fmt, ...)
{
	if (why && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return false;
}

bool ipc_msg__is_read(uint32_t op)
{
	return op == IPC_OP_MMIO_READ || op == IPC_OP_PIO_READ || op == IPC_OP_PCI_CFG_READ;
}

const char *ipc_msg__op_name(uint32_t op)
{
	switch (op) {
	case IPC_OP_MMIO_READ:
		return "mmio-read";
	case IPC_OP_MMIO_WRITE:
		return "mmio-write";
	case IPC_OP_PIO_READ:
		return "pio-read";
	case IPC_OP_PIO_WRITE:
		return "pio-write";
	case IPC_OP_PCI_CFG_READ:
		return "pci-cfg-read";
	case IPC_OP_PCI_CFG_WRITE:
		return "pci-cfg-write";
	case IPC_OP_CTRL_PING:
		return "ping";
	case IPC_OP_CTRL_SHUTDOWN:
		return "shutdown";
	case IPC_OP_CTRL_RESET:
		return "reset";
	case IPC_OP_REPLY:
		return "reply";
	}
	return "unknown";
}

static bool size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Does `data` fit in `size` bytes (size 0: must be 0)? */
static bool data_fits(uint64_t data, uint32_t size)
{
	if (size >= 8)
		return true;
	return (data >> (size * 8)) == 0;
}

static bool reserved_zero(const struct ipc_msg *m)
{
	return m->pad == 0 && m->reserved[0] == 0 && m->reserved[1] == 0 && m->reserved[2] == 0;
}

bool ipc_msg__check_request(const struct ipc_msg *m, const struct ipc_region_limits *lim, char *why,
			    size_t n)
{
	uint64_t limit;

	if (!reserved_zero(m))
		return fail(why, n, "request seq %u: reserved fields not zero", m->seq);
	if (m->status != 0)
		return fail(why, n, "request seq %u: status %d set in a request", m->seq,
			    m->status);
	switch (m->op) {
	case IPC_OP_CTRL_PING:
	case IPC_OP_CTRL_SHUTDOWN:
	case IPC_OP_CTRL_RESET:
		if (m->region || m->off || m->size || m->data)
			return fail(why, n, "request seq %u: %s with non-zero operands", m->seq,
				    ipc_msg__op_name(m->op));
		return true;
	case IPC_OP_PCI_CFG_READ:
	case IPC_OP_PCI_CFG_WRITE:
		if (!lim->pci_cfg)
			return fail(why, n, "request seq %u: PCI config access to a non-PCI device",
				    m->seq);
		if (m->region != 0)
			return fail(why, n, "request seq %u: PCI config access with region %u",
				    m->seq, m->region);
		if (m->size != 1 && m->size != 2 && m->size != 4)
			return fail(why, n, "request seq %u: PCI config access of size %u", m->seq,
				    m->size);
		limit = IPC_PCI_CFG_SIZE;
		break;
	case IPC_OP_MMIO_READ:
	case IPC_OP_MMIO_WRITE:
	case IPC_OP_PIO_READ:
	case IPC_OP_PIO_WRITE: {
		bool pio = m->op == IPC_OP_PIO_READ || m->op == IPC_OP_PIO_WRITE;
		if (lim->nregions > IPC_MAX_REGIONS)
			return fail(why, n, "device limits: %u regions (max %u)", lim->nregions,
				    IPC_MAX_REGIONS);
		if (m->region >= lim->nregions)
			return fail(why, n, "request seq %u: region %u out of range (%u regions)",
				    m->seq, m->region, lim->nregions);
		if (!size_ok(m->size) || (pio && m->size > 4))
			return fail(why, n, "request seq %u: %s of size %u", m->seq,
				    ipc_msg__op_name(m->op), m->size);
		if (pio != !!(lim->pio_mask & (1u << m->region)))
			return fail(why, n, "request seq %u: %s to a %s region %u", m->seq,
				    ipc_msg__op_name(m->op), pio ? "memory" : "port", m->region);
		limit = lim->size[m->region];
		break;
	}
	default:
		return fail(why, n, "request seq %u: unknown op %u", m->seq, m->op);
	}
	/* off + size <= limit, written so that it cannot overflow */
	if (limit < m->size || m->off > limit - m->size)
		return fail(
		    why, n,
		    "request seq %u: %s at offset 0x%llx size %u outside region of 0x%llx bytes",
		    m->seq, ipc_msg__op_name(m->op), (unsigned long long)m->off, m->size,
		    (unsigned long long)limit);
	if (ipc_msg__is_read(m->op)) {
		if (m->data != 0)
			return fail(why, n, "request seq %u: read with non-zero data", m->seq);
	} else if (!data_fits(m->data, m->size)) {
		return fail(why, n, "request seq %u: write data 0x%llx wider than %u bytes", m->seq,
			    (unsigned long long)m->data, m->size);
	}
	return true;
}

bool ipc_msg__check_reply(const struct ipc_msg *m, uint32_t expected_seq, uint32_t expected_size,
			  char *why, size_t n)
{
	if (m->op != IPC_OP_REPLY)
		return fail(why, n, "reply: op %u is not a reply", m->op);
	if (m->seq != expected_seq)
		return fail(why, n, "reply: seq %u, expected %u", m->seq, expected_seq);
	if (!reserved_zero(m) || m->region != 0 || m->off != 0)
		return fail(why, n, "reply seq %u: reserved fields not zero", m->seq);
	if (m->size != expected_size)
		return fail(why, n, "reply seq %u: size %u, expected %u", m->seq, m->size,
			    expected_size);
	if (m->status > 0 || m->status < -4095)
		return fail(why, n, "reply seq %u: status %d is not 0 or -errno", m->seq,
			    m->status);
	if (m->status != 0 && m->data != 0)
		return fail(why, n, "reply seq %u: data with an error status", m->seq);
	if (!data_fits(m->data, expected_size))
		return fail(why, n, "reply seq %u: data 0x%llx wider than %u bytes", m->seq,
			    (unsigned long long)m->data, expected_size);
	return true;
}

void ipc_msg__make_reply(struct ipc_msg *rep, const struct ipc_msg *req, uint64_t data,
			 int32_t status)
{
	uint32_t size = ipc_msg__is_read(req->op) ? req->size : 0;

	memset(rep, 0, sizeof(*rep));
	rep->op = IPC_OP_REPLY;
	rep->seq = req->seq;
	rep->size = size;
	if (status > 0 || status < -4095)
		status = -5; /* -EIO */
	rep->status = status;
	if (status == 0 && size)
		rep->data = size >= 8 ? data : data & ((1ull << (size * 8)) - 1);
}
