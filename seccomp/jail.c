/* SPDX-License-Identifier: MIT */
/*
 * jail__spawn: start a child under a profile, in the order of Firecracker's
 * jailer. In the child, before exec:
 *
 *   1. fds      exactly the spec's fd table; everything else closed
 *   2. env      emptied (only CELLVM_SECCOMP_LOG=1 in logging mode)
 *   3. rlimits  the profile's (core dumps always off)
 *   4. cgroup   join the VM's cgroup in every mounted hierarchy we use
 *   5. groups   no supplementary groups
 *   6. namespaces  user, mount, net, ipc, uts, cgroup (pid: at clone3, the
 *               child is pid 1); the parent then writes setgroups "deny",
 *               uid_map and gid_map (the host ids map to themselves)
 *   7. mount    pivot_root into an empty tmpfs, read-only, no /proc
 *   8. gid/uid  the unprivileged per-VM ids
 *   9. caps     bounding and ambient sets emptied, then all capability sets
 *  10. nnp      PR_SET_NO_NEW_PRIVS, not dumpable, parent-death signal
 *  11. selinux  the exec context, if given
 *  12. exec     execveat(exe_fd, "", argv, {NULL}, AT_EMPTY_PATH)
 *
 * A failing layer makes the child write "layer: reason" on a CLOEXEC pipe
 * and exit before exec; the parent reaps it and returns -1. A successful
 * exec closes the pipe with nothing written.
 *
 * The child is forked from a possibly multi-threaded broker, so it only
 * makes system calls on data the parent prepared: no malloc, no stdio.
 */
#include <cap-ng.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"
#include "log.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT			   (1 << 0)
#define SECBIT_NOROOT_LOCKED		   (1 << 1)
#define SECBIT_NO_SETUID_FIXUP		   (1 << 2)
#define SECBIT_NO_SETUID_FIXUP_LOCKED	   (1 << 3)
#define SECBIT_KEEP_CAPS_LOCKED		   (1 << 5)
#define SECBIT_NO_CAP_AMBIENT_RAISE	   (1 << 6)
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#endif

#define JAIL_MAX_CG 8
/* v1 controllers a VM's processes are accounted and limited by. */
static const char *const cg_controllers[] = {"memory", "cpu", "pids"};

/* Everything the child needs, prepared by the parent. */
struct plan {
	const struct jail_spec *s;
	const struct profile *p;
	int err_w, go_r;
	char cg_procs[JAIL_MAX_CG][PATH_MAX];
	unsigned ncg;
	bool dynamic; /* the binary has an ELF interpreter */
	int cap_last;
	char *env[2]; /* empty, or only JAIL_ENV_SECCOMP_LOG */
};

/* ---- child side ---- */

/* "layer|what|errno": strerror() may take locale locks another broker
 * thread held at fork, so the parent does the translation. */
static void __attribute__((noreturn)) child_fail(int fd, const char *layer, const char *what, int e)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s|%s|%d", layer, what ? what : "", e);
	if (n > 0) {
		ssize_t r = write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
		(void)r;
	}
	_exit(127);
}

static int in_targets(const struct jail_spec *s, int fd)
{
	for (unsigned i = 0; i < s->nfds; i++)
		if (s->fds[i].target == fd)
			return 1;
	return 0;
}

/* Step 1: the child's fd table is exactly s->fds, plus three CLOEXEC fds
 * (error pipe, go pipe, the binary) that vanish at exec. */
static void child_fds(struct plan *pl, int *ew, int *gr, int *ex)
{
	const struct jail_spec *s = pl->s;
	int base = 3 + (int)s->nfds + 3;
	int keep[3] = {pl->err_w, pl->go_r, s->exe_fd};
	for (unsigned i = 0; i < 3; i++)
		if (keep[i] >= base)
			base = keep[i] + 1;
	for (unsigned i = 0; i < s->nfds; i++) {
		if (s->fds[i].fd >= base)
			base = s->fds[i].fd + 1;
		if (s->fds[i].target >= base)
			base = s->fds[i].target + 1;
	}
	int hi[3], src[JAIL_MAX_FDS];
	for (unsigned i = 0; i < 3; i++) {
		hi[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, base);
		if (hi[i] < 0)
			child_fail(pl->err_w, "fds", "dup", errno);
	}
	for (unsigned i = 0; i < s->nfds; i++) {
		src[i] = fcntl(s->fds[i].fd, F_DUPFD_CLOEXEC, base);
		if (src[i] < 0)
			child_fail(hi[0], "fds", s->fds[i].why, errno);
	}
	if (syscall(SYS_close_range, 0U, (unsigned)base - 1, 0U) < 0)
		child_fail(hi[0], "fds", "close_range", errno);
	for (unsigned i = 0; i < s->nfds; i++)
		if (dup2(src[i], s->fds[i].target) < 0) /* clears CLOEXEC */
			child_fail(hi[0], "fds", s->fds[i].why, errno);
	int lowest = 0;
	for (unsigned i = 0; i < 3; i++) {
		while (in_targets(s, lowest))
			lowest++;
		if (dup3(hi[i], lowest, O_CLOEXEC) < 0)
			child_fail(hi[0], "fds", "dup3", errno);
		hi[i] = lowest++;
	}
	if (syscall(SYS_close_range, (unsigned)base, ~0U, 0U) < 0)
		child_fail(hi[0], "fds", "close_range", errno);
	*ew = hi[0];
	*gr = hi[1];
	*ex = hi[2];
}
/* Bind src read-only at dst, keeping the source's locked flags. */
static int bind_ro(const char *src, const char *dst)
{
	struct statvfs sv;
	if (statvfs(src, &sv) < 0)
		return -1;
	unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount(NULL, dst, NULL, f, NULL);
}

