#!/bin/sh
# check-sesearch.sh POLICY POLICY-TYPES: with setools' sesearch (which expands the
# attributes a type belongs to), no device domain has any rule on
# kvm_device_t, the vcpu-worker cannot open it, and no per-VM domain may
# open any file type other than the dynamic loader's.
set -u
policy=$1
types=$2 # prints "TYPE DOMAIN" for every process type (policy/types.h)
command -v sesearch >/dev/null || { echo "sesearch not installed"; exit 77; }
fail=0
domains=$("$types" | awk '{ sub(/^cellvm_/, "", $2); sub(/_t$/, "", $2); if (!seen[$2]++) print $2 }')
[ -n "$domains" ] || { echo "no process types from $types"; exit 1; }
for d in $domains; do
	# one sesearch per domain: loading the policy is the slow part
	rules=$(sesearch -A -s "cellvm_${d}_t" "$policy") || { echo "sesearch failed"; exit 1; }
	[ -n "$rules" ] || { echo "FAIL cellvm_${d}_t: no rules at all?"; fail=1; }
	kvm=$(printf '%s\n' "$rules" | grep ' kvm_device_t:')
	if [ "$d" = vcpu ]; then
		case "$kvm" in
		*open*) echo "FAIL cellvm_vcpu_t may open /dev/kvm: $kvm"; fail=1 ;;
		'') echo "FAIL cellvm_vcpu_t cannot use the kvm fd"; fail=1 ;;
		*) echo "ok   cellvm_vcpu_t: kvm_device_t without open: $kvm" ;;
		esac
	elif [ -n "$kvm" ]; then
		echo "FAIL cellvm_${d}_t has kvm_device_t access: $kvm"
		fail=1
	else
		echo "ok   cellvm_${d}_t: no rule on kvm_device_t"
	fi
	# every rule granting open, except ld.so's files and the domain's own pipes
	opens=$(printf '%s\n' "$rules" | grep -E '[{ ]open[ }]' |
		grep -v -E ' (lib_t|ld_so_t|ld_so_cache_t):file ' |
		grep -v -E " cellvm_${d}_t:fifo_file ")
	if [ -n "$opens" ]; then
		echo "FAIL cellvm_${d}_t may open: $opens"
		fail=1
	else
		echo "ok   cellvm_${d}_t: opens nothing but ld.so's files"
	fi
done
exit $fail
