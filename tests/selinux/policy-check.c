/* SPDX-License-Identifier: MIT */
/*
 * policy-check POLICY: offline proof of the cellvm policy.  Loads a
 * kernel policy binary (the installed policy with cellvm.pp linked in)
 * with libsepol, computes access decisions for a matrix of subjects and
 * objects, prints the matrix as a Markdown table and exits 1 if any
 * decision differs from the expectation (including the reason: a
 * cross-VM denial must come from the MCS constraint, not only from TE).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sepol/sepol.h>

#include "policy/profile.h"
#include <sepol/policydb/services.h>

enum expect { ALLOW, DENY_TE, DENY_MCS };

static const char *const expect_name[] = {"allow", "deny (TE)", "deny (MCS)"};

#define BROKER "system_u:system_r:cellvm_t:s0-s0:c0.c1023"
/* the broker of VM A (B) once it runs at its VM's pair */
#define BROKER_A "system_u:system_r:cellvm_t:s0-s0:c1,c2"
#define BROKER_B "system_u:system_r:cellvm_t:s0-s0:c3,c4"
#define LVL_A	 "s0:c1,c2"
#define LVL_B	 "s0:c3,c4"

static int rows, failures;

/* per-section tallies for the summary table printed at the end */
#define MAX_SECTIONS 16
static struct {
	const char *name;
	int checks, allow, deny_te, deny_mcs, wrong;
} sec[MAX_SECTIONS];
static int nsec;

static void section(const char *name)
{
	if (nsec < MAX_SECTIONS)
		sec[nsec++].name = name;
}

static void tally(bool allowed, const char *why, bool ok)
{
	if (!nsec)
		section("other");
	typeof(sec[0]) *t = &sec[nsec - 1];
	t->checks++;
	t->allow += allowed;
	t->deny_te += !allowed && !strcmp(why, "TE");
	t->deny_mcs += !allowed && !strcmp(why, "MCS");
	t->wrong += !ok;
}

/*
 * The SELinux domains of the VM's processes, derived from the one list of
 * process types (profile__all(), policy/types.h): doms[] every distinct
 * cellvm_X_t as "X", the vcpu-worker first; devices[] the same without it.
 */
static const char *doms_v[32];
static size_t ndoms, ndev;
#define doms	doms_v
#define devices (doms_v + 1)
#define NDEV	ndev

static void load_domains(void)
{
	static char names[32][32];
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		const char *t = (*pp)->selinux_type;
		size_t len = strlen(t);
		if (strncmp(t, "cellvm_", 7) || len < 10 || strcmp(t + len - 2, "_t") ||
		    len - 9 >= sizeof(names[0])) {
			fprintf(stderr, "profile %s: SELinux type %s is not cellvm_X_t\n",
				(*pp)->type, t);
			exit(1);
		}
		char x[32];
		snprintf(x, sizeof(x), "%.*s", (int)(len - 9), t + 7);
		bool seen = false;
		for (size_t i = 0; i < ndoms; i++)
			seen |= !strcmp(doms_v[i], x);
		if (seen)
			continue;
		if (ndoms == sizeof(doms_v) / sizeof(doms_v[0]))
			exit(1);
		snprintf(names[ndoms], sizeof(names[0]), "%s", x);
		doms_v[ndoms] = names[ndoms];
		ndoms++;
	}
	if (!ndoms || strcmp(doms_v[0], "vcpu")) {
		fprintf(stderr, "the first process type must be the vcpu-worker\n");
		exit(1);
	}
	/* devices[]: every domain but the vcpu-worker and the screendump helper,
	 * which has no ring and reads the framebuffer (checked on its own). */
	for (size_t i = 1; i < ndoms; i++) {
		if (!strcmp(doms_v[i], "screendump")) {
			const char *sd = doms_v[i];
			memmove(&doms_v[i], &doms_v[i + 1], (ndoms - i - 1) * sizeof(doms_v[0]));
			doms_v[ndoms - 1] = sd;
			break;
		}
	}
	ndev = ndoms - 1;
	if (!strcmp(doms_v[ndoms - 1], "screendump"))
		ndev--;
}

