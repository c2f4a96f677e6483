#!/usr/bin/env bash
# campaign.sh DEVICE SECONDS [OUTDIR]: a libFuzzer campaign of fuzz-devproc
# (build-fuzz) against DEVICE, persistent; findings land in OUTDIR as
# crash-* reproducers (replay: DEVFUZZ_DEVICE=DEVICE fuzz-devproc FILE).
# WORKERS=N runs N fuzzers on one corpus, OUTDIR/corpus: libFuzzer reloads
# it every second, so each takes up the others' finds, and their inputs add
# up. Each worker's log is OUTDIR/log-K.txt. Prints libFuzzer's final stats,
# the inputs run and the device edges covered by all workers; the covered
# edge offsets go to OUTDIR/cov.txt (cov.py symbolizes them). Exits non-zero
# if a worker failed (a finding) or no input ran; 77 (skipped) if not root.
# DEVFUZZ_RESPAWN=1 measures the one-process-per-input mode instead.
# FUZZ_SEED=S: worker K's seed is S + K - 1; 0 lets each worker pick its own.
set -eu
dev=$1 secs=$2 out=${3:-$(mktemp -d)}
workers=${WORKERS:-1} seed=${FUZZ_SEED:-1}
if [ "$(id -u)" -ne 0 ]; then
	echo "campaign.sh: spawning jailed devices needs root: skipped" >&2
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
exe=${DEVFUZZ_EXE:-$root/build-fuzz/tests/fuzz/devproc/fuzz-devproc}
mkdir -p "$out/corpus"
rm -f "$out"/log-*.txt "$out"/cov-*.txt # a run before this one's
pids=()
for w in $(seq 1 "$workers"); do
	DEVFUZZ_DEVICE=$dev DEVFUZZ_COVOUT=$out/cov-$w.txt nice "$exe" \
		-seed=$((seed ? seed + w - 1 : 0)) -max_total_time="$secs" -timeout=20 \
		-error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/" \
		"$out/corpus" "$root/tests/fuzz/corpus/devproc-$dev" >"$out/log-$w.txt" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
grep -HE '^(stat::|devfuzz:)|FINDING|crash-' "$out"/log-*.txt || true
cat "$out"/cov-*.txt 2>/dev/null | sort -u >"$out/cov.txt"
n=$(grep -h '^stat::number_of_executed_units' "$out"/log-*.txt | awk '{s += $2} END {print s + 0}')
done=$(grep -l '^stat::number_of_executed_units' "$out"/log-*.txt | wc -l)
echo "campaign: $dev, $done of $workers worker(s) finished, $n inputs," \
	"$(wc -l <"$out/cov.txt") device edges covered"
[ "$rc" -eq 0 ] && [ "$done" -eq "$workers" ] && [ "$n" -gt 0 ]
