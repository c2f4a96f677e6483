#!/usr/bin/env python3
"""Linux boot to user space: cellvm against QEMU microvm, same bzImage and initramfs.

Debian's stock bzImage and the `linux` suite's busybox initramfs
(tests/linux/guest_image.py; its init prints "cellvm-init: userspace up"
first thing and powers off). Each round boots both VMMs, interleaved, with
the same command line, 512 MiB and 1 vCPU, and times exec -> that line on
the serial console, as seen from here (wall clock, ms). QEMU: -M microvm
(its default: qboot firmware, ACPI), -enable-kvm -cpu host. Medians of
ROUNDS rounds; the guest's own uptime at that line is emitted too.

The fetch and initramfs build run on the host; the rounds run where
/dev/kvm is (natively, or in the KVM box through kvmhost).

usage: linux.py BUILD_DIR CACHE [ROUNDS] --kvmhost KVMHOST ARGS... --
"""
import os
import re
import selectors
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "linux"))
from benchlib import emit, median  # noqa: E402

CMDLINE = "console=ttyS0 panic=-1"
LINE = re.compile(rb"cellvm-init: userspace up after ([0-9.]+) s")


def to_userspace(cmd, timeout=900):
    """(wall ms exec -> the line, guest uptime s at it); the VM is then killed."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    seen = b""
    try:
        while time.monotonic() - t0 < timeout:
            if not sel.select(1.0):
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            seen = (seen + chunk)[-8192:]
            m = LINE.search(seen)
            if m:
                return (time.monotonic() - t0) * 1000, float(m.group(1))
    finally:
        p.kill()
        p.wait()
    # A failed round is counted, not fatal (docs/boot.md, "Known problems").
    print(f"no user space within {timeout} s: {cmd[0]}\n{seen[-2000:].decode(errors='replace')}",
          file=sys.stderr)
    return None


def rounds(build, cache, n):
    g = os.path.join(cache, "guest")
    bz, initrd = os.path.join(g, "bzImage"), os.path.join(g, "initrd.gz")
    cellvm = [os.path.join(build, "cellvm"), "run", "--kernel", bz, "--initrd", initrd,
              "--cmdline", CMDLINE, "--memory", "512M", "--cpus", "1", "--serial", "stdio"]
    qemu = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", "microvm", "-m", "512M",
            "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
            "-kernel", bz, "-initrd", initrd, "-append", CMDLINE]
    res = {"cellvm": [], "qemu": []}
    failed = {"cellvm": 0, "qemu": 0}
    for _ in range(n):
        for name, cmd in (("cellvm", cellvm), ("qemu", qemu)):
            r = to_userspace(cmd)
            if r is None:
                failed[name] += 1
            else:
                res[name].append(r)
    emit("boot.linux_failed_rounds", failed["cellvm"], "rounds", "qemu-microvm", failed["qemu"])
    if not res["cellvm"] or not res["qemu"]:
        raise SystemExit("no successful round for one of the VMMs")
    c = median([x[0] for x in res["cellvm"]])
    q = median([x[0] for x in res["qemu"]])
    emit("boot.linux_to_userspace_ms", c, "ms", "qemu-microvm", q)
    emit("boot.linux_guest_uptime_at_userspace_ms", median([x[1] for x in res["cellvm"]]) * 1000,
         "ms", "qemu-microvm", median([x[1] for x in res["qemu"]]) * 1000)


def main():
    argv = sys.argv[1:]
    kvmhost = []
    if "--kvmhost" in argv:
        i = argv.index("--kvmhost")
        argv, kvmhost = argv[:i], argv[i + 1:]
    build, cache = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    n = int(argv[2]) if len(argv) > 2 and argv[2] != "--in-box" else 5
    if "--in-box" in argv:
        rounds(build, cache, n)
        return
    import guest_image  # noqa: E402
    guest_image.build(cache)
    os.execvp(kvmhost[0], kvmhost + [sys.executable, os.path.abspath(__file__), build, cache,
                                     str(n), "--in-box"])


if __name__ == "__main__":
    main()
