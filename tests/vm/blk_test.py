#!/usr/bin/env python3
"""virtio-blk end to end: the guest's driver (guest/blktest.c) against
cellvm-blk on raw and qcow2 images made and checked by QEMU's own tools.

usage: blk_test.py CASE CELLVM BLKTEST_PAYLOAD
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "guest"))
from importlib import import_module  # noqa: E402

rq = import_module("run-qemu")  # make_disk, verify_disk: the same checks as for QEMU



def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def sh(*args):
    p = subprocess.run(args, capture_output=True, text=True)
    print(f"$ {' '.join(args)}\n{p.stdout}{p.stderr}")
    if p.returncode:
        fail(f"{args[0]} exited with {p.returncode}")
    return p.stdout


def boot(cellvm, payload, disk, seed=1, expect_rc=0):
    args = [cellvm, "run", "--kernel", payload, "--disk", disk, "--cmdline", f"seed={seed}"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=300)
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout}--- stderr\n{p.stderr}")
    if p.returncode != expect_rc:
        fail(f"exit status {p.returncode}, expected {expect_rc}")
    return p


def case_raw(cellvm, payload, d):
    img = os.path.join(d, "disk.raw")
    rq.make_disk(img, 16)
    p = boot(cellvm, payload, img + ",format=raw", seed=7)
    if "blktest: PASS" not in p.stdout:
        fail("no PASS from the guest")
    if not rq.verify_disk(img, 7):
        fail("the guest's writes are not in the image")


def case_qcow2(cellvm, payload, d):
    """qemu-img makes the image, the guest writes it, qemu-img checks it."""
    raw = os.path.join(d, "seed.raw")
    img = os.path.join(d, "disk.qcow2")
    out = os.path.join(d, "back.raw")
    rq.make_disk(raw, 16)
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, img)
    p = boot(cellvm, payload, img + ",format=qcow2", seed=11)
    if "blktest: PASS" not in p.stdout:
        fail("no PASS from the guest")
    sh("qemu-img", "check", "-f", "qcow2", img)
    sh("qemu-img", "convert", "-f", "qcow2", "-O", "raw", img, out)
    if not rq.verify_disk(out, 11):
        fail("qemu-img does not see the guest's writes")


def case_qcow2_backing(cellvm, payload, d):
    """Writes land in the overlay; the raw backing file is never written."""
    base = os.path.join(d, "base.raw")
    img = os.path.join(d, "overlay.qcow2")
    out = os.path.join(d, "flat.raw")
    rq.make_disk(base, 16)
    before = open(base, "rb").read()
    sh("qemu-img", "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", img)
    p = boot(cellvm, payload, img + ",format=qcow2", seed=3)
    if "blktest: PASS" not in p.stdout:
        fail("no PASS from the guest (it reads the host pattern through the backing file)")
    if open(base, "rb").read() != before:
        fail("the backing file was modified")
    sh("qemu-img", "check", "-f", "qcow2", img)
    sh("qemu-img", "convert", "-f", "qcow2", "-O", "raw", img, out)
    if not rq.verify_disk(out, 3):
        fail("the flattened image lacks the guest's writes")


def case_hostile_images(cellvm, payload, d):
    """Broken images stop the VM with a message naming the disk; never a crash."""
    good = os.path.join(d, "good.qcow2")
    sh("qemu-img", "create", "-f", "qcow2", good, "16M")
    blob = bytearray(open(good, "rb").read())
    cases = {
        "bad-magic": (0, b"QFI\x00"),
        "cluster-bits": (20, (40).to_bytes(4, "big")),
        "huge-size": (24, (1 << 62).to_bytes(8, "big")),
        "l1-past-eof": (40, (1 << 40).to_bytes(8, "big")),
        "refcount-order": (96, (9).to_bytes(4, "big")),
    }
    for name, (off, data) in cases.items():
        bad = os.path.join(d, name + ".qcow2")
        b = bytearray(blob)
        b[off:off + len(data)] = data
        open(bad, "wb").write(b)
        p = subprocess.run([cellvm, "run", "--kernel", payload, "--disk", bad + ",format=qcow2"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        print(f"-- {name}: rc {p.returncode}\n{p.stderr}")
        if p.returncode != 125:
            fail(f"{name}: exit status {p.returncode}, expected 125")
        if "qcow2" not in p.stderr or "Segmentation" in p.stderr or "SIGSEGV" in p.stderr:
            fail(f"{name}: no clear message")
    # A backing chain that loops is refused by the broker before any device starts.
    a, b = os.path.join(d, "a.qcow2"), os.path.join(d, "b.qcow2")
    sh("qemu-img", "create", "-f", "qcow2", a, "16M")
    sh("qemu-img", "create", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b)
    sh("qemu-img", "rebase", "-u", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", a)
    p = subprocess.run([cellvm, "run", "--kernel", payload, "--disk", b + ",format=qcow2"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    print(f"-- loop: rc {p.returncode}\n{p.stderr}")
    if p.returncode != 125 or "loop" not in p.stderr.lower() and "already" not in p.stderr:
        fail("a looping backing chain was not refused clearly")


def main():
    case, cellvm, payload = sys.argv[1:4]
    if not os.path.exists("/dev/kvm"):
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    if not shutil.which("qemu-img"):
        fail("qemu-img is missing (scripts/setup.sh installs qemu-utils)")
    with tempfile.TemporaryDirectory(prefix="cellvm-blk-") as d:
        globals()["case_" + case](cellvm, payload, d)
    print("PASS")


if __name__ == "__main__":
    main()
