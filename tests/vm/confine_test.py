#!/usr/bin/env python3
"""Confinement of every cellvm process, seen from the host while a VM runs,
and the broker's report when a device process breaks its profile.

usage: confine_test.py CASE CELLVM PAYLOAD
"""
import os
import re
import signal
import subprocess
import sys
import time


class Failure(Exception):
    pass


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def bad(msg):
    raise Failure(msg)


def children(pid):
    """Direct children of pid (from /proc/*/status PPid)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open(f"/proc/{d}/status").read()
        except OSError:
            continue
        m = re.search(r"^PPid:\s+(\d+)", st, re.M)
        if m and int(m.group(1)) == pid:
            out.append(int(d))
    return out


def status_fields(pid):
    st = open(f"/proc/{pid}/status").read()
    return dict(re.findall(r"^(\w+):\s+(.*)$", st, re.M))


def check_process(pid, broker_ns):
    f = status_fields(pid)
    name = f.get("Name", "?")
    print(f"-- pid {pid} {name}: Uid {f['Uid']} Seccomp {f['Seccomp']} "
          f"NoNewPrivs {f['NoNewPrivs']} CapEff {f['CapEff']} CapBnd {f['CapBnd']}")
    if f["Seccomp"] != "2":
        bad(f"{name}: Seccomp {f['Seccomp']}, expected 2 (filter)")
    if f["NoNewPrivs"] != "1":
        bad(f"{name}: NoNewPrivs {f['NoNewPrivs']}")
    for cap in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
        if int(f[cap], 16) != 0:
            bad(f"{name}: {cap} {f[cap]}, expected none")
    uids = [int(x) for x in f["Uid"].split()]
    if 0 in uids:
        bad(f"{name}: runs as uid 0 ({f['Uid']})")
    for ns in ("user", "pid", "mnt", "net", "ipc", "uts", "cgroup"):
        mine = os.readlink(f"/proc/{pid}/ns/{ns}")
        if mine == broker_ns[ns]:
            bad(f"{name}: shares the broker's {ns} namespace")
    # Its root is an empty tmpfs (a dynamic binary sees only /usr and the lib links).
    root = set(os.listdir(f"/proc/{pid}/root"))
    if root - {"usr", "lib", "lib64"}:
        bad(f"{name}: its / holds {sorted(root)}")
    if "etc" in root or "proc" in root:
        bad(f"{name}: sees host directories")
    return name


def case_status(cellvm, payload, extra=(), want=("cellvm-vcpu", "cellvm-serial",
                                                   "cellvm-testdev")):
    p = subprocess.Popen([cellvm, "run", "--kernel", payload, "--testdev", "ring", *extra],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        # Every child locks itself down before it serves anything; poll until
        # all have (bounded: a child that never does fails the test).
        deadline, last = time.monotonic() + 90, None
        while True:
            time.sleep(0.5)
            if p.poll() is not None:
                fail(f"cellvm ended early: {p.communicate()}")
            broker_ns = {ns: os.readlink(f"/proc/{p.pid}/ns/{ns}")
                         for ns in ("user", "pid", "mnt", "net", "ipc", "uts", "cgroup")}
            kids = children(p.pid)
            try:
                names = sorted(check_process(k, broker_ns) for k in kids)
                missing = [w for w in want if w not in names]
                if not missing:
                    break
                last = f"no {missing} process among {names}"
            except (Failure, OSError) as e:
                last = str(e)
            if time.monotonic() > deadline:
                fail(last)
        print("children:", names)
        uids = {status_fields(k)["Uid"].split()[0] for k in kids}
        if len(uids) != len(kids):
            fail(f"processes share uids: {uids}")
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
        print(out.decode(errors="replace"), err.decode(errors="replace"))
    if p.returncode != 0:
        fail(f"exit status {p.returncode} after SIGTERM")


def case_status_net(cellvm, payload):
    """The same for cellvm-net (on a TAP of a network namespace of our own)
    and cellvm-rng."""
    if os.environ.get("CV_CONFINE_NETNS") != "1":
        os.environ["CV_CONFINE_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
    subprocess.run(["ip", "tuntap", "add", "dev", "cvtap0", "mode", "tap"], check=True)
    case_status(cellvm, payload, ["--net", "tap=cvtap0", "--rng"],
                ("cellvm-vcpu", "cellvm-serial", "cellvm-testdev", "cellvm-net", "cellvm-rng"))


ACTIONS = {"openat": 1, "socket": 2, "execve": 3, "ptrace": 4, "kill": 5, "ioctl": 6}


def case_misbehave(cellvm, payload, log):
    """Each forbidden action kills the test device; the broker names it."""
    for name, code in ACTIONS.items():
        args = [cellvm, "run", "--kernel", payload, "--testdev", "ring",
                "--cmdline", f"addr=0xfe000100 val={code} hold=1"]
        if log:
            args.append("--seccomp-log")
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n{err}")
        if p.returncode != 125:
            fail(f"{name}: exit status {p.returncode}, expected 125")
        if "device 1 (testdev) killed by SIGSYS" not in err:
            fail(f"{name}: the broker did not report the device's death by SIGSYS")
        if "was not stopped" in err:
            fail(f"{name}: the action was not stopped")
        if log and f"blocked syscall {name}" not in err:
            fail(f"{name}: logging mode did not name the syscall")


def main():
    case, cellvm, payload = sys.argv[1], sys.argv[2], sys.argv[3]
    if not os.path.exists("/dev/kvm"):
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    if case == "status":
        case_status(cellvm, payload)
    elif case == "status_net":
        case_status_net(cellvm, payload)
    elif case == "misbehave":
        case_misbehave(cellvm, payload, False)
    elif case == "misbehave_log":
        case_misbehave(cellvm, payload, True)
    print("PASS")


if __name__ == "__main__":
    main()
