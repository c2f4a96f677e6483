#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extract the ELF vmlinux from an x86 bzImage.

The protected-mode part of a bzImage (after (setup_sects + 1) * 512 bytes of
real-mode setup) holds the decompressor and the compressed vmlinux. The
setup header's payload_offset/payload_length (protocol 2.08+) point at it;
failing that, the payload is found by scanning for a compression magic.
gzip and xz use Python's modules; zstd, lz4 and bzip2 the CLIs if present.

    extract_vmlinux.py BZIMAGE OUTPUT
"""
import bz2
import lzma
import shutil
import struct
import subprocess
import sys
import zlib

MAGICS = [
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("lz4", b"\x02\x21\x4c\x18"),  # legacy frame, as the kernel uses
    ("bzip2", b"BZh"),
]


class ExtractError(Exception):
    pass


def setup_size(img):
    if len(img) < 0x250 or img[0x202:0x206] != b"HdrS":
        raise ExtractError("not a bzImage (no HdrS)")
    sects = img[0x1F1] or 4
    return (sects + 1) * 512


def _cli(tool, args, data):
    exe = shutil.which(tool)
    if not exe:
        raise ExtractError(f"{tool} not installed")
    # lz4 and zstd stop at the end of the frame; trailing bytes are ignored
    # or reported on stderr, so only the output decides.
    r = subprocess.run([exe, *args], input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.stdout


def decompress(kind, data):
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if kind == "bzip2":
        return bz2.BZ2Decompressor().decompress(data)
    if kind == "zstd":
        return _cli("zstd", ["-dcq"], data)
    if kind == "lz4":
        return _cli("lz4", ["-dcq"], data)
    raise ExtractError(kind)


def is_elf64(blob):
    return len(blob) >= 64 and blob[:4] == b"\x7fELF" and blob[4] == 2 and struct.unpack_from("<H", blob, 18)[0] == 62


def candidates(img):
    start = setup_size(img)
    version = struct.unpack_from("<H", img, 0x206)[0]
    if version >= 0x208:
        off, length = struct.unpack_from("<II", img, 0x248)
        if off and length and start + off + length <= len(img):
            payload = img[start + off:start + off + length]
            for kind, magic in MAGICS:
                if payload.startswith(magic):
                    yield kind, start + off
    for kind, magic in MAGICS:
        pos = img.find(magic, start)
        while pos >= 0:
            yield kind, pos
            pos = img.find(magic, pos + 1)


def extract(img):
    tried = set()
    for kind, pos in candidates(img):
        if (kind, pos) in tried:
            continue
        tried.add((kind, pos))
        try:
            out = decompress(kind, img[pos:])
        except (ExtractError, OSError, EOFError, ValueError, lzma.LZMAError, zlib.error):
            continue
        if is_elf64(out):
            return kind, pos, out
    raise ExtractError("no compressed ELF vmlinux found")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    img = open(sys.argv[1], "rb").read()
    try:
        kind, pos, out = extract(img)
    except ExtractError as e:
        sys.exit(f"extract_vmlinux: {e}")
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    print(f"{kind} payload at {pos:#x}: vmlinux of {len(out)} bytes")


if __name__ == "__main__":
    main()
