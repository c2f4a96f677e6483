#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""cellvm's VNC path vs QEMU's built-in VNC server, same guest payload
(guest/vbedraw on a bochs-display), same loopback RFB client of our own.

usage: vnc.py BUILD VBEDRAW
  vnc.fullscreen_fps    anim=1 1024x768: frame updates/s (raw, 32bpp, one
                        incremental request outstanding), over 4 s. anim=1 rewrites
                        the whole screen but only the top half's pixels change
                        (the grid half is the same each frame) and both servers
                        send only changed pixels, so an update counts as a frame
                        when its rects cover >= 1024x384
  vnc.onechar_bytes     onechar=1: bytes of the update that follows a one-cell
                        change (raw); vnc.onechar_bytes_zrle the same with ZRLE
  vnc.idle_cpu_pct      idle screen (hold=1), one client polling every 100 ms,
                        5 s: CPU% of cellvm-vnc vs QEMU's non-vCPU threads
                        (main loop + VNC worker + I/O; an upper bound of its VNC
                        cost); vnc.idle_cpu_pct_qemu_whole adds QEMU's vCPU thread
Medians of 3 rounds; one JSON object per line.
"""
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from benchlib import emit  # noqa: E402

BUILD, VBEDRAW = sys.argv[1], sys.argv[2]
W, H = 1024, 768
ROUNDS = 3


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Vm:
    """cellvm or QEMU running vbedraw with CMDLINE; waits for 'vbedraw: drawn'."""

    def __init__(self, kind, cmdline):
        self.kind = kind
        if kind == "cellvm":
            self.port = free_port()
            cmd = [os.path.join(BUILD, "cellvm"), "run", "--kernel", VBEDRAW, "--cmdline", cmdline,
                   "--vnc", "127.0.0.1:%d,auth=none" % self.port]
        else:
            self.port = qemu_port()
            cmd = [shutil.which("qemu-system-x86_64"), "-enable-kvm", "-M", "pc", "-nodefaults",
                   "-no-user-config", "-name", "vbedraw,debug-threads=on", "-display", "none", "-vnc", "127.0.0.1:%d" % (self.port - 5900),
                   "-serial", "stdio", "-m", "256", "-device", "bochs-display",
                   "-kernel", VBEDRAW, "-append", cmdline]
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        self.out = b""
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        needle = b"vbedraw: anim" if "anim=1" in cmdline else b"vbedraw: drawn"
        while needle not in self.out:
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s did not draw: %r" % (kind, self.out[-500:]))
            time.sleep(0.05)

    def _read(self):
        while True:
            d = self.p.stdout.read1(65536)
            if not d:
                return
            self.out = (self.out + d)[-4096:]

    def cpu_ticks(self, which):
        """CPU ns: 'vnc' (cellvm-vnc / QEMU non-vCPU threads) or 'whole'."""
        if self.kind == "cellvm":
            return sum(task_ticks("/proc/%d/task/%s" % (pid, t))
                       for pid in descendants(self.p.pid, "cellvm-vnc")
                       for t in os.listdir("/proc/%d/task" % pid))
        tot = 0
        for t in os.listdir("/proc/%d/task" % self.p.pid):
            d = "/proc/%d/task/%s" % (self.p.pid, t)
            try:
                comm = open(d + "/comm").read().strip()
            except OSError:
                continue
            if which == "whole" or not re.match(r"CPU \d+/KVM", comm):
                tot += task_ticks(d)
        return tot

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def qemu_port():
    """QEMU takes a display number: a free 5900 + N, N in 100..899."""
    import random
    for n in random.sample(range(100, 900), 800):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 5900 + n))
            return 5900 + n
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free VNC display")


def task_ticks(d):
    """CPU time of one thread in ns (schedstat: finer than stat's 10 ms ticks)."""
    try:
        return int(open(d + "/schedstat").read().split()[0])
    except OSError:
        return 0


def descendants(root, comm):
    kids, found = {}, []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                st = open("/proc/%s/stat" % e).read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append((int(e), name))
    todo = [root]
    while todo:
        for pid, name in kids.get(todo.pop(), []):
            if name == comm:
                found.append(pid)
            todo.append(pid)
    if not found:
        raise RuntimeError("no %s process under %d" % (comm, root))
    return found


class Client:
    """Loopback RFB 3.8, security None, 32bpp; counts bytes, decodes nothing."""

    def __init__(self, port, encs):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray(8 << 20)
        self.nbytes = 0
        ver = self.exact(12)
        self.s.sendall(b"RFB 003.008\n")
        types = self.exact(self.exact(1)[0])
        if 1 not in types:
            raise RuntimeError("security None not offered: %r (%r)" % (types, ver))
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self.exact(4))[0]:
            raise RuntimeError("security result")
        self.s.sendall(b"\x01")
        self.w, self.h = struct.unpack(">HH", self.exact(4))
        self.exact(16)
        self.exact(struct.unpack(">I", self.exact(4))[0])
        self.s.sendall(b"\x00\x00\x00\x00" + struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255,
                                                         255, 16, 8, 0))
        self.s.sendall(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e) for e in encs))

    def exact(self, n):
        v = memoryview(self.buf)[:n]
        got = 0
        while got < n:
            r = self.s.recv_into(v[got:], n - got)
            if not r:
                raise EOFError
            got += r
        self.nbytes += n
        return bytes(v[:min(n, 64)]) if n <= 64 else None

    def request(self, incremental):
        self.s.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, self.w, self.h))

    def update(self):
        """Read server messages up to one FramebufferUpdate; (area, bytes)."""
        while True:
            start = self.nbytes
            t = self.exact(1)[0]
            if t == 0:
                break
            if t == 2:  # Bell
                continue
            if t == 3:  # ServerCutText
                self.exact(3)
                self.exact(struct.unpack(">I", self.exact(4))[0])
                continue
            raise RuntimeError("server message %d" % t)
        self.exact(1)
        n = struct.unpack(">H", self.exact(2))[0]
        area = 0
        for _ in range(n):
            x, y, w, h, e = struct.unpack(">HHHHi", self.exact(12))
            if e == 0:
                self.skip(w * h * 4)
            elif e == 16:
                self.skip(struct.unpack(">I", self.exact(4))[0])
            else:
                raise RuntimeError("encoding %d" % e)
            area += w * h
        return area, self.nbytes - start

    def skip(self, n):
        while n:
            k = min(n, len(self.buf))
            self.exact(k)
            n -= k

    def close(self):
        self.s.close()


