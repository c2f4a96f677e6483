#!/bin/sh
# link-policy.sh MODULE.pp OUT [MORE.pp...]
# Links MODULE.pp (and MORE.pp) into a COPY of the installed policy store (never the
# system store) and writes the resulting kernel policy binary to OUT.
# semodule -p ROOT reads ROOT/etc/selinux/{config,semanage.conf} and the
# store ROOT/var/lib/selinux/TYPE, and writes ROOT/etc/selinux/TYPE/policy.
set -eu
pp=$(realpath "$1")
out=$2
shift 2
more=
for m in "$@"; do more="$more $(realpath "$m")"; done
type=$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null || true)
type=${type:-default}
[ -d "/var/lib/selinux/$type" ] || { echo "no policy store /var/lib/selinux/$type" >&2; exit 1; }
root="$out.root"
rm -rf "$root"
mkdir -p "$root/var/lib/selinux" "$root/etc/selinux"
cp -a "/var/lib/selinux/$type" "$root/var/lib/selinux/"
cp -a "/etc/selinux/$type" "/etc/selinux/config" "$root/etc/selinux/"
[ -f /etc/selinux/semanage.conf ] && cp -a /etc/selinux/semanage.conf "$root/etc/selinux/"
# -n: no reload (and nothing here could load it: SELinux may be disabled)
# shellcheck disable=SC2086 # word splitting of $more is wanted
semodule -n -p "$root" -i "$pp" $more 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
bin=$(ls "$root/etc/selinux/$type/policy/"policy.* | sort -V | tail -1)
cp "$bin" "$out"
