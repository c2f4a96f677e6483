#!/bin/sh
# build-module.sh MAKEFILE OUT.pp NAME.te NAME.if NAME.fc
# Builds the policy package NAME.pp (NAME: OUT's base name) in a scratch
# directory next to OUT.pp.
set -eu
makefile=$1
out=$2
shift 2
name=$(basename "$out" .pp)
work="${out%.pp}.d"
rm -rf "$work"
mkdir -p "$work"
cp "$@" "$work/"
make -s -C "$work" -f "$makefile" "$name.pp" >"$work/make.log" 2>&1 || {
	cat "$work/make.log" >&2
	exit 1
}
# show m4/checkmodule warnings (an unbalanced quote shows up here first)
grep -i 'warning' "$work/make.log" >&2 || true
cp "$work/$name.pp" "$out"