/* The loader of a dynamic binary needs /usr (and the /lib, /lib64 links of
 * a merged-/usr system) before main() runs; Landlock takes even these away
 * at lockdown. A static binary gets an empty root. */
static void child_runtime(int ew, const char *root)
{
	static const char *const dirs[] = {"/usr", "/lib", "/lib64"};
	char dst[PATH_MAX], link[PATH_MAX];
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		if (lstat(dirs[i], &st) < 0)
			continue;
		snprintf(dst, sizeof(dst), "%s%s", root, dirs[i]);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(dirs[i], link, sizeof(link) - 1);
			if (n < 0)
				child_fail(ew, "mount", dirs[i], errno);
			link[n] = 0;
			if (symlink(link, dst) < 0)
				child_fail(ew, "mount", dst, errno);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, 0755) < 0 || bind_ro(dirs[i], dst) < 0)
				child_fail(ew, "mount", dirs[i], errno);
		}
	}
}

/* Step 7: an empty tmpfs becomes / (read-only); the host tree is detached. */
static void child_mounts(struct plan *pl, int ew)
{
	const char *dir = "/tmp";
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		dir = "/mnt";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(ew, "mount", "make / private", errno);
	if (mount("cellvm-root", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=16k,nr_inodes=16,mode=0755") < 0)
		child_fail(ew, "mount", "tmpfs", errno);
	if (pl->dynamic)
		child_runtime(ew, dir);
	if (chdir(dir) < 0)
		child_fail(ew, "mount", "chdir", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(ew, "mount", "pivot_root", errno);
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(ew, "mount", "detach old root", errno);
	if (chdir("/") < 0)
		child_fail(ew, "mount", "chdir /", errno);
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail(ew, "mount", "read-only /", errno);
}

/* Step 9: no capability in any set, and no way back (securebits locked). */
static void child_caps(struct plan *pl, int ew)
{
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		      SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		child_fail(ew, "caps", "securebits", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		child_fail(ew, "caps", "ambient", errno);
	for (int c = 0; c <= pl->cap_last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			child_fail(ew, "caps", "bounding set", errno);
	/* libcap-ng's capset path: empty effective, permitted, inheritable. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		child_fail(ew, "caps", "capset", EPERM);
}

static void __attribute__((noreturn)) child_main(struct plan *pl)
{
	const struct jail_spec *s = pl->s;
	const struct profile *p = pl->p;
	int ew, gr, ex;

	child_fds(pl, &ew, &gr, &ex);

	extern char **environ;
	environ = pl->env;

	struct rlimit rl = {0, 0};
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		child_fail(ew, "rlimits", "RLIMIT_CORE", errno);
	for (unsigned i = 0; i < p->nrlimits; i++) {
#ifdef CV_SANITIZER_RUNTIME
		/* -Dfuzzing=true builds only: ASan reserves terabytes of shadow
		 * address space and maps its own heap; the device-process fuzzer
		 * bounds resident memory itself. */
		if (p->rlimits[i].resource == RLIMIT_AS || p->rlimits[i].resource == RLIMIT_DATA)
			continue;
#endif
		rl.rlim_cur = rl.rlim_max = p->rlimits[i].value;
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			child_fail(ew, "rlimits", p->rlimits[i].name, errno);
	}
#ifdef CV_SANITIZER_RUNTIME
	/* -Dfuzzing=true builds only, as above: no RAM-scaled RLIMIT_AS either. */
	const bool ram_limit = false;
#else
	const bool ram_limit = p->as_over_ram != 0;
#endif
	if (ram_limit) {
		/* Fail closed: a profile with a RAM-scaled limit needs the RAM size. */
		if (!s->guest_ram)
			child_fail(ew, "rlimits", "RLIMIT_AS (no guest RAM size)", EINVAL);
		rl.rlim_cur = rl.rlim_max =
		    s->guest_ram + p->as_over_ram + (uint64_t)s->ncpus * p->as_per_vcpu;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			child_fail(ew, "rlimits", "RLIMIT_AS", errno);
	}

	for (unsigned i = 0; i < pl->ncg; i++) {
		int fd = open(pl->cg_procs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			child_fail(ew, "cgroup", pl->cg_procs[i], errno);
		close(fd);
	}

	if (setgroups(0, NULL) < 0)
		child_fail(ew, "groups", "setgroups", errno);

	if (unshare((int)(p->namespaces & ~(unsigned long)CLONE_NEWPID)) < 0)
		child_fail(ew, "namespaces", "unshare", errno);
	/* The parent writes the id maps, then says go. */
	char c = 'R';
	if (write(ew, &c, 1) != 1)
		_exit(127);
	if (read(gr, &c, 1) != 1 || c != 'G')
		_exit(127);

	int attr_fd = -1;
	if (s->selinux_exec_con && s->setexec) {
		if (s->setexec(s->selinux_exec_con) < 0)
			child_fail(ew, "selinux", s->selinux_exec_con, errno);
	} else if (s->selinux_exec_con) {
		attr_fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
		if (attr_fd < 0)
			child_fail(ew, "selinux", "attr/exec", errno);
	}

	/* Files created in the new tmpfs need an owner mapped in our user
	 * namespace: the per-VM ids, not host root. */
	setfsgid(s->gid);
	setfsuid(s->uid);
	if ((uid_t)setfsuid((uid_t)-1) != s->uid || (gid_t)setfsgid((gid_t)-1) != s->gid)
		child_fail(ew, "mount", "setfsuid", EPERM);
	child_mounts(pl, ew);

	if (setresgid(s->gid, s->gid, s->gid) < 0)
		child_fail(ew, "gid", "setresgid", errno);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(s->uid, s->uid, s->uid) < 0)
		child_fail(ew, "uid", "setresuid", errno);

	child_caps(pl, ew);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(ew, "nnp", "no_new_privs", errno);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		child_fail(ew, "nnp", "dumpable", errno);
	/* Die with the broker (the thread that spawned us, see docs). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(ew, "nnp", "pdeathsig", errno);

	if (attr_fd >= 0) {
		size_t len = strlen(s->selinux_exec_con);
		if (write(attr_fd, s->selinux_exec_con, len) != (ssize_t)len)
			child_fail(ew, "selinux", s->selinux_exec_con, errno);
		close(attr_fd);
	}

	syscall(SYS_execveat, ex, "", s->argv, pl->env, AT_EMPTY_PATH);
	child_fail(ew, "exec", s->argv[0], errno);
}

/* ---- parent side ---- */

static pid_t fail(char *err, size_t errlen, const char *layer, const char *reason)
{
	snprintf(err, errlen, "jail: %s failed: %s", layer, reason);
	return -1;
}

static bool cgroup_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 200 || n[0] == '/' || n[len - 1] == '/')
		return false;
	for (const char *q = n; *q; q++) {
		unsigned char ch = (unsigned char)*q;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '/'))
			return false;
	}
	/* no empty, "." or ".." component */
	for (const char *q = n; *q;) {
		const char *e = strchr(q, '/');
		size_t l = e ? (size_t)(e - q) : strlen(q);
		if (l == 0 || (l == 1 && q[0] == '.') || (l == 2 && q[0] == '.' && q[1] == '.'))
			return false;
		q += l + (e ? 1 : 0);
	}
	return true;
}

static int mkdir_p(char *path, size_t from)
{
	for (size_t i = from + 1; path[i]; i++) {
		if (path[i] != '/')
			continue;
		path[i] = 0;
		int rc = mkdir(path, 0755);
		path[i] = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Does the mount option list (comma separated) contain tok? */
static bool has_opt(const char *opts, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *q = opts; q && *q;) {
		const char *e = strchr(q, ',');
		size_t l = e ? (size_t)(e - q) : strlen(q);
		if (l == tl && memcmp(q, tok, tl) == 0)
			return true;
		q = e ? e + 1 : NULL;
	}
	return false;
}

/*
 * Find the hierarchies to join: v1 memory/cpu/pids where mounted, and the
 * v2 hierarchy where mounted. Creates the VM's cgroup directory in each.
 * Returns 0, or -1 with err. No hierarchy at all is not an error.
 */
static int cgroup_plan(struct plan *pl, const char *name, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		fail(err, errlen, "cgroup", "cannot read /proc/self/mountinfo");
		return -1;
	}
	char line[4096];
	bool used[sizeof(cg_controllers) / sizeof(cg_controllers[0])] = {0};
	bool v2 = false;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char mnt[PATH_MAX], fstype[64], src[256], super[1024];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", fstype, src, super) != 3)
			continue;
		bool want = false;
		if (strcmp(fstype, "cgroup2") == 0 && !v2) {
			v2 = want = true;
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (unsigned i = 0; i < sizeof(used) / sizeof(used[0]); i++)
				if (!used[i] && has_opt(super, cg_controllers[i]))
					used[i] = want = true;
		}
		if (!want)
			continue;
		if (pl->ncg >= JAIL_MAX_CG) {
			rc = -1;
			fail(err, errlen, "cgroup", "too many hierarchies");
			break;
		}
		char *path = pl->cg_procs[pl->ncg];
		int n = snprintf(path, PATH_MAX, "%s/%s", mnt, name);
		if (n < 0 || n >= PATH_MAX - 20 || mkdir_p(path, strlen(mnt)) < 0) {
			char why[PATH_MAX + 64];
			snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
			fail(err, errlen, "cgroup", why);
			rc = -1;
			break;
		}
		strcat(path, "/cgroup.procs");
		pl->ncg++;
	}
	fclose(f);
	if (rc == 0 && pl->ncg == 0)
		log__debug("jail: no cgroup hierarchy mounted; not joining %s", name);
	return rc;
}

