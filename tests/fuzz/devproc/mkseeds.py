#!/usr/bin/env python3
"""Seeds for fuzz-devproc (ops.h): driver-like op sequences per device.
Writes tests/fuzz/corpus/devproc-DEVICE/seed-*. Run from the source root."""
import os
import struct

OP = {n: i for i, n in enumerate(
    "READ WRITE RAM KICK WAIT BACKEND RESET RAW VIRTIO_SETUP DESC PUBLISH BLK_REQ".split())}
SZ = {1: 0, 2: 1, 4: 2, 8: 3}


def rd(region, off, size):
    return bytes([OP["READ"], region, SZ[size]]) + struct.pack("<H", off)


def wr(region, off, size, val):
    return bytes([OP["WRITE"], region, SZ[size]]) + struct.pack("<H", off) + \
        val.to_bytes(size, "little")


def setup(features=0xffffffff, qlog=4):
    return bytes([OP["VIRTIO_SETUP"]]) + struct.pack("<IB", features, qlog)


def blk(t, sector, length, flags=0, seg=b""):
    return bytes([OP["BLK_REQ"], t]) + struct.pack("<HHB", sector, length, flags) + seg


def wait(ms=9):
    return bytes([OP["WAIT"], ms])


def backend(data, off=b""):
    # 0xc5 maps to BACKEND on every device; qcow2 takes only bytes >= 0xc0
    # as BACKEND (ops.h)
    op = OP["BACKEND"] + 16 * len(OP)
    assert op % len(OP) == OP["BACKEND"] and 0xc0 <= op <= 0xff
    return bytes([op, len(data)]) + data + off


# type bytes: index into IN OUT FLUSH GET_ID DISCARD WRITE_ZEROES
IN, OUT, FLUSH, GETID, DISCARD, WZ = range(6)
seeds = {
    "blk-raw": {
        "read": setup() + blk(IN, 0, 4096) + wait(),
        "write-read": setup() + blk(OUT, 8, 1024) + wait() + blk(IN, 8, 1024) + wait(),
        "indirect": setup() + blk(IN, 3, 512, 2) + wait() + blk(OUT, 5, 512, 2) + wait(),
        "flush-id": setup() + blk(FLUSH, 0, 0) + blk(GETID, 0, 20, 1) + wait(),
        "discard-wz": setup() + blk(DISCARD, 0, 0, 0, bytes([2, 0]) + struct.pack("<H", 4)) +
        blk(WZ, 0, 0, 0, bytes([4, 1]) + struct.pack("<H", 16)) + wait(),
        "odd": setup(qlog=2) + blk(IN, 0xffff, 511, 1) + blk(0xf3, 1, 16) + wait(),
        "regs": b"".join(rd(0, o, 4) for o in range(0, 0x38, 4)) + rd(0, 0x2000, 8) +
        wr(0, 0x14, 1, 0xff) + rd(0, 0x1000, 1),
        # regression: write-zeroes without unmap killed the device (fallocate
        # ZERO_RANGE was outside its seccomp profile)
        "regress-wz-zero-range": setup() + blk(WZ, 0, 0, 0, bytes([4, 0]) + struct.pack("<H", 8)) +
        wait(),
        "image-change": setup() + backend(b"\xff" * 16, b"\x00\x10\x00") + blk(IN, 8, 512) +
        wait(),
    },
    "vga": {
        "mode": b"".join(wr(0, 0, 2, i) + wr(0, 1, 2, v) for i, v in
                         [(4, 0), (1, 1024), (2, 768), (3, 32), (4, 0x41)]) + rd(0, 1, 2),
        "mmio": b"".join(wr(1, 0x500 + 2 * i, 2, v) for i, v in
                         [(4, 0), (1, 800), (2, 600), (3, 16), (6, 1600), (4, 1)]) +
        rd(1, 0x500, 2) + rd(1, 0x400, 1) + wr(1, 0x400, 1, 0x1),
        "bank": wr(0, 0, 2, 5) + wr(0, 1, 2, 3) + wr(0, 0, 2, 8) + wr(0, 1, 2, 100) +
        wr(0, 0, 2, 9) + wr(0, 1, 2, 4000) + rd(0, 1, 2),
    },
    "input": {
        "selftest": wr(1, 0, 1, 0xaa) + rd(0, 0, 1) + rd(1, 0, 1) + wait(),
        "kbd": wr(0, 0, 1, 0xff) + wait() + rd(0, 0, 1) + rd(0, 0, 1) + wr(0, 0, 1, 0xf0) +
        wr(0, 0, 1, 0x02) + rd(0, 0, 1),
        "mouse": wr(1, 0, 1, 0xa8) + wr(1, 0, 1, 0xd4) + wr(0, 0, 1, 0xf4) + rd(0, 0, 1) +
        backend(struct.pack("<IIIIHHI", 1, 0, 0, 1, 10, 20, 0)) + wait() + rd(0, 0, 1),
        "keys": backend(struct.pack("<IIIIHHI", 0, 1, 0x61, 0, 0, 0, 0)) +
        backend(struct.pack("<IIIIHHI", 0, 0, 0x61, 0, 0, 0, 0)) + wait() + rd(0, 0, 1) +
        rd(0, 0, 1) + wr(1, 0, 1, 0x60) + wr(0, 0, 1, 0x47),
    },
    "serial": {
        "hello": wr(0, 3, 1, 0x83) + wr(0, 0, 1, 1) + wr(0, 1, 1, 0) + wr(0, 3, 1, 3) +
        wr(0, 2, 1, 0xc7) + wr(0, 1, 1, 0xf) + b"".join(wr(0, 0, 1, c) for c in b"hi\n") +
        rd(0, 5, 1),
        "rx": wr(0, 1, 1, 1) + backend(b"abcdef") + wait() + rd(0, 5, 1) + rd(0, 0, 1) +
        rd(0, 2, 1) + rd(0, 0, 1),
        "loop": wr(0, 4, 1, 0x10) + wr(0, 0, 1, 0x55) + rd(0, 0, 1) + rd(0, 6, 1) +
        wr(0, 7, 1, 0x42) + rd(0, 7, 1),
    },
}
seeds["blk-qcow2"] = dict(seeds["blk-raw"])


