#!/usr/bin/env python3
"""sVirt labelling by the broker, seen through the libselinux mock (this
host's kernel has SELinux built in but disabled): every child's exec
context, the memfds, the images and their restoration, and the modes.

usage: selinux_test.py CASE CELLVM PAYLOAD MOCK_SO
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading



def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run_mocked(cellvm, payload, mock, d, extra):
    """Run cellvm with the mock preloaded; the log is a FIFO so that jailed
    children (RLIMIT_FSIZE 0, no filesystem after their pivot_root) can
    still report their setexeccon calls before they exec."""
    fifo = os.path.join(d, "mock.fifo")
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    lines = []
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    keep = os.open(fifo, os.O_WRONLY)  # never EOF while cellvm runs
    stop = threading.Event()

    def reader():
        buf = b""
        while not stop.is_set():
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                stop.wait(0.01)
                continue
            buf += chunk
        lines.extend(buf.decode(errors="replace").splitlines())

    t = threading.Thread(target=reader)
    t.start()
    env = dict(os.environ, LD_PRELOAD=mock, MOCK_SELINUX_LOG=fifo)
    p = subprocess.run([cellvm, "run", "--kernel", payload, *extra], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    stop.wait(0.3)
    stop.set()
    t.join()
    os.close(fd)
    os.close(keep)
    print(f"--- rc {p.returncode}\n{p.stdout}{p.stderr}--- mock log")
    print("\n".join(l for l in lines if not l.startswith("getpidcon")))
    return p, lines


def case_labels(cellvm, payload, mock):
    with tempfile.TemporaryDirectory(prefix="cellvm-sel-") as d:
        img = os.path.join(d, "disk.raw")
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        # The kernel is labelled too: a copy on the temporary filesystem,
        # which keeps trusted.* xattrs (a 9p share of the build tree does not).
        kernel = os.path.join(d, "kernel")
        shutil.copyfile(payload, kernel)
        p, log = run_mocked(cellvm, kernel, mock, d,
                            ["--selinux=require", "--disk", img, "--testdev", "ring"])
        if p.returncode != 0:
            fail(f"exit status {p.returncode}")
        execs = [l.split(" ", 1)[1] for l in log if l.startswith("setexeccon_raw ")]
        levels = set()
        types = set()
        for con in execs:
            m = re.fullmatch(r"system_u:system_r:(cellvm_\w+_t):(s0:c(\d+),c(\d+))", con)
            if not m:
                fail(f"exec context {con!r} is not a per-VM MCS context")
            if int(m.group(3)) >= int(m.group(4)):
                fail(f"category pair not ordered in {con}")
            types.add(m.group(1))
            levels.add(m.group(2))
        want = {"cellvm_vcpu_t", "cellvm_serial_t", "cellvm_blk_t", "cellvm_testdev_t"}
        if types != want:
            fail(f"children exec'd as {sorted(types)}, expected {sorted(want)}")
        if len(levels) != 1:
            fail(f"the VM's processes do not share one category pair: {levels}")
        level = levels.pop()
        sets = [l.split(" ", 1)[1] for l in log if l.startswith("fsetfilecon_raw ")]
        for t in ("cellvm_ram_t", "cellvm_serial_ring_t", "cellvm_blk_ring_t",
                  "cellvm_testdev_ring_t", "cellvm_image_t"):
            if not any(c.endswith(f":{t}:{level}") for c in sets):
                fail(f"no {t} label at {level}")
        if not any(":cellvm_content_t:s0" in c for c in sets):
            fail("the kernel image was not labelled as read-only content")
        # Restored at the end: the last label set on the image is the original.
        if not sets[-1].endswith(":user_home_t:s0") and "user_home_t" not in sets[-1]:
            fail(f"the image label was not restored (last set: {sets[-1]})")


def case_two_vms(cellvm, payload, mock):
    """Two VMs at once get different category pairs. Each boots its own copy
    of the kernel: the mock keeps file labels per process, so a shared
    read-only image would look relabelled behind its back."""
    with tempfile.TemporaryDirectory(prefix="cellvm-sel-") as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        os.mkdir(a)
        os.mkdir(b)
        res = {}

        def one(tag, dd):
            kernel = os.path.join(dd, "kernel")
            with open(payload, "rb") as src, open(kernel, "wb") as dst:
                dst.write(src.read())
            res[tag] = run_mocked(cellvm, kernel, mock, dd, ["--selinux=require"])

        ta = threading.Thread(target=one, args=("a", a))
        tb = threading.Thread(target=one, args=("b", b))
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        pairs = []
        for tag in "ab":
            p, log = res[tag]
            if p.returncode != 0:
                fail(f"VM {tag}: exit status {p.returncode}")
            cons = [l for l in log if l.startswith("setexeccon_raw ")]
            if not cons:
                fail(f"VM {tag}: no exec context")
            pairs.append(cons[0].rsplit(":", 1)[-1])
        print("pairs:", pairs)
        if pairs[0] == pairs[1]:
            fail("two VMs got the same category pair")


def case_modes(cellvm, payload, _mock):
    """The real libselinux on this host: SELinux is disabled."""
    p = subprocess.run([cellvm, "run", "--kernel", payload, "--selinux=require"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    print(p.stderr)
    if p.returncode != 125 or "SELinux is disabled" not in p.stderr:
        fail("--selinux=require started without SELinux")
    p = subprocess.run([cellvm, "run", "-v", "--kernel", payload, "--selinux=auto"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    print(p.stderr)
    if p.returncode != 0 or p.stderr.count("SELinux is disabled") != 1:
        fail("--selinux=auto did not run and say once that SELinux is disabled")
    p = subprocess.run([cellvm, "run", "-v", "--kernel", payload, "--selinux=off"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or "SELinux" in p.stderr:
        fail("--selinux=off did not run silently")
    p = subprocess.run([cellvm, "run", "--kernel", payload, "--selinux=maybe"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if p.returncode != 125 or "--selinux" not in p.stderr:
        fail("a bad --selinux mode was accepted")


def main():
    case, cellvm, payload, mock = sys.argv[1:5]
    if not os.path.exists("/dev/kvm"):
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    globals()["case_" + case](cellvm, payload, mock)
    print("PASS")


if __name__ == "__main__":
    main()