/* PT_INTERP present (or unreadable: then give the loader its /usr). */
static bool exe_is_dynamic(int exe_fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", exe_fd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	Elf64_Ehdr eh;
	bool dyn = true;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256 ||
	    eh.e_phoff > (uint64_t)INT64_MAX / 2)
		goto out;
	dyn = false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t off = eh.e_phoff + (uint64_t)i * sizeof(ph);
		if (pread(fd, &ph, sizeof(ph), (off_t)off) != sizeof(ph) ||
		    ph.p_type == PT_INTERP) {
			dyn = true;
			break;
		}
	}
out:
	close(fd);
	return dyn;
}

static int write_file(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, str, strlen(str));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(str) ? 0 : -1;
}

static void reap(int pidfd)
{
	siginfo_t si;
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
}

static int get_cap_last(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

static int spawn_checks(const struct jail_spec *s, const struct profile *p, char *err,
			size_t errlen)
{
	if (!p)
		return fail(err, errlen, "profile", "unknown process type");
	if (p->caps)
		return fail(err, errlen, "caps", "profile keeps capabilities: not supported");
	if (!(p->namespaces & CLONE_NEWUSER) || !(p->namespaces & CLONE_NEWNS))
		return fail(err, errlen, "namespaces", "profile lacks user or mount namespace");
	if (s->guest_ram && !p->guest_ram)
		return fail(err, errlen, "guest RAM", "the profile does not take guest RAM");
	if (s->exe_fd < 0 || fcntl(s->exe_fd, F_GETFD) < 0)
		return fail(err, errlen, "exec", "no executable fd");
	if (!s->argv || !s->argv[0])
		return fail(err, errlen, "exec", "empty argv");
	if (s->uid == 0 || s->gid == 0)
		return fail(err, errlen, "uid", "refusing to run a child as root");
	if (s->nfds > JAIL_MAX_FDS || (s->nfds && !s->fds))
		return fail(err, errlen, "fds", "too many fds");
	bool found;
	rlim_t nofile = profile__rlimit(p, RLIMIT_NOFILE, &found);
	for (unsigned i = 0; i < s->nfds; i++) {
		if (s->fds[i].fd < 0 || fcntl(s->fds[i].fd, F_GETFD) < 0)
			return fail(err, errlen, "fds", "bad source fd");
		if (s->fds[i].target < 0 || (found && (rlim_t)s->fds[i].target + 3 >= nofile))
			return fail(err, errlen, "fds",
				    "target fd out of the profile's RLIMIT_NOFILE");
		for (unsigned j = 0; j < i; j++)
			if (s->fds[j].target == s->fds[i].target)
				return fail(err, errlen, "fds", "duplicate target fd");
	}
	if (s->cgroup && !cgroup_name_ok(s->cgroup))
		return fail(err, errlen, "cgroup", "invalid cgroup name");
	return 0;
}

/* "layer|what|errno" from the child, or "layer: reason" from the parent's
 * own id-map step -> err. */
static pid_t fail_msg(char *err, size_t errlen, char *msg)
{
	char *bar = strchr(msg, '|');
	char *bar2 = bar ? strchr(bar + 1, '|') : NULL;
	if (bar && bar2) {
		*bar = *bar2 = 0;
		char *end;
		long e = strtol(bar2 + 1, &end, 10);
		char reason[512];
		snprintf(reason, sizeof(reason), "%s%s%s", bar + 1, bar[1] ? ": " : "",
			 strerror((int)e));
		return fail(err, errlen, msg, reason);
	}
	char *colon = strstr(msg, ": ");
	if (!colon)
		return fail(err, errlen, "spawn", msg[0] ? msg : "child died before reporting");
	*colon = 0;
	return fail(err, errlen, msg, colon + 2);
}

/* Parent half of step 6: the child's host ids map to themselves, nothing else. */
static int write_maps(long pid, const struct jail_spec *s, char *msg, size_t msglen)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%ld/setgroups", pid);
	if (write_file(path, "deny") < 0) {
		snprintf(msg, msglen, "setgroups: %s", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)s->uid, (unsigned)s->uid);
	snprintf(path, sizeof(path), "/proc/%ld/uid_map", pid);
	if (write_file(path, map) < 0) {
		snprintf(msg, msglen, "uid_map: %s", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)s->gid, (unsigned)s->gid);
	snprintf(path, sizeof(path), "/proc/%ld/gid_map", pid);
	if (write_file(path, map) < 0) {
		snprintf(msg, msglen, "gid_map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Talk to the child through ready -> maps -> go -> EOF at exec. */
static pid_t supervise(long pid, int pidfd, int er, int gw, const struct jail_spec *s,
		       int *pidfd_out, char *err, size_t errlen)
{
	char msg[600];
	ssize_t n;
	while ((n = read(er, msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	msg[n > 0 ? n : 0] = 0;
	if (n != 1 || msg[0] != 'R') {
		reap(pidfd);
		return fail_msg(err, errlen, msg);
	}
	if (write_maps(pid, s, msg, sizeof(msg)) < 0) {
		reap(pidfd);
		return fail_msg(err, errlen, msg);
	}
	if (send(gw, "G", 1, MSG_NOSIGNAL) != 1) { /* no SIGPIPE if the child died */
		snprintf(msg, sizeof(msg), "spawn: %s", strerror(errno));
		reap(pidfd);
		return fail_msg(err, errlen, msg);
	}
	size_t got = 0;
	while (got < sizeof(msg) - 1) {
		n = read(er, msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	msg[got] = 0;
	if (got) {
		reap(pidfd);
		return fail_msg(err, errlen, msg);
	}
	*pidfd_out = pidfd; /* exec happened: the pipe closed with nothing said */
	return (pid_t)pid;
}

pid_t jail__spawn(const struct jail_spec *s, int *pidfd_out, char *err, size_t errlen)
{
	const struct profile *p = profile__find(s->type);
	if (spawn_checks(s, p, err, errlen) < 0)
		return -1;

	struct plan *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return fail(err, errlen, "spawn", "out of memory");
	pl->s = s;
	pl->p = p;
	pl->cap_last = get_cap_last();
	pl->dynamic = exe_is_dynamic(s->exe_fd);
	static char log_env[] = JAIL_ENV_SECCOMP_LOG "=1";
	pl->env[0] = s->seccomp_log ? log_env : NULL;
	pid_t ret = -1;
	int ep[2] = {-1, -1}, gp[2] = {-1, -1};
	if (s->cgroup && cgroup_plan(pl, s->cgroup, err, errlen) < 0)
		goto out;
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gp) < 0) {
		fail(err, errlen, "spawn", strerror(errno));
		goto out;
	}
	pl->err_w = ep[1];
	pl->go_r = gp[0];

	int pidfd = -1;
	struct clone_args ca = {0};
	ca.flags = CLONE_PIDFD | (p->namespaces & CLONE_NEWPID);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		child_main(pl);
	int clone_errno = errno;
	close(ep[1]);
	close(gp[0]);
	ep[1] = gp[0] = -1;
	if (pid < 0)
		fail(err, errlen, "clone", strerror(clone_errno));
	else
		ret = supervise(pid, pidfd, ep[0], gp[1], s, pidfd_out, err, errlen);
out:
	for (unsigned i = 0; i < 2; i++) {
		if (ep[i] >= 0)
			close(ep[i]);
		if (gp[i] >= 0)
			close(gp[i]);
	}
	free(pl);
	return ret;
}
