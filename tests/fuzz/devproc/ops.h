/* SPDX-License-Identifier: MIT */
/*
 * The input format of fuzz-devproc: a sequence of operations, each one
 * opcode byte (taken modulo OP_COUNT) followed by its operands,
 * little-endian; a short input reads zeros. After the last op the harness
 * resets the device (IPC_OP_CTRL_RESET) and checks what it wrote.
 *
 *  READ   region:1 size:1 off:2          register read through the ring (size
 *                                         1 << (size % 4); clamped inside the region)
 *  WRITE  region:1 size:1 off:2 val:size  register write through the ring
 *  RAM    gpa:3 len:1 bytes:len           guest RAM write (virtio devices)
 *  KICK   q:1                             signal queue q's ioeventfd
 *  WAIT   t:1                             wait up to 250 us * (1 + t % 3) for an interrupt
 *  BACKEND len:1 bytes:len [off:3|more:2] serial: console input; input: one event
 *                                         datagram (len 0: 24 bytes); blk: write the
 *                                         image file at off (someone else's change);
 *                                         net: one rx frame of len + more bytes, the
 *                                         bytes first (the vnet header), then a pattern;
 *                                         qcow2: a re-spawn, so only opcode bytes
 *                                         >= 0xc0, lower ones that map here are READs
 *  RESET                                  IPC_OP_CTRL_RESET
 *  RAW    op:1 region:1 off:2 size:1 val:8  any request, unchecked: a malformed one
 *                                         must make the device leave the channel (and
 *                                         costs a re-spawn: only the opcode byte 0xf7;
 *                                         lower ones that map here are READs)
 *  VIRTIO_SETUP features:4 qlog:1         driver set-up of queue 0 (size 1 << qlog % 9)
 *                                         at the layout below, vector 1, DRIVER_OK
 *  DESC   i:1 addr:3 len:2 flags:1 next:1 descriptor i of queue 0's table
 *  PUBLISH head:1                         avail ring entry, then a kick
 *  BLK_REQ type:1 sector:2 len:2 flags:1 [num:1 unmap:1 sector:2]
 *                                         a virtio-blk request (header, data, status;
 *                                         flags bit 0: any length, bit 1: indirect),
 *                                         published and kicked
 */
#ifndef CELLVM_DEVFUZZ_OPS_H
#define CELLVM_DEVFUZZ_OPS_H

enum {
	OP_READ,
	OP_WRITE,
	OP_RAM,
	OP_KICK,
	OP_WAIT,
	OP_BACKEND,
	OP_RESET,
	OP_RAW,
	OP_VIRTIO_SETUP,
	OP_DESC,
	OP_PUBLISH,
	OP_BLK_REQ,
	OP_COUNT
};

/* Guest-RAM layout of VIRTIO_SETUP and BLK_REQ (RAM is 256 KiB). */
#define OPS_DESC_GPA	 0x0000u
#define OPS_AVAIL_GPA	 0x1000u
#define OPS_USED_GPA	 0x2000u
#define OPS_HDR_GPA	 0x3000u /* 16 bytes per descriptor slot */
#define OPS_STATUS_GPA	 0x4000u /* 1 byte per slot */
#define OPS_INDIRECT_GPA 0x5000u /* 64 tables of 3 descriptors */
#define OPS_DATA_GPA	 0x8000u /* 4 buffers of OPS_DATA_MAX */
#define OPS_DATA_MAX	 0x8000u

#endif
