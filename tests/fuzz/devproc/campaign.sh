#!/usr/bin/env bash
# campaign.sh DEVICE SECONDS [OUTDIR]: one libFuzzer campaign of fuzz-devproc
# (build-fuzz) against DEVICE, persistent; findings land in OUTDIR as
# crash-* reproducers (replay: DEVFUZZ_DEVICE=DEVICE fuzz-devproc FILE).
# Prints libFuzzer's final stats and the device edges covered; the covered
# edge offsets go to OUTDIR/cov.txt (cov.py symbolizes them).
# DEVFUZZ_RESPAWN=1 measures the one-process-per-input mode instead.
set -eu
dev=$1 secs=$2 out=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
exe=${DEVFUZZ_EXE:-$root/build-fuzz/tests/fuzz/devproc/fuzz-devproc}
mkdir -p "$out/corpus"
DEVFUZZ_DEVICE=$dev DEVFUZZ_COVOUT=$out/cov.txt nice "$exe" -seed="${FUZZ_SEED:-1}" \
	-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus" "$root/tests/fuzz/corpus/devproc-$dev" 2>&1 |
	grep -E '^(stat::|devfuzz:|#[0-9]+.*(DONE|pulse))|FINDING|crash-' || true
