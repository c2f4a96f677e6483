#!/usr/bin/env python3
"""virtio-net: cellvm vs QEMU's virtio-net-pci (-netdev tap,vhost=off), the
same guest payload (guest-net) behind the same TAP, in a network namespace of
our own, ROUNDS rounds interleaved, medians.

  net.udp_rr_us   64-byte UDP round trip to the guest's echo port (host clock)
  net.rx_mbps     65000-byte datagrams host -> guest (MTU 65521, one frame
                  each), counted by the guest's discard port, for 2 s
  net.tx_mbps     65000-byte datagrams guest -> host (the guest's blast port),
                  counted here
  net.pps         18-byte datagrams (64-byte frames) host -> guest for 2 s,
                  counted by the guest
  net.pss_kib     PSS of the cellvm-net process (no peer: QEMU's device lives
                  in its one process)

Both guests run the same polled driver, which waits for each tx frame to be
used before the next: the figures compare the device paths, not drivers.

usage: net.py BUILD_DIR GUEST_NET [ROUNDS]
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from benchlib import emit, median  # noqa: E402

TAP, HOST_IP, GUEST_IP = "cvbench0", "10.0.2.2", "10.0.2.15"
MAC = "52:54:00:12:34:56"


def sh(*args):
    subprocess.run(args, check=True)


def start_cellvm(build, payload):
    return subprocess.Popen([os.path.join(build, "cellvm"), "run", "--kernel", payload,
                             "--net", f"tap={TAP},mac={MAC}", "--cmdline", f"ip={GUEST_IP}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def start_qemu(payload):
    return subprocess.Popen(["qemu-system-x86_64", "-enable-kvm", "-M", "pc", "-nodefaults",
                             "-no-user-config", "-nographic", "-serial", "stdio", "-m", "256M",
                             "-kernel", payload, "-append", f"ip={GUEST_IP}",
                             "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost=off",
                             "-device", f"virtio-net-pci,netdev=n0,disable-legacy=on,mac={MAC}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_ready(p, timeout=60):
    out = b""
    os.set_blocking(p.stdout.fileno(), False)
    deadline = time.monotonic() + timeout
    while b"net: ready" not in out and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
        out += p.stdout.read() or b""
    if b"net: ready" not in out:
        stop(p)
        raise RuntimeError("guest not ready: " + out.decode(errors="replace")[-500:])


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()


def stats(s):
    s.sendto(b"stats", (GUEST_IP, 10))
    f = s.recv(200).split()
    return int(f[1]), int(f[2])


def measure(sock_timeout=5):
    r = {}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST_IP, 0))
    s.settimeout(sock_timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    # round trips
    data = bytes(64)
    for _ in range(200):
        s.sendto(data, (GUEST_IP, 7))
        s.recv(100)
    rtt = []
    for _ in range(2000):
        t0 = time.perf_counter()
        s.sendto(data, (GUEST_IP, 7))
        s.recv(100)
        rtt.append(time.perf_counter() - t0)
    r["udp_rr_us"] = statistics.median(rtt) * 1e6
    # host -> guest
    for key, size in (("rx_mbps", 65000), ("pps", 18)):
        stats(s)
        payload = bytes(size)
        t0 = time.perf_counter()
        end = t0 + 2
        while time.perf_counter() < end:
            for _ in range(64):
                try:
                    s.sendto(payload, (GUEST_IP, 9))
                except OSError:  # ENOBUFS: the TAP queue is full
                    pass
        time.sleep(0.2)  # what is queued drains
        n, nbytes = stats(s)
        el = time.perf_counter() - t0 - 0.2
        r[key] = nbytes * 8 / el / 1e6 if key == "rx_mbps" else n / el
    # guest -> host
    count, size = 3000, 65000
    s.sendto(f"{count} {size}".encode(), (GUEST_IP, 19))
    got, first, last = 0, None, None
    s.settimeout(1)
    try:
        while got < count * size:
            b = s.recv(70000)
            last = time.perf_counter()
            first = first or last
            got += len(b)
    except socket.timeout:
        pass
    r["tx_mbps"] = got * 8 / (last - first) / 1e6 if first and last > first else 0.0
    return r


def pss_of(parent_pid, comm):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
            if st.split(") ")[1].split()[1] != str(parent_pid):
                continue
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != comm:
                    continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                return int(re.search(r"^Pss:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, IndexError, AttributeError):
            continue
    return None


def main():
    build, payload = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if os.environ.get("CV_NET_BENCH_NETNS") != "1":
        os.environ["CV_NET_BENCH_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                ["ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP],
                ["ip", "link", "set", TAP, "mtu", "65521", "up"],
                ["ip", "neigh", "replace", GUEST_IP, "lladdr", MAC, "dev", TAP,
                 "nud", "permanent"]):
        sh(*cmd)
    have_qemu = shutil.which("qemu-system-x86_64") and os.access("/dev/kvm", os.W_OK)
    res = {"cellvm": [], "qemu": []}
    pss = []
    for _ in range(rounds):
        for who in ("cellvm", "qemu") if have_qemu else ("cellvm",):
            p = start_cellvm(build, payload) if who == "cellvm" else start_qemu(payload)
            try:
                wait_ready(p)
                res[who].append(measure())
                if who == "cellvm":
                    v = pss_of(p.pid, "cellvm-net")
                    if v:
                        pss.append(v)
            finally:
                stop(p)
    units = {"udp_rr_us": "us", "rx_mbps": "Mbit/s", "tx_mbps": "Mbit/s", "pps": "pps"}
    for k, unit in units.items():
        c = median([x[k] for x in res["cellvm"]])
        q = median([x[k] for x in res["qemu"]]) if res["qemu"] else None
        emit("net." + k, c, unit, "qemu-virtio-net-tap" if q else None, q)
    if pss:
        emit("net.pss_kib", median(pss), "KiB")


if __name__ == "__main__":
    main()
