#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interoperability tests of the qcow2 backend against qemu-img and qemu-io.

    interop.py QCOW2_TOOL GROUP

Every group works in a fresh temporary directory. Images written by our
library must pass `qemu-img check` and read back through qemu-io/qemu-img;
images written by QEMU must read back through our library. A crash (signal)
or a sanitizer report in the tool fails every test.
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

TOOL = None
ENV = dict(os.environ,
           ASAN_OPTIONS="exitcode=99:detect_leaks=1",
           UBSAN_OPTIONS="halt_on_error=1:exitcode=98:print_stacktrace=1")
MiB = 1 << 20
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=ENV)
    if check and p.returncode != 0:
        raise RuntimeError("%s: rc %d\n%s%s" % (" ".join(map(str, args)), p.returncode,
                                                p.stdout, p.stderr))
    return p


def tool(img, *cmds, ro=False, expect=0):
    """Run qcow2-tool; expect is the exit status wanted (0 ok, 1 request failed, 2 refused)."""
    args = [TOOL] + (["-r"] if ro else []) + [img] + list(cmds)
    p = run(*args, check=False)
    bad = p.returncode < 0 or p.returncode >= 90 or "Sanitizer" in p.stderr \
        or "runtime error" in p.stderr
    if bad:
        raise RuntimeError("tool crashed/sanitizer: rc %d\n%s" % (p.returncode, p.stderr))
    if expect is not None and p.returncode != expect:
        raise RuntimeError("%s: rc %d (wanted %d)\n%s%s" % (" ".join(map(str, args)),
                                                          p.returncode, expect, p.stdout,
                                                          p.stderr))
    return p


def create(path, size, *opts, backing=None, bfmt="qcow2"):
    args = ["qemu-img", "create", "-q", "-f", "qcow2"]
    for o in opts:
        args += ["-o", o]
    if backing:
        args += ["-b", backing, "-F", bfmt]
    run(*(args + [path, str(size)]))


def check_clean(img, leaks_ok=False):
    p = run("qemu-img", "check", img, check=False)
    if p.returncode == 0 or (leaks_ok and p.returncode == 3):
        return
    fail("qemu-img check %s: rc %d\n%s%s" % (img, p.returncode, p.stdout, p.stderr))


