/* SPDX-License-Identifier: MIT */
/*
 * Confinement tests: spawn jail-probe through jail__spawn under every
 * profile and check what the kernel reports about the child, that every
 * forbidden action kills it with SIGSYS, and that a layer that cannot be
 * applied stops the child before exec.
 *
 *   test-jail STATIC-PROBE DYNAMIC-PROBE      (run as root)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "policy/types.h"
#include "seccomp/jail.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define TEST_UID 65534
#define TEST_GID 65534

static const char *probe_static, *probe_dyn;

struct run {
	pid_t pid;
	int pidfd;
	int in_w;  /* child's fd 0 */
	int out_r; /* child's fd 1 */
	int err_r; /* child's fd 2 */
	char err[512];
};

struct opts {
	bool log;
	int extra_fd; /* becomes fd 3, or -1 */
	const char *cgroup;
	uid_t uid;
	int exe_fd;	/* -1: open the probe */
	int bad_target; /* >0: fd 1 goes to this target */
	const char *selinux_con;
	bool env_log; /* logging mode from jail_spec.seccomp_log, not argv */
	bool no_ram;  /* leave jail_spec.guest_ram 0 (RLIMIT_AS of blk, vcpu) */
	bool all_ram; /* give guest RAM whatever the profile says */
};

static pid_t spawn_probe(const char *probe, const char *type, const char *act, const struct opts *o,
			 struct run *r)
{
	int in[2], out[2], er[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(er, O_CLOEXEC), 0);
	int exe = o && o->exe_fd >= 0 ? o->exe_fd : open(probe, O_PATH | O_CLOEXEC);
	assert_true(exe >= 0);
	/* logging mode through argv ("log") or, with env_log, through the spec only */
	char *argv[] = {"jail-probe", (char *)type, (char *)act,
			o && o->log && !o->env_log ? "log" : NULL, NULL};
	struct jail_fd fds[4] = {
	    {in[0], 0, "commands from the test"},
	    {out[1], o && o->bad_target ? o->bad_target : 1, "results to the test"},
	    {er[1], 2, "stderr"},
	    {o ? o->extra_fd : -1, 3, "/dev/kvm"},
	};
	struct jail_spec s = {
	    .type = type,
	    .exe_fd = exe,
	    .argv = argv,
	    .fds = fds,
	    .nfds = o && o->extra_fd >= 0 ? 4 : 3,
	    .uid = o && o->uid ? o->uid : TEST_UID,
	    .gid = TEST_GID,
	    .cgroup = o ? o->cgroup : NULL,
	    .selinux_exec_con = o ? o->selinux_con : NULL,
	    .seccomp_log = o && o->env_log,
	    /* blk and vcpu scale RLIMIT_AS with guest RAM: 64 MiB, one vCPU;
	     * a profile without guest RAM is never given any */
	    .guest_ram =
		(o && o->no_ram) || (!(o && o->all_ram) &&
				     (!profile__find(type) || !profile__find(type)->guest_ram))
		    ? 0
		    : 64ULL << 20,
	    .ncpus = 1,
	};
	memset(r, 0, sizeof(*r));
	r->pidfd = -1;
	r->pid = jail__spawn(&s, &r->pidfd, r->err, sizeof(r->err));
	close(in[0]);
	close(out[1]);
	close(er[1]);
	if (!(o && o->exe_fd >= 0))
		close(exe);
	r->in_w = in[1];
	r->out_r = out[0];
	r->err_r = er[0];
	return r->pid;
}

static size_t slurp(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len - 1) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return got;
}

/* Wait for the child; returns si_code and stores si_status. */
static int finish(struct run *r, int *status)
{
	siginfo_t si = {0};
	close(r->in_w);
	int rc;
	while ((rc = waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED)) < 0 && errno == EINTR)
		;
	assert_int_equal(rc, 0);
	close(r->pidfd);
	*status = si.si_status;
	return si.si_code;
}

static void close_run(struct run *r)
{
	close(r->out_r);
	close(r->err_r);
	if (r->pid < 0)
		close(r->in_w);
}

static bool killed_by_sigsys(int code, int status)
{
	return (code == CLD_KILLED || code == CLD_DUMPED) && status == SIGSYS;
}

