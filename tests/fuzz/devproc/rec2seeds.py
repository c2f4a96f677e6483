#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rec2seeds.py RECORD OUTDIR [--blk raw|qcow2] [--max-seeds N] [--prefix P]

Turns a device traffic record (`cellvm run --record FILE`, format in
vcpu-worker/record.h) into fuzz-devproc inputs (ops.h): one set per device
of the run, written as OUTDIR/devproc-KIND/P-KIND-NN. Each input stays
within the harness's limits (at most 500 ops, 256 KiB of guest RAM):

- register accesses become READ and WRITE ops on the same region and
  offset (the plan's regions are the harness's);
- virtio queues 0 to 2 move to fixed pages: queue q's descriptor table,
  avail and used rings to pages 3q, 3q + 1 and 3q + 2 (queue 0's are the
  ops.h layout, so the harness's verbose line reports its used idx); the
  buffers their chains name move to free pages above, each at most 8 KiB
  (descriptor lengths are cut to match), and every descriptor and indirect
  table is rewritten to the new addresses. Queues above 2 keep their
  recorded (now out of range) addresses and are not kicked;
- a notification becomes the RAM ops the recorder saw before it, then KICK
  and WAIT; a queue's new avail entries are renumbered from 0 in each input
  (the device starts each input from a reset), so every input's requests
  are the ones the guest made there, once each;
- a virtio device's set-up (everything before its first kick) opens every
  input, so each one starts from a driven device.

Prints one line per device kind: inputs written, ops, kicks.
"""
import argparse
import os
import struct
import sys

OP_READ, OP_WRITE, OP_RAM, OP_KICK, OP_WAIT = 0, 1, 2, 3, 4
RAM_SIZE, PAGE = 256 << 10, 4096
NQ = 3  # queues moved (net: rx, tx, ctrl); their rings take pages 0 .. 3 NQ - 1
FIRST_FREE_PAGE = 3 * NQ
RING_NAMES = ("desc", "avail", "used")


def ring_gpa(q, name):
    """Harness address of queue q's ring part (queue 0: ops.h's layout)."""
    return (3 * q + RING_NAMES.index(name)) * PAGE
MAX_OPS, MAX_BYTES, BUF_CAP = 500, 131072, 8192
OUT_OF_RANGE = 0x4000_0000  # a buffer that did not fit: the device refuses it

REC_ACCESS, REC_RAM, REC_DEV = 1, 2, 3
AVAIL, DESC, INDIRECT, RBUF, WBUF = 0, 1, 2, 3, 4
VM_DEV_SERIAL, VM_DEV_TESTDEV, VM_DEV_VIRTIO, VM_DEV_VGA, VM_DEV_INPUT = 1, 2, 3, 4, 5
VIRTIO_KIND = {1: "net", 2: "blk", 4: "rng"}
STATUS, Q_SELECT, Q_SIZE, Q_ENABLE = 0x14, 0x16, 0x18, 0x1c
Q_DESC, Q_DRIVER, Q_DEVICE = 0x20, 0x28, 0x30
NOTIFY_OFF, NOTIFY_LEN, NOTIFY_MULT = 0x3000, 0x1000, 4
ENTRY = struct.Struct("<BBBBB3xII QQ")


def read_record(path):
    data = open(path, "rb").read()
    if data[:8] != b"CVREC001":
        sys.exit(f"rec2seeds: {path}: not a cellvm record")
    pos, out = 8, []
    while pos + ENTRY.size <= len(data):
        typ, dev, flags, region, size, ln, _pad, off, val = ENTRY.unpack_from(data, pos)
        pos += ENTRY.size
        body = b""
        if typ == REC_RAM and region != WBUF:
            body = data[pos:pos + ln]
            pos += ln
        out.append((typ, dev, flags, region, size, ln, off, val, body))
    return out


def log2(size):
    return {1: 0, 2: 1, 4: 2, 8: 3}[size]


def op_access(write, region, size, off, val):
    op = bytes([OP_WRITE if write else OP_READ, region, log2(size)]) + \
        (off & 0xffff).to_bytes(2, "little")
    return op + (val & ((1 << 8 * size) - 1)).to_bytes(size, "little") if write else op


def op_ram(gpa, data):
    ops = []
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        ops.append(bytes([OP_RAM]) + (gpa + i).to_bytes(3, "little") + bytes([len(chunk)]) + chunk)
    return ops


class Device:
    """One device's inputs: a set-up prefix, then groups that fit."""

    def __init__(self, kind, virtio):
        self.kind, self.virtio = kind, virtio
        self.prefix, self.ops, self.inputs = [], [], []
        self.in_prefix = virtio
        self.sel, self.qsize = 0, {}
        self.rings = {}  # (queue, "desc" | "avail" | "used") -> guest address
        self.pending_lo = {}
        self.group = []  # RAM records since the last kick
        self.kicks = 0
        self.guest_idx = {}  # queue -> its avail idx in the guest at the last kick
        self.input_idx = {}  # the same in the current input (it starts from a reset)
        self.reset_pages()

    def reset_pages(self):
        self.pages, self.next_page, self.map_failed = {}, FIRST_FREE_PAGE, False

    # -- guest RAM -> harness RAM ------------------------------------
    def ring_addr(self, gpa):
        for (q, name), g in self.rings.items():
            size = self.qsize.get(q, 0)
            length = {"desc": 16 * size, "avail": 6 + 2 * size, "used": 6 + 8 * size}[name]
            if g <= gpa < g + length:
                return ring_gpa(q, name) + gpa - g
        return None

    def map_buf(self, gpa, length):
        """Harness address of guest range [gpa, gpa+length), or None if full."""
        r = self.ring_addr(gpa)
        if r is not None:
            return r
        first, last = gpa // PAGE, (gpa + max(length, 1) - 1) // PAGE
        missing = [p for p in range(first, last + 1) if p not in self.pages]
        if self.next_page + len(missing) > RAM_SIZE // PAGE:
            self.map_failed = True
            return None
        for p in missing:
            self.pages[p] = self.next_page
            self.next_page += 1
        return self.pages[first] * PAGE + gpa % PAGE

    def rewrite_desc(self, raw):
        addr, length, flags, nxt = struct.unpack("<QIHH", raw)
        if flags & 4:  # indirect: the table itself
            new = self.map_buf(addr, length)
        else:
            length = min(length, BUF_CAP)
            new = self.map_buf(addr, length)
        return struct.pack("<QIHH", OUT_OF_RANGE if new is None else new, length, flags, nxt)

    def group_ops(self):
        """(the queue's ops, the buffers' data ops): the second may be cut."""
        ops, data = [], []
        for _t, _d, _f, what, q, ln, gpa, _v, body in self.group:
            if q >= NQ:
                continue
            if what == AVAIL:
                size = self.qsize.get(q, 0)
                if not size or len(body) < 4 + 2 * size:
                    continue
                idx = struct.unpack_from("<H", body, 2)[0]
                g, i = self.guest_idx.get(q, 0), self.input_idx.get(q, 0)
                new = min((idx - g) & 0xffff, size)
                avail = ring_gpa(q, "avail")
                for k in range(new):
                    head = body[4 + 2 * ((g + k) % size):][:2]
                    ops += op_ram(avail + 4 + 2 * ((i + k) % size), head)
                self.guest_idx[q] = idx
                self.input_idx[q] = (i + new) & 0xffff
                ops += op_ram(avail + 2, struct.pack("<H", self.input_idx[q]))
            elif what == DESC:
                at = self.ring_addr(gpa)
                if at is not None and len(body) == 16:
                    ops += op_ram(at, self.rewrite_desc(body))
            elif what == INDIRECT:
                at = self.map_buf(gpa, ln)
                if at is not None:
                    ops += op_ram(at, b"".join(self.rewrite_desc(body[i:i + 16])
                                               for i in range(0, len(body) - 15, 16)))
            elif what == RBUF:
                at = self.map_buf(gpa, min(ln, BUF_CAP))
                if at is not None:
                    data += op_ram(at, body[:BUF_CAP])
        self.group = []
        return ops, data

    # -- inputs -----------------------------------------------------------
    def too_big(self, ops):
        return self.ops and (len(self.prefix) + len(self.ops) + len(ops) > MAX_OPS or
                             sum(map(len, self.prefix + self.ops + ops)) > MAX_BYTES)

    def emit(self, ops):
        if self.too_big(ops):
            self.flush()
        self.ops += ops

    def kick_ops(self, q):
        ring, data = self.group_ops()
        kick = [bytes([OP_KICK, q]), bytes([OP_WAIT, 2])]
        room = MAX_OPS - len(self.prefix) - len(ring) - len(kick)
        # a group too big for one input loses buffer contents first
        return ring + data[:max(room, 0)] + kick

    def kick(self, q):
        """A notification of queue q: its group in this input, or in a new
        one if it does not fit (whose avail numbering and pages start afresh)."""
        saved = (dict(self.guest_idx), dict(self.input_idx), list(self.group))
        self.map_failed = False
        ops = self.kick_ops(q)
        if self.ops and (self.too_big(ops) or self.map_failed):
            self.guest_idx, self.input_idx, self.group = saved
            self.flush()
            ops = self.kick_ops(q)
        self.ops += ops

    def flush(self):
        if self.ops:
            self.inputs.append(b"".join(self.prefix + self.ops))
        self.ops = []
        self.input_idx = {}
        self.reset_pages()

    def end_prefix(self):
        self.in_prefix = False
        if len(self.prefix) > MAX_OPS // 2:  # long probing: keep the writes
            self.prefix = [o for o in self.prefix if o[0] != OP_READ][:MAX_OPS // 2]

    def access(self, write, region, size, off, val):
        if size not in (1, 2, 4, 8):
            return
        if self.virtio and region == 0 and write:
            if off == STATUS and size == 1 and val == 0:
                self.guest_idx, self.input_idx = {}, {}  # the device starts every queue again
            elif off == Q_ENABLE and size == 2:
                self.guest_idx.pop(self.sel, None)
                self.input_idx.pop(self.sel, None)
            if off == Q_SELECT and size == 2:
                self.sel = val
            elif off == Q_SIZE and size == 2:
                self.qsize[self.sel] = val
            elif self.sel < NQ and size == 4 and off in (Q_DESC, Q_DRIVER, Q_DEVICE):
                self.pending_lo[off] = val
                return
            elif self.sel < NQ and size == 4 and off - 4 in (Q_DESC, Q_DRIVER, Q_DEVICE):
                name = {Q_DESC: "desc", Q_DRIVER: "avail", Q_DEVICE: "used"}[off - 4]
                self.rings[(self.sel, name)] = self.pending_lo.pop(off - 4, 0) | val << 32
                ops = [op_access(True, 0, 4, off - 4, ring_gpa(self.sel, name)),
                       op_access(True, 0, 4, off, 0)]
                (self.prefix if self.in_prefix else self.ops).extend(ops)
                return
            elif NOTIFY_OFF <= off < NOTIFY_OFF + NOTIFY_LEN and off % NOTIFY_MULT == 0:
                q = (off - NOTIFY_OFF) // NOTIFY_MULT
                if q >= NQ:
                    self.group = []
                    return
                if self.in_prefix:
                    self.end_prefix()
                self.kicks += 1
                self.kick(q)
                return
        op = op_access(write, region, size, off, val)
        if self.in_prefix:
            self.prefix.append(op)
        else:
            self.emit([op])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("record")
    ap.add_argument("outdir")
    ap.add_argument("--blk", choices=["raw", "qcow2"], default="raw")
    ap.add_argument("--max-seeds", type=int, default=16)
    ap.add_argument("--prefix", default="rec")
    a = ap.parse_args()
    devs = {}
    for typ, dev, flags, region, size, ln, off, val, body in read_record(a.record):
        if typ == REC_DEV:
            kind = {VM_DEV_SERIAL: "serial", VM_DEV_VGA: "vga", VM_DEV_INPUT: "input"}.get(region)
            if region == VM_DEV_VIRTIO:
                kind = VIRTIO_KIND.get(val)
                kind = f"blk-{a.blk}" if kind == "blk" else kind
            if kind:
                devs[dev] = Device(kind, region == VM_DEV_VIRTIO)
        elif dev in devs and typ == REC_RAM:
            devs[dev].group.append((typ, dev, flags, region, size, ln, off, val, body))
        elif dev in devs and typ == REC_ACCESS:
            devs[dev].access(bool(flags & 2), region, size, off, val)
    for dev, d in sorted(devs.items()):
        d.flush()
        if not d.inputs and d.prefix:
            d.inputs.append(b"".join(d.prefix))
        out = os.path.join(a.outdir, f"devproc-{d.kind}")
        os.makedirs(out, exist_ok=True)
        step = max(1, len(d.inputs) // a.max_seeds)
        chosen = d.inputs[::step][:a.max_seeds]
        for i, data in enumerate(chosen):
            with open(os.path.join(out, f"{a.prefix}-{d.kind}-{dev}-{i:02d}"), "wb") as f:
                f.write(data)
        print(f"rec2seeds: device {dev} ({d.kind}): {len(chosen)} of {len(d.inputs)} inputs, "
              f"{d.kicks} kicks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
