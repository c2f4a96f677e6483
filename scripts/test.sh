#!/usr/bin/env bash
# The test command: set up (packages, build), run every meson test, build the
# libFuzzer targets with clang and run each briefly, then print one summary
# line "N passed, N failed, N skipped". Exit status non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

# One test at a time: most of the time goes to tests in the 2-vCPU KVM box,
# where two VMs at once only contend (the summed test time was the same with
# 2 processes) and the guests' exit latencies grow by an order of magnitude.
meson test -C build --print-errorlogs --num-processes 1
rc_main=$?
# Tests that need /dev/kvm ran in a shared KVM box where there is none
# (tests/kvmhost/README.md): power it off now rather than after its idle time.
tests/kvmhost/kvmhost --shared "$PWD/build/kvmhost" --stop
tests/kvmhost/kvmhost --shared "$PWD/build/kvmhost-selinux" --stop # suite selinux-real
tests/kvmhost/kvmhost --shared "$PWD/build/kvmhost-1t" --stop      # hostile-bar_race

# Short fuzz runs (clang, ASan+UBSan): the 'fuzz' suite of a clang build.
if [ ! -d build-fuzz ]; then
	CC=clang meson setup build-fuzz -Dfuzzing=true -Dguest=false >/dev/null || exit 1
fi
meson compile -C build-fuzz >/dev/null || exit 1
meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2
rc_fuzz=$?

python3 - build/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
p = f = s = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(f"{p} passed, {f} failed, {s} skipped")
PY
[ $rc_main -eq 0 ] && [ $rc_fuzz -eq 0 ]
