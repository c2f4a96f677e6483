"""Shared helpers for the VM-level benchmarks: JSON lines, medians, runs."""
import json
import os
import re
import statistics
import subprocess


def emit(metric, value, unit, vs=None, vs_value=None):
    o = {"metric": metric, "value": round(value, 3), "unit": unit}
    if vs is not None and vs_value:
        o.update({"vs": vs, "vs_value": round(vs_value, 3),
                  "ratio": round(value / vs_value, 3)})
    # Inside the KVM box (tests/kvmhost sets CELLVM_HOST): absolute values are
    # that box's, only the ratios carry over to a real host.
    if os.environ.get("CELLVM_HOST"):
        o["host"] = os.environ["CELLVM_HOST"]
    print(json.dumps(o), flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def marks(stderr):
    """{mark id: CLOCK_MONOTONIC ns} from `cellvm run -v` output."""
    return {int(a): int(b) for a, b in re.findall(r"cellvm: mark (\d+) (\d+)", stderr)}


def cellvm(build, *args, timeout=300):
    p = subprocess.run([os.path.join(build, "cellvm"), "run", "-v", *args],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
