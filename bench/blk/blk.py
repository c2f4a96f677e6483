#!/usr/bin/env python3
"""virtio-blk throughput: cellvm vs QEMU vs fio on the host, one raw image.

For each workload (4 KiB random read/write at queue depth 1 and 32, 1 MiB
sequential read/write at queue depth 4) the guest payload guest-blkbench runs
under cellvm (`--disk IMG,format=raw`: the disk process does buffered
preadv/pwritev on an 8-thread pool) and under QEMU -M pc with the closest
equivalent (`cache=writeback,aio=threads`: buffered I/O on QEMU's thread
pool), ROUNDS rounds interleaved, medians. fio runs the same workload on the
host (io_uring, buffered, same block size and depth): the host's limit.

Both VMMs are compared on the guest's own TSC cycle count around the timed
loop, converted with one TSC rate (the median of cycles / mark interval over
the cellvm runs, i.e. calibrated on the host's CLOCK_MONOTONIC). cellvm's
figure from its marks (host clock) is emitted too, as `.marks`.

usage: blk.py BUILD_DIR PAYLOAD [ROUNDS] [IMAGE]
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from benchlib import cellvm, emit, marks, median  # noqa: E402

IMG_BYTES = 1 << 30
RAM = "256M"
# name, guest mode, block size, queue depth, ops per run, unit
WORKLOADS = [
    ("randread4k_qd1", "randread", 4096, 1, 500, "iops"),
    ("randread4k_qd32", "randread", 4096, 32, 2000, "iops"),
    ("randwrite4k_qd1", "randwrite", 4096, 1, 500, "iops"),
    ("randwrite4k_qd32", "randwrite", 4096, 32, 2000, "iops"),
    ("seqread1m", "seqread", 1 << 20, 4, 100, "mbps"),
    ("seqwrite1m", "seqwrite", 1 << 20, 4, 100, "mbps"),
]
FIO_RW = {"randread": "randread", "randwrite": "randwrite", "seqread": "read",
          "seqwrite": "write"}
LINE = re.compile(r"blkbench: (\w+) bs (\d+) qd (\d+) ops (\d+) cycles (\d+)")


def make_image(path):
    """1 GiB raw image filled with non-zero data (once; reused if the size matches)."""
    if os.path.exists(path) and os.path.getsize(path) == IMG_BYTES:
        return
    chunk = bytes((i * 131 + 7) & 0xff for i in range(1 << 20))
    with open(path + ".tmp", "wb") as f:
        for _ in range(IMG_BYTES >> 20):
            f.write(chunk)
    os.rename(path + ".tmp", path)


def settle(path):
    """Write back dirty pages of the image so no run inherits another's writeback
    (buffered writes stall behind it: fio's randwrite dropped to ~1 IOPS without
    this), and ask for it to be read back into the page cache: something on this
    machine evicts it (~35 MiB per 10 s with 23 GiB free) and every reader here
    is buffered, so all should see the same, mostly cached, file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    finally:
        os.close(fd)


def guest_cmdline(w):
    _, mode, bs, qd, ops, _ = w
    return "mode=%s bs=%d qd=%d ops=%d" % (mode, bs, qd, ops)


def parse_line(out, w):
    m = LINE.search(out)
    if not m or m.group(1) != w[1] or int(m.group(2)) != w[2] or int(m.group(3)) != w[3]:
        return None
    return int(m.group(4)), int(m.group(5))


def run_cellvm(build, payload, img, w):
    settle(img)
    rc, out, err = cellvm(build, "--kernel", payload, "--serial", "stdio", "--memory", RAM,
                          "--disk", img + ",format=raw", "--cmdline", guest_cmdline(w))
    got, mk = parse_line(out, w), marks(err)
    if rc != 0 or not got or 1 not in mk or 2 not in mk:
        raise SystemExit("blk bench: cellvm %s failed (rc %d)\n%s\n%s" % (w[0], rc, out, err))
    return got[0], got[1], mk[2] - mk[1]


