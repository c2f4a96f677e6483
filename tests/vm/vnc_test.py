#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of cellvm's display: guest/vbedraw draws under cellvm,
real VNC clients (gvnccapture, vncsnapshot, noVNC in chromium) and our own
RFB client read it back through the confined vnc process, and the picture
must equal tests/guest/vbe_picture.py's pixel for pixel.

usage: vnc_test.py CASE CELLVM VBEDRAW [JPEG2PPM]
CASE: password vncsnapshot vencrypt refuse hostile screendump novnc
Exit 77 only without /dev/kvm or a client tool. Timeouts bound hung runs only.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import vbe_picture  # noqa: E402

CASE, CELLVM, VBEDRAW = sys.argv[1:4]
JPEG2PPM = sys.argv[4] if len(sys.argv) > 4 else None
W, H, PAT = 1024, 768, 3


def load_vnctest():
    """tests/vnc/vnctest.py's helpers (gvnc_password, Rfb, Cdp, read_ppm): it
    runs its test on import, so execute only the part before its dispatcher."""
    path = os.path.join(HERE, "..", "vnc", "vnctest.py")
    src = open(path).read()
    src = src[:src.index("\nNEEDS = {")]
    ns = {"__name__": "vnctest", "__file__": path}
    argv = sys.argv
    sys.argv = ["vnctest.py", "none", "none"]
    try:
        exec(compile(src, path, "exec"), ns)
    finally:
        sys.argv = argv
    return type("vnctest", (), ns)


vt = load_vnctest()


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            skip("%s not installed" % t)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def want_picture(w=W, h=H, pattern=PAT):
    return vbe_picture.picture(w, h, pattern)


