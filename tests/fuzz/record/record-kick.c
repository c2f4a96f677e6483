/* SPDX-License-Identifier: MIT */
/*
 * record-kick: the --record recorder (vcpu-worker/record.c) against a
 * hostile guest. Byte 0: log2 of the queue size the driver writes (0-15,
 * so up to 32768, past what any device offers); byte 1: how many
 * notifications; the rest is guest RAM from GPA 0 (descriptor table at 0,
 * avail ring at 0x1000): looping chains, indirect tables anywhere, lengths
 * up to 4 GiB, avail indices that jump. Oracle: no sanitizer report; one
 * notification adds at most REC_KICK_MAX bytes; every RAM range in the
 * record lies inside guest RAM and its bytes are the guest's.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-procs/virtio/virtio_pci_regs.h"
#include "fuzz.h"
#include "log.h"
#include "vcpu-worker/record.h"

#define RAM (64u << 10)

static uint8_t *ram;
static int fd = -1;

static void reg(uint64_t off, unsigned size, uint64_t val)
{
	record__before(0, false, 0, off, size, true, val);
	record__access(0, false, 0, off, size, true, val);
}

/* Every entry of the record so far is well formed and true to guest RAM. */
static void check(size_t end)
{
	static uint8_t buf[REC_KICK_MAX * 3];
	if (end > sizeof(buf) || pread(fd, buf, end, 0) != (ssize_t)end ||
	    memcmp(buf, REC_MAGIC, 8))
		abort();
	for (size_t pos = 8; pos < end;) {
		struct rec_entry e;
		if (end - pos < sizeof(e))
			abort();
		memcpy(&e, buf + pos, sizeof(e));
		pos += sizeof(e);
		if (e.type != REC_RAM)
			continue;
		if (e.off > RAM || e.len > RAM - e.off)
			abort(); /* a range outside guest RAM */
		if (e.region == REC_RAM_WBUF)
			continue;
		if (end - pos < e.len || memcmp(buf + pos, ram + e.off, e.len))
			abort();
		pos += e.len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem gm;
	static struct vm_plan plan;
	if (!ram) {
		log__set_level(0);
		ram = calloc(1, RAM);
		fd = memfd_create("record", MFD_CLOEXEC);
		if (!ram || fd < 0)
			abort();
		gmem__init(&gm, ram, RAM);
		plan.ndevs = 1;
		plan.devs[0].type = VM_DEV_VIRTIO;
	}
	if (size < 2)
		return 0;
	memset(ram, 0, RAM);
	memcpy(ram, data + 2, size - 2 < RAM ? size - 2 : RAM);
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 || !record__open(fd, &plan, &gm))
		abort();
	reg(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	reg(VIRTIO_PCI_COMMON_Q_SIZE, 2, 1u << (data[0] & 15));
	reg(VIRTIO_PCI_COMMON_Q_DESC, 4, 0);
	reg(VIRTIO_PCI_COMMON_Q_DESC + 4, 4, 0);
	reg(VIRTIO_PCI_COMMON_Q_DRIVER, 4, 0x1000);
	reg(VIRTIO_PCI_COMMON_Q_DRIVER + 4, 4, 0);
	reg(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	off_t before = lseek(fd, 0, SEEK_CUR);
	for (unsigned k = 0; k < 1u + data[1] % 3; k++) {
		reg(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		off_t now = lseek(fd, 0, SEEK_CUR);
		/* the notify access itself is one more entry */
		if (now - before > (off_t)(REC_KICK_MAX + sizeof(struct rec_entry)))
			abort();
		before = now;
	}
	check((size_t)lseek(fd, 0, SEEK_CUR));
	return 0;
}
