#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Time from exec of QEMU to the first serial byte of a payload (median).

  first-byte.py PAYLOAD [RUNS] [MACHINE]

Prints one JSON line; also the median time to the guest's exit. A
measurement, not a test: nothing is asserted about the figures.
"""
import json
import os
import selectors
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
MACHINES = {
    "microvm": "microvm,x-option-roms=off,rtc=off,pit=off,pic=off,acpi=off",
    "microvm-acpi": "microvm,x-option-roms=off,rtc=off,pit=off,pic=off",
    "pc": "pc",
}


def one(payload, machine):
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-M", MACHINES[machine], "-nodefaults",
           "-no-user-config", "-nographic", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", "256", "-kernel", payload]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    first = None
    while True:
        if not sel.select(30):
            p.kill()
            break
        data = os.read(p.stdout.fileno(), 65536)
        if first is None and data:
            first = time.monotonic() - t0
        if not data:
            break
    p.wait()
    return first, time.monotonic() - t0


def main():
    payload = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    machine = sys.argv[3] if len(sys.argv) > 3 else "microvm"
    firsts, totals = [], []
    for _ in range(runs):
        f, t = one(payload, machine)
        if f is not None:
            firsts.append(f)
        totals.append(t)
    if not firsts:
        sys.exit("no serial output")
    print(json.dumps({"metric": "guest.qemu_%s_first_serial_byte_ms" % machine,
                      "value": round(statistics.median(firsts) * 1000, 2), "unit": "ms",
                      "runs": len(firsts)}))
    print(json.dumps({"metric": "guest.qemu_%s_exec_to_exit_ms" % machine,
                      "value": round(statistics.median(totals) * 1000, 2), "unit": "ms",
                      "runs": runs}))


if __name__ == "__main__":
    main()
