#!/bin/sh
# check-fc.sh POLICY POLICY-TYPES: the file contexts of the store copy that
# link-policy.sh built next to POLICY give the installed paths their types
# (the base policy's /usr/libexec(/.*)? must not win over cellvm.fc).
set -u
types=$2 # prints "TYPE DOMAIN" for every process type (policy/types.h)
# device helpers: the types with a domain of their own (not the vcpu-worker's)
helpers=$("$types" | awk '$1 != "vcpu" && $2 == "cellvm_" $1 "_t" { print $1 }')
[ -n "$helpers" ] || { echo "no process types from $types"; exit 1; }
fc="$1.root/etc/selinux/$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null || echo default)/contexts/files/file_contexts"
[ -f "$fc" ] || { echo "no $fc"; exit 1; }
command -v matchpathcon >/dev/null || { echo "matchpathcon not installed"; exit 77; }
fail=0
expect() {
	got=$(matchpathcon -N -f "$fc" "$1" 2>&1 | awk '{print $2}')
	case "$got" in
	*":$2:"*) echo "ok   $1 $got" ;;
	*) echo "FAIL $1 $got (want $2)"; fail=1 ;;
	esac
}
for pre in /usr /usr/local; do
	expect $pre/bin/cellvm cellvm_exec_t
	for d in $helpers; do
		expect $pre/libexec/cellvm/cellvm-$d cellvm_${d}_exec_t
		expect $pre/libexec/cellvm/$d cellvm_${d}_exec_t
	done
	expect $pre/libexec/cellvm/cellvm-vcpu cellvm_vcpu_exec_t
	expect $pre/libexec/cellvm/vcpu-worker cellvm_vcpu_exec_t
	# an unknown helper gets no cellvm type
	got=$(matchpathcon -N -f "$fc" $pre/libexec/cellvm/cellvm-other 2>&1)
	case "$got" in
	*cellvm_*) echo "FAIL $got"; fail=1 ;;
	*) echo "ok   $got" ;;
	esac
done
expect /usr/sbin/cellvm cellvm_exec_t
expect /var/lib/cellvm/images/vm1.img cellvm_image_t
expect /var/lib/cellvm/content/vmlinux cellvm_content_t
expect /var/lib/cellvm/state cellvm_var_lib_t
expect /var/log/cellvm/vm1.log cellvm_log_t
expect /run/cellvm/cellvm.sock cellvm_runtime_t
expect /etc/cellvm/vm1.conf cellvm_conf_t
exit $fail
