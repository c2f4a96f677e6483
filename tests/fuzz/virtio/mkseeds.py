#!/usr/bin/env python3
"""Write the seed corpora of the virtio fuzz targets (run from the repo root)."""
import os
import struct

root = 'tests/fuzz/corpus'
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def desc(addr, length, flags, nxt):
    return struct.pack('<QIHH', addr, length, flags, nxt)


def place(ram, off, blob):
    ram[off:off + len(blob)] = blob


def walk_seed(name, log2, flags, descs, heads, extra=()):
    ram = bytearray(0x3000 + 0x1000)
    place(ram, 0, b''.join(descs))
    place(ram, 0x1000, struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads))
    for off, blob in extra:
        place(ram, off, blob)
    os.makedirs(f'{root}/virtq-walk', exist_ok=True)
    open(f'{root}/virtq-walk/{name}', 'wb').write(bytes([log2 | flags]) + bytes(ram))


# virtq-walk: RAM 64 KiB, desc 0, avail 0x1000, used 0x2000; buffers at 0x3000+
walk_seed('direct', 3, 0, [desc(0x3000, 16, F_NEXT, 1), desc(0x3100, 512, F_NEXT | F_WRITE, 2),
                           desc(0x3400, 1, F_WRITE, 0)], [0])
walk_seed('two-chains', 3, 16, [desc(0x3000, 16, 0, 0), desc(0x3100, 8, F_WRITE, 0)], [0, 1])
walk_seed('indirect', 3, 8, [desc(0x3800, 48, F_INDIRECT, 0)], [0],
          [(0x3800, desc(0x3000, 16, F_NEXT, 1) + desc(0x3100, 64, F_NEXT | F_WRITE, 2) +
            desc(0x3200, 1, F_WRITE, 0))])
walk_seed('loop', 2, 0, [desc(0x3000, 16, F_NEXT, 1), desc(0x3000, 16, F_NEXT, 0)], [0])
walk_seed('over-ring', 2, 0, [desc(0x2000, 16, F_WRITE, 0)], [0])
walk_seed('nested-indirect', 3, 8, [desc(0x3800, 16, F_INDIRECT, 0)], [0],
          [(0x3800, desc(0x3900, 16, F_INDIRECT, 0))])
walk_seed('wrap', 7, 24, [desc(0xfffffffffffffff0, 0x20, 0, 0)], [0, 5, 200])

# blk-request: queue 0 area (desc 0, avail 0x1000, used 0x2000, scratch 0x3000), 0x8000 bytes
HDR, STATUS, DATA = 0x3000, 0x3800, 0x100000


def blk_seed(name, feat, descs, heads, hdrs=(), data=b''):
    area = bytearray(0x8000)
    place(area, 0, b''.join(descs))
    place(area, 0x1000, struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads))
    for off, blob in hdrs:
        place(area, off, blob)
    os.makedirs(f'{root}/blk-request', exist_ok=True)
    open(f'{root}/blk-request/{name}', 'wb').write(bytes([feat, 0]) + bytes(area) + data)


def hdr(t, sector):
    return struct.pack('<IIQ', t, 0, sector)


rw = lambda t, sector, n: [desc(HDR, 16, F_NEXT, 1), desc(DATA, n, F_NEXT | (F_WRITE if t == 0 else 0), 2),
                           desc(STATUS, 1, F_WRITE, 0)]
blk_seed('read', 0, rw(0, 3, 1024), [0], [(HDR, hdr(0, 3))])
blk_seed('write', 1, rw(1, 7, 512), [0], [(HDR, hdr(1, 7))], b'\x5a' * 512)
blk_seed('flush', 0, [desc(HDR, 16, F_NEXT, 1), desc(STATUS, 1, F_WRITE, 0)], [0], [(HDR, hdr(4, 0))])
blk_seed('get-id', 0, [desc(HDR, 16, F_NEXT, 1), desc(DATA, 20, F_NEXT | F_WRITE, 2),
                       desc(STATUS, 1, F_WRITE, 0)], [0], [(HDR, hdr(8, 0))])
seg = struct.pack('<QII', 4, 8, 0) + struct.pack('<QII', 40, 2, 1)
blk_seed('discard', 4, [desc(HDR, 16, F_NEXT, 1), desc(HDR + 16, 16, F_NEXT, 2),
                        desc(STATUS, 1, F_WRITE, 0)], [0], [(HDR, hdr(11, 0) + seg[:16])])
blk_seed('write-zeroes', 8, [desc(HDR, 16, F_NEXT, 1), desc(HDR + 16, 32, F_NEXT, 2),
                             desc(STATUS, 1, F_WRITE, 0)], [0], [(HDR, hdr(13, 0) + seg)])