def desc(i, addr, length, flags=0, nxt=0):
    return bytes([OP["DESC"], i]) + addr.to_bytes(3, "little") + \
        struct.pack("<HBB", length, flags, nxt)


def publish(head):
    return bytes([OP["PUBLISH"], head])


WRITE, NEXT = 2, 1  # descriptor flags
seeds["rng"] = {
    "fill": setup() + desc(0, 0x8000, 64, WRITE) + publish(0) + wait(),
    "chain": setup() + desc(0, 0x8000, 16, WRITE | NEXT, 1) + desc(1, 0x9000, 4096, WRITE) +
    publish(0) + wait(),
    "many": setup(qlog=2) + b"".join(desc(i, 0x8000 + 0x100 * i, 32, WRITE) + publish(i)
                                     for i in range(4)) + wait(),
    "readable": setup() + desc(0, 0x8000, 64) + publish(0) + wait(),
    "regs": b"".join(rd(0, o, 4) for o in range(0, 0x38, 4)) + rd(0, 0x3000, 1),
}


def frame(hdr, more):
    """BACKEND for net: an rx frame, hdr (the 12-byte vnet header and what
    follows) then `more` pattern bytes."""
    return backend(hdr, struct.pack("<H", more))


PLAIN = bytes(12)  # no offload flags, no GSO
CSUM = bytes([1, 0]) + struct.pack("<HHHHH", 0, 0, 34, 16, 0)  # NEEDS_CSUM, TCP at 34
TSO4 = bytes([1, 1]) + struct.pack("<HHHHH", 54, 1448, 34, 16, 0)  # GSO TCPv4
seeds["net"] = {
    "rx": setup() + desc(0, 0x8000, 2048, WRITE) + publish(0) + frame(PLAIN, 60) + wait(),
    "rx-merge": setup() + b"".join(desc(i, 0x8000 + 0x1000 * i, 1526, WRITE) + publish(i)
                                   for i in range(8)) + frame(CSUM, 9000) + wait(),
    "rx-gso": setup() + b"".join(desc(i, 0x8000 + 0x1000 * i, 4096, WRITE) + publish(i)
                                 for i in range(16)) + frame(TSO4, 60000) + wait(),
    "rx-short": setup() + desc(0, 0x8000, 64, WRITE) + publish(0) + frame(PLAIN, 1) +
    frame(PLAIN, 3000) + wait(),
    "rx-nomrg": setup(features=0xffff7fff) + desc(0, 0x8000, 1526, WRITE) + publish(0) +
    frame(PLAIN, 1400) + wait(),
    "regs": b"".join(rd(0, o, 4) for o in range(0, 0x38, 4)) +
    b"".join(rd(0, 0x2000 + o, 2) for o in range(0, 10, 2)),
}


