#!/usr/bin/env python3
# Writes the loader-kernel seeds: an ELF64 with a PVH note, an ELF64 vmlinux
# and a bzImage (protocol 2.15), each small enough for the fuzzer's 8 MiB RAM.
#   tests/fuzz/loader/make-seeds.py tests/fuzz/corpus/loader-kernel
import struct
import sys


def elf(segs, entry, pvh=None):
    """segs: [(paddr, vaddr, memsz, data)]; pvh: entry for a 4-byte PVH note."""
    nph = len(segs) + (1 if pvh is not None else 0)
    off = 64 + 56 * nph
    out = bytearray(off)
    out[0:16] = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", out, 16, 2, 62, 1, entry, 64, 0, 0, 64, 56, nph, 0, 0, 0)
    phs = []
    note = b""
    if pvh is not None:
        note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", pvh)
    data = bytearray()
    data_off = off + len(note)
    for paddr, vaddr, memsz, d in segs:
        phs.append(struct.pack("<IIQQQQQQ", 1, 7, data_off + len(data), vaddr, paddr, len(d), memsz, 0x1000))
        data += d
    if pvh is not None:
        phs.append(struct.pack("<IIQQQQQQ", 4, 4, off, 0, 0, len(note), len(note), 4))
    for i, ph in enumerate(phs):
        out[64 + 56 * i:64 + 56 * (i + 1)] = ph
    return bytes(out) + note + bytes(data)


def bzimage():
    setup_sects, kbytes = 4, 0x200
    out = bytearray((setup_sects + 1) * 512)
    out[0:2] = b"MZ"
    out[0x1f1] = setup_sects
    struct.pack_into("<I", out, 0x1f4, kbytes // 16)
    struct.pack_into("<H", out, 0x1fe, 0xAA55)
    out[0x200:0x202] = b"\xeb\x6a"
    out[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", out, 0x206, 0x020F)
    out[0x211] = 0x01
    struct.pack_into("<I", out, 0x22C, 0x7FFFFFFF)
    struct.pack_into("<I", out, 0x230, 0x200000)
    out[0x234] = 1
    struct.pack_into("<H", out, 0x236, 0x7F)
    struct.pack_into("<I", out, 0x238, 0x7FF)
    struct.pack_into("<Q", out, 0x258, 0x200000)
    struct.pack_into("<I", out, 0x260, 0x100000)
    return bytes(out) + bytes((i * 13) & 0xFF for i in range(kbytes))


def main():
    d = sys.argv[1]
    code = bytes((i * 7) & 0xFF for i in range(0x100))
    seeds = {
        "pvh.elf": elf([(0x100000, 0x100000, 0x2000, code), (0x300000, 0x300000, 0x100, code[:0x80])],
                       0x100000, pvh=0x100010),
        "vmlinux.elf": elf([(0x200000, 0xFFFFFFFF80200000, 0x1000, code), (0x201000, 0, 0x100, code[:0x40])],
                           0x200000),
        "bzimage": bzimage(),
    }
    for name, blob in seeds.items():
        with open(f"{d}/{name}", "wb") as f:
            f.write(blob)


main()
