#!/usr/bin/env python3
"""Edges covered per source file: a device binary's (from fuzz-devproc's
DEVFUZZ_COVOUT offsets, symbolized with llvm-symbolizer) next to in-process
libFuzzer targets' (their -runs=0 -print_coverage=1 output on a corpus).

  cov.py --device BIN COV.txt --inproc NAME FILE.cov [--inproc ...] [--files a.c,b.c]

Both count SanitizerCoverage edges of the same compilation flags, so the
numbers over one source file are comparable."""
import argparse
import collections
import re
import subprocess


def device_edges(binary, covfile):
    offs = [l.strip() for l in open(covfile) if l.strip()]
    out = subprocess.run(["llvm-symbolizer", "--obj=" + binary, "--functions=linkage"],
                         input="\n".join(offs) + "\n", capture_output=True, text=True).stdout
    per = collections.Counter()
    for block in out.strip().split("\n\n"):
        lines = block.split("\n")
        if len(lines) >= 2:
            per[lines[1].rsplit(":", 2)[0].split("/")[-1]] += 1
    return per


def inproc_edges(path):
    per = collections.Counter()
    for l in open(path, errors="replace"):
        m = re.match(r"COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (\S+) (\S+):\d+", l)
        if m:
            per[m.group(4).split("/")[-1]] += int(m.group(1))
    return per


ap = argparse.ArgumentParser()
ap.add_argument("--device", nargs=2, metavar=("BIN", "COV"), required=True)
ap.add_argument("--inproc", nargs=2, action="append", metavar=("NAME", "COVFILE"), default=[])
ap.add_argument("--files", default="virtq.c,virtio_pci.c,blk.c,blk_req.c,blk_io.c,raw.c")
a = ap.parse_args()
dev = device_edges(*a.device)
ips = [(n, inproc_edges(p)) for n, p in a.inproc]
files = a.files.split(",")
print("| file | device process | " + " | ".join(n for n, _ in ips) + " |")
print("|---|---|" + "---|" * len(ips))
for f in files + ["total"]:
    d = sum(dev[x] for x in files) if f == "total" else dev[f]
    row = [str(sum(p[x] for x in files) if f == "total" else p[f]) for _, p in ips]
    print(f"| {f} | {d} | " + " | ".join(row) + " |")
print(f"\nall device edges covered: {sum(dev.values())}")