def ram(gpa, data):
    return bytes([OP["RAM"]]) + gpa.to_bytes(3, "little") + bytes([len(data)]) + data


def kick(q):
    return bytes([OP["KICK"], q])


def virtio_init(features, queues):
    """A driver's set-up by register writes: every queue q of `queues`
    (q -> base) at base (table), base + 0x1000 (avail), base + 0x2000 (used)."""
    ops = wr(0, 0x14, 1, 0) + wr(0, 0x14, 1, 1) + wr(0, 0x14, 1, 3) + \
        wr(0, 0x08, 4, 0) + wr(0, 0x0c, 4, features & 0xffffffff) + \
        wr(0, 0x08, 4, 1) + wr(0, 0x0c, 4, features >> 32) + wr(0, 0x14, 1, 0xb)
    for q, base in queues.items():
        ops += wr(0, 0x16, 2, q) + wr(0, 0x18, 2, 16) + wr(0, 0x20, 8, base) + \
            wr(0, 0x28, 8, base + 0x1000) + wr(0, 0x30, 8, base + 0x2000) + wr(0, 0x1c, 2, 1)
    return ops + wr(0, 0x14, 1, 0xf)


def chain(base, head_descs, q):
    """Descriptors (addr, len, flags, next) at base's table, head 0 published."""
    t = b"".join(struct.pack("<QIHH", *d) for d in head_descs)
    return ram(base, t) + ram(base + 0x1000, struct.pack("<HHH", 0, 1, 0)) + kick(q) + wait()


# net's tx (queue 1) and control queue (2): features MAC, MRG_RXBUF,
# CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, VERSION_1
NETF = 1 << 5 | 1 << 15 | 1 << 17 | 1 << 18 | 1 << 23 | 1 << 32
NETQ = {0: 0x0000, 1: 0x10000, 2: 0x18000}
ETH = bytes.fromhex("ffffffffffff525400000001") + b"\x08\x06" + bytes(46)
seeds["net"].update({
    "tx": virtio_init(NETF, NETQ) + ram(0x30000, PLAIN + ETH) +
    chain(0x10000, [(0x30000, 12 + len(ETH), 0, 0)], 1),
    "tx-split": virtio_init(NETF, NETQ) + ram(0x30000, PLAIN) + ram(0x30100, ETH) +
    chain(0x10000, [(0x30000, 12, NEXT, 1), (0x30100, len(ETH), 0, 0)], 1),
    "ctrl-promisc": virtio_init(NETF, NETQ) + ram(0x31000, bytes([0, 0, 1])) +
    chain(0x18000, [(0x31000, 3, NEXT, 1), (0x31100, 1, WRITE, 0)], 2),
    "ctrl-mac": virtio_init(NETF, NETQ) + ram(0x31000, bytes([1, 1, 2, 0, 0, 0, 0, 9])) +
    chain(0x18000, [(0x31000, 8, NEXT, 1), (0x31100, 1, WRITE, 0)], 2) +
    b"".join(rd(0, 0x2000 + o, 1) for o in range(6)),
})
for dev, s in seeds.items():
    d = os.path.join("tests/fuzz/corpus", "devproc-" + dev)
    os.makedirs(d, exist_ok=True)
    for name, data in s.items():
        fn = name if name.startswith("regress-") else "seed-" + name
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)