def fullscreen_fps(vm, secs=4.0):
    c = Client(vm.port, [0])
    c.request(0)
    c.update()
    frames, t0 = 0, time.monotonic()
    c.request(1)
    while time.monotonic() - t0 < secs:
        area, _ = c.update()
        c.request(1)
        # both servers send only what changed; anim=1 changes the whole top
        # half every frame (bands, gradient): an update carrying at least
        # that much is one guest frame shipped whole
        if area >= W * H // 2:
            frames += 1
    dt = time.monotonic() - t0
    c.close()
    return frames / dt


def onechar_bytes(vm, samples=4):
    """Raw and ZRLE clients side by side, each: full frame, then the next
    updates (one per guest change); median bytes per update."""
    res = {}

    def run(encs, key):
        c = Client(vm.port, encs)
        c.request(0)
        c.update()
        got = []
        while len(got) < samples:
            c.request(1)
            area, n = c.update()
            if area:
                got.append(n)
        c.close()
        res[key] = statistics.median(got)
    ts = [threading.Thread(target=run, args=(e, k)) for e, k in (([0], "raw"), ([16], "zrle"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if len(res) != 2:
        raise RuntimeError("onechar clients did not finish")
    return res["raw"], res["zrle"]


def idle_cpu(vm, secs=5.0):
    c = Client(vm.port, [0])
    c.request(0)
    c.update()
    c.s.setblocking(False)
    a_vnc, a_whole, t0 = vm.cpu_ticks("vnc"), vm.cpu_ticks("whole"), time.monotonic()
    while time.monotonic() - t0 < secs:
        c.s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, W, H))
        time.sleep(0.1)
        try:
            while c.s.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
    dt = time.monotonic() - t0
    b_vnc, b_whole = vm.cpu_ticks("vnc"), vm.cpu_ticks("whole")
    c.close()
    return 100.0 * (b_vnc - a_vnc) / 1e9 / dt, 100.0 * (b_whole - a_whole) / 1e9 / dt


def one_round(kind):
    base = "w=%d h=%d pattern=3 " % (W, H)
    r = {}
    vm = Vm(kind, base + "anim=1")
    try:
        r["fps"] = fullscreen_fps(vm)
    finally:
        vm.stop()
    vm = Vm(kind, base + "onechar=1")
    try:
        r["raw"], r["zrle"] = onechar_bytes(vm)
    finally:
        vm.stop()
    vm = Vm(kind, base + "hold=1")
    try:
        time.sleep(0.5)
        r["cpu"], r["cpu_whole"] = idle_cpu(vm)
    finally:
        vm.stop()
    print("# %s: %s" % (kind, {k: round(v, 2) for k, v in r.items()}), file=sys.stderr, flush=True)
    return r


def main():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no /dev/kvm")
        return 77
    kinds = ["cellvm"] + (["qemu"] if shutil.which("qemu-system-x86_64") else [])
    rounds = {k: [] for k in kinds}
    for _ in range(ROUNDS):
        for k in kinds:
            rounds[k].append(one_round(k))

    def med(k, m):
        return statistics.median(r[m] for r in rounds[k]) if k in rounds else None
    q = "qemu" in rounds
    emit("vnc.fullscreen_fps", med("cellvm", "fps"), "fps", "qemu" if q else None, med("qemu", "fps"))
    emit("vnc.onechar_bytes", med("cellvm", "raw"), "bytes", "qemu" if q else None, med("qemu", "raw"))
    emit("vnc.onechar_bytes_zrle", med("cellvm", "zrle"), "bytes", "qemu" if q else None,
         med("qemu", "zrle"))
    emit("vnc.idle_cpu_pct", med("cellvm", "cpu"), "%", "qemu" if q else None, med("qemu", "cpu"))
    if q:
        emit("vnc.idle_cpu_pct_qemu_whole", med("qemu", "cpu_whole"), "%")
    with open("/proc/loadavg") as f:
        print("# loadavg " + f.read().strip(), file=sys.stderr)
    return 0


sys.exit(main())