static void status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	val[0] = 0;
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			v[strcspn(v, "\n")] = 0;
			snprintf(val, len, "%s", v);
			break;
		}
	}
	fclose(f);
}

static void assert_field(pid_t pid, const char *key, const char *want)
{
	char v[256];
	status_field(pid, key, v, sizeof(v));
	if (strcmp(v, want) != 0)
		fail_msg("pid %d %s: got '%s', want '%s'", pid, key, v, want);
}

static void wait_ready(struct run *r)
{
	char buf[16] = {0};
	ssize_t n = read(r->out_r, buf, 6);
	if (n != 6 || memcmp(buf, "ready\n", 6) != 0) {
		char e[512];
		slurp(r->err_r, e, sizeof(e));
		fail_msg("probe not ready: '%s' stderr '%s'", buf, e);
	}
}

/* ---- the table itself ---- */

static void test_profiles_table(void **state)
{
	(void)state;
	static const char *const never[] = {"socket",
					    "connect",
					    "bind",
					    "execve",
					    "execveat",
					    "ptrace",
					    "kill",
					    "openat",
					    "open",
					    "fork",
					    "vfork",
					    "unshare",
					    "setns",
					    "mount",
					    "pivot_root",
					    "chroot",
					    "process_vm_readv",
					    "process_vm_writev",
					    "bpf",
					    "userfaultfd",
					    "perf_event_open",
					    "mprotect_exec"};
	/* Every type of the one list (policy/types.h), found by its name, once. */
	static const char *const types[] = {
#define X(t) #t,
	    CV_PROCESS_TYPES(X)
#undef X
	};
	unsigned n = 0;
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		assert_true(profile__find((*pp)->type) == *pp);
		n++;
	}
	assert_int_equal(n, sizeof(types) / sizeof(types[0]));
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		const struct profile *p = *pp;
		assert_string_equal(p->type, types[pp - profile__all()]);
		assert_int_equal(p->caps, 0);
		assert_int_equal(p->namespaces, PROFILE_ALL_NS);
		assert_true(p->landlock_fs && p->landlock_net);
		assert_non_null(strstr(p->selinux_type, "cellvm_"));
		bool core0 = false;
		assert_int_equal(profile__rlimit(p, RLIMIT_CORE, &core0), 0);
		assert_true(core0);
		for (unsigned k = 0; k < sizeof(never) / sizeof(never[0]); k++)
			if (profile__allows(p, never[k]))
				fail_msg("%s allows %s", p->type, never[k]);
		/* threads <=> clone; no io_uring at all; accept4 only vnc; KVM ioctls only vcpu */
		assert_int_equal(profile__allows(p, "clone"), p->threads);
		assert_false(profile__allows(p, "io_uring_enter"));
		assert_int_equal(profile__allows(p, "accept4"), strcmp(p->type, "vnc") == 0);
		/* ioctl: KVM in the vcpu-worker; net only TUNSETOFFLOAD/TUNSETQUEUE, by argument */
		if (!strcmp(p->type, "net")) {
			for (unsigned r = 0; r < p->nrules; r++)
				if (!strcmp(p->rules[r].name, "ioctl"))
					assert_true(p->rules[r].ncmp == 1 &&
						    p->rules[r].cmp[0].arg == 1 &&
						    p->rules[r].cmp[0].op == SC_EQ &&
						    (p->rules[r].cmp[0].val == TUNSETOFFLOAD ||
						     p->rules[r].cmp[0].val == TUNSETQUEUE));
		} else {
			assert_int_equal(profile__allows(p, "ioctl"), strcmp(p->type, "vcpu") == 0);
		}
		/* a process that maps guest RAM cannot have an address-space limit */
		bool as = false;
		profile__rlimit(p, RLIMIT_AS, &as);
		if (p->guest_ram && as)
			fail_msg("%s maps guest RAM but limits RLIMIT_AS", p->type);
		for (unsigned r = 0; r < p->nrules; r++) {
			assert_non_null(p->rules[r].why);
			assert_true(strlen(p->rules[r].why) > 5);
			/* mmap/mprotect always carry the no-PROT_EXEC filter */
			if (!strcmp(p->rules[r].name, "mmap") ||
			    !strcmp(p->rules[r].name, "mprotect")) {
				assert_int_equal(p->rules[r].ncmp, 1);
				assert_int_equal(p->rules[r].cmp[0].mask, PROT_EXEC);
				assert_int_equal(p->rules[r].cmp[0].val, 0);
			}
		}
	}
	assert_null(profile__find("nope"));
	assert_null(profile__find(NULL));
	/* far below crosvm (block ~80, common device base 67) */
	assert_true(profile__nr_allowed(profile__find("serial")) <= 22);
	assert_true(profile__nr_allowed(profile__find("blk")) < 40);
	assert_true(profile__nr_allowed(profile__find("vnc")) < 30);
}