def run_qemu(payload, img, w):
    settle(img)
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-M", "pc", "-nodefaults", "-no-user-config",
           "-nographic", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-m", RAM, "-kernel", payload, "-append", guest_cmdline(w),
           "-drive", "file=%s,if=none,id=d0,format=raw,cache=writeback,aio=threads" % img,
           "-device", "virtio-blk-pci,drive=d0"]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    out = p.stdout.decode(errors="replace")
    got = parse_line(out, w)
    if p.returncode != 1 or not got:  # isa-debug-exit: (0 << 1) | 1
        raise SystemExit("blk bench: QEMU %s failed (rc %d)\n%s\n%s" %
                         (w[0], p.returncode, out, p.stderr.decode(errors="replace")))
    return got


def run_fio(img, w, runtime):
    _, mode, bs, qd, _, _ = w
    settle(img)
    cmd = ["fio", "--name=blk", "--filename=" + img, "--rw=" + FIO_RW[mode], "--bs=%d" % bs,
           "--iodepth=%d" % qd, "--ioengine=io_uring", "--direct=0", "--norandommap",
           "--runtime=%d" % runtime, "--time_based", "--output-format=json"]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit("blk bench: fio failed\n" + p.stderr.decode(errors="replace"))
    text = p.stdout.decode(errors="replace")  # fio may print notes before the JSON
    job = json.loads(text[text.index("{"):])["jobs"][0]
    side = job["read"] if mode.endswith("read") else job["write"]
    return side["iops"], side["bw_bytes"] / 1e6


def figure(unit, bs, ops, seconds):
    return ops / seconds if unit == "iops" else ops * bs / seconds / 1e6


def main():
    build, payload = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    img = sys.argv[4] if len(sys.argv) > 4 else os.path.join(
        os.environ.get("CELLVM_BENCH_DIR", "/var/tmp"), "cellvm-bench-blk.img")
    make_image(img)
    load = os.getloadavg()[0]
    have_qemu = shutil.which("qemu-system-x86_64") and os.access("/dev/kvm", os.W_OK)
    have_fio = shutil.which("fio")

    cv = {w[0]: [] for w in WORKLOADS}  # (ops, cycles, mark ns)
    qm = {w[0]: [] for w in WORKLOADS}  # (ops, cycles)
    for _ in range(rounds):
        for w in WORKLOADS:
            cv[w[0]].append(run_cellvm(build, payload, img, w))
            if have_qemu:
                qm[w[0]].append(run_qemu(payload, img, w))
    fio = {w[0]: run_fio(img, w, 2) for w in WORKLOADS} if have_fio else {}

    # guest TSC rate against the host clock, from every cellvm run
    tsc_hz = median([c / ns * 1e9 for runs in cv.values() for _, c, ns in runs])
    emit("blk.host_load_1m", max(load, os.getloadavg()[0]), "load")
    emit("blk.guest_tsc_mhz", tsc_hz / 1e6, "MHz")
    for w in WORKLOADS:
        name, _, bs, _, _, unit = w
        u = "IOPS" if unit == "iops" else "MB/s"
        metric = "blk.%s_%s" % (name, unit)
        c = median([figure(unit, bs, o, cyc / tsc_hz) for o, cyc, _ in cv[name]])
        q = median([figure(unit, bs, o, cyc / tsc_hz) for o, cyc in qm[name]])
        mk = median([figure(unit, bs, o, ns / 1e9) for o, _, ns in cv[name]])
        f = (fio[name][0] if unit == "iops" else fio[name][1]) if fio else None
        emit(metric + ".vs_qemu" if name == "randread4k_qd32" else metric, c, u,
             "qemu-writeback-threads", q)
        emit(metric + ".vs_fio", c, u, "fio", f)
        emit(metric + ".marks", mk, u)


if __name__ == "__main__":
    main()
