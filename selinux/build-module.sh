#!/bin/sh
# build-module.sh MAKEFILE OUT.pp cellvm.te cellvm.if cellvm.fc
# Builds the policy package in a scratch directory next to OUT.pp.
set -eu
makefile=$1
out=$2
shift 2
work="${out%.pp}.d"
rm -rf "$work"
mkdir -p "$work"
cp "$@" "$work/"
make -s -C "$work" -f "$makefile" cellvm.pp >"$work/make.log" 2>&1 || {
	cat "$work/make.log" >&2
	exit 1
}
# checkmodule warnings are errors here
if grep -qi 'warning\|error' "$work/make.log"; then
	cat "$work/make.log" >&2
	exit 1
fi
cp "$work/cellvm.pp" "$out"
