#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a guest payload under QEMU/KVM and check its serial output and exit.

  run-qemu.py [--smp N] [--mem MiB] [--append CMDLINE] [--machine microvm|microvm-acpi|pc]
              [--expect REGEX]... [--reject REGEX]... [--status N | --until-expected]
              [--timeout S] PAYLOAD

--status N: the guest must end through the debug-exit port with status N
(QEMU reports (N << 1) | 1). --until-expected: once every --expect pattern
has been seen, QEMU is killed and the test passes (for payloads that run
forever). Fails if /dev/kvm is unusable or QEMU is missing.
The timeout only bounds a hung run; it is not a performance assertion.
"""
import argparse
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MACHINES = {
    "microvm": "microvm,x-option-roms=off,rtc=off,pit=off,pic=off,acpi=off",
    "microvm-acpi": "microvm,x-option-roms=off,rtc=off,pit=off,pic=off",
    "pc": "pc",
}


def qemu_cmd(args):
    qemu = shutil.which("qemu-system-x86_64")
    cmd = [qemu, "-enable-kvm", "-M", MACHINES[args.machine],
           "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-m", str(args.mem), "-smp", str(args.smp), "-kernel", args.payload]
    if args.append:
        cmd += ["-append", args.append]
    if args.disk:
        cmd += ["-drive", "file=%s,if=none,id=d0,format=raw,cache=unsafe" % args.disk,
                "-device", "virtio-blk-pci,drive=d0"]
    return cmd


HOST_TAG = b"cellvm-host-sector-1"
M64 = (1 << 64) - 1


def make_disk(path, mib):
    """Raw image with the host pattern blktest expects in sector 1."""
    with open(path, "wb") as f:
        f.truncate(mib << 20)
        f.seek(512)
        f.write(HOST_TAG + bytes((i * 7) & 0xff for i in range(len(HOST_TAG), 512)))


def blk_pat(seed, sector):
    """Sector contents blktest writes (guest/blktest.c: pat())."""
    out = bytearray(512)
    for q in range(64):
        x = ((sector * 0x9e3779b97f4a7c15) & M64) ^ ((seed << 32) & M64) ^ q
        x ^= x >> 29
        x = (x * 0xbf58476d1ce4e5b9) & M64
        x ^= x >> 32
        out[q * 8:q * 8 + 8] = x.to_bytes(8, "little")
    return bytes(out)


def verify_disk(path, seed):
    """The 32 x 4 KiB written at queue depth 32 from sector 2048 reached the image."""
    with open(path, "rb") as f:
        for sector in range(2048, 2048 + 32 * 8):
            f.seek(sector * 512)
            if f.read(512) != blk_pat(seed, sector):
                print("FAIL: image sector %d does not hold the guest's pattern" % sector)
                return False
    print("disk image: guest data verified in sectors 2048..2303")
    return True


def missing():
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 not found"
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm absent"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm not accessible"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("payload")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--mem", type=int, default=256)
    ap.add_argument("--append", default="")
    ap.add_argument("--machine", default="microvm", choices=sorted(MACHINES))
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--status", type=int)
    ap.add_argument("--until-expected", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--disk-mib", type=int, default=0,
                    help="attach a fresh raw virtio-blk-pci disk with the blktest host pattern")
    ap.add_argument("--verify-blk-seed", type=int,
                    help="after the run, check the image holds blktest's data for this seed")
    args = ap.parse_args()
    args.disk = None
    if (args.status is None) == (not args.until_expected):
        ap.error("give exactly one of --status and --until-expected")

    reason = missing()
    if reason:
        print("FAIL: " + reason + " (meson runs this through tests/kvmhost/kvmhost)")
        return 1

    tmp = tempfile.TemporaryDirectory(prefix="cellvm-guest-")
    if args.disk_mib:
        args.disk = os.path.join(tmp.name, "disk.img")
        make_disk(args.disk, args.disk_mib)
    cmd = qemu_cmd(args)
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    out, err = b"", b""
    deadline = time.monotonic() + args.timeout
    expects = [re.compile(e) for e in args.expect]
    killed = timed_out = False
    open_streams = 2
    while open_streams:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(min(left, 0.5)):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
            elif key.data == "out":
                out += data
            else:
                err += data
        if args.until_expected:
            text = out.decode("utf-8", "replace")
            if all(e.search(text) for e in expects):
                killed = True
                break
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    rc = proc.wait()
    text = out.decode("utf-8", "replace")
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    errtext = err.decode("utf-8", "replace")
    if errtext.strip():
        sys.stdout.write("--- qemu stderr ---\n" + errtext)

    ok = True
    if timed_out:
        print("FAIL: no result within %.0f s" % args.timeout)
        ok = False
    for e in expects:
        if not e.search(text):
            print("FAIL: expected output /%s/ not seen" % e.pattern)
            ok = False
    for r in args.reject:
        if re.search(r, text):
            print("FAIL: rejected output /%s/ seen" % r)
            ok = False
    if args.status is not None and not timed_out:
        want = (args.status << 1) | 1
        if rc != want:
            got = "guest status %d" % (rc >> 1) if rc > 0 and rc & 1 else "qemu rc %d" % rc
            print("FAIL: wanted guest status %d (qemu rc %d), got %s" % (args.status, want, got))
            ok = False
    if args.verify_blk_seed is not None and args.disk and not verify_disk(args.disk,
                                                                          args.verify_blk_seed):
        ok = False
    if args.until_expected and not killed:
        print("FAIL: guest stopped (qemu rc %d) before all expected output" % rc)
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
