#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds from real traffic, end to end (needs /dev/kvm: runs in the box).

  rec_test.py CELLVM BLKTEST FUZZ-DEVPROC REC2SEEDS RUN-QEMU-DIR GUEST-NET NET-TEST-DIR

guest-blktest runs under `cellvm run --record`; the record must name its
devices and hold queue traffic; rec2seeds.py must turn it into blk-raw
inputs; and the device-process harness (replay build) must run each of
them clean, with the device completing requests (its used idx moves).
--record never writes over an existing file.

Then guest-net, behind a TAP in a network namespace of this test's own,
answers pings and UDP echoes while recorded: its net inputs must replay
clean with transmit requests completed (queue 1, the first one rec2seeds
moves besides queue 0).
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


def replay(harness, kind, files, queue):
    """Each input clean under the harness; the highest used idx of queue."""
    best = 0
    env = dict(os.environ, DEVFUZZ_DEVICE=kind, DEVFUZZ_VERBOSE="1")
    pat = r"queue 0: \d+ published, used idx (\d+)" if queue == 0 else rf"queue {queue}: used idx (\d+)"
    for f in files:
        r = subprocess.run([harness, f], env=env, capture_output=True, text=True, timeout=120)
        m = re.search(pat, r.stderr)
        print(f"{os.path.basename(f)}: exit {r.returncode}, queue {queue} used idx "
              f"{m.group(1) if m else '?'}")
        if r.returncode != 0 or "FINDING" in r.stderr:
            print(r.stderr[-3000:])
            fail(f"{f}: the harness reported a finding")
        best = max(best, int(m.group(1)) if m else 0)
    return best


def record_net(cellvm, harness, rec2seeds, guest_net, nt_dir):
    sys.path.insert(0, nt_dir)
    nt = __import__("net_test")
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "net.rec")
        nt.setup_netns(1500)
        g = nt.Guest(cellvm, guest_net, "", extra=["--record", rec])
        try:
            nt.ping([0, 56, 1000])
            nt.udp([1, 100, 1472])
        finally:
            rc = g.stop()
        if rc != 0:
            fail(f"guest-net under --record: exit {rc}")
        out = os.path.join(d, "seeds")
        p = subprocess.run([sys.executable, rec2seeds, rec, out], capture_output=True, text=True)
        print(p.stdout + p.stderr)
        nd = os.path.join(out, "devproc-net")
        files = sorted(os.path.join(nd, s) for s in os.listdir(nd)) if os.path.isdir(nd) else []
        if p.returncode != 0 or not files:
            fail("rec2seeds made no net input")
        if replay(harness, "net", files, 1) == 0:
            fail("no recorded net input made the device complete a transmit request")


def main():
    cellvm, blktest, harness, rec2seeds, rq_dir, guest_net, nt_dir = sys.argv[1:8]
    if os.environ.get("CV_REC_TEST_NETNS") != "1":
        # A network namespace of our own, for the TAP of the net part.
        os.environ["CV_REC_TEST_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
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
        best = replay(harness, "blk-raw",
                      [os.path.join(out, "devproc-blk-raw", s) for s in seeds], 0)
        if best == 0:
            fail("no recorded input made the device complete a request")
        # never over an existing file
        p = subprocess.run([cellvm, "run", "--kernel", blktest, "--record", rec],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if p.returncode != 125 or "--record" not in p.stderr or "File exists" not in p.stderr:
            fail(f"--record over an existing file: exit {p.returncode}, {p.stderr.strip()}")
    record_net(cellvm, harness, rec2seeds, guest_net, nt_dir)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
