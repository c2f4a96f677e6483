#!/usr/bin/env bash
# run-fuzz.sh FUZZER SEED_DIR SECONDS
# libFuzzer build: fuzz for SECONDS, new inputs go to a temporary directory
# (the seed corpus in the tree is never written). Replay build (SECONDS 0):
# run every seed once.
set -eu
exe=$1 seeds=$2 secs=$3
if [ "$secs" = 0 ]; then
	exec "$exe" "$seeds"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fixed seed keeps the short runs inside the test command reproducible
# (a run that is cut short by time explores a prefix of the same sequence);
# longer runs on demand: FUZZ_SEED=0 (random) or another seed.
# A finding must fail the test: libFuzzer's own default exit codes (77 for a
# crash, 70 for a timeout) would read as "skipped" to meson.
"$exe" -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="${FUZZ_ARTIFACTS:-$work}/" "$work" "$seeds"
