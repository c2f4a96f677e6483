#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Device-process fuzzing rates: each device's committed seed corpus
(tests/fuzz/corpus/devproc-DEVICE) replayed through fuzz-devproc, in the
persistent mode against one device process per input (DEVFUZZ_RESPAWN=1).

usage: devfuzz.py FUZZ-DEVPROC CORPUS-ROOT DEVICE...
  devfuzz.DEVICE.inputs_per_s   inputs/s persistent, vs re-spawn
This is the replay build: no sanitizers and no coverage feedback, and its
harness checks more (the fds at every spawn, and the queue state it keeps
against a full read after every register write and set-up). So the rates
are not a campaign's (docs/fuzzing.md has those), and since the extra checks
add the same per-input cost to both modes, the ratio understates a fuzzing
build's.
Each mode replays the corpus as many times as it takes to run INPUTS inputs
per round (the corpora are small: a few passes would time the harness's own
start), the modes alternate, medians of ROUNDS rounds; one JSON object per
line. Needs root (it spawns
jailed devices as the broker does).
"""
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from benchlib import emit, median  # noqa: E402

EXE, CORPUS, DEVICES = sys.argv[1], sys.argv[2], sys.argv[3:]
ROUNDS, INPUTS = 3, 400


def rate(dev, respawn):
    env = dict(os.environ, DEVFUZZ_DEVICE=dev)
    if respawn:
        env["DEVFUZZ_RESPAWN"] = "1"
    seeds = os.path.join(CORPUS, "devproc-" + dev)
    passes = -(-INPUTS // max(1, len(os.listdir(seeds))))
    t = time.monotonic()
    p = subprocess.run([EXE] + [seeds] * passes, env=env, capture_output=True, text=True,
                       timeout=600)
    took = time.monotonic() - t
    m = re.search(r"replayed (\d+) inputs", p.stdout)
    if p.returncode != 0 or not m:
        sys.exit(f"devfuzz bench: {dev} replay failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return int(m.group(1)) / took


if os.geteuid() != 0:
    print("devfuzz bench: spawning jailed devices needs root", file=sys.stderr)
    sys.exit(77)
for dev in DEVICES:
    persistent, respawn = [], []
    for _ in range(ROUNDS):
        persistent.append(rate(dev, False))
        respawn.append(rate(dev, True))
    emit(f"devfuzz.{dev}.inputs_per_s", median(persistent), "inputs/s", "re-spawn",
         median(respawn))
