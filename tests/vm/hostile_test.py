#!/usr/bin/env python3
"""A hostile guest against cellvm's virtio-blk (guest/blkevil.c).

usage: hostile_test.py CASE CELLVM BLKEVIL_PAYLOAD

all:     every scenario in one boot (reset + round trip between them): PASS,
         exit 0, an "ok" line per scenario, no device process died, and the
         image is unchanged outside the scratch sectors the valid writes use,
         which hold the last round trip's pattern.
single:  a few scenarios one per boot (case=NAME selects exactly one), and
         an unknown case name fails (the payload can fail).
qcow2:   case=all on a qcow2 image; qemu-img check passes and the content
         outside the scratch sectors is unchanged.
race:    two vCPUs, one rewriting the chain while the other submits it:
         every request answered, no crash, image untouched.
bar_race: two vCPUs, one moving BAR0 while the other reads through it: the VM
         keeps running, every read answered at the BAR's place or unmapped.
memory:  case=all with 64 MiB and with 4 GiB of RAM (3 GiB low, 1 GiB above
         4 GiB: buffers straddling the end of low RAM into the PCI hole, and
         the end of high RAM).
qemu:    reference run under QEMU -M pc of the scenarios QEMU also answers
         cleanly.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SCRATCH, SCRATCH_N = 64, 8  # guest/blkevil.c: SCRATCH, 4 KiB round trips
MIB = 16

# Every scenario of guest/blkevil.c, in its order: a dropped one fails the test.
CASES = ["loop", "longchain", "next_range", "head_range", "ind_len", "ind_big",
         "ind_nested", "ind_outside", "buf_hole", "buf_high", "buf_wrap", "buf_ring",
         "order", "huge_len", "no_status", "ro_status", "avail_jump", "sector",
         "bad_type", "short_hdr", "flush_data", "getid_small", "inflight_dup",
         "discard", "kick_early", "bad_features", "reset_inflight", "ro_config", "qsel", "qsize", "qaddr", "features", "msix", "odd",
         "bar_move", "pci_cfg", "race", "bar_race"]

# cellvm's documented answers (device-procs/virtio/virtq.c: ring rule broken
# -> NEEDS_RESET; device-procs/blk/blk_req.c: bad request content -> status).
NR = "NEEDS_RESET"
CELLVM_HOW = {c: NR for c in CASES[:17]}
CELLVM_HOW.update({
    "sector": "status IOERR", "bad_type": "status UNSUPP", "short_hdr": "status IOERR",
    "flush_data": "status OK, data ignored", "getid_small": "status IOERR",
    "inflight_dup": r"NEEDS_RESET after [01] completions|2 completions",
    "discard": "status IOERR, status UNSUPP", "kick_early": "not consumed before DRIVER_OK",
    "bad_features": "FEATURES_OK refused",
    "reset_inflight": r"\d+ of 32 completed before the reset, none after",
    "ro_config": "writes ignored", "qsel": "ignored, queue 0 intact", "qsize": NR,
    "qaddr": NR, "features": "features frozen",
    "msix": "vectors refused, table writes contained", "odd": "odd accesses absorbed",
    "bar_move": "device followed BAR0, outside the window it stays off",
    "pci_cfg": "read-only fields kept, device works",
    "race": "skipped: needs cpus=2", "bar_race": "skipped: needs cpus=2"})

# The ones QEMU -M pc also answers cleanly. It accepts buffers in the PCI
# hole, past RAM, wrapping or over the rings, treats type 0x80000001 as a
# write (the legacy BARRIER bit), fills a short GET_ID buffer, consumes the
# ring before DRIVER_OK, takes unoffered features and puts the modern
# registers in BAR4: cellvm, not QEMU, is the subject here.
QEMU_CASES = ["loop", "longchain", "next_range", "head_range", "ind_len", "ind_big",
              "ind_nested", "ind_outside", "order", "huge_len", "no_status", "ro_status",
              "avail_jump", "sector", "short_hdr", "inflight_dup", "discard",
              "reset_inflight", "ro_config", "qsel", "qsize", "qaddr", "msix"]

DEATH = re.compile(r"device \d+ \([^)]*\).*(killed|exited|died|signal)|Segmentation|SIGSEGV|SIGSYS")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def pattern(k):
    """guest/blkevil.c: pattern(k, i) over one 4 KiB round trip."""
    return bytes((i * 13 + k * 31 + (i >> 9)) & 0xff for i in range(4096))


def make_image(path):
    """Deterministic non-zero content, so any stray write shows."""
    base = bytes(range(256)) * 3
    with open(path, "wb") as f:
        for s in range(MIB * 2048):
            r = (s * 7) % 256
            f.write(s.to_bytes(8, "little") + base[r:r + 504])
    return open(path, "rb").read()


def boot(cellvm, payload, img, cmdline, memory=None, expect_rc=0, fmt="raw"):
    args = [cellvm, "run", "--kernel", payload, "--disk", f"{img},format={fmt}",
            "--cmdline", cmdline]
    if memory:
        args += ["--memory", memory]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600)
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout}--- stderr\n{p.stderr}")
    if DEATH.search(p.stderr):
        fail("a device process died")
    if p.returncode != expect_rc:
        fail(f"exit status {p.returncode}, expected {expect_rc}")
    return p


def check_image(before, img, last_k):
    after = open(img, "rb").read()
    if len(after) != len(before):
        fail("the image changed size")
    lo, hi = SCRATCH * 512, (SCRATCH + SCRATCH_N) * 512
    if after[:lo] != before[:lo] or after[hi:] != before[hi:]:
        bad = next(i for i in range(len(after))
                   if (i < lo or i >= hi) and after[i] != before[i])
        fail(f"the image changed outside the scratch sectors (sector {bad // 512})")
    if last_k is not None and after[lo:hi] != pattern(last_k):
        fail("the scratch sectors do not hold the last round trip's data")


def run_all(cellvm, payload, d, memory=None):
    img = os.path.join(d, "disk.raw")
    before = make_image(img)
    p = boot(cellvm, payload, img, "case=all", memory)
    if "blkevil: PASS" not in p.stdout:
        fail("no PASS from the guest")
    got = re.findall(r"^blkevil: (\w+) ok \((.*)\)$", p.stdout, re.M)
    if [c for c, _ in got] != CASES:
        fail(f"scenarios reported {got}, expected {CASES}")
    for c, how in got:
        if not re.fullmatch(CELLVM_HOW[c], how):
            fail(f"{c}: answered '{how}', expected '{CELLVM_HOW[c]}'")
    # The last round trip is the one after the last scenario: pattern(10 + k).
    check_image(before, img, 10 + len(CASES) - 1)


def case_all(cellvm, payload, d):
    run_all(cellvm, payload, d)


def case_qcow2(cellvm, payload, d):
    """The same scenarios over the qcow2 backend; qemu-img checks the result."""
    if not shutil.which("qemu-img"):
        fail("qemu-img is missing (scripts/setup.sh installs qemu-utils)")
    raw, img, out = (os.path.join(d, n) for n in ("seed.raw", "disk.qcow2", "back.raw"))
    before = make_image(raw)
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, img)
    p = boot(cellvm, payload, img, "case=all", fmt="qcow2")
    if "blkevil: PASS" not in p.stdout:
        fail("no PASS from the guest")
    sh("qemu-img", "check", "-f", "qcow2", img)
    sh("qemu-img", "convert", "-f", "qcow2", "-O", "raw", img, out)
    check_image(before, out, 10 + len(CASES) - 1)


def sh(*args):
    p = subprocess.run(args, capture_output=True, text=True)
    print(f"$ {' '.join(args)}\n{p.stdout}{p.stderr}")
    if p.returncode:
        fail(f"{args[0]} exited with {p.returncode}")


def case_memory(cellvm, payload, d):
    run_all(cellvm, payload, d, "64M")
    run_all(cellvm, payload, d, "4G")


def case_single(cellvm, payload, d):
    img = os.path.join(d, "disk.raw")
    before = make_image(img)
    for name in ["loop", "buf_ring", "sector", "qaddr", "odd"]:
        p = boot(cellvm, payload, img, f"case={name}")
        lines = re.findall(r"^blkevil: (\w+) ok \(", p.stdout, re.M)
        if lines != [name] or "blkevil: PASS" not in p.stdout:
            fail(f"case={name}: reported {lines}")
        check_image(before, img, 10 + CASES.index(name))
    p = boot(cellvm, payload, img, "case=nonesuch", expect_rc=2)
    if "blkevil: FAIL nonesuch no such case" not in p.stdout:
        fail("an unknown case did not fail clearly")


def case_race(cellvm, payload, d):
    """Two vCPUs: one rewrites the chain while the other submits it."""
    img = os.path.join(d, "disk.raw")
    before = make_image(img)
    args = [cellvm, "run", "--cpus", "2", "--kernel", payload, "--disk", img + ",format=raw",
            "--cmdline", "case=race cpus=2"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600)
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout}--- stderr (tail)\n"
          + "\n".join(p.stderr.splitlines()[-20:]))
    if DEATH.search(p.stderr):
        fail("a device process died")
    if p.returncode != 0 or "blkevil: PASS" not in p.stdout:
        fail(f"exit status {p.returncode}")
    m = re.search(r"^blkevil: race ok \((\d+) rounds: (\d+) OK, (\d+) error, (\d+) NEEDS_RESET, "
                  r"(\d+) status elsewhere, (\d+) unanswered\)$", p.stdout, re.M)
    if not m:
        fail("no race result")
    if int(m.group(6)):
        fail("cellvm left requests unanswered")
    check_image(before, img, 10 + CASES.index("race"))


def case_bar_race(cellvm, payload, d):
    """Two vCPUs: one moves BAR0 while the other reads through it (issue 10 #10)."""
    img = os.path.join(d, "disk.raw")
    before = make_image(img)
    args = [cellvm, "run", "--cpus", "2", "--kernel", payload, "--disk", img + ",format=raw",
            "--cmdline", "case=bar_race cpus=2 bar_race_iters=100000"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600)
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout}--- stderr (tail)\n"
          + "\n".join(p.stderr.splitlines()[-20:]))
    if DEATH.search(p.stderr):
        fail("a device process died")
    if p.returncode != 0 or "blkevil: PASS" not in p.stdout:
        fail(f"exit status {p.returncode}: the VM stopped")
    m = re.search(r"^blkevil: bar_race ok \((\d+) reads during (\d+) BAR moves", p.stdout, re.M)
    if not m or int(m.group(2)) == 0:
        fail("no BAR race result")
    check_image(before, img, 10 + CASES.index("bar_race"))


def case_qemu(cellvm, payload, d):
    run_qemu = os.path.join(os.path.dirname(__file__), "..", "guest", "run-qemu.py")
    args = [sys.executable, run_qemu, "--machine", "pc", "--disk-mib", "16",
            "--append", "case=" + ",".join(QEMU_CASES), "--status", "0",
            "--expect", "blkevil: PASS", "--timeout", "120", payload]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{p.stdout}{p.stderr}")
    got = re.findall(r"blkevil: (\w+) ok \(", p.stdout)
    if p.returncode or got != QEMU_CASES:
        fail(f"QEMU reference run: rc {p.returncode}, scenarios {got}")


def main():
    case, cellvm, payload = sys.argv[1:4]
    if case != "qemu" and not os.path.exists("/dev/kvm"):
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    with tempfile.TemporaryDirectory(prefix="cellvm-hostile-") as d:
        globals()["case_" + case](cellvm, payload, d)
    print("PASS")


if __name__ == "__main__":
    main()
