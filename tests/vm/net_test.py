#!/usr/bin/env python3
"""virtio-net end to end: guest-net behind a TAP in a network namespace this
test creates; the host side pings it and exchanges UDP datagrams with its
echo port, checking every byte and that nothing is lost.

usage: net_test.py CASE CELLVM GUEST_NET
Needs /dev/kvm, /dev/net/tun and root (a user namespace would do for the
netns, not for /dev/kvm here): meson runs it through kvmhost.
"""
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TAP, HOST_IP, GUEST_IP = "cvtap0", "10.0.2.2", "10.0.2.15"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def sh(*args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode:
        fail(f"{' '.join(args)}: {p.stderr.strip()}")


class Guest:
    def __init__(self, cellvm, payload, cmdline, extra=(), ready=b"net: ready"):
        self.args = [cellvm, "run", "--kernel", payload, "--net", f"tap={TAP}",
                     "--cmdline", f"ip={GUEST_IP} {cmdline}", *extra]
        print("$", " ".join(self.args))
        self.p = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""
        self.wait_for(ready)

    def read(self, t):
        r, _, _ = select.select([self.p.stdout], [], [], t)
        if r:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            self.out += chunk
            return bool(chunk)
        return True

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while needle not in self.out and time.monotonic() < deadline:
            if not self.read(0.1) or self.p.poll() is not None:
                break
        if needle not in self.out:
            self.stop()
            fail(f"guest never printed {needle!r}")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            out, err = self.p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
        self.out += out
        self.err = err.decode(errors="replace")
        print(f"--- rc {self.p.returncode}\n--- stdout\n{self.out.decode(errors='replace')}"
              f"--- stderr\n{self.err}")
        return self.p.returncode


def setup_netns(mtu=1500, multi_queue=False):
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap", *(["multi_queue"] if multi_queue else []))
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "mtu", str(mtu), "up")


def ping(sizes, tries=1):
    """ICMP echo through a raw socket; every reply carries our payload back.
    With tries > 1 a request that got no reply in 5 s is sent again (after a
    flood the host's TAP queue may still be full and drop it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(5)
    ident = os.getpid() & 0xffff
    for seq, n in enumerate(sizes):
        data = random.randbytes(n)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        c = checksum(hdr + data)
        req = struct.pack("!BBHHH", 8, 0, c, ident, seq) + data
        s.sendto(req, (GUEST_IP, 0))
        left = tries
        while True:
            try:
                pkt = s.recv(70000)
            except socket.timeout:
                left -= 1
                if not left:
                    fail(f"ping {n} bytes seq {seq}: no reply")
                s.sendto(req, (GUEST_IP, 0))
                continue
            ihl = (pkt[0] & 15) * 4
            t, _, _, i, sq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
            if t == 0 and i == ident and sq == seq:
                expect(pkt[ihl + 8:] == data, f"ping {n} bytes: payload changed")
                expect(checksum(pkt[ihl:]) == 0, f"ping {n} bytes: bad ICMP checksum")
                break
    print(f"ping: {len(sizes)} echo replies, sizes {min(sizes)}..{max(sizes)}")


def checksum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp(sizes):
    """One datagram at a time to the echo port; each must come back intact."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((HOST_IP, 0))
    s.settimeout(5)
    for n in sizes:
        data = random.randbytes(n)
        s.sendto(data, (GUEST_IP, 7))
        try:
            got, addr = s.recvfrom(70000)
        except socket.timeout:
            fail(f"udp {n} bytes: no echo (lost)")
        expect(addr == (GUEST_IP, 7), f"udp {n} bytes: echo from {addr}")
        expect(got == data, f"udp {n} bytes: echo differs ({len(got)} bytes back)")
    print(f"udp: {len(sizes)} datagrams echoed intact, sizes {min(sizes)}..{max(sizes)}")


BIG = [1473, 2000, 4096, 8192, 9000, 16384, 32768, 50000, 65000, 65507]


def run_case(cellvm, payload, cmdline, mtu, sizes, icmp=()):
    setup_netns(mtu)
    g = Guest(cellvm, payload, cmdline)
    try:
        if icmp:
            ping(icmp)
        udp(sizes)
    finally:
        rc = g.stop()
    expect(rc == 0, f"exit status {rc} after SIGTERM, expected 0")
    expect("dropped" not in g.err, "cellvm-net dropped frames")
    # VIRTIO_NET_F_MTU: the guest is told the TAP's MTU
    expect(f"net: mtu {mtu}\n".encode() in g.out, f"the guest was not offered MTU {mtu}")