static void test_show(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(policy__show(f, "serial", false), 0);
	fclose(f);
	char want[64];
	snprintf(want, sizeof(want), "syscalls allowed: %u",
		 profile__nr_allowed(profile__find("serial")));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "cellvm_serial_t"));
	assert_non_null(strstr(buf, "user pid mount net ipc uts cgroup"));
	assert_null(strstr(buf, "vcpu:"));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(policy__show(f, NULL, true), 0);
	fclose(f);
	assert_true(buf[0] == '[' && buf[len - 2] == ']');
	snprintf(want, sizeof(want), "\"type\":\"vcpu\"");
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "\"syscall_count\":%u",
		 profile__nr_allowed(profile__find("vcpu")));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "\"what\":\"KVM_RUN\""));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(policy__show(f, "nope", false), -1);
	fclose(f);
	free(buf);
}

/* ---- what the kernel says about a running child ---- */

static void check_running(const char *probe, const char *type)
{
	struct run r;
	if (spawn_probe(probe, type, "wait", NULL, &r) < 0)
		fail_msg("%s: %s", type, r.err);
	wait_ready(&r);
	assert_field(r.pid, "Seccomp", "2");
	assert_field(r.pid, "NoNewPrivs", "1");
	assert_field(r.pid, "CapInh", "0000000000000000");
	assert_field(r.pid, "CapPrm", "0000000000000000");
	assert_field(r.pid, "CapEff", "0000000000000000");
	assert_field(r.pid, "CapBnd", "0000000000000000");
	assert_field(r.pid, "CapAmb", "0000000000000000");
	assert_field(r.pid, "Uid", "65534\t65534\t65534\t65534");
	assert_field(r.pid, "Gid", "65534\t65534\t65534\t65534");
	assert_field(r.pid, "Groups", "");
	char v[64], want[64];
	status_field(r.pid, "NSpid", v, sizeof(v));
	snprintf(want, sizeof(want), "%d\t1", r.pid); /* pid 1 of its own pid namespace */
	assert_string_equal(v, want);

	static const char *const ns[] = {"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"};
	for (unsigned i = 0; i < 7; i++) {
		char a[128], b[128], pa[64], pb[64];
		snprintf(pa, sizeof(pa), "/proc/self/ns/%s", ns[i]);
		snprintf(pb, sizeof(pb), "/proc/%d/ns/%s", r.pid, ns[i]);
		ssize_t la = readlink(pa, a, sizeof(a) - 1), lb = readlink(pb, b, sizeof(b) - 1);
		assert_true(la > 0 && lb > 0);
		a[la] = b[lb] = 0;
		if (strcmp(a, b) == 0)
			fail_msg("%s: shares %s namespace %s", type, ns[i], a);
	}

	/* empty environment */
	char path[64], envbuf[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", r.pid);
	int efd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(slurp(efd, envbuf, sizeof(envbuf)), 0);
	close(efd);

	/* exactly fds 0, 1, 2 */
	snprintf(path, sizeof(path), "/proc/%d/fd", r.pid);
	unsigned seen = 0, count = 0;
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		count++;
		int fd = atoi(de->d_name);
		if (fd >= 0 && fd < 3)
			seen |= 1u << fd;
	}
	closedir(d);
	assert_int_equal(count, 3);
	assert_int_equal(seen, 7);

	/* rlimits: no core dumps, the profile's NOFILE */
	snprintf(path, sizeof(path), "/proc/%d/limits", r.pid);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	char line[256];
	bool core = false, nofile = false;
	const struct profile *p = profile__find(type);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		if (sscanf(line, "Max core file size %llu %llu", &a, &b) == 2)
			core = a == 0 && b == 0;
		if (sscanf(line, "Max open files %llu %llu", &a, &b) == 2)
			nofile = a == profile__rlimit(p, RLIMIT_NOFILE, NULL) && a == b;
	}
	fclose(f);
	assert_true(core);
	assert_true(nofile);

	int code, status;
	code = finish(&r, &status);
	assert_int_equal(code, CLD_EXITED);
	assert_int_equal(status, 0);
	close_run(&r);
}

