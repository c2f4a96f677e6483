#!/usr/bin/env bash
# The README's main command: `cellvm run [ARGS]` (default: the built-in demo
# guest). Natively where /dev/kvm works; on a machine without KVM, inside a
# throwaway KVM box (tests/kvmhost: QEMU TCG + Debian's kernel; a test
# platform, not a production path). Needs root either way.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/cellvm ] || scripts/setup.sh
if [ -c /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null; then
	exec build/cellvm run "$@"
fi
echo "run: no /dev/kvm here, so cellvm runs inside a KVM box (QEMU TCG, ~20 s to start, guests 10-50x slower; Ctrl-A x quits)" >&2
exec tests/kvmhost/kvmhost -- "$PWD/build/cellvm" run "$@"