def qio(img, *cmds, fmt="qcow2"):
    args = ["qemu-io", "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    p = run(*(args + [img]), check=False)
    out = p.stdout + p.stderr
    if p.returncode != 0 or "fail" in out.lower() or "error" in out.lower():
        bad = [ln for ln in out.splitlines() if "fail" in ln.lower() or "error" in ln.lower()]
        fail("qemu-io %s: %s" % (img, "; ".join(bad[:5])))


def verify_patterns(img, writes, size):
    """qemu-io checks every (off, len, pat) and zeros in the gaps."""
    cmds = ["read -P 0x%02x %d %d" % (p, o, n) for o, n, p in writes]
    pos = 0

    def gap(a, b):
        # gaps can be huge: check their first and last 4 MiB
        cmds.append("read -P 0 %d %d" % (a, min(b - a, 4 * MiB)))
        if b - a > 4 * MiB:
            cmds.append("read -P 0 %d %d" % (max(b - 4 * MiB, a + 4 * MiB), 
                                             min(4 * MiB, b - a - 4 * MiB)))
    for o, n, _ in sorted(writes):
        if o > pos:
            gap(pos, o)
        pos = max(pos, o + n)
    if pos < size:
        gap(pos, size)
    for i in range(0, len(cmds), 40):
        qio(img, *cmds[i:i + 40])


def our_writes(img, writes, extra=()):
    cmds = []
    for o, n, p in writes:
        cmds += ["write", str(o), str(n), "0x%02x" % p]
    tool(img, *(cmds + list(extra) + ["flush"]))


def pattern_writes(cs, size):
    """Offsets around cluster boundaries, partial clusters, many L2 tables."""
    l2span = cs * (cs // 8)
    w = [(0, 512, 0xab), (2 * cs - 512, 1024, 0xcd), (3 * cs + 100, 3 * cs, 0x5a),
         (7 * cs, cs, 0x11), (9 * cs + 4096, 512, 0x22)]
    pat = 0x30
    off = l2span - 512
    while off + 8192 < size and len(w) < 40:
        w.append((off, 8192, pat))  # straddles two L2 tables
        pat += 1
        off += l2span + 3 * cs
    w.append((size - 1024, 1024, 0xee))
    return w


def t_basic(d):
    for cs, size in ((65536, 8 << 30), (4096, 512 * MiB), (512, 64 * MiB), (2 * MiB, 1 << 40)):
        img = os.path.join(d, "b%d.qcow2" % cs)
        create(img, size, "cluster_size=%d" % cs)
        w = pattern_writes(cs, size)
        our_writes(img, w)
        check_clean(img)
        verify_patterns(img, w, size)
        # our own reads too, and overwrite in place
        for o, n, p in w:
            tool(img, "read", o, n, "0x%02x" % p, ro=True)
        our_writes(img, [(o, n, p ^ 0xff) for o, n, p in w])
        check_clean(img)
        verify_patterns(img, [(o, n, p ^ 0xff) for o, n, p in w], size)


def t_refcount_growth(d):
    # 512-byte clusters: the refcount table must grow several times
    img, raw = os.path.join(d, "g.qcow2"), os.path.join(d, "g.raw")
    size = 64 * MiB
    create(img, size, "cluster_size=512")
    rnd = random.Random(7)
    data = bytearray(rnd.getrandbits(8) for _ in range(256 * 1024))
    with open(raw, "wb") as f:
        f.truncate(size)
        for off in range(0, 40 * MiB, 2 * MiB):
            f.seek(off + 100)
            f.write(data)
    for off in range(0, 40 * MiB, 2 * MiB):
        tool(img, "writefile", off + 100, len(data), raw)
    check_clean(img)
    p = run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, img, check=False)
    if p.returncode != 0:
        fail("compare after refcount growth: " + p.stdout + p.stderr)
    info = run("qemu-img", "info", "--output=json", img).stdout
    if "refcount-bits\": 16" not in info:
        fail("unexpected info " + info)


def t_refcount_orders(d):
    for bits in (1, 2, 4, 8, 32, 64):
        img = os.path.join(d, "r%d.qcow2" % bits)
        create(img, 32 * MiB, "refcount_bits=%d" % bits, "cluster_size=4096")
        w = pattern_writes(4096, 32 * MiB)
        our_writes(img, w, extra=("discard", str(7 * 4096), "4096"))
        check_clean(img)
        verify_patterns(img, [x for x in w if x[2] != 0x11], 32 * MiB)


def random_ops(d, img, raw, size, seed, n=60):
    rnd = random.Random(seed)
    with open(raw, "r+b") as f:
        for _ in range(n):
            off = rnd.randrange(0, size // 512) * 512 + rnd.choice((0, 0, 1, 511))
            ln = rnd.choice((1, 511, 512, 4096, 65536, 65537, 300000))
            off = min(off, size - ln)
            f.seek(off)
            f.write(bytes(rnd.getrandbits(8) for _ in range(ln)))
            f.flush()
            tool(img, "writefile", off, ln, raw)


def t_random(d):
    for opts in (("cluster_size=65536",), ("cluster_size=4096",), ("compat=0.10",)):
        img, raw = os.path.join(d, "x.qcow2"), os.path.join(d, "x.raw")
        size = 96 * MiB
        create(img, size, *opts)
        with open(raw, "wb") as f:
            f.truncate(size)
        random_ops(d, img, raw, size, seed=len(opts[0]))
        check_clean(img)
        p = run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, img, check=False)
        if p.returncode != 0:
            fail("compare random %s: %s%s" % (opts, p.stdout, p.stderr))
        tool(img, "cmpfile", 0, size, raw, ro=True)


def t_reverse(d):
    """QEMU writes, we read."""
    img, raw = os.path.join(d, "q.qcow2"), os.path.join(d, "q.raw")
    size = 256 * MiB
    create(img, size)
    qio(img, "write -P 0xab 0 4096", "write -P 0xcd 65024 1024", "write -P 0x77 1M 3M",
        "write -z 1M 64k", "write -z -u 2M 128k", "write -P 0x99 255M 1M",
        "write -P 0x42 100M 64k", "discard 100M 64k")
    tool(img, "read", 0, 4096, "0xab", "read", 4096, 60928, "0", "read", 65024, 1024, "0xcd",
         "read", 1 * MiB, 65536, "0", "read", 1 * MiB + 65536, 1 * MiB - 65536, "0x77",
         "read", 2 * MiB, 131072, "0", "read", 2 * MiB + 131072, 2 * MiB - 131072, "0x77",
         "read", 100 * MiB, 65536, "0", "read", 255 * MiB, MiB, "0x99", ro=True)
    run("qemu-img", "convert", "-O", "raw", img, raw)
    tool(img, "cmpfile", 0, size, raw, ro=True)


def t_compressed(d):
    raw, img = os.path.join(d, "c.raw"), os.path.join(d, "c.qcow2")
    size = 16 * MiB
    rnd = random.Random(3)
    with open(raw, "wb") as f:
        f.truncate(size)
        for off in range(0, size, 1 * MiB):
            f.seek(off)
            # compressible text with some noise
            f.write((b"cellvm qcow2 %d " % off) * 4000 + bytes(rnd.getrandbits(8)
                                                            for _ in range(5000)))
    for cs in (65536, 4096, 2 * MiB):
        run("qemu-img", "convert", "-c", "-O", "qcow2", "-o",
            "compression_type=zlib,cluster_size=%d" % cs, "-f", "raw", raw, img)
        info = run("qemu-img", "check", img).stdout
        if "compressed clusters" not in info or " 0.00% compressed" in info:
            fail("no compressed clusters in %s" % info)
        tool(img, "cmpfile", 0, size, raw, ro=True)
        # write into compressed clusters: partial (COW from compressed data) and whole
        rawc = raw + ".copy"
        run("cp", raw, rawc)
        with open(rawc, "r+b") as f:
            for off, ln in ((100, 200), (cs + 7, 1), (5 * MiB, cs), (9 * MiB - 10, 20)):
                f.seek(off)
                f.write(b"\x5c" * ln)
                f.flush()
                tool(img, "writefile", off, ln, rawc)
        check_clean(img)
        p = run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", rawc, img, check=False)
        if p.returncode != 0:
            fail("compare after writing into compressed clusters (cs %d): %s" % (cs, p.stdout))
        # zeroing a compressed cluster frees it
        tool(img, "zero", 4 * cs, cs, "unmap", "discard", 6 * cs, cs, "flush")
        check_clean(img)
        qio(img, "read -P 0 %d %d" % (4 * cs, cs), "read -P 0 %d %d" % (6 * cs, cs))


def t_backing(d):
    base, mid, top = (os.path.join(d, n) for n in ("base.qcow2", "mid.qcow2", "top.qcow2"))
    size = 64 * MiB
    create(base, size)
    qio(base, "write -P 0x11 0 8M", "write -P 0x12 60M 4M")
    create(mid, size, backing="base.qcow2")
    qio(mid, "write -P 0x21 1M 1M")
    create(top, size, backing="mid.qcow2")
    sum_base = run("sha256sum", base).stdout.split()[0]
    sum_mid = run("sha256sum", mid).stdout.split()[0]
    tool(top, "read", 0, MiB, "0x11", "read", MiB, MiB, "0x21", "read", 2 * MiB, 6 * MiB,
         "0x11", "read", 8 * MiB, 52 * MiB, "0", "read", 60 * MiB, 4 * MiB, "0x12", ro=True)
    # partial writes: the rest of the cluster comes from the backing chain
    tool(top, "write", 100, 100, "0x31", "write", MiB + 65536 + 512, 512, "0x32",
         "write", 10 * MiB + 5, 10, "0x33", "zero", 3 * MiB, 65536, "unmap",
         "zero", 4 * MiB, 4096, "keep", "discard", 5 * MiB, 65536, "flush")
    check_clean(top)
    qio(top, "read -P 0x11 0 100", "read -P 0x31 100 100", "read -P 0x11 200 65336",
        "read -P 0x21 1M 66048", "read -P 0x32 %d 512" % (MiB + 66048),
        "read -P 0x21 %d %d" % (MiB + 66560, MiB - 66560),
        "read -P 0 10M 5", "read -P 0x33 10485765 10", "read -P 0 10485775 65521",
        "read -P 0 3M 64k", "read -P 0x11 3211264 64k", "read -P 0 4M 4k",
        "read -P 0x11 4198400 61440", "read -P 0 5M 64k", "read -P 0x12 60M 4M")
    if run("sha256sum", base).stdout.split()[0] != sum_base or \
            run("sha256sum", mid).stdout.split()[0] != sum_mid:
        fail("a backing file changed")
    # raw backing file, smaller than the overlay
    rawb, ov = os.path.join(d, "b.raw"), os.path.join(d, "ov.qcow2")
    with open(rawb, "wb") as f:
        f.write(b"\x44" * (2 * MiB))
    create(ov, 8 * MiB, backing="b.raw", bfmt="raw")
    p = tool(ov, "probe")
    if "backing=b.raw fmt=raw" not in p.stdout:
        fail("probe: " + p.stdout)
    tool(ov, "read", 0, 2 * MiB, "0x44", "read", 2 * MiB, 6 * MiB, "0",
         "write", 2 * MiB - 512, 1024, "0x45", "flush")
    check_clean(ov)
    qio(ov, "read -P 0x44 0 2096640", "read -P 0x45 2096640 1024", "read -P 0 2098176 63488")
    # a version 2 overlay: partial writes copy from the backing file, and
    # write-zeroes has to write real zeros (no zero flag in v2)
    v2 = os.path.join(d, "v2.qcow2")
    create(v2, size, "compat=0.10", backing="base.qcow2")
    tool(v2, "read", 0, 8 * MiB, "0x11", "write", 4096, 512, "0x51", "zero", 65536, 65536,
         "unmap", "discard", 131072, 65536, "flush")
    check_clean(v2)
    qio(v2, "read -P 0x11 0 4k", "read -P 0x51 4k 512", "read -P 0x11 4608 60928",
        "read -P 0 64k 64k", "read -P 0x11 128k 64k")
    # loops and over-deep chains are refused
    a, b = os.path.join(d, "la.qcow2"), os.path.join(d, "lb.qcow2")
    create(a, MiB)
    create(b, MiB, backing="la.qcow2")
    run("qemu-img", "rebase", "-u", "-b", "lb.qcow2", "-F", "qcow2", a)
    p = tool(b, "info", ro=True, expect=2)
    if "loop" not in p.stderr:
        fail("loop not reported: " + p.stderr)
    prev = None
    for i in range(18):
        img = os.path.join(d, "deep%d.qcow2" % i)
        create(img, MiB, backing=prev and os.path.basename(prev))
        prev = img
    p = tool(prev, "info", ro=True, expect=2)
    if "deeper" not in p.stderr:
        fail("deep chain not refused: " + p.stderr)
    # a backing file the caller did not open is refused by qcow2__open itself
    # (covered by the C unit test); an image without one opens with none


def t_zero(d):
    for compat in ("1.1", "0.10"):
        img = os.path.join(d, "z%s.qcow2" % compat)
        create(img, 32 * MiB, "compat=" + compat)
        tool(img, "write", 0, 8 * MiB, "0x66", "flush", "zero", 0, 65536, "unmap",
             "zero", 65536, 65536, "keep", "zero", 131072 + 512, 1024, "unmap",
             "discard", 5 * MiB, MiB, "zero", 20 * MiB, MiB, "unmap",
             "discard", 7 * MiB + 512, 1024, "flush")
        check_clean(img)
        qio(img, "read -P 0 0 128k", "read -P 0x66 128k 512", "read -P 0 131584 1024",
            "read -P 0x66 132608 4962304", "read -P 0 5M 1M", "read -P 0x66 6M 2M")
        # writes into preallocated zero clusters and freed clusters
        tool(img, "write", 65536 + 4096, 512, "0x67", "write", 5 * MiB + 1000, 10, "0x68",
             "flush")
        check_clean(img)
        qio(img, "read -P 0 64k 4k", "read -P 0x67 69632 512", "read -P 0 70144 60928",
            "read -P 0 5M 1000", "read -P 0x68 5243880 10", "read -P 0 5243890 1000")
    # qemu wrote zero clusters; we read zeros, and the backing data stays hidden
    base, top = os.path.join(d, "zb.qcow2"), os.path.join(d, "zt.qcow2")
    create(base, 4 * MiB)
    qio(base, "write -P 0x70 0 4M")
    create(top, 4 * MiB, backing="zb.qcow2")
    qio(top, "write -z 0 1M")
    tool(top, "read", 0, MiB, "0", "read", MiB, 3 * MiB, "0x70", "zero", 2 * MiB, MiB,
         "unmap", "write", 2 * MiB + 4096, 4096, "0x71", "flush")
    check_clean(top)
    qio(top, "read -P 0 2M 4k", "read -P 0x71 2101248 4096", "read -P 0 2105344 1040384",
        "read -P 0x70 1M 1M")


def t_flags(d):
    img = os.path.join(d, "f.qcow2")
    create(img, 16 * MiB)
    qio(img, "write -P 0x10 0 1M")
    tool(img, "write", 0, 512, "0x11", ro=True, expect=1)
    # corrupt bit: read-only use only
    with open(img, "r+b") as f:
        f.seek(72)
        f.write(struct.pack(">Q", 2))
    p = tool(img, "info", expect=2)
    if "corrupt" not in p.stderr:
        fail("corrupt bit message: " + p.stderr)
    tool(img, "read", 0, MiB, "0x10", ro=True)
    # dirty bit (lazy refcounts)
    with open(img, "r+b") as f:
        f.seek(72)
        f.write(struct.pack(">Q", 1))
    tool(img, "info", expect=2)
    tool(img, "read", 0, MiB, "0x10", ro=True)
    # autoclear bits are cleared on a writable open
    with open(img, "r+b") as f:
        f.seek(72)
        f.write(struct.pack(">QQQ", 0, 0, 3))
    tool(img, "write", 0, 512, "0x12", "flush")
    with open(img, "rb") as f:
        f.seek(88)
        if struct.unpack(">Q", f.read(8))[0] != 0:
            fail("autoclear bits not cleared")
    check_clean(img)
    # internal snapshots: read only
    run("qemu-img", "snapshot", "-c", "s1", img)
    p = tool(img, "info", expect=2)
    if "snapshot" not in p.stderr:
        fail("snapshot message: " + p.stderr)
    tool(img, "read", 512, MiB - 512, "0x10", ro=True)
    # a shrunk image keeps its L1 size with the tail cleared
    img3 = os.path.join(d, "shrunk.qcow2")
    create(img3, 1 << 41)
    qio(img3, "write -P 0x41 1T 64k", "write -P 0x42 0 64k")
    run("qemu-img", "resize", "-q", "--shrink", img3, "1G")
    tool(img3, "read", 0, 65536, "0x42", "write", 1 << 29, 4096, "0x43", "flush")
    check_clean(img3)
    qio(img3, "read -P 0x42 0 64k", "read -P 0x43 512M 4k")
    # lazy refcounts as a compatible feature do not matter to us
    img2 = os.path.join(d, "lazy.qcow2")
    create(img2, 16 * MiB, "lazy_refcounts=on")
    our_writes(img2, [(0, 4096, 0x1), (MiB, 70000, 0x2)])
    check_clean(img2)
    verify_patterns(img2, [(0, 4096, 0x1), (MiB, 70000, 0x2)], 16 * MiB)


GROUPS = {
    "basic": t_basic, "growth": t_refcount_growth, "orders": t_refcount_orders,
    "random": t_random, "reverse": t_reverse, "compressed": t_compressed,
    "backing": t_backing, "zero": t_zero, "flags": t_flags,
}


def main():
    global TOOL
    TOOL = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or list(GROUPS)
    for name in names:
        with tempfile.TemporaryDirectory(prefix="qcow2-") as d:
            try:
                GROUPS[name](d)
            except Exception as e:  # noqa: BLE001 - report and fail
                fail("%s: %s" % (name, e))
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok: " + " ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