static void test_status_all_profiles(void **state)
{
	(void)state;
	for (const struct profile *const *pp = profile__all(); *pp; pp++)
		check_running(probe_static, (*pp)->type);
}

static void test_status_dynamic_binary(void **state)
{
	(void)state;
	check_running(probe_dyn, "serial");
	check_running(probe_dyn, "vcpu");
}

/* ---- forbidden actions ---- */

static void expect_sigsys_opt(const char *probe, const char *type, const char *act, bool log,
			      bool env_log, int extra_fd, const char *stderr_has)
{
	struct run r;
	struct opts o = {.log = log, .env_log = env_log, .extra_fd = extra_fd, .exe_fd = -1};
	if (spawn_probe(probe, type, act, &o, &r) < 0)
		fail_msg("%s %s: %s", type, act, r.err);
	int status, code = finish(&r, &status);
	char out[256], err[512];
	slurp(r.out_r, out, sizeof(out));
	slurp(r.err_r, err, sizeof(err));
	if (!killed_by_sigsys(code, status))
		fail_msg("%s %s: code %d status %d out '%s' err '%s'", type, act, code, status, out,
			 err);
	assert_null(strstr(out, "survived"));
	if (stderr_has && !strstr(err, stderr_has))
		fail_msg("%s %s: stderr '%s' lacks '%s'", type, act, err, stderr_has);
	if (!log)
		assert_null(strstr(err, "seccomp:"));
	close_run(&r);
}

static void expect_sigsys(const char *probe, const char *type, const char *act, bool log,
			  int extra_fd, const char *stderr_has)
{
	expect_sigsys_opt(probe, type, act, log, false, extra_fd, stderr_has);
}

static void test_forbidden_actions(void **state)
{
	(void)state;
	/* action, and the syscall the logging mode must name */
	static const char *const acts[][2] = {
	    {"openat", "openat"}, {"socket", "socket"}, {"execve", "execve"}, {"ptrace", "ptrace"},
	    {"kill", "kill"},	  {"ioctl", "ioctl"},	{"fork", "clone"},    {"mmapx", "mmap"},
	};
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		for (unsigned i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
			char want[64];
			snprintf(want, sizeof(want), "seccomp: blocked syscall %s (nr ",
				 acts[i][1]);
			expect_sigsys(probe_static, (*pp)->type, acts[i][0], false, -1, NULL);
			expect_sigsys(probe_static, (*pp)->type, acts[i][0], true, -1, want);
		}
	}
}

static void test_log_mode(void **state)
{
	(void)state;
	expect_sigsys(probe_static, "serial", "openat", true, -1,
		      "seccomp: blocked syscall openat (nr 257)\n");
	expect_sigsys(probe_static, "vnc", "socket", true, -1,
		      "seccomp: blocked syscall socket (nr 41)\n");
	expect_sigsys(probe_static, "vcpu", "ioctl", true, -1,
		      "seccomp: blocked syscall ioctl (nr 16)\n");
	expect_sigsys(probe_dyn, "blk", "kill", true, -1,
		      "seccomp: blocked syscall kill (nr 62)\n");
	expect_sigsys(probe_static, "blk", "fork", true, -1,
		      "seccomp: blocked syscall clone (nr 56)\n");
	/* jail_spec.seccomp_log alone switches the child to logging mode */
	expect_sigsys_opt(probe_static, "input", "ptrace", true, true, -1,
			  "seccomp: blocked syscall ptrace (nr 101)\n");
}

