#!/usr/bin/env python3
"""Resource limits of a VM (issue 10 item 2, docs/security.md "Resource limits").

usage: limits_test.py CASE CELLVM

  host     the host's own cgroup hierarchies (v1 here, v2 in a --cgroup v2 box):
           the VM's memory, pids and cpu limits are written where the
           controllers are, and blk and vcpu run with RLIMIT_AS.
  host-v2  the same on a host whose controllers are on cgroup v2 (the box
           booted with --cgroup v2): every limit must be a v2 one.
  v2       a private mount namespace with only a cgroup2 mount on
           /sys/fs/cgroup (the v1 hierarchies unmounted): with the
           controllers on v2, the limits go to memory.max, pids.max,
           cpu.max; without them (a host whose controllers are bound to
           v1), cellvm refuses to start, saying which controller is missing.
  v1-nopids  a private mount namespace without the pids hierarchy (v1
           hosts): cellvm refuses to start.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

MEM = 64 << 20
OVERHEAD = 512 << 20  # broker/vm.c: RAM + 512 MiB for the cgroup
CPUS = 2


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def start(cellvm, d, prelude=None):
    args = [cellvm, "run", "--memory", "64M", "--cpus", str(CPUS), "--serial", "none",
            "--selinux", "off", "--disk", os.path.join(d, "disk.img")]
    if prelude:
        # unshare execs sh, sh execs cellvm: the broker keeps this pid.
        args = ["unshare", "-m", "--propagation", "private", "sh", "-ec",
                prelude + '; exec "$@"', "sh"] + args
    print("$", " ".join(args))
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_children(pid, names, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        kids = {}
        try:
            for k in open(f"/proc/{pid}/task/{pid}/children").read().split():
                kids[open(f"/proc/{k}/comm").read().strip()] = int(k)
        except OSError:
            return None
        if all(n in kids for n in names):
            return kids
        time.sleep(0.2)
    return None


def read(path):
    with open(path) as f:
        return f.read().strip()


def cgroup_mounts(pid):
    """(v1 {controller: mountpoint}, v2 mountpoint) as the broker sees them."""
    v1, v2 = {}, None
    for line in open(f"/proc/{pid}/mountinfo"):
        left, right = line.split(" - ")
        mnt = left.split()[4]
        fstype, _, opts = right.split()[:3]
        if fstype == "cgroup2" and v2 is None:
            v2 = mnt
        elif fstype == "cgroup":
            for c in ("memory", "pids", "cpu"):
                if c in opts.split(",") and c not in v1:
                    v1[c] = mnt
    return v1, v2


def check_running(p, want_v2=None):
    kids = wait_children(p.pid, ["cellvm-blk", "cellvm-vcpu"])
    if kids is None:
        p.wait(timeout=30)
        fail(f"the VM did not start: {p.stderr.read().decode(errors='replace')}")
    root = f"/proc/{p.pid}/root"
    v1, v2 = cgroup_mounts(p.pid)
    name = f"cellvm/vm-{p.pid}"
    got = {}
    for c in ("memory", "pids", "cpu"):
        if c in v1:
            d = f"{root}{v1[c]}/{name}"
            got[c] = {"memory": lambda: read(f"{d}/memory.limit_in_bytes"),
                      "pids": lambda: read(f"{d}/pids.max"),
                      "cpu": lambda: read(f"{d}/cpu.cfs_quota_us") + " " +
                      read(f"{d}/cpu.cfs_period_us")}[c]()
            kind = "v1"
        else:
            d = f"{root}{v2}/{name}"
            got[c] = read(f"{d}/{ {'memory': 'memory.max', 'pids': 'pids.max', 'cpu': 'cpu.max'}[c]}")
            kind = "v2"
        print(f"{c} ({kind}): {got[c]}")
        if want_v2 is not None:
            expect((kind == "v2") == want_v2, f"{c}: on {kind}")
        procs = read(f"{d}/cgroup.procs").split()
        expect(str(kids["cellvm-blk"]) in procs, f"{c}: cellvm-blk is not in the VM's cgroup")
    expect(got["memory"] == str(MEM + OVERHEAD), f"memory limit {got['memory']}")
    expect(got["pids"] == str(64 + 2 * CPUS + 8), f"pids limit {got['pids']} (one disk: 8 I/O threads)")
    expect(got["cpu"] == f"{(CPUS + 1) * 100000} 100000", f"cpu limit {got['cpu']}")
    # vcpu: also the kernel it maps (the built-in demo guest, well under 16 MiB)
    for comm, want, slack in (("cellvm-blk", MEM + (1 << 30), 0),
                              ("cellvm-vcpu", MEM + (512 << 20) + CPUS * (96 << 20), 16 << 20)):
        line = [ln for ln in open(f"/proc/{kids[comm]}/limits") if "address space" in ln][0]
        print(comm, line.strip())
        got = int(line.split()[3])
        expect(want <= got <= want + slack, f"{comm}: RLIMIT_AS {got}, want {want} (+{slack})")
    p.terminate()
    p.wait(timeout=60)


def refused(p, needle):
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.terminate()
        p.wait(timeout=30)
        fail("the VM started without its limits")
    err = err.decode(errors="replace")
    print(err)
    expect(p.returncode == 125, f"exit status {p.returncode}")
    expect(needle in err, f"message lacks {needle!r}")


# Unmount every v1 hierarchy, and mount a fresh cgroup2 on /sys/fs/cgroup.
V2_ONLY = ("for m in $(awk '$9 == \"cgroup\" || $9 == \"cgroup2\" {print $5}' /proc/self/mountinfo"
           " | sort -r); do umount -l $m; done; "
           "mount -t tmpfs -o mode=755 none /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup")


def main():
    case, cellvm = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    d = tempfile.mkdtemp(prefix="cellvm-limits-")
    try:
        with open(os.path.join(d, "disk.img"), "wb") as f:
            f.truncate(1 << 20)
        if case in ("host", "host-v2"):
            check_running(start(cellvm, d), want_v2=True if case == "host-v2" else None)
        elif case == "v2":
            p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-ec",
                                V2_ONLY + "; cat /sys/fs/cgroup/cgroup.controllers"],
                               capture_output=True, text=True)
            expect(p.returncode == 0, f"cannot set up a v2-only namespace: {p.stderr}")
            ctl = p.stdout.split()
            print("v2 controllers:", ctl)
            p = start(cellvm, d, V2_ONLY)
            if all(c in ctl for c in ("memory", "pids", "cpu")):
                check_running(p, want_v2=True)
            else:
                missing = [c for c in ("memory", "pids", "cpu") if c not in ctl][0]
                refused(p, f"no hierarchy offers the {missing} controller")
        elif case == "v1-nopids":
            v1, _ = cgroup_mounts(os.getpid())
            if "pids" not in v1:
                print("SKIP: no v1 pids hierarchy here")
                sys.exit(77)
            refused(start(cellvm, d, f"umount -l {v1['pids']}"),
                    "no hierarchy offers the pids controller")
        else:
            fail(f"unknown case {case}")
        print("PASS")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