blk_seed('indirect-read', 2, [desc(0x3400, 48, F_INDIRECT, 0)], [0],
         [(HDR, hdr(0, 0)), (0x3400, desc(HDR, 16, F_NEXT, 1) + desc(DATA, 512, F_NEXT | F_WRITE, 2) +
                             desc(STATUS, 1, F_WRITE, 0))])
blk_seed('out-of-range', 0, rw(0, 1 << 60, 512), [0], [(HDR, hdr(0, 1 << 60))])
blk_seed('no-status', 0, [desc(HDR, 16, 0, 0)], [0], [(HDR, hdr(1, 0))])
blk_seed('event-idx-many', 1, rw(0, 0, 512) + rw(0, 1, 512)[:0], [0, 0], [(HDR, hdr(0, 0))])

# virtio-pci-regs: 4 KiB of RAM, then {op, size code, le16 off, le64 val} records


def reg(op, size, off, val):
    code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return struct.pack('<BBHQ', op, code, off, val)


def regs_seed(name, recs, ram=b''):
    os.makedirs(f'{root}/virtio-pci-regs', exist_ok=True)
    assert len(ram) <= 4096
    blob = bytearray(4096)
    blob[:len(ram)] = ram
    open(f'{root}/virtio-pci-regs/{name}', 'wb').write(bytes(blob) + b''.join(recs))


W, R, K = 1, 0, 2
bringup = [reg(W, 1, 0x14, 1), reg(W, 1, 0x14, 3), reg(W, 4, 0x08, 1), reg(W, 4, 0x0c, 1),
           reg(W, 1, 0x14, 0xb), reg(R, 1, 0x14, 0), reg(W, 2, 0x16, 0), reg(W, 2, 0x18, 8),
           reg(W, 8, 0x20, 0x000), reg(W, 8, 0x28, 0x400), reg(W, 8, 0x30, 0x800),
           reg(W, 2, 0x1c, 1), reg(W, 1, 0x14, 0xf)]
regs_seed('bringup', bringup)
ram = bytearray(4096)
place(ram, 0, desc(0x200, 16, F_NEXT, 1) + desc(0xc00, 512, F_NEXT | F_WRITE, 2) + desc(0x300, 1, F_WRITE, 0))
place(ram, 0x200, struct.pack('<IIQ', 0, 0, 1))
place(ram, 0x400, struct.pack('<HHH', 0, 1, 0))
regs_seed('bringup-read', bringup + [reg(K, 2, 0, 0)], bytes(ram))
regs_seed('reads', [reg(R, 4, o, 0) for o in range(0, 0x40, 4)] +
          [reg(R, 1, 0x1000, 0), reg(R, 8, 0x2000, 0), reg(R, 4, 0x2022, 0)])
regs_seed('bad-enable', [reg(W, 1, 0x14, 3), reg(W, 4, 0x08, 1), reg(W, 4, 0x0c, 1),
                         reg(W, 1, 0x14, 0xb), reg(W, 2, 0x18, 12), reg(W, 2, 0x1c, 1),
                         reg(R, 1, 0x1000, 0), reg(3, 1, 0, 0)])

# net-queues: tx area, then control, then rx (0x8000 bytes each), then data at 1 MiB
NDATA = 0x100000


def net_area(descs, heads, extra=()):
    area = bytearray(0x8000)
    place(area, 0, b''.join(descs))
    place(area, 0x1000, struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads))
    for off, blob in extra:
        place(area, off, blob)
    return bytes(area)


def net_seed(name, feat, what, tx=b'', ctrl=b'', rx=b'', data=b''):
    blob = bytes([feat, what]) + (tx or bytes(0x8000)) + (ctrl or bytes(0x8000)) + (rx or bytes(0x8000)) + data
    os.makedirs(f'{root}/net-queues', exist_ok=True)
    open(f'{root}/net-queues/{name}', 'wb').write(blob)


frame = bytes(12) + bytes(range(60))
net_seed('tx-frame', 0, 1, tx=net_area([desc(NDATA, len(frame), 0, 0)], [0]), data=frame)
net_seed('tx-split-csum', 2, 1, tx=net_area([desc(NDATA, 5, F_NEXT, 1), desc(NDATA + 5, len(frame) - 5, 0, 0)], [0]),
         data=bytes([1, 0, 0, 0, 0, 0, 14, 0, 16, 0, 0, 0]) + bytes(range(60)))
net_seed('ctrl-promisc', 16, 2, ctrl=net_area([desc(NDATA, 3, F_NEXT, 1), desc(NDATA + 0x100, 1, F_WRITE, 0)], [0]),
         data=bytes([0, 0, 1]))
net_seed('rx-mrg', 1, 4, rx=net_area([desc(NDATA + 2048 * i, 2048, F_WRITE, 0) for i in range(16)],
                                      list(range(16))))