static void expect_exit(const char *probe, const char *type, const char *act, int extra_fd,
			const char *out_has)
{
	struct run r;
	struct opts o = {.extra_fd = extra_fd, .exe_fd = -1};
	if (spawn_probe(probe, type, act, &o, &r) < 0)
		fail_msg("%s %s: %s", type, act, r.err);
	int status, code = finish(&r, &status);
	char out[512], err[512];
	slurp(r.out_r, out, sizeof(out));
	slurp(r.err_r, err, sizeof(err));
	if (code != CLD_EXITED || status != 0 || !strstr(out, out_has))
		fail_msg("%s %s: code %d status %d out '%s' err '%s'", type, act, code, status, out,
			 err);
	close_run(&r);
}

static void test_threads(void **state)
{
	(void)state;
	expect_exit(probe_static, "vcpu", "thread", -1, "thread ok");
	expect_exit(probe_static, "blk", "thread", -1, "thread ok");
	expect_exit(probe_dyn, "blk", "thread", -1, "thread ok");
	expect_sigsys(probe_static, "serial", "thread", false, -1, NULL);
	/* vcpu may signal its own threads, nobody else */
	expect_exit(probe_static, "vcpu", "tgkill-self", -1, "tgkill self ok");
	expect_sigsys(probe_static, "vcpu", "tgkill", true, -1, "blocked syscall tgkill (nr 234)");
	expect_sigsys(probe_static, "serial", "tgkill-self", false, -1, NULL);
	/* glibc's first pthread_create step (rt_sigaction) is already fatal here */
	expect_sigsys(probe_static, "vnc", "thread", true, -1,
		      "seccomp: blocked syscall rt_sigaction");
}

static void test_kvm_ioctl(void **state)
{
	(void)state;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		skip();
	expect_exit(probe_static, "vcpu", "kvm", kvm, "kvm api 12");
	expect_sigsys(probe_static, "serial", "kvm", false, kvm, NULL);
	expect_sigsys(probe_static, "net", "kvm", true, kvm, "blocked syscall ioctl");
	close(kvm);
}

static void test_fs_static(void **state)
{
	(void)state;
	expect_exit(probe_static, "serial", "fs", -1,
		    "fs: entries=0 names= proc=0 etc=0 ro=1 landlock_open_root=EACCES usr_after=0 "
		    "tcp_connect=EACCES tcp_bind=EACCES\n");
}

static void test_fs_dynamic(void **state)
{
	(void)state;
	/* the loader's /usr and the merged-/usr links, nothing else; Landlock closes them */
	struct stat st;
	if (lstat("/lib", &st) < 0 || !S_ISLNK(st.st_mode))
		skip();
	expect_exit(probe_dyn, "serial", "fs", -1,
		    " proc=0 etc=0 ro=1 landlock_open_root=EACCES usr_after=0 "
		    "tcp_connect=EACCES tcp_bind=EACCES\n");
	expect_exit(probe_dyn, "vnc", "fs", -1, "fs: entries=3 ");
}

/* ---- cgroup ---- */

static void test_cgroup_join(void **state)
{
	(void)state;
	struct stat st;
	if (stat("/sys/fs/cgroup/pids", &st) < 0)
		skip();
	char name[64];
	snprintf(name, sizeof(name), "cellvm-jailtest/t%d", getpid());
	struct run r;
	struct opts o = {.cgroup = name, .extra_fd = -1, .exe_fd = -1};
	if (spawn_probe(probe_static, "serial", "wait", &o, &r) < 0)
		fail_msg("%s", r.err);
	wait_ready(&r);
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", r.pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	slurp(fd, buf, sizeof(buf));
	close(fd);
	char want[128];
	snprintf(want, sizeof(want), ":pids:/%s\n", name);
	if (!strstr(buf, want))
		fail_msg("not in %s: %s", name, buf);
	snprintf(want, sizeof(want), ":memory:/%s\n", name);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), ":cpu:/%s\n", name);
	assert_non_null(strstr(buf, want));
	/* the v2 hierarchy too, where one is mounted */
	char mi[16384];
	int mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	assert_true(mfd >= 0);
	slurp(mfd, mi, sizeof(mi));
	close(mfd);
	if (strstr(mi, " - cgroup2 ")) {
		snprintf(want, sizeof(want), "0::/%s\n", name);
		assert_non_null(strstr(buf, want));
	}
	int status;
	assert_int_equal(finish(&r, &status), CLD_EXITED);
	close_run(&r);
	static const char *const h[] = {"memory", "cpu", "pids", "unified"};
	for (unsigned i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s/%s", h[i], name);
		rmdir(buf);
		snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s/cellvm-jailtest", h[i]);
		rmdir(buf);
	}
}