static void dom(char *out, size_t n, const char *name, const char *lvl)
{
	snprintf(out, n, "system_u:system_r:cellvm_%s_t:%s", name, lvl);
}

static void obj(char *out, size_t n, const char *type, const char *lvl)
{
	snprintf(out, n, "system_u:object_r:%s:%s", type, lvl);
}

static int sid_of(const char *con, sepol_security_id_t *sid)
{
	if (sepol_context_to_sid(con, strlen(con) + 1, sid) < 0) {
		fprintf(stderr, "invalid context %s\n", con);
		return -1;
	}
	return 0;
}

/* Short form of a context for the table: type:level. */
static const char *brief(const char *con, char *buf, size_t n)
{
	const char *p = strchr(con, ':');
	p = p ? strchr(p + 1, ':') : NULL;
	snprintf(buf, n, "%s", p ? p + 1 : con);
	return buf;
}

/* Decision for scon -> tcon:cls {perms}; *why gets "", "TE", "MCS", ... */
static int decide(const char *scon, const char *tcon, const char *cls, const char *perms,
		  bool *allowed, const char **why)
{
	sepol_security_id_t s, t;
	sepol_security_class_t c;
	sepol_access_vector_t av = 0, bit;
	if (sid_of(scon, &s) < 0 || sid_of(tcon, &t) < 0)
		return -1;
	if (sepol_string_to_security_class(cls, &c) < 0) {
		fprintf(stderr, "unknown class %s\n", cls);
		return -1;
	}
	char list[256];
	snprintf(list, sizeof(list), "%s", perms);
	for (char *save, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (sepol_string_to_av_perm(c, p, &bit) < 0) {
			fprintf(stderr, "unknown permission %s:%s\n", cls, p);
			return -1;
		}
		av |= bit;
	}
	struct sepol_av_decision avd;
	unsigned int reason = 0;
	char *buf = NULL;
	if (sepol_compute_av_reason_buffer(s, t, c, av, &avd, &reason, &buf, 0) < 0) {
		fprintf(stderr, "compute_av failed for %s %s\n", scon, tcon);
		return -1;
	}
	*allowed = (avd.allowed & av) == av;
	if (*allowed)
		*why = "";
	else if (reason & SEPOL_COMPUTEAV_TE)
		*why = "TE";
	else if ((reason & SEPOL_COMPUTEAV_CONS) && buf && strstr(buf, "h1 dom h2"))
		*why = "MCS";
	else if (reason & SEPOL_COMPUTEAV_CONS)
		*why = "constraint";
	else if (reason & SEPOL_COMPUTEAV_RBAC)
		*why = "RBAC";
	else
		*why = "?";
	free(buf);
	return 0;
}

static void check(enum expect e, const char *scon, const char *tcon, const char *cls,
		  const char *perms, const char *what)
{
	bool allowed = false;
	const char *why = "?";
	bool ok;
	if (decide(scon, tcon, cls, perms, &allowed, &why) < 0)
		ok = false;
	else if (e == ALLOW)
		ok = allowed;
	else
		ok = !allowed && !strcmp(why, e == DENY_TE ? "TE" : "MCS");
	char sb[96], tb[96], res[32], verdict[48];
	rows++;
	if (!ok)
		failures++;
	tally(allowed, why, ok);
	if (allowed)
		snprintf(res, sizeof(res), "allow");
	else
		snprintf(res, sizeof(res), "deny (%s)", why);
	if (ok)
		snprintf(verdict, sizeof(verdict), "ok");
	else
		snprintf(verdict, sizeof(verdict), "**WRONG**, expected %s", expect_name[e]);
	printf("| %d | %s | %s | %s | %s | %s | %s | %s |\n", rows, what,
	       brief(scon, sb, sizeof(sb)), brief(tcon, tb, sizeof(tb)), cls, perms, res, verdict);
}

