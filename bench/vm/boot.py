#!/usr/bin/env python3
"""Boot latency and memory overhead of cellvm against QEMU microvm.

Latency (ROUNDS rounds, interleaved; medians):
  (a) `cellvm run -v --serial none --kernel SELFTEST`: the broker's own
      boot-timer figure (guest's first port write, from broker start) and the
      CPU ms it reports for broker + vcpu-worker;
  (b) `cellvm run -v --serial stdio --kernel SELFTEST`: exec -> first serial
      byte on the stdout pipe, as seen from here;
  (c) QEMU microvm (fastest config for a PVH payload): exec -> first serial byte.
Memory: boot DEMO (runs forever) with 256 MiB, wait for "alive 1", sum Pss/Rss
from /proc/PID/smaps over the VMM's whole process tree, leaving out the guest
RAM mapping (cellvm: /memfd:cellvm-ram; QEMU: a named memfd backend), SIGTERM.

usage: boot.py BUILD_DIR SELFTEST DEMO [ROUNDS] [MEM_ROUNDS]
"""
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time

from benchlib import emit, median

QEMU_MICROVM = "microvm,x-option-roms=off,rtc=off,pit=off,pic=off,acpi=off"
RAM_MIB = 256
# mappings holding guest RAM (excluded from the overhead figures)
GUEST_RAM = re.compile(r"/memfd:(cellvm-ram|memory-backend-memfd)\b")


def qemu_cmd(payload, mem_backend=False):
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-M", QEMU_MICROVM, "-nodefaults",
           "-no-user-config", "-nographic", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", str(RAM_MIB),
           "-kernel", payload]
    if mem_backend:
        cmd[3] += ",memory-backend=m"
        cmd += ["-object", "memory-backend-memfd,id=m,size=%dM" % RAM_MIB]
    return cmd


def cellvm_cmd(build, payload, serial):
    return [os.path.join(build, "cellvm"), "run", "-v", "--kernel", payload,
            "--serial", serial, "--memory", "%dM" % RAM_MIB]


def first_byte(cmd, until=None, timeout=30):
    """Exec cmd; seconds to the first stdout byte, stderr text, the Popen.

    With until (bytes), leaves the process running once stdout contains it;
    otherwise reads to EOF and reaps it."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "out")
    sel.register(p.stderr, selectors.EVENT_READ, "err")
    first, out, err, streams = None, b"", b"", 2
    deadline = t0 + timeout
    while streams:
        ev = sel.select(max(0.0, deadline - time.monotonic()))
        if not ev:
            p.kill()
            p.wait()
            raise SystemExit("boot bench: %s: no result in %d s\n%s" %
                             (cmd[0], timeout, err.decode(errors="replace")))
        for key, _ in ev:
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
                streams -= 1
            elif key.data == "out":
                if first is None:
                    first = time.monotonic() - t0
                out += data
            else:
                err += data
        if until is not None and until in out:
            return first, err.decode(errors="replace"), p
    p.wait()
    return first, err.decode(errors="replace"), p


BOOT_RE = re.compile(r"boot-timer: guest started ([\d.]+) ms after cellvm, "
                     r"CPU ([\d.]+) ms broker \+ ([\d.]+) ms vcpu-worker")


def broker_figures(err):
    m = BOOT_RE.search(err)
    if not m:
        raise SystemExit("boot bench: no boot-timer line from cellvm:\n" + err)
    return float(m.group(1)), float(m.group(2)) + float(m.group(3))


def tree(root):
    """root and all its descendants (from /proc/*/status PPid)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                ppid = int(re.search(r"^PPid:\s*(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def overhead_kib(root):
    """(Pss, Rss) KiB of root's process tree outside guest-RAM mappings, process count."""
    pss = rss = 0
    pids = tree(root)
    for pid in pids:
        try:
            with open("/proc/%d/smaps" % pid) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        skip = False
        for ln in lines:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", ln):
                skip = bool(GUEST_RAM.search(ln))
            elif not skip and ln.startswith("Pss:"):
                pss += int(ln.split()[1])
            elif not skip and ln.startswith("Rss:"):
                rss += int(ln.split()[1])
    return pss, rss, len(pids)


def measure_mem(cmd):
    _, err, p = first_byte(cmd, until=b"alive 1")
    try:
        time.sleep(0.2)
        return overhead_kib(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()


def main():
    build, selftest, demo = sys.argv[1:4]
    # In the KVM box (CELLVM_HOST set by kvmhost) a boot takes seconds:
    # fewer rounds keep the run within its meson timeout.
    box = bool(os.environ.get("CELLVM_HOST"))
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else (5 if box else 15)
    mem_rounds = int(sys.argv[5]) if len(sys.argv) > 5 else (1 if box else 3)
    have_qemu = shutil.which("qemu-system-x86_64") and os.access("/dev/kvm", os.W_OK)
    load = os.getloadavg()[0]
    broker, cpu, cv_first, q_first = [], [], [], []
    for _ in range(rounds):
        _, err, p = first_byte(cellvm_cmd(build, selftest, "none"))
        if p.returncode != 0:
            raise SystemExit("boot bench: cellvm selftest failed (rc %d)\n%s" % (p.returncode, err))
        b, c = broker_figures(err)
        broker.append(b)
        cpu.append(c)
        f, err, p = first_byte(cellvm_cmd(build, selftest, "stdio"))
        if f is None or p.returncode != 0:
            raise SystemExit("boot bench: cellvm --serial stdio: rc %d\n%s" % (p.returncode, err))
        cv_first.append(f * 1000)
        if have_qemu:
            f, err, p = first_byte(qemu_cmd(selftest))
            if f is None:
                raise SystemExit("boot bench: QEMU printed nothing\n" + err)
            q_first.append(f * 1000)
    emit("boot.host_load_1m", max(load, os.getloadavg()[0]), "load")
    emit("boot.start_to_first_insn_ms", median(cv_first), "ms", "qemu-microvm",
         median(q_first))
    emit("boot.broker_boot_timer_ms", median(broker), "ms", "qemu-microvm", median(q_first))
    emit("boot.start_cpu_ms", median(cpu), "ms")

    cv_mem, q_mem = [], []
    for _ in range(mem_rounds):
        cv_mem.append(measure_mem(cellvm_cmd(build, demo, "stdio")))
        if have_qemu:
            q_mem.append(measure_mem(qemu_cmd(demo, mem_backend=True)))
    emit("boot.overhead_pss_kib", median([m[0] for m in cv_mem]), "KiB", "qemu-microvm",
         median([m[0] for m in q_mem]))
    emit("boot.overhead_rss_kib", median([m[1] for m in cv_mem]), "KiB", "qemu-microvm",
         median([m[1] for m in q_mem]))
    emit("boot.processes", median([m[2] for m in cv_mem]), "count", "qemu-microvm",
         median([m[2] for m in q_mem]))


if __name__ == "__main__":
    main()
