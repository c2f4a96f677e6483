#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile images: valid qemu-img images with one field corrupted at a time.

    hostile.py QCOW2_TOOL

Each variant must be refused at open with a "qcow2: ..." message (exit 2),
or make the request fail (exit 1), as listed; never crash or trip a
sanitizer (build with -Db_sanitize=address,undefined to check the latter).
"""
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402  (run(), tool(), create(), qio())

MiB = 1 << 20
CS = 4096
OFF_MASK = 0x00fffffffffffe00
failures = []


def hdr(img):
    with open(img, "rb") as f:
        h = f.read(112)
    l1_size, l1_off, rt_off = struct.unpack(">IQQ", h[36:56])
    return dict(l1_size=l1_size, l1_off=l1_off, rt_off=rt_off)


def u64(img, off):
    with open(img, "rb") as f:
        f.seek(off)
        return struct.unpack(">Q", f.read(8))[0]


def poke(data, off, fmt, *val):
    struct.pack_into(fmt, data, off, *val)


def l2_of(data, h, idx=0):
    """Offset of the L2 entry for guest cluster idx."""
    l1e = struct.unpack_from(">Q", data, h["l1_off"] + 8 * (idx // (CS // 8)))[0]
    return (l1e & OFF_MASK) + 8 * (idx % (CS // 8))


def case(name, data, expect, cmds, d, after=None, ro=False):
    path = os.path.join(d, "h.qcow2")
    with open(path, "wb") as f:
        f.write(data)
    try:
        p = interop.tool(path, *cmds, expect=None, ro=ro)
    except RuntimeError as e:
        failures.append("%s: %s" % (name, e))
        print("FAIL", name, e)
        return
    ok = (expect == "any" or (expect == "refuse" and p.returncode == 2 and "qcow2:" in p.stderr)
          or (expect == "fail" and p.returncode == 1))
    if ok and after:
        ok = after(path)
    print("%-4s %-45s rc=%d %s" % ("ok" if ok else "FAIL", name, p.returncode,
                                   p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""))
    if not ok:
        failures.append(name)


def corrupt_bit_set(path):
    with open(path, "rb") as f:
        f.seek(72)
        return struct.unpack(">Q", f.read(8))[0] & 2 != 0


def main():
    interop.TOOL = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="qcow2-hostile-") as d:
        base = os.path.join(d, "base.qcow2")
        interop.create(base, 16 * MiB, "cluster_size=%d" % CS)
        interop.qio(base, "write -P 0x11 0 64k", "write -P 0x22 8M 4k")
        good = bytearray(open(base, "rb").read())
        h = hdr(base)
        rw = ["readany", "0", str(MiB), "readany", str(15 * MiB), str(MiB),
              "write", "4096", "8192", "0x5a", "write", str(12 * MiB), "4096", "0x5b", "flush"]
        case("unchanged image", good, "any", rw, d)

        def hv(name, off, fmt, val, expect="refuse", cmds=rw, after=None, ro=False):
            data = bytearray(good)
            poke(data, off, fmt, val)
            case(name, data, expect, cmds, d, after, ro)

        hv("magic", 0, ">I", 0x51464900)
        hv("version 1", 4, ">I", 1)
        hv("version 4", 4, ">I", 4)
        hv("backing offset past cluster", 8, ">Q", 1 << 40)
        data = bytearray(good)
        poke(data, 8, ">Q", 48)
        poke(data, 16, ">I", 10)
        case("backing name inside the header", data, "refuse", rw, d)
        data = bytearray(good)
        poke(data, 8, ">Q", 1024)
        poke(data, 16, ">I", 2000)
        case("backing name too long", data, "refuse", rw, d)
        data = bytearray(good)
        poke(data, 8, ">Q", 1024)
        poke(data, 16, ">I", 8)
        data[1024:1032] = b"ab\0cdefg"
        case("backing name with NUL", data, "refuse", ["probe"], d)
        hv("backing length without offset", 16, ">I", 5)
        for cb in (0, 8, 22, 0xffffffff):
            hv("cluster_bits %d" % cb, 20, ">I", cb)
        for sz in (513, 1 << 62, (1 << 64) - 512, 1 << 57):
            hv("size %#x" % sz, 24, ">Q", sz)
        hv("encrypted", 32, ">I", 1)
        hv("l1_size 0", 36, ">I", 0)
        hv("l1_size huge", 36, ">I", 0xffffffff)
        hv("l1_size past EOF", 36, ">I", 1 << 20)
        hv("l1 offset 0", 40, ">Q", 0)
        hv("l1 offset unaligned", 40, ">Q", h["l1_off"] + 8)
        hv("l1 offset past EOF", 40, ">Q", 1 << 50)
        hv("l1 offset overflow", 40, ">Q", (1 << 64) - 4096)
        hv("l1 overlaps refcount table", 40, ">Q", h["rt_off"])
        hv("refcount table offset 0", 48, ">Q", 0)
        hv("refcount table unaligned", 48, ">Q", h["rt_off"] + 512)
        hv("refcount table past EOF", 48, ">Q", 1 << 50)
        hv("refcount table overlaps L1", 48, ">Q", h["l1_off"])
        hv("refcount table 0 clusters", 56, ">I", 0)
        hv("refcount table huge", 56, ">I", 0xffffffff)
        hv("refcount table past EOF (size)", 56, ">I", 1000)
        hv("too many snapshots", 60, ">I", 100000)
        hv("snapshot without table", 60, ">I", 1)
        hv("incompat external data file", 72, ">Q", 4)
        hv("incompat extended L2", 72, ">Q", 16)
        hv("incompat unknown bit 9", 72, ">Q", 1 << 9)
        hv("incompat unknown bit 63", 72, ">Q", 1 << 63)
        data = bytearray(good)
        poke(data, 72, ">Q", 8)
        poke(data, 100, ">I", 112)
        data[104] = 1
        case("compression type zstd", data, "refuse", rw, d)
        hv("refcount_order 7", 96, ">I", 7)
        hv("header_length 50", 100, ">I", 50)
        hv("header_length 105", 100, ">I", 105)
        hv("header_length past cluster", 100, ">I", 1 << 20)
        hv("corrupt bit: rw refused", 72, ">Q", 2)
        hv("corrupt bit: ro read allowed", 72, ">Q", 2, expect="any",
           cmds=["read", "0", "4096", "0x11"], ro=True)
        # header extensions (qemu-img puts a feature table right after the header)
        ext = 104 if struct.unpack_from(">I", good, 100)[0] == 104 else \
            struct.unpack_from(">I", good, 100)[0]
        data = bytearray(good)
        poke(data, ext, ">II", 0x12345678, 0xfffffff0)
        case("extension length huge", data, "refuse", rw, d)
        data = bytearray(good)
        poke(data, ext, ">II", 0x12345678, 4096 - ext - 8 + 1)
        case("extension one byte past the cluster", data, "refuse", rw, d)
        data = bytearray(good)
        poke(data, ext, ">II", 0x6803f857, 48)
        poke(data, ext + 8, ">BB", 0, 9)
        data[ext + 10:ext + 20] = b"frobnicate"
        poke(data, 72, ">Q", 1 << 9)
        case("unknown feature named from the table", data, "refuse", rw, d)
        hv("extension: external data file", ext, ">I", 0x44415441)
        hv("extension: encryption", ext, ">I", 0x0537be77)
        data = bytearray(good)
        poke(data, ext, ">II", 0xe2792aca, 100)
        case("extension: backing format too long", data, "refuse", rw, d)
        # tables
        l1 = h["l1_off"]
        l2e = u64(base, l1)
        hv("L1 entry past EOF", l1, ">Q", (1 << 40) | (1 << 63))
        hv("L1 entry unaligned", l1, ">Q", l2e + 512)
        hv("L1 entry reserved bits", l1, ">Q", l2e | 1)
        hv("L1 entry = refcount table", l1, ">Q", h["rt_off"] | (1 << 63))
        hv("L1 entry = L1 table", l1, ">Q", l1 | (1 << 63))
        # 2 MiB virtual: the L1 entry of the data at 8 MiB lies beyond it
        hv("L1 entry beyond the virtual size", 24, ">Q", 2 * MiB)
        rte = u64(base, h["rt_off"])
        hv("refcount table entry past EOF", h["rt_off"], ">Q", 1 << 40)
        hv("refcount table entry unaligned", h["rt_off"], ">Q", rte + 512)
        hv("refcount table entry reserved", h["rt_off"], ">Q", rte | 1 << 60)
        hv("refcount table entry = L1", h["rt_off"], ">Q", l1)
        l2 = l2e & OFF_MASK
        d0 = u64(base, l2)
        rd = ["readany", "0", "4096"]
        hv("L2 entry unaligned: read fails", l2, ">Q", d0 + 512, "fail", rd)
        hv("L2 entry reserved bits: read fails", l2, ">Q", d0 | 2, "fail", rd)
        hv("L2 entry past EOF: zeros", l2, ">Q", (1 << 40) | (1 << 63), "any",
           ["read", "0", "4096", "0"])
        hv("L2 entry = L1: write marks corrupt", l2, ">Q", l1 | (1 << 63), "fail",
           ["write", "0", "512", "0x33"], after=corrupt_bit_set)
        hv("L2 entry = own table: write marks corrupt", l2, ">Q", l2 | (1 << 63), "fail",
           ["write", "0", "512", "0x33"], after=corrupt_bit_set)
        hv("L2 entry = header via compressed", l2, ">Q", (1 << 62) | 100, "fail", rd)
        # refcount of a data cluster 0: freeing it underflows
        rb = rte & OFF_MASK
        data = bytearray(good)
        poke(data, rb + 2 * ((d0 & OFF_MASK) // CS), ">H", 0)
        case("refcount underflow on discard", data, "fail",
             ["discard", "0", "4096", "flush"], d, after=corrupt_bit_set)
        # every refcount at the maximum: allocation must skip, not overflow
        data = bytearray(good)
        for i in range(0, CS, 2):
            if struct.unpack_from(">H", data, rb + i)[0] == 0:
                poke(data, rb + i, ">H", 0xffff)
        case("refcounts at max", data, "any", rw, d)
        # truncated files
        case("empty file", bytearray(), "refuse", rw, d)
        case("truncated to 100 bytes", good[:100], "refuse", rw, d)
        case("truncated to 1000 bytes", good[:1000], "refuse", rw, d)
        case("truncated to 3 clusters", good[:3 * CS], "refuse", rw, d)

        # compressed clusters
        raw, cimg = os.path.join(d, "c.raw"), os.path.join(d, "c.qcow2")
        with open(raw, "wb") as f:
            f.write(b"compressible " * 100000)
        interop.run("qemu-img", "convert", "-c", "-O", "qcow2", "-o", "cluster_size=%d" % CS,
                    "-f", "raw", raw, cimg)
        cgood = bytearray(open(cimg, "rb").read())
        ch = hdr(cimg)
        cl2 = l2_of(cgood, ch)
        ce = struct.unpack_from(">Q", cgood, cl2)[0]
        if not ce & (1 << 62):
            failures.append("no compressed entry")
        x = 62 - (12 - 8)
        coff = ce & ((1 << x) - 1)

        def cv(name, val, expect="fail", cmds=None):
            data = bytearray(cgood)
            poke(data, cl2, ">Q", val)
            case(name, data, expect, cmds or ["readany", "0", "4096"], d)
        case("compressed: valid", cgood, "any", ["cmpfile", "0", str(len(cgood) // 2), raw], d)
        cv("compressed past EOF", (1 << 62) | (len(cgood) + CS))
        cv("compressed into header", (1 << 62) | 8)
        cv("compressed max sectors past EOF", (1 << 62) | (15 << x) | (len(cgood) - 10))
        data = bytearray(cgood)
        data[coff:coff + 64] = bytes(random.Random(1).getrandbits(8) for _ in range(64))
        poke(data, cl2, ">Q", ce)
        case("compressed garbage", data, "fail", ["readany", "0", "4096"], d)
        # a decompression bomb: 64 MiB of zeros in one descriptor's worth of input
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        bomb = co.compress(b"\0" * (64 * MiB)) + co.flush()
        bomb = bomb[:16 * 512]
        data = bytearray(cgood)
        at = (len(data) + 511) & ~511
        data += b"\0" * (at - len(data)) + bomb
        poke(data, cl2, ">Q", (1 << 62) | ((len(bomb) + 511) // 512 - 1) << x | at)
        case("compressed bomb (output capped)", data, "any",
             ["read", "0", "4096", "0", "write", "100", "100", "0x44", "flush"], d)
        # short stream: less output than a cluster
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        short = co.compress(b"\1" * 100) + co.flush()
        data = bytearray(cgood)
        data[coff:coff + len(short)] = short
        poke(data, cl2, ">Q", (1 << 62) | coff)
        case("compressed: short output", data, "fail", ["readany", "0", "4096"], d)

        # seeded byte flips in the metadata clusters: any outcome but a crash
        rnd = random.Random(1234)
        meta = [0, h["l1_off"], h["rt_off"], l2, rb]
        for i in range(150):
            data = bytearray(good)
            for _ in range(rnd.choice((1, 2, 8))):
                pos = rnd.choice(meta) + rnd.randrange(0, 128 if rnd.random() < .7 else CS)
                data[pos] = rnd.getrandbits(8)
            case("flip %d" % i, data, "any", rw + ["discard", "0", "65536", "flush"], d)

    print("%d failure(s)" % len(failures) if failures else "all hostile images handled")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
