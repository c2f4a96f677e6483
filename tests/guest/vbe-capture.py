#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a drawing payload under QEMU/KVM (-M pc with a Bochs VBE adapter and
a VNC server), capture the screen with a real VNC client and compare it
with what tests/guest/vbe_picture.py computes.

  vbe-capture.py --check picture|onechar|demo|anim|exit [--adapter bochs|std|std-ports]
                 [--width W --height H --pattern N] [--capture vnc|screendump]
                 [--save FILE.png] PAYLOAD

picture: vbedraw's picture must match exactly (and must not match another
pattern, so the comparison can fail). onechar: the picture plus the one
changing character cell. demo: guest-demo's title text matches the font
rendering and its heartbeat line is drawn. anim: the full-screen redraw loop
reports frames. exit: the guest ends with --status N. --expect REGEX: the
serial output must show it (any check). Fails without /dev/kvm, QEMU or a capture tool.
Timeouts only bound a hung run; they are not performance assertions.
"""
import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vbe_picture  # noqa: E402

ADAPTERS = {
    "bochs": ["-device", "bochs-display"],            # BAR0 fb, BAR2 DISPI MMIO
    "std": ["-device", "VGA"],                        # std VGA, BAR2 MMIO
    "std-ports": ["-device", "VGA,mmio=off"],         # std VGA, DISPI through 0x1ce/0x1cf
}
DEMO_BG, DEMO_FG, DEMO_LIVE = 0x102040, 0xffffff, 0x40ff40


def missing(capture):
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 not found"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm absent or not accessible"
    if capture == "vnc" and not shutil.which("gvnccapture"):
        return "gvnccapture (package gvncviewer) not found"
    return None


def free_display():
    """A VNC display number whose port is free right now (QEMU may still race us)."""
    for n in random.sample(range(20, 90), 70):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 5900 + n))
            return n
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free VNC display in :20..:89")


class Guest:
    def __init__(self, args, tmp):
        self.tmp = tmp
        self.mon = os.path.join(tmp, "mon")
        self.display = free_display()
        cmd = [shutil.which("qemu-system-x86_64"), "-enable-kvm", "-M", "pc", "-nodefaults",
               "-no-user-config", "-display", "none", "-vnc", "127.0.0.1:%d" % self.display,
               "-serial", "stdio", "-monitor", "unix:%s,server=on,wait=off" % self.mon,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", "256",
               "-kernel", args.payload] + ADAPTERS[args.adapter]
        if args.append:
            cmd += ["-append", args.append]
        print("+ " + " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            if not data:
                return
            with self.lock:
                self.out += data

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def wait_for(self, regex, deadline):
        """The last match of regex in the serial output, or None at the deadline or exit."""
        while time.monotonic() < deadline:
            m = list(re.finditer(regex, self.text()))
            if m:
                return m[-1]
            if self.proc.poll() is not None:
                time.sleep(0.2)
                m = list(re.finditer(regex, self.text()))
                return m[-1] if m else None
            time.sleep(0.1)
        return None

    def capture(self, how, n):
        """(w, h, rgb) of the screen now, through a VNC client or QEMU's screendump."""
        if how == "vnc":
            path = os.path.join(self.tmp, "cap%d.png" % n)
            r = subprocess.run(["gvnccapture", "127.0.0.1:%d" % self.display, path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if r.returncode or not os.path.exists(path):
                raise RuntimeError("gvnccapture failed: %s" % r.stdout.decode(errors="replace"))
            return path, vbe_picture.read_png(path)
        path = os.path.join(self.tmp, "cap%d.ppm" % n)
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.mon)
        s.sendall(b"screendump %s\n" % path.encode())
        s.settimeout(30)
        deadline = time.monotonic() + 30
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        s.sendall(b"info status\n")
        buf = b""
        while b"VM status" not in buf and time.monotonic() < deadline:
            buf += s.recv(4096)  # screendump finished before the next command's answer
        s.close()
        return path, vbe_picture.read_ppm(path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def compare(guest, args, want_fn, tries=10):
    """Capture until the screen equals one of the pictures want_fn() returns
    (QEMU's VNC server backs off its refresh while the screen is idle, so a
    capture may predate the last drawing). Returns the matching capture or None."""
    last = None
    for n in range(tries):
        path, (w, h, px) = guest.capture(args.capture, n)
        wants = want_fn()
        want = wants[-1]
        if (w, h) == (args.width, args.height) and px in wants:
            print("capture %d (%s): %dx%d matches exactly" % (n, args.capture, w, h))
            if args.save:
                shutil.copy(path, args.save)
            return px
        last = (path, w, h, px, want)
        print("capture %d (%s): %dx%d, %d pixels differ; retrying" % (
            n, args.capture, w, h, vbe_picture.diff(w, px, want, 0)[0] if len(px) == len(want)
            else w * h))
        time.sleep(0.5)
    path, w, h, px, want = last
    if args.save:
        shutil.copy(path, args.save)
    if (w, h) != (args.width, args.height):
        print("FAIL: captured %dx%d, want %dx%d" % (w, h, args.width, args.height))
    else:
        bad, notes = vbe_picture.diff(w, px, want)
        print("FAIL: %d of %d pixels differ: %s" % (bad, w * h, "; ".join(notes)))
    return None


def check_picture(guest, args):
    if not guest.wait_for(r"vbedraw: drawn %dx%d\n" % (args.width, args.height),
                          time.monotonic() + args.timeout):
        print("FAIL: no 'vbedraw: drawn %dx%d'" % (args.width, args.height))
        return False
    want = vbe_picture.picture(args.width, args.height, args.pattern)
    px = compare(guest, args, lambda: [want])
    if px is None:
        return False
    other = vbe_picture.picture(args.width, args.height, args.pattern + 1)
    if px == other:
        print("FAIL: pattern %d and %d look the same" % (args.pattern, args.pattern + 1))
        return False
    return True


def check_onechar(guest, args):
    base = vbe_picture.picture(args.width, args.height, args.pattern)
    if not guest.wait_for(r"vbedraw: onechar [0-9]+\n", time.monotonic() + args.timeout):
        print("FAIL: no 'vbedraw: onechar N'")
        return False

    def want():
        # the digit of the latest tick or of one of the nine before: a tick may
        # fall between the capture and this look at the serial output, and
        # QEMU's VNC server refreshes a quiet screen only every 3 s at most
        # (its refresh interval backs off), much longer where the host is
        # slow (seen: more than 6 ticks behind in a loaded KVM box). The cell
        # must still hold a digit drawn exactly and nothing else may differ.
        n = int(guest.wait_for(r"vbedraw: onechar ([0-9]+)\n", time.monotonic() + 1).group(1))
        out = []
        for k in range(max(1, n - 9), n + 1):
            cv = vbe_picture.Canvas(args.width, args.height)
            cv.px = bytearray(base)
            cv.char(16, args.height // 2 + 96, chr(ord("0") + k % 10), vbe_picture.CELL_FG,
                    vbe_picture.TEXT_BG, 1)
            out.append(cv.px)
        return out

    px = compare(guest, args, want, tries=20)
    if px is None:
        return False
    bad, _ = vbe_picture.diff(args.width, px, base, limit=0)
    if not 0 < bad <= vbe_picture.CELL_W * vbe_picture.CELL_H:
        print("FAIL: %d pixels differ from the base picture, want 1..128 (one cell)" % bad)
        return False
    print("one 8x16 cell differs from the base picture (%d pixels)" % bad)
    return True


def check_demo(guest, args):
    if not guest.wait_for(r"alive 2\n", time.monotonic() + args.timeout):
        print("FAIL: demo printed no 'alive 2'")
        return False
    title = "cellvm demo guest"
    tw, th = len(title) * 8 * 4, 16 * 4
    want = vbe_picture.Canvas(tw, th, DEMO_BG)
    want.text(0, 0, title, DEMO_FG, DEMO_BG, 4)
    for n in range(10):
        _, (w, h, px) = guest.capture(args.capture, n)
        if (w, h) != (800, 600):
            print("capture %d: %dx%d, not the demo's 800x600" % (n, w, h))
            time.sleep(0.5)
            continue
        region = bytearray()
        for y in range(32, 32 + th):
            region += px[(y * w + 32) * 3:(y * w + 32 + tw) * 3]
        live = px[160 * w * 3:(160 + 32) * w * 3]
        if region == want.px and DEMO_LIVE.to_bytes(3, "big") in live:
            print("capture %d: title text matches, heartbeat line drawn" % n)
            return True
        bad, notes = vbe_picture.diff(tw, region, want.px)
        print("capture %d: title %d pixels differ %s" % (n, bad, "; ".join(notes)))
        time.sleep(0.5)
    print("FAIL: demo title screen not seen")
    return False


def check_anim(guest, args):
    m = guest.wait_for(r"vbedraw: anim frames ([0-9]+) fps ([0-9]+)\n",
                       time.monotonic() + args.timeout)
    if not m or int(m.group(1)) == 0:
        print("FAIL: no 'vbedraw: anim frames N fps F' with N > 0")
        return False
    return True


def check_exit(guest, args):
    """The guest ends through the debug-exit port with --status."""
    try:
        rc = guest.proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print("FAIL: guest still running after %.0f s" % args.timeout)
        return False
    time.sleep(0.2)  # let the reader drain the pipe
    if rc != (args.status << 1) | 1:
        print("FAIL: wanted guest status %d (qemu rc %d), got qemu rc %d"
              % (args.status, (args.status << 1) | 1, rc))
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("payload")
    ap.add_argument("--check", required=True, choices=["picture", "onechar", "demo", "anim", "exit"])
    ap.add_argument("--status", type=int, default=0, help="exit status for --check exit")
    ap.add_argument("--adapter", default="bochs", choices=sorted(ADAPTERS))
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--pattern", type=int, default=0)
    ap.add_argument("--append", help="kernel command line (default: from width/height/pattern)")
    ap.add_argument("--capture", default="vnc", choices=["vnc", "screendump"])
    ap.add_argument("--expect", action="append", default=[], help="regex the serial must show")
    ap.add_argument("--save", help="copy the last capture here")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    if args.append is None:
        args.append = "w=%d h=%d pattern=%d" % (args.width, args.height, args.pattern)
        if args.check == "onechar":
            args.append += " onechar=1"
        if args.check == "anim":
            args.append += " anim=1"
    reason = missing(args.capture)
    if reason:
        print("FAIL: " + reason + " (meson runs this through tests/kvmhost/kvmhost)")
        return 1
    with tempfile.TemporaryDirectory(prefix="cellvm-vbe-") as tmp:
        guest = Guest(args, tmp)
        try:
            ok = {"picture": check_picture, "onechar": check_onechar, "demo": check_demo,
                  "anim": check_anim, "exit": check_exit}[args.check](guest, args)
            for e in args.expect:
                if not re.search(e, guest.text()):
                    print("FAIL: expected output /%s/ not seen" % e)
                    ok = False
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            ok = False
        finally:
            guest.stop()
        sys.stdout.write(guest.text())
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