def case_ping(cellvm, payload):
    run_case(cellvm, payload, "", 1500, [1], icmp=[0, 1, 56, 1000, 1472])


def case_udp_1500(cellvm, payload):
    run_case(cellvm, payload, "", 1500, range(1, 1473))


def case_udp_1500_offload(cellvm, payload):
    run_case(cellvm, payload, "offload=1", 1500, range(1, 1473, 7))


def case_udp_1500_nomrg(cellvm, payload):
    run_case(cellvm, payload, "mrg=0", 1500, range(1, 1473, 7))


def case_udp_64k(cellvm, payload):
    random.seed(7)
    run_case(cellvm, payload, "", 65521, BIG + random.sample(range(1473, 65508), 20),
             icmp=[65000])


def case_udp_64k_offload(cellvm, payload):
    random.seed(8)
    run_case(cellvm, payload, "offload=1", 65521,
             BIG + random.sample(range(1473, 65508), 20))


def case_udp_64k_nomrg(cellvm, payload):
    run_case(cellvm, payload, "mrg=0", 65521, BIG)


def case_hostile(cellvm, payload):
    """guest-net evil=1: bad tx chains come back unsent and counted, a
    looping chain gets a NEEDS_RESET the driver answers with a reset, and a
    flood while it has no receive buffers is dropped by the host's TAP
    queue; cellvm-net lives on and the echo works afterwards."""
    setup_netns(1500)
    g = Guest(cellvm, payload, "evil=1", ready=b"net: starving")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST_IP, 0))
    # The guest has no address resolved yet: give the kernel its MAC.
    mac = g.out.split(b"mac=")[1][:17].decode() if b"mac=" in g.out else None
    expect(mac, "no MAC in the guest's output")
    sh("ip", "neigh", "replace", GUEST_IP, "lladdr", mac, "dev", TAP, "nud", "permanent")
    for i in range(3000):
        try:
            s.sendto(bytes(1400), (GUEST_IP, 9))
        except OSError:
            pass
    g.wait_for(b"net: ready")
    try:
        ping([56], tries=6)  # the flood may still fill the TAP queue
        udp(range(1, 1473, 97))
    finally:
        rc = g.stop()
    expect(rc == 0, f"exit status {rc} after SIGTERM, expected 0")
    for what in (b"empty chain", b"header only", b"frame over 64 KiB",
                 b"checksum offload not negotiated", b"looping chain: device needs reset"):
        expect(b"net: evil " + what in g.out, f"guest did not report {what!r}")
    expect("dropped 4 tx frames with a bad header or length" in g.err,
           "bad tx frames not counted")
    expect("needs reset" in g.err, "the broken queue was not reported")


def case_mq(cellvm, payload):
    """Two vCPUs on a multi_queue TAP: two queue pairs (MQ, VQ_PAIRS_SET);
    new flows spread over both receive queues, every echo comes back."""
    setup_netns(1500, multi_queue=True)
    g = Guest(cellvm, payload, "pairs=2", extra=["--cpus", "2"])
    try:
        for i in range(64):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((HOST_IP, 0))
            s.settimeout(5)
            data = random.randbytes(100 + i)
            s.sendto(data, (GUEST_IP, 7))
            try:
                got, _ = s.recvfrom(2000)
            except socket.timeout:
                fail(f"flow {i}: no echo")
            expect(got == data, f"flow {i}: echo differs")
            s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(b"stats", (GUEST_IP, 10))
        reply = s.recv(200).split()
    finally:
        rc = g.stop()
    expect(rc == 0, f"exit status {rc} after SIGTERM, expected 0")
    expect(reply[0] == b"rx", f"stats reply {reply}")
    counts = [int(x) for x in reply[3:]]
    print("frames per rx queue:", counts)
    expect(len(counts) == 2, "not two rx queues")
    expect(sum(counts) >= 64, "fewer frames than datagrams")
    expect(all(c > 0 for c in counts), "a receive queue got nothing: no spreading")


def main():
    case, cellvm, payload = sys.argv[1], sys.argv[2], sys.argv[3]
    if not os.path.exists("/dev/kvm"):
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    if os.environ.get("CV_NET_TEST_NETNS") != "1":
        # A network namespace of our own: the TAP and its address vanish with us.
        os.environ["CV_NET_TEST_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
    globals()["case_" + case](cellvm, payload)
    print("PASS")


if __name__ == "__main__":
    main()