/* Same access inside one VM: allowed; from VM B onto VM A's object: MCS. */
static void cross_vm(const char *d, const char *type, const char *cls, const char *perms)
{
	char sa[128], sb[128], ta[128], what[160];
	dom(sa, sizeof(sa), d, LVL_A);
	dom(sb, sizeof(sb), d, LVL_B);
	obj(ta, sizeof(ta), type, LVL_A);
	snprintf(what, sizeof(what), "%s: own VM's %s", d, type);
	check(ALLOW, sa, ta, cls, perms, what);
	snprintf(what, sizeof(what), "%s of VM B: VM A's %s", d, type);
	check(DENY_MCS, sb, ta, cls, perms, what);
}

static void transition_sid(const char *scon, const char *tcon, const char *cls,
			   const char *want_type, const char *what)
{
	sepol_security_id_t s, t, out;
	sepol_security_class_t c;
	sepol_security_context_t con = NULL;
	size_t len;
	bool ok = false;
	if (sid_of(scon, &s) == 0 && sid_of(tcon, &t) == 0 &&
	    sepol_string_to_security_class(cls, &c) == 0 &&
	    sepol_transition_sid(s, t, c, &out) == 0 && sepol_sid_to_context(out, &con, &len) == 0)
		ok = strstr(con, want_type) != NULL;
	char sb[96], tb[96];
	rows++;
	failures += !ok;
	tally(true, "", ok);
	printf("| %d | %s | %s | %s | %s | (new object) | %s | %s |\n", rows, what,
	       brief(scon, sb, sizeof(sb)), brief(tcon, tb, sizeof(tb)), cls, con ? con : "(none)",
	       ok ? "ok" : "**WRONG**");
	free(con);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s POLICY\n", argv[0]);
		return 2;
	}
	FILE *fp = fopen(argv[1], "r");
	if (!fp || sepol_set_policydb_from_file(fp) < 0) {
		fprintf(stderr, "cannot load policy %s\n", argv[1]);
		return 2;
	}
	fclose(fp);
	load_domains();

	char s[128], t[128], s2[128], what[160];
	printf("| # | check | subject | target | class | perms | result | verdict |\n");
	printf("|---|---|---|---|---|---|---|---|\n");

	/* --- /dev/kvm: broker opens, vcpu uses the fd, devices never --- */
	section("/dev/kvm: broker opens, vcpu uses the fd, no device");
	obj(t, sizeof(t), "kvm_device_t", "s0");
	check(ALLOW, BROKER, t, "chr_file", "open,read,write,ioctl", "broker opens /dev/kvm");
	dom(s, sizeof(s), "vcpu", LVL_A);
	check(ALLOW, s, t, "chr_file", "read,write,ioctl", "vcpu uses the inherited kvm fd");
	check(DENY_TE, s, t, "chr_file", "open", "vcpu cannot open /dev/kvm by path");
	for (size_t i = 0; i < NDEV; i++) {
		dom(s, sizeof(s), devices[i], LVL_A);
		snprintf(what, sizeof(what), "%s: no /dev/kvm, not even an inherited fd",
			 devices[i]);
		check(DENY_TE, s, t, "chr_file", "read", what);
		check(DENY_TE, s, t, "chr_file", "ioctl", what);
		check(DENY_TE, s, t, "chr_file", "open", what);
	}

	/* --- host files: no domain of a VM reads anything it did not inherit --- */
	section("host files (etc, shadow, home, /proc, ...) from every VM domain");
	static const char *const host[] = {
	    "etc_t", "shadow_t", "user_home_t", "var_lib_t",	"cellvm_conf_t", "cellvm_var_lib_t",
	    "tmp_t", "proc_t",	 "sysfs_t",	"cellvm_exec_t"};
	for (size_t i = 0; i < ndoms; i++) {
		dom(s, sizeof(s), doms[i], LVL_A);
		for (size_t j = 0; j < sizeof(host) / sizeof(host[0]); j++) {
			obj(t, sizeof(t), host[j], "s0");
			snprintf(what, sizeof(what), "%s: host file %s", doms[i], host[j]);
			check(DENY_TE, s, t, "file", "read", what);
		}
		obj(t, sizeof(t), "cellvm_image_t", LVL_A);
		snprintf(what, sizeof(what), "%s: open an image by path", doms[i]);
		check(DENY_TE, s, t, "file", "open", what);
		obj(t, sizeof(t), "lib_t", "s0");
		snprintf(what, sizeof(what), "%s: shared libraries (ld.so at exec, tunable)",
			 doms[i]);
		check(ALLOW, s, t, "file", "read,map,execute", what);
		check(DENY_TE, s, t, "file", "write", what);
	}

	/* --- one VM against another: every per-VM object, MCS --- */
	section("VM B against VM A's objects and processes (and the same access within one VM)");
	cross_vm("vcpu", "cellvm_ram_t", "file", "read,write,map");
	cross_vm("vcpu", "cellvm_fb_t", "file", "read,write,map");
	cross_vm("vcpu", "cellvm_blk_ring_t", "file", "read,write,map");
	cross_vm("blk", "cellvm_ram_t", "file", "read,write,map");
	cross_vm("blk", "cellvm_blk_ring_t", "file", "read,write,map");
	cross_vm("blk", "cellvm_image_t", "file", "read,write");
	cross_vm("blk", "cellvm_image_t", "blk_file", "read,write");
	cross_vm("net", "cellvm_ram_t", "file", "read,write,map");
	cross_vm("net", "cellvm_net_ring_t", "file", "read,write,map");
	cross_vm("vga", "cellvm_fb_t", "file", "read,write,map");
	cross_vm("vnc", "cellvm_fb_t", "file", "read,map");
	cross_vm("vnc", "cellvm_vnc_socket_t", "tcp_socket", "accept,read,write");
	cross_vm("serial", "cellvm_log_t", "file", "append,write");
	cross_vm("input", "cellvm_input_ring_t", "file", "read,write,map");
	cross_vm("testdev", "cellvm_testdev_ring_t", "file", "read,write,map");
	for (size_t i = 0; i < ndoms; i++) {
		char type[64];
		snprintf(type, sizeof(type), "cellvm_%s_t", doms[i]);
		/* the broker<->child socketpair, labelled with the child's context */
		cross_vm(doms[i], type, "unix_stream_socket", "read,write");
		/* signals between the threads of one process vs another VM's process */
		cross_vm(doms[i], type, "process", "signal");
		dom(s, sizeof(s), doms[i], LVL_B);
		dom(t, sizeof(t), doms[i], LVL_A);
		snprintf(what, sizeof(what), "%s of VM B: ptrace VM A's %s", doms[i], doms[i]);
		check(DENY_TE, s, t, "process", "ptrace", what);
	}
	/* shared and read-only images: one label for every VM */
	dom(s, sizeof(s), "blk", LVL_B);
	obj(t, sizeof(t), "cellvm_image_t", "s0");
	check(ALLOW, s, t, "file", "read,write", "blk: shared image (s0)");
	obj(t, sizeof(t), "cellvm_content_t", "s0");
	check(ALLOW, s, t, "file", "read", "blk: read-only content");
	check(DENY_TE, s, t, "file", "write", "blk: read-only content");
	dom(s, sizeof(s), "vcpu", LVL_B);
	check(ALLOW, s, t, "file", "read,map", "vcpu: kernel/initrd content");
	check(DENY_TE, s, t, "file", "write", "vcpu: kernel/initrd content");

	/* --- vnc: framebuffer read-only, guest RAM never --- */
	section("vnc: framebuffer read-only, never guest RAM");
	dom(s, sizeof(s), "vnc", LVL_A);
	obj(t, sizeof(t), "cellvm_ram_t", LVL_A);
	check(DENY_TE, s, t, "file", "read", "vnc: guest RAM");
	check(DENY_TE, s, t, "file", "map", "vnc: guest RAM");
	check(DENY_TE, s, t, "file", "write", "vnc: guest RAM");
	obj(t, sizeof(t), "cellvm_fb_t", LVL_A);
	check(ALLOW, s, t, "file", "read,map", "vnc: framebuffer");
	check(DENY_TE, s, t, "file", "write", "vnc: framebuffer");
	check(DENY_TE, s, t, "file", "append", "vnc: framebuffer");
	dom(s, sizeof(s), "vga", LVL_A);
	check(ALLOW, s, t, "file", "read,write,map", "vga: framebuffer");
	for (size_t i = 0; i < NDEV; i++) {
		if (!strcmp(devices[i], "vga") || !strcmp(devices[i], "vnc"))
			continue;
		dom(s, sizeof(s), devices[i], LVL_A);
		snprintf(what, sizeof(what), "%s: framebuffer", devices[i]);
		check(DENY_TE, s, t, "file", "read", what);
	}
	dom(s, sizeof(s), "vga", LVL_A);
	obj(t, sizeof(t), "cellvm_ram_t", LVL_A);
	check(DENY_TE, s, t, "file", "read", "vga: guest RAM");
	dom(s, sizeof(s), "serial", LVL_A);
	check(DENY_TE, s, t, "file", "read", "serial: guest RAM");

	/* --- devices of one VM against each other --- */
	section("devices of one VM against each other's rings, processes, sockets, fds");
	for (size_t i = 0; i < NDEV; i++) {
		dom(s, sizeof(s), devices[i], LVL_A);
		for (size_t j = 0; j < NDEV; j++) {
			if (i == j)
				continue;
			char type[64];
			/* only a ring device has a ring type (profile .ring) */
			if (profile__find(devices[j])->ring) {
				snprintf(type, sizeof(type), "cellvm_%s_ring_t", devices[j]);
				obj(t, sizeof(t), type, LVL_A);
				snprintf(what, sizeof(what), "%s: ring of %s", devices[i],
					 devices[j]);
				check(DENY_TE, s, t, "file", "read,write,map", what);
			}
			dom(t, sizeof(t), devices[j], LVL_A);
			snprintf(what, sizeof(what), "%s: process %s", devices[i], devices[j]);
			check(DENY_TE, s, t, "process", "signal", what);
			check(DENY_TE, s, t, "unix_stream_socket", "read", what);
			check(DENY_TE, s, t, "fd", "use", what);
		}
		obj(t, sizeof(t), "cellvm_image_t", LVL_A);
		if (strcmp(devices[i], "blk")) {
			snprintf(what, sizeof(what), "%s: disk image fd", devices[i]);
			check(DENY_TE, s, t, "file", "read", what);
		}
		obj(t, sizeof(t), "tun_tap_device_t", "s0");
		snprintf(what, sizeof(what), "%s: TAP fd", devices[i]);
		check(strcmp(devices[i], "net") ? DENY_TE : ALLOW, s, t, "chr_file", "read,write",
		      what);
		check(DENY_TE, s, t, "chr_file", "open", what);
	}

	/* --- what cellvm needs: broker -> children --- */
	section("broker -> children: exec transitions, signals, fds");
	for (size_t i = 0; i < ndoms; i++) {
		char type[64];
		dom(t, sizeof(t), doms[i], LVL_A);
		snprintf(what, sizeof(what), "broker execs %s (setexeccon)", doms[i]);
		check(ALLOW, BROKER, t, "process", "transition", what);
		check(ALLOW, BROKER, t, "process2", "nnp_transition", what);
		snprintf(type, sizeof(type), "cellvm_%s_exec_t", doms[i]);
		obj(s2, sizeof(s2), type, "s0");
		check(ALLOW, BROKER, s2, "file", "open,read,execute", what);
		check(ALLOW, t, s2, "file", "entrypoint", what);
		obj(s2, sizeof(s2), "bin_t", "s0");
		snprintf(what, sizeof(what), "%s: bin_t is no entrypoint", doms[i]);
		check(DENY_TE, t, s2, "file", "entrypoint", what);
		snprintf(what, sizeof(what), "broker signals/kills %s", doms[i]);
		check(ALLOW, BROKER, t, "process", "signal,sigkill", what);
		check(ALLOW, BROKER, t, "process", "getattr", "broker reads attr/current (pairs)");
		check(ALLOW, BROKER, t, "unix_stream_socket", "create,read,write",
		      "broker: socketpair labelled as the child");
		check(ALLOW, t, BROKER, "fd", "use", "child uses fds the broker passed");
		check(ALLOW, t, BROKER, "process", "sigchld", "child exit -> broker");
		check(DENY_TE, t, BROKER, "process", "signal", "child signals broker");
		check(DENY_TE, t, BROKER, "process", "ptrace", "child ptraces broker");
		dom(s, sizeof(s), doms[i], LVL_A);
		dom(s2, sizeof(s2), i ? doms[0] : doms[1], LVL_A);
		check(DENY_TE, s, s2, "process", "transition", "child execs another domain");
	}
	/* guest RAM: exactly the profiles with guest_ram (gen-domains.c) */
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		snprintf(s, sizeof(s), "system_u:system_r:%s:%s", (*pp)->selinux_type, LVL_A);
		obj(t, sizeof(t), "cellvm_ram_t", LVL_A);
		snprintf(what, sizeof(what), "%s: guest RAM (profile guest_ram %d)", (*pp)->type,
			 (*pp)->guest_ram);
		check((*pp)->guest_ram ? ALLOW : DENY_TE, s, t, "file", "read,write,map", what);
	}
	dom(s, sizeof(s), "blk", LVL_A);
	obj(t, sizeof(t), "cellvm_vnc_exec_t", "s0");
	check(DENY_TE, s, t, "file", "entrypoint", "blk: other helper is no entrypoint");

	/* --- memfds: created cellvm_tmpfs_t, relabelled by the broker --- */
	section("memfds: type transition and relabel");
	obj(t, sizeof(t), "tmpfs_t", "s0");
	transition_sid(BROKER, t, "file", "cellvm_tmpfs_t", "broker memfd_create");
	obj(t, sizeof(t), "cellvm_tmpfs_t", "s0");
	check(ALLOW, BROKER, t, "file", "relabelfrom", "broker relabels a new memfd");
	static const char *const memfd_types[] = {"cellvm_ram_t", "cellvm_fb_t",
						  "cellvm_blk_ring_t", "cellvm_rng_ring_t"};
	for (size_t i = 0; i < 4; i++) {
		obj(t, sizeof(t), memfd_types[i], LVL_A);
		check(ALLOW, BROKER, t, "file", "relabelto", "broker relabels a new memfd");
		dom(s, sizeof(s), "vcpu", LVL_A);
		check(DENY_TE, s, t, "file", "relabelfrom", "vcpu relabels a memfd");
	}
	obj(t, sizeof(t), "tmpfs_t", "s0");
	dom(s, sizeof(s), "vcpu", LVL_A);
	check(DENY_TE, s, t, "file", "read", "vcpu: another domain's tmpfs file");

	/* --- images: broker labels, blk uses --- */
	section("images and sockets: broker");
	obj(t, sizeof(t), "cellvm_image_t", "s0");
	check(ALLOW, BROKER, t, "file", "open,read,write,relabelfrom,setattr",
	      "broker opens+relabels an image");
	obj(t, sizeof(t), "cellvm_image_t", LVL_A);
	check(ALLOW, BROKER, t, "file", "relabelto,relabelfrom", "broker relabels an image");
	obj(t, sizeof(t), "shadow_t", "s0");
	check(DENY_TE, BROKER, t, "file", "relabelfrom", "broker relabels shadow");
	check(DENY_TE, BROKER, t, "file", "read", "broker reads shadow");
	obj(t, sizeof(t), "cellvm_vnc_socket_t", LVL_A);
	check(ALLOW, BROKER, t, "tcp_socket", "create,bind,listen", "broker: VNC listener");
	check(ALLOW, t, "system_u:object_r:vnc_port_t:s0", "tcp_socket", "name_bind",
	      "VNC listener binds 5900");

	/* --- the broker of one VM at that VM's pair (label__vm_enter) --- */
	section("broker at its VM's pair: pipes, reclaim, screendump");
	check(ALLOW, BROKER, BROKER_A, "process", "dyntransition,setcurrent",
	      "broker drops to its VM's pair (setcon)");
	check(ALLOW, BROKER_A, BROKER_A, "process", "setexec,setsockcreate", "broker at A: labels");
	check(ALLOW, BROKER_A, BROKER_B, "process", "signull", "broker A: is broker B alive");
	check(ALLOW, BROKER_A, BROKER, "fd", "use", "broker A: fd from cellvm screendump");
	dom(t, sizeof(t), "vcpu", LVL_A);
	check(ALLOW, BROKER_A, t, "process", "transition,noatsecure",
	      "broker at A execs vcpu of A");
	check(ALLOW, BROKER_A, t, "process2", "nnp_transition,nosuid_transition",
	      "broker at A execs vcpu of A (nosuid root)");
	obj(t, sizeof(t), "cellvm_image_t", LVL_B);
	check(ALLOW, BROKER_A, t, "file", "relabelfrom,relabelto",
	      "broker at A reclaims a dead VM's image");
	for (size_t i = 0; i < ndoms; i++) {
		dom(s, sizeof(s), doms[i], LVL_A);
		snprintf(what, sizeof(what), "%s of A: pipe of broker A", doms[i]);
		check(ALLOW, s, BROKER_A, "fifo_file", "read,write", what);
		snprintf(what, sizeof(what), "%s of A: pipe of a full-range broker", doms[i]);
		check(DENY_MCS, s, BROKER, "fifo_file", "write", what);
		dom(s, sizeof(s), doms[i], LVL_B);
		snprintf(what, sizeof(what), "%s of B: pipe of broker A", doms[i]);
		check(DENY_MCS, s, BROKER_A, "fifo_file", "read,write", what);
		check(DENY_MCS, s, BROKER_A, "unix_stream_socket", "read,write", what);
	}
	cross_vm("screendump", "cellvm_fb_t", "file", "read,map");
	dom(s, sizeof(s), "screendump", LVL_A);
	obj(t, sizeof(t), "cellvm_fb_t", LVL_A);
	check(DENY_TE, s, t, "file", "write", "screendump: framebuffer is read-only");
	obj(t, sizeof(t), "cellvm_ram_t", LVL_A);
	check(DENY_TE, s, t, "file", "read", "screendump: guest RAM");
	obj(t, sizeof(t), "cellvm_tmp_t", "s0");
	check(ALLOW, s, t, "file", "write", "screendump: the PNG cellvm screendump opened");
	check(DENY_TE, s, t, "file", "open", "screendump: opens nothing");
	obj(t, sizeof(t), "tmp_t", "s0");
	transition_sid(BROKER, t, "file", "cellvm_tmp_t", "cellvm screendump creates OUT.png");
	cross_vm("vnc", "cellvm_vnc_cred_t", "file", "read,map");
	dom(s, sizeof(s), "vnc", LVL_A);
	obj(t, sizeof(t), "cellvm_vnc_cred_t", LVL_A);
	check(DENY_TE, s, t, "file", "write", "vnc: TLS key is read-only");
	dom(s, sizeof(s), "blk", LVL_A);
	check(DENY_TE, s, t, "file", "read", "blk: VNC TLS key");

	printf("\n| section | checks | allow | deny (TE) | deny (MCS) | wrong |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int i = 0; i < nsec; i++)
		printf("| %s | %d | %d | %d | %d | %d |\n", sec[i].name, sec[i].checks,
		       sec[i].allow, sec[i].deny_te, sec[i].deny_mcs, sec[i].wrong);
	printf("\n%d checks, %d wrong\n", rows, failures);
	return failures ? 1 : 0;
}
