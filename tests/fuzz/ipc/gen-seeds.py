#!/usr/bin/env python3
# Regenerates the seed corpora of the ipc fuzz targets (script format: script.h).
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, '..', 'corpus')
REQ_HEAD, REQ_TAIL, REP_HEAD, REP_TAIL, RINGS = 64, 128, 192, 256, 512


def msg(op, seq=0, region=0, size=0, off=0, data=0, status=0, pad=0):
    return struct.pack('<IIIIQQiI24x', op, seq, region, size, off, data, status, pad)


def w(off, data):
    return bytes([1]) + struct.pack('<HB', off, len(data)) + data


def u32(v):
    return struct.pack('<I', v)


def save(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


MR, MW, PR, PW, CR, CW, PING, REPLY = 1, 2, 3, 4, 5, 6, 16, 32
dev = 'ipc-device-reader'
# slots 4, two MMIO regions: two good requests, recv + serve_spin, arm
save(dev, 'valid', bytes([1, 2, 0]) + w(RINGS, msg(MR, 1, 0, 4, 0x10)) + w(REQ_HEAD, u32(1)) +
     b'\0' + w(RINGS + 64, msg(MW, 2, 1, 8, 0xff8, 0xdeadbeef)) + w(REQ_HEAD, u32(2)) +
     b'\x02\x03\x00')
save(dev, 'head-too-far', bytes([1, 2, 0]) + w(REQ_HEAD, u32(100)) + b'\0')
save(dev, 'head-backwards', bytes([1, 2, 0]) + w(RINGS, msg(PING, 1)) + w(REQ_HEAD, u32(1)) +
     b'\0' + w(REQ_HEAD, u32(0xffffffff)) + b'\0')
save(dev, 'bad-header', bytes([5, 2, 0, 0]) + w(0, u32(0x12345678)))
save(dev, 'bad-region', bytes([1, 2, 0]) + w(RINGS, msg(MR, 1, 5, 4)) + w(REQ_HEAD, u32(1)) + b'\0')
save(dev, 'overflow-off', bytes([1, 5, 0]) + w(RINGS, msg(MR, 1, 4, 8, 0xfffffffffffffffc)) +
     w(REQ_HEAD, u32(1)) + b'\0')
save(dev, 'pio-pci', bytes([2, 0x82, 2]) + w(RINGS, msg(PW, 1, 1, 2, 6, 0xffff)) +
     w(RINGS + 64, msg(CR, 2, 0, 4, 0xffc)) + w(REQ_HEAD, u32(2)) + b'\0\0\0')
save(dev, 'reply-ring-tail', bytes([0, 2, 0]) + w(RINGS, msg(PING, 1)) + w(REQ_HEAD, u32(1)) +
     w(REP_TAIL, u32(9)) + b'\0')

vc = 'ipc-vcpu-reader'
rep4 = RINGS + 4 * 64  # reply ring with 4 slots
save(vc, 'valid', bytes([1, 1, 0]) + w(rep4, msg(REPLY, 1, 0, 1, 0, 0x42)) + w(REP_HEAD, u32(1)) +
     b'\0\x00')
save(vc, 'wrong-seq', bytes([1, 1, 0]) + w(rep4, msg(REPLY, 2, 0, 1, 0, 0x42)) +
     w(REP_HEAD, u32(1)) + b'\0')
save(vc, 'too-wide', bytes([1, 1, 0]) + w(rep4, msg(REPLY, 1, 0, 1, 0, 0x4242)) +
     w(REP_HEAD, u32(1)) + b'\0')
save(vc, 'unsolicited', bytes([1, 0, 0]) + w(rep4, msg(REPLY, 1)) + w(REP_HEAD, u32(1)) + b'\0')
save(vc, 'req-tail', bytes([1, 0, 0]) + w(REQ_TAIL, u32(7)) + b'\x02\x00')
save(vc, 'call', bytes([1, 0, 0]) + w(rep4, msg(REPLY, 1, 0, 0)) + w(REP_HEAD, u32(1)) +
     b'\x02\x89' + b'\x02\x80')
save(vc, 'fill', bytes([0, 7, 0]) + b'\x02\x00\x02\x00\x03\x00')
save(vc, 'error-status', bytes([1, 1, 0]) + w(rep4, msg(REPLY, 1, 0, 1, 0, 0, -5)) +
     w(REP_HEAD, u32(1)) + b'\0')