/* ---- fail closed ---- */

static void expect_fail(const char *type, struct opts *o, const char *err_prefix)
{
	struct run r;
	pid_t pid = spawn_probe(probe_static, type, "wait", o, &r);
	if (pid >= 0) {
		int status;
		finish(&r, &status);
		fail_msg("spawn succeeded, expected '%s'", err_prefix);
	}
	if (strncmp(r.err, err_prefix, strlen(err_prefix)) != 0)
		fail_msg("err '%s', expected '%s'", r.err, err_prefix);
	char out[64];
	assert_int_equal(slurp(r.out_r, out, sizeof(out)), 0); /* the probe never ran */
	close_run(&r);
}

static void test_fail_closed(void **state)
{
	(void)state;
	struct opts o = {.extra_fd = -1, .exe_fd = -1};
	expect_fail("nope", &o, "jail: profile failed: unknown process type");

	o.cgroup = "../escape";
	expect_fail("serial", &o, "jail: cgroup failed: invalid cgroup name");
	o.cgroup = "/abs";
	expect_fail("serial", &o, "jail: cgroup failed: invalid cgroup name");
	o.cgroup = NULL;

	o.uid = (uid_t)-1; /* no such uid can be mapped */
	expect_fail("serial", &o, "jail: uid_map failed: Invalid argument");
	o.uid = 0;

	/* blk's RLIMIT_AS scales with the guest RAM: none given, no start */
	o.no_ram = true;
	expect_fail("blk", &o, "jail: rlimits failed: RLIMIT_AS (no guest RAM size)");
	o.no_ram = false;
	/* guest RAM for a profile that does not take it: no start */
	o.all_ram = true;
	expect_fail("serial", &o, "jail: guest RAM failed: the profile does not take guest RAM");
	o.all_ram = false;

	o.bad_target = 40; /* above serial's RLIMIT_NOFILE */
	expect_fail("serial", &o, "jail: fds failed:");
	o.bad_target = 0;

	/* SELinux is off here: asking for an exec context must not be ignored */
	if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
		o.selinux_con = "system_u:system_r:cellvm_serial_t:s0";
		expect_fail("serial", &o, "jail: selinux failed:");
		o.selinux_con = NULL;
	}

	/* the jail is built, exec refuses a file without x bits: child-side layer */
	char tmpl[] = "/tmp/jail-noexec-XXXXXX";
	int t = mkstemp(tmpl);
	assert_true(t >= 0);
	fchmod(t, 0644);
	close(t);
	o.exe_fd = open(tmpl, O_PATH | O_CLOEXEC);
	assert_true(o.exe_fd >= 0);
	expect_fail("serial", &o, "jail: exec failed: jail-probe: Permission denied");
	close(o.exe_fd);
	unlink(tmpl);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s STATIC-PROBE DYNAMIC-PROBE\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) { /* namespaces, cgroups and id maps need root */
		fprintf(stderr, "test-jail: needs root, skipping\n");
		return 77;
	}
	probe_static = argv[1];
	probe_dyn = argv[2];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profiles_table),
	    cmocka_unit_test(test_show),
	    cmocka_unit_test(test_status_all_profiles),
	    cmocka_unit_test(test_status_dynamic_binary),
	    cmocka_unit_test(test_forbidden_actions),
	    cmocka_unit_test(test_log_mode),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_kvm_ioctl),
	    cmocka_unit_test(test_fs_static),
	    cmocka_unit_test(test_fs_dynamic),
	    cmocka_unit_test(test_cgroup_join),
	    cmocka_unit_test(test_fail_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