def check_rgb(w, h, px, what, tol=0):
    if (w, h) != (W, H):
        fail("%s: %dx%d, expected %dx%d" % (what, w, h, W, H))
    want = want_picture()
    if tol == 0:
        bad, notes = vbe_picture.diff(w, px, want)
    else:
        bad, notes = 0, []
        for i in range(0, len(want), 3):
            if max(abs(px[i + k] - want[i + k]) for k in range(3)) > tol:
                bad += 1
                if len(notes) < 5:
                    notes.append("%d,%d" % ((i // 3) % w, (i // 3) // w))
    if bad:
        fail("%s: %d pixels differ: %s" % (what, bad, "; ".join(notes)))
    # and the comparison can fail: another pattern must not match
    if tol == 0 and px == want_picture(pattern=PAT + 1):
        fail("%s: picture matches the wrong pattern too" % what)
    print("%s: %dx%d picture equals vbe_picture (tolerance %d)" % (what, w, h, tol))


def check_png(path, what):
    check_rgb(*vbe_picture.read_png(path), what)


class Cellvm:
    """cellvm run with vbedraw; console collected by a thread, stderr to a file."""

    def __init__(self, *opts, cmdline="w=%d h=%d pattern=%d" % (W, H, PAT), payload=None):
        self.err = tempfile.TemporaryFile()
        self.args = [CELLVM, "run", "--kernel", payload or VBEDRAW, "--cmdline", cmdline] + list(opts)
        print("+ " + " ".join(self.args), flush=True)
        self.p = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.out = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            d = self.p.stdout.read1(65536)
            if not d:
                return
            with self.lock:
                self.out += d

    def console(self):
        with self.lock:
            return self.out.decode(errors="replace")

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.console():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        fail("no %r on the console (rc %s)\n--- console\n%s--- stderr\n%s"
             % (needle, self.p.poll(), self.console(), self.stderr()))

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        """SIGTERM must end cellvm with status 0."""
        if not self.alive():
            fail("cellvm exited early with %s\n%s" % (self.p.returncode, self.stderr()))
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("cellvm did not stop on SIGTERM")
        print("--- cellvm stderr\n" + self.stderr())
        if rc != 0:
            fail("cellvm exit status %d after SIGTERM" % rc)

    def kill(self):
        if self.alive():
            self.p.kill()
            self.p.wait()


class Port:
    """What vnctest's client helpers need: .port (RFB port, display = port - 5900)."""

    def __init__(self, port):
        self.port = port


def vnc_port():
    """A free port >= 5900 so that gvnccapture's HOST:DISPLAY can name it."""
    for _ in range(100):
        p = free_port()
        if p > 5900:
            return p
    fail("no free port above 5900")


def wait_listen(port, vm, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            if not vm.alive():
                fail("cellvm exited: " + vm.stderr())
            time.sleep(0.1)
    fail("nothing listens on %d" % port)


def retry_capture(fn, what, tries=4):
    """The guest has drawn (console) but the first frame may race the last
    writes: retry a few times, then compare strictly."""
    last = None
    for i in range(tries):
        ok, rgb = fn()
        if ok and rgb[2] == want_picture():
            return rgb
        last = (ok, rgb)
        time.sleep(1)
    if not last[0]:
        fail("%s: no image" % what)
    return last[1]


def write_pwfile(d, pw):
    f = os.path.join(d, "pw")
    with open(f, "w") as fh:
        fh.write(pw + "\nsecond line is ignored\n")
    os.chmod(f, 0o600)
    return f


def gvnc(port, pw, d, ca=None):
    ok, out = vt.gvnc_password(Port(port), pw, d, ca)
    return ok, (vbe_picture.read_png(out) if ok else None)


# ---------------------------------------------------------------- cases
def case_password():
    need("gvnccapture")
    with tempfile.TemporaryDirectory() as d:
        port = vnc_port()
        vm = Cellvm("--vnc", "127.0.0.1:%d,password-file=%s" % (port, write_pwfile(d, "s3cret!x")))
        try:
            vm.wait_for("vbedraw: drawn")
            rgb = retry_capture(lambda: gvnc(port, "s3cret!x", d), "gvnccapture")
            check_rgb(*rgb, "gvnccapture (VNC auth)")
            ok, _ = gvnc(port, "wrong", d)
            if ok:
                fail("gvnccapture with a wrong password got an image")
            time.sleep(0.5)
            if not vm.alive():
                fail("cellvm died after a wrong password")
            rgb = retry_capture(lambda: gvnc(port, "s3cret!x", d), "gvnccapture again")
            check_rgb(*rgb, "gvnccapture after a refused client")
            vm.stop()
        finally:
            vm.kill()


def case_vncsnapshot():
    need("vncsnapshot", "vncpasswd")
    if not JPEG2PPM:
        skip("no jpeg decoder (libjpeg) built")
    with tempfile.TemporaryDirectory() as d:
        port = vnc_port()
        vm = Cellvm("--vnc", "127.0.0.1:%d,password-file=%s" % (port, write_pwfile(d, "snapPW12")))
        try:
            vm.wait_for("vbedraw: drawn")
            wait_listen(port, vm)
            for pw, want in (("snapPW12", True), ("nope", False)):
                pf = os.path.join(d, "vncpw-%d" % want)
                with open(pf, "wb") as f:
                    f.write(subprocess.run(["vncpasswd", "-f"], input=(pw + "\n").encode(),
                                           capture_output=True, check=True).stdout)
                jpg = os.path.join(d, "o%d.jpg" % want)
                # raw encoding: the only loss is vncsnapshot's own JPEG output
                r = subprocess.run(["vncsnapshot", "-quiet", "-quality", "100", "-encodings", "raw",
                                    "-passwd", pf, "127.0.0.1::%d" % port, jpg], timeout=60,
                                   capture_output=True, stdin=subprocess.DEVNULL)
                got = r.returncode == 0 and os.path.exists(jpg)
                if got != want:
                    fail("vncsnapshot password %r: success %s, expected %s: %s"
                         % (pw, got, want, r.stderr))
                if got:
                    ppm = subprocess.run([JPEG2PPM, jpg], capture_output=True, check=True).stdout
                    w, h, rows = vt.read_ppm(ppm)
                    check_rgb(w, h, bytearray(b"".join(rows)), "vncsnapshot (JPEG q100)", tol=24)
            if not vm.alive():
                fail("cellvm died")
            vm.stop()
        finally:
            vm.kill()


def make_certs(d):
    def certtool(*a):
        subprocess.run(["certtool"] + list(a), check=True, capture_output=True)
    j = lambda n: os.path.join(d, n)  # noqa: E731
    open(j("ca.tmpl"), "w").write("cn = cellvm test CA\nca\ncert_signing_key\nexpiration_days = 2\n")
    open(j("srv.tmpl"), "w").write("cn = 127.0.0.1\nip_address = 127.0.0.1\ntls_www_server\n"
                                   "encryption_key\nsigning_key\nexpiration_days = 2\n")
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", j("ca.key"))
    certtool("--generate-self-signed", "--load-privkey", j("ca.key"), "--template", j("ca.tmpl"),
             "--outfile", j("ca.pem"))
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", j("srv.key"))
    certtool("--generate-certificate", "--load-privkey", j("srv.key"), "--load-ca-certificate",
             j("ca.pem"), "--load-ca-privkey", j("ca.key"), "--template", j("srv.tmpl"),
             "--outfile", j("srv.pem"))
    return j("ca.pem"), j("srv.pem"), j("srv.key")


def case_vencrypt():
    need("gvnccapture", "certtool", "unshare")
    if subprocess.run(["unshare", "-m", "true"]).returncode:
        skip("needs a private mount namespace to give gvnccapture our CA")
    with tempfile.TemporaryDirectory() as d:
        ca, cert, key = make_certs(d)
        port = vnc_port()
        vm = Cellvm("--vnc", "127.0.0.1:%d,password-file=%s,tls-cert=%s,tls-key=%s,tls-only"
                    % (port, write_pwfile(d, "tlspass1"), cert, key))
        try:
            vm.wait_for("vbedraw: drawn")
            home = os.path.join(d, "home")
            os.makedirs(home)
            rgb = retry_capture(lambda: gvnc(port, "tlspass1", home, ca), "gvnccapture VeNCrypt")
            check_rgb(*rgb, "gvnccapture over VeNCrypt X509Vnc")
            # tls-only: a plain client is offered VeNCrypt (19) alone
            c = vt.Rfb(port)
            c.recv(12)
            c.send(b"RFB 003.008\n")
            types = c.recv(c.u8())
            c.s.close()
            if types != b"\x13":
                fail("tls-only offered security types %r" % types)
            # without our CA trusted, no image
            ok, _ = gvnc(port, "tlspass1", home)
            if ok:
                fail("gvnccapture accepted an untrusted certificate")
            print("VeNCrypt: plain types not offered; untrusted certificate refused")
            vm.stop()
        finally:
            vm.kill()


def host_address():
    """A non-loopback address of this host, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        a = s.getsockname()[0]
        return None if a.startswith("127.") else a
    except OSError:
        return None
    finally:
        s.close()


def case_refuse():
    port = vnc_port()
    addrs = ["0.0.0.0"] + ([host_address()] if host_address() else [])
    for a in addrs:
        r = subprocess.run([CELLVM, "run", "--kernel", VBEDRAW, "--vnc", "%s:%d,auth=none" % (a, port)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        err = r.stderr.decode(errors="replace")
        print("--vnc %s:%d,auth=none -> rc %d: %s" % (a, port, r.returncode, err.strip()))
        if r.returncode != 125 or "loopback" not in err:
            fail("auth=none on %s not refused with 125 and a clear message" % a)
    r = subprocess.run([CELLVM, "run", "--kernel", VBEDRAW, "--vnc", "127.0.0.1:%d" % port],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    print("--vnc 127.0.0.1:%d -> rc %d: %s" % (port, r.returncode, err.strip()))
    if r.returncode != 125 or "unauthenticated" not in err:
        fail("an unauthenticated --vnc without auth=none was not refused")
    # and the loopback auth=none form is accepted (so the refusals can fail)
    vm = Cellvm("--vnc", "127.0.0.1:%d,auth=none" % port)
    try:
        vm.wait_for("vbedraw: drawn")
        wait_listen(port, vm)
        vm.stop()
    finally:
        vm.kill()


def rfb_none(port):
    c = vt.Rfb(port)
    c.handshake_none()
    return c


def raw_frame(port):
    """A full 32bpp raw frame through our own client: (w, h, rgb)."""
    c = rfb_none(port)
    c.set_encodings([0])
    c.request(0)
    fb = vt.fb_new(c.w, c.h)
    c.read_update(fb)
    c.s.close()
    rgb = bytearray()
    for row in fb:
        for p in row:
            rgb += bytes(p)
    return c.w, c.h, rgb


def case_hostile():
    port = vnc_port()
    vm = Cellvm("--vnc", "127.0.0.1:%d,auth=none" % port)
    try:
        vm.wait_for("vbedraw: drawn")
        wait_listen(port, vm)
        hostile = []
        for garbage in (b"\xff" * 4096, b"GET / HTTP/1.1\r\n\r\n", b"RFB 003.00x\n"):
            c = vt.Rfb(port)
            c.recv(12)
            c.send(garbage)
            hostile.append((c, "garbage %r" % garbage[:16]))
        c = rfb_none(port)  # bpp 24 is not a valid pixel format
        c.set_format(24, 24, 0, 255, 255, 255, 16, 8, 0)
        hostile.append((c, "bad SetPixelFormat"))
        c = rfb_none(port)
        c.set_format(32, 24, 0, 255, 255, 255, 40, 8, 0)  # shift past 32 bits
        hostile.append((c, "SetPixelFormat shift 40"))
        c = rfb_none(port)
        c.send(struct.pack(">B3xI", 6, 0xfffffff0) + b"x" * 1024)
        hostile.append((c, "oversized ClientCutText"))
        c = rfb_none(port)
        c.send(b"\x63" * 64)
        hostile.append((c, "unknown message type"))
        for c, what in hostile:
            vt.expect_dropped(c, what)
        # a huge SetEncodings count is legal: served, not dropped
        c = rfb_none(port)
        c.send(struct.pack(">BxH", 2, 65535) + struct.pack(">i", 5) * 65535)
        c.send(struct.pack(">BxH", 2, 1) + struct.pack(">i", 0))
        c.request(0, 0, 0, 16, 16)
        fb = vt.fb_new()
        c.read_update(fb)
        c.s.close()
        print("huge SetEncodings count: client still served")
        # a client that sends half a message and vanishes
        c = rfb_none(port)
        c.send(struct.pack(">B3xI", 6, 5000) + b"short")
        c.s.close()
        time.sleep(0.5)
        if not vm.alive():
            fail("cellvm died under hostile clients: " + vm.stderr())
        rgb = retry_capture(lambda: (True, raw_frame(port)), "good client")
        check_rgb(*rgb, "good client after %d hostile ones" % (len(hostile) + 2))
        err = vm.stderr()
        if "SIGSYS" in err or "signal 31" in err or "bad system call" in err.lower():
            fail("the vnc process was killed by seccomp:\n" + err)
        if "restart" in err:
            print("note: the broker restarted a device process:\n" + err)
        vm.stop()
        if "SIGSYS" in vm.stderr():
            fail("SIGSYS reported at shutdown:\n" + vm.stderr())
    finally:
        vm.kill()


def case_screendump():
    with tempfile.TemporaryDirectory() as d:
        ctl = os.path.join(d, "ctl")
        vm = Cellvm("--vga", "--control", ctl)
        try:
            vm.wait_for("vbedraw: drawn")
            out = os.path.join(d, "out.png")
            r = subprocess.run([CELLVM, "screendump", "--control", ctl, out],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            if r.returncode or not os.path.exists(out):
                fail("cellvm screendump failed (%d): %s" % (r.returncode, r.stderr))
            check_png(out, "cellvm screendump")
            vm.stop()
        finally:
            vm.kill()


def case_novnc():
    import functools
    import http.server
    import json
    import re
    import urllib.request
    novnc = "/usr/share/novnc"
    chromium = shutil.which("chromium")
    if not chromium or not os.path.exists(novnc + "/vnc_lite.html"):
        skip("needs chromium and Debian's novnc")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=novnc))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port, wsport = vnc_port(), free_port()
    page = "http://127.0.0.1:%d" % httpd.server_address[1]
    vm = Cellvm("--vnc", "127.0.0.1:%d,auth=none,websocket=%d,origin=%s" % (port, wsport, page))
    prof = tempfile.TemporaryDirectory()
    br = None
    try:
        vm.wait_for("vbedraw: drawn")
        wait_listen(wsport, vm)
        # Only the page named by origin= may connect (docs/security.md, issue 10 #3).
        for origin, want in (("http://evil.example", b" 403 "), (page, b" 101 ")):
            s = socket.create_connection(("127.0.0.1", wsport), timeout=10)
            s.sendall(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Origin: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % origin).encode())
            line = s.recv(100).split(b"\r\n")[0]
            s.close()
            print("WebSocket upgrade with Origin %s: %r" % (origin, line))
            if want not in line:
                fail("Origin %s: %r" % (origin, line))
        br = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                               "--disable-quic", "--no-first-run", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync",
                               "--user-data-dir=" + prof.name, "--remote-debugging-port=0",
                               "--window-size=1200,900", "about:blank"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url, deadline = None, time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = br.stderr.readline().decode(errors="replace")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
            if not line and br.poll() is not None:
                break
        if not url:
            fail("chromium did not start")
        dport = url.split(":")[2].split("/")[0]
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % dport))
        cdp = vt.Cdp([t for t in targets if t["type"] == "page"][0]["webSocketDebuggerUrl"])
        cdp.call("Page.navigate", url="http://127.0.0.1:%d/vnc_lite.html?host=127.0.0.1&port=%d"
                 % (httpd.server_address[1], wsport))
        # the whole canvas, compared with the expected picture exactly
        js = ("(() => { const c = document.querySelector('#screen canvas');"
              " if (!c || c.width != %d || c.height != %d) return null;"
              " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
              " let s = ''; for (let i = 0; i < d.length; i += 4)"
              " s += String.fromCharCode(d[i], d[i+1], d[i+2]); return btoa(s); })()" % (W, H))
        import base64
        want, got = bytes(want_picture()), None
        # Bounds a hung run only: in the KVM box, chromium and noVNC run under
        # TCG and take tens of seconds to draw the first frame.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            v = cdp.call("Runtime.evaluate", expression=js, returnByValue=True)["result"].get("value")
            got = base64.b64decode(v) if v else None
            if got == want:
                break
            time.sleep(0.5)
        if got is None:
            fail("noVNC never showed a %dx%d canvas" % (W, H))
        check_rgb(W, H, bytearray(got), "noVNC in headless chromium over WebSocket")
        vm.stop()
    finally:
        if br:
            br.terminate()
            br.wait()
        httpd.shutdown()
        prof.cleanup()
        vm.kill()


if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    fail("/dev/kvm absent or not accessible: run this through tests/kvmhost/kvmhost (meson does)")
CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}
if CASE not in CASES:
    fail("unknown case %s (have %s)" % (CASE, ", ".join(CASES)))
CASES[CASE]()
print("PASS", CASE)
