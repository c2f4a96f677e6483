#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds from real traffic, end to end (needs /dev/kvm: runs in the box).

  rec_test.py CELLVM BLKTEST FUZZ-DEVPROC REC2SEEDS RUN-QEMU-DIR

guest-blktest runs under `cellvm run --record`; the record must name its
devices and hold queue traffic; rec2seeds.py must turn it into blk-raw
inputs; and the device-process harness (replay build) must run each of
them clean, with the device completing requests (its used idx moves).
--record never writes over an existing file.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def main():
    cellvm, blktest, harness, rec2seeds, rq_dir = sys.argv[1:6]
    sys.path.insert(0, rq_dir)
    from importlib import import_module
    rq = import_module("run-qemu")
    with tempfile.TemporaryDirectory() as d:
        img, rec = os.path.join(d, "disk.raw"), os.path.join(d, "blk.rec")
        rq.make_disk(img, 16)
        args = [cellvm, "run", "--kernel", blktest, "--disk", img + ",format=raw",
                "--cmdline", "seed=3", "--record", rec]
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=300)
        print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        if p.returncode != 0 or "blktest: PASS" not in p.stdout:
            fail("blktest did not pass while recording")
        data = open(rec, "rb").read()
        if data[:8] != b"CVREC001":
            fail("the record does not start with its magic")
        kinds = {}
        pos, ram, access = 8, 0, 0
        while pos + 32 <= len(data):
            typ, dev, _fl, region, _sz, ln = struct.unpack_from("<BBBBB3xI", data, pos)
            val = struct.unpack_from("<Q", data, pos + 24)[0]
            pos += 32
            if typ == 3:
                kinds[dev] = (region, val)
            elif typ == 2:
                ram += 1
                pos += 0 if region == 4 else ln
            elif typ == 1:
                access += 1
        print(f"record: {len(data)} bytes, devices {kinds}, {access} accesses, {ram} RAM ranges")
        if (3, 2) not in kinds.values():
            fail("the record does not name the virtio-blk device")
        if not ram or not access:
            fail("the record holds no queue traffic")
        out = os.path.join(d, "seeds")
        p = subprocess.run([sys.executable, rec2seeds, rec, out], capture_output=True, text=True)
        print(p.stdout + p.stderr)
        seeds = sorted(os.listdir(os.path.join(out, "devproc-blk-raw"))) \
            if os.path.isdir(os.path.join(out, "devproc-blk-raw")) else []
        if p.returncode != 0 or not seeds:
            fail("rec2seeds made no blk-raw input")
        best = 0
        env = dict(os.environ, DEVFUZZ_DEVICE="blk-raw", DEVFUZZ_VERBOSE="1")
        for s in seeds:
            r = subprocess.run([harness, os.path.join(out, "devproc-blk-raw", s)], env=env,
                               capture_output=True, text=True, timeout=120)
            m = re.search(r"used idx (\d+)", r.stderr)
            print(f"{s}: exit {r.returncode}, used idx {m.group(1) if m else '?'}")
            if r.returncode != 0 or "FINDING" in r.stderr:
                print(r.stderr[-3000:])
                fail(f"{s}: the harness reported a finding")
            best = max(best, int(m.group(1)) if m else 0)
        if best == 0:
            fail("no recorded input made the device complete a request")
        # never over an existing file
        p = subprocess.run([cellvm, "run", "--kernel", blktest, "--record", rec],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if p.returncode != 125 or "--record" not in p.stderr or "File exists" not in p.stderr:
            fail(f"--record over an existing file: exit {p.returncode}, {p.stderr.strip()}")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
