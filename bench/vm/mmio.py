#!/usr/bin/env python3
"""MMIO read round trip from a CPL3 guest to the test device register:
(a) in the vcpu-worker, (b) over the shared-memory ring to a device process,
(c) over a SEQPACKET socket to a device process. Median of ROUNDS runs each,
interleaved, from the vcpu-worker's marks around ITERS reads.

usage: mmio.py BUILD_DIR PAYLOAD [ITERS] [ROUNDS]
"""
import os
import sys

from benchlib import cellvm, emit, marks, median


def one(build, payload, mode, iters):
    rc, out, err = cellvm(build, "--kernel", payload, "--serial", "none", "--testdev", mode,
                          "--cmdline", f"iters={iters}")
    m = marks(err)
    if rc != 0 or 1 not in m or 2 not in m or 3 not in m:
        raise SystemExit(f"mmio bench ({mode}) failed: rc {rc}\n{err}")
    return (m[2] - m[1]) / iters / 1000.0, (m[3] - m[2]) / iters / 1000.0


def main():
    build, payload = sys.argv[1], sys.argv[2]
    # In the KVM box (CELLVM_HOST set by kvmhost) an exit costs ~100x more:
    # fewer reads keep the run within its meson timeout.
    box = bool(os.environ.get("CELLVM_HOST"))
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else (1000 if box else 20000)
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else (3 if box else 5)
    res = {m: {"r": [], "w": []} for m in ("inproc", "ring", "socket")}
    for _ in range(rounds):
        for mode in res:
            r, w = one(build, payload, mode, iters)
            res[mode]["r"].append(r)
            res[mode]["w"].append(w)
    a = median(res["inproc"]["r"])
    b = median(res["ring"]["r"])
    c = median(res["socket"]["r"])
    emit("ipc.mmio_inproc_us", a, "us")
    emit("ipc.mmio_ring_us", b, "us", "in-process", a)
    emit("ipc.mmio_socket_us", c, "us", "ring", b)
    emit("ipc.mmio_write_ring_us", median(res["ring"]["w"]), "us", "in-process",
         median(res["inproc"]["w"]))


if __name__ == "__main__":
    main()
