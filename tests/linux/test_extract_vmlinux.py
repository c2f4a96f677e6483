#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""extract_vmlinux on synthetic bzImages: each compressor, with and without
payload_offset, decoy magics before the real payload, and refusals."""
import bz2
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract_vmlinux as ev  # noqa: E402


def fake_elf():
    hdr = bytearray(64)
    hdr[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HH", hdr, 16, 2, 62)
    return bytes(hdr) + bytes((i * 7) & 0xFF for i in range(20000))


def compress(kind, data):
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    if kind == "bzip2":
        return bz2.compress(data)
    tool = {"zstd": ["zstd", "-cq"], "lz4": ["lz4", "-lcq"]}[kind]
    return subprocess.run(tool, input=data, stdout=subprocess.PIPE, check=True).stdout


def bzimage(payload, use_offset=True, prefix=b"", version=0x020F):
    setup = bytearray(5 * 512)
    setup[0x1F1] = 4
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    # a decompressor stub with a decoy gzip magic, then the payload and a trailer
    stub = b"\x90" * 100 + b"\x1f\x8b\x08" + b"\x00" * 29 + prefix
    if use_offset:
        struct.pack_into("<II", setup, 0x248, len(stub), len(payload))
    return bytes(setup) + stub + payload + struct.pack("<I", 12345)


class Extract(unittest.TestCase):
    def check_kind(self, kind):
        if kind in ("zstd", "lz4") and not shutil.which(kind):
            self.skipTest(f"{kind} not installed")
        elf = fake_elf()
        for use_offset in (True, False):
            found, _, out = ev.extract(bzimage(compress(kind, elf), use_offset))
            self.assertEqual(found, kind)
            self.assertEqual(out, elf)

    def test_gzip(self):
        self.check_kind("gzip")

    def test_xz(self):
        self.check_kind("xz")

    def test_bzip2(self):
        self.check_kind("bzip2")

    def test_zstd(self):
        self.check_kind("zstd")

    def test_lz4(self):
        self.check_kind("lz4")

    def test_not_elf_refused(self):
        with self.assertRaises(ev.ExtractError):
            ev.extract(bzimage(gzip.compress(b"not an ELF" * 100)))

    def test_corrupt_payload_refused(self):
        payload = bytearray(compress("xz", fake_elf()))
        payload[len(payload) // 2] ^= 0xFF
        with self.assertRaises(ev.ExtractError):
            ev.extract(bzimage(bytes(payload)))

    def test_not_bzimage_refused(self):
        with self.assertRaises(ev.ExtractError):
            ev.extract(b"\x7fELF" + bytes(1000))
        with self.assertRaises(ev.ExtractError):
            ev.extract(b"")

    def test_payload_offset_past_file_falls_back_to_scan(self):
        img = bytearray(bzimage(compress("gzip", fake_elf())))
        struct.pack_into("<II", img, 0x248, 0xFFFFFF00, 0xFFFF)
        self.assertEqual(ev.extract(bytes(img))[0], "gzip")


if __name__ == "__main__":
    unittest.main(verbosity=2)
