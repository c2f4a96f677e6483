/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD replacement for the libselinux calls selinux/label*.c makes,
 * so that the label life cycle can be tested on a host where SELinux is
 * disabled.  File labels live in a table keyed by (st_dev, st_ino), so
 * path and fd calls agree and the real trusted.* xattrs stay real.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <selinux/selinux.h>

#include "mock-libselinux.h"

#define MAX_FILES 256
#define MAX_PIDS  64
#define MAX_FNS	  32

static struct {
	int init;
	int enabled;
	int cellvm_loaded;
	char con[256];
	char default_filecon[256];
	struct {
		dev_t dev;
		ino_t ino;
		char con[256];
	} files[MAX_FILES];
	int nfiles;
	struct {
		int pid;
		char con[256];
	} pids[MAX_PIDS];
	int npids;
	int fail_after; /* -1: never */
	int fail_err;
	struct {
		char fn[32];
		int n;
	} calls[MAX_FNS];
	int ncalls;
} m;

void mock_selinux_reset(void)
{
	memset(&m, 0, sizeof(m));
	m.init = 1;
	m.enabled = 1;
	m.cellvm_loaded = 1;
	m.fail_after = -1;
	snprintf(m.con, sizeof(m.con), "system_u:system_r:cellvm_t:s0-s0:c0.c1023");
	snprintf(m.default_filecon, sizeof(m.default_filecon),
		 "unconfined_u:object_r:user_home_t:s0");
}

/* The log path, read once at load: a jailed child clears its environment
 * before it sets its exec context, and that call must still be logged. */
static char log_path[4096];

__attribute__((constructor)) static void read_log_path(void)
{
	const char *p = getenv("MOCK_SELINUX_LOG");
	if (p)
		snprintf(log_path, sizeof(log_path), "%s", p);
}

static void init(void)
{
	if (!m.init)
		mock_selinux_reset();
}

static void note(const char *fn, const char *arg)
{
	init();
	int i;
	for (i = 0; i < m.ncalls; i++)
		if (!strcmp(m.calls[i].fn, fn))
			break;
	if (i == m.ncalls && m.ncalls < MAX_FNS)
		snprintf(m.calls[m.ncalls++].fn, sizeof(m.calls[0].fn), "%s", fn);
	if (i < MAX_FNS)
		m.calls[i].n++;
	const char *log = getenv("MOCK_SELINUX_LOG");
	if (!log && log_path[0])
		log = log_path;
	if (!log)
		return;
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	char line[512];
	int len = snprintf(line, sizeof(line), "%s %s\n", fn, arg ? arg : "(null)");
	if (len > 0 && (size_t)len < sizeof(line) && write(fd, line, (size_t)len) < 0)
		len = 0;
	close(fd);
}

int mock_selinux_calls(const char *fn)
{
	init();
	for (int i = 0; i < m.ncalls; i++)
		if (!strcmp(m.calls[i].fn, fn))
			return m.calls[i].n;
	return 0;
}

void mock_selinux_set_enabled(int enabled)
{
	init();
	m.enabled = enabled;
}

void mock_selinux_set_con(const char *con)
{
	init();
	snprintf(m.con, sizeof(m.con), "%s", con);
}

void mock_selinux_set_default_filecon(const char *con)
{
	init();
	snprintf(m.default_filecon, sizeof(m.default_filecon), "%s", con);
}

void mock_selinux_set_pidcon(int pid, const char *con)
{
	init();
	for (int i = 0; i < m.npids; i++)
		if (m.pids[i].pid == pid) {
			if (con)
				snprintf(m.pids[i].con, sizeof(m.pids[i].con), "%s", con);
			else
				m.pids[i] = m.pids[--m.npids];
			return;
		}
	if (con && m.npids < MAX_PIDS) {
		m.pids[m.npids].pid = pid;
		snprintf(m.pids[m.npids++].con, sizeof(m.pids[0].con), "%s", con);
	}
}

void mock_selinux_fail_setfilecon_after(int count, int err)
{
	init();
	m.fail_after = count;
	m.fail_err = err;
}

void mock_selinux_set_cellvm_loaded(int loaded)
{
	init();
	m.cellvm_loaded = loaded;
}

int is_selinux_enabled(void)
{
	note("is_selinux_enabled", NULL);
	return m.enabled;
}

int is_selinux_mls_enabled(void)
{
	note("is_selinux_mls_enabled", NULL);
	return m.enabled;
}

static int dup_out(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : -1;
}

int getcon_raw(char **con)
{
	note("getcon_raw", NULL);
	return dup_out(m.con, con);
}

int getpidcon_raw(pid_t pid, char **con)
{
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	note("getpidcon_raw", arg);
	for (int i = 0; i < m.npids; i++)
		if (m.pids[i].pid == (int)pid)
			return dup_out(m.pids[i].con, con);
	return dup_out("system_u:system_r:unconfined_t:s0-s0:c0.c1023", con);
}

int setexeccon_raw(const char *con)
{
	note("setexeccon_raw", con);
	return 0;
}

int setcon_raw(const char *con)
{
	note("setcon_raw", con);
	return 0;
}

int setsockcreatecon_raw(const char *con)
{
	note("setsockcreatecon_raw", con);
	return 0;
}

void freecon(char *con)
{
	free(con);
}

int security_check_context_raw(const char *con)
{
	note("security_check_context_raw", con);
	if (!m.cellvm_loaded && strstr(con, "cellvm_")) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int slot(const struct stat *st, int create)
{
	for (int i = 0; i < m.nfiles; i++)
		if (m.files[i].dev == st->st_dev && m.files[i].ino == st->st_ino)
			return i;
	if (!create || m.nfiles == MAX_FILES)
		return -1;
	m.files[m.nfiles].dev = st->st_dev;
	m.files[m.nfiles].ino = st->st_ino;
	snprintf(m.files[m.nfiles].con, sizeof(m.files[0].con), "%s", m.default_filecon);
	return m.nfiles++;
}

static int get_st(const struct stat *st, char **con)
{
	int i = slot(st, 1);
	if (i < 0) {
		errno = ENOMEM;
		return -1;
	}
	return dup_out(m.files[i].con, con);
}

static int set_st(const struct stat *st, const char *con)
{
	if (m.fail_after == 0) {
		m.fail_after = -1;
		errno = m.fail_err;
		return -1;
	}
	if (m.fail_after > 0)
		m.fail_after--;
	int i = slot(st, 1);
	if (i < 0 || !con || strlen(con) >= sizeof(m.files[0].con)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(m.files[i].con, sizeof(m.files[i].con), "%s", con);
	return 0;
}

int fgetfilecon_raw(int fd, char **con)
{
	struct stat st;
	note("fgetfilecon_raw", NULL);
	return fstat(fd, &st) < 0 ? -1 : get_st(&st, con);
}

int fsetfilecon_raw(int fd, const char *con)
{
	struct stat st;
	note("fsetfilecon_raw", con);
	return fstat(fd, &st) < 0 ? -1 : set_st(&st, con);
}

int getfilecon_raw(const char *path, char **con)
{
	struct stat st;
	note("getfilecon_raw", path);
	return stat(path, &st) < 0 ? -1 : get_st(&st, con);
}

int lgetfilecon_raw(const char *path, char **con)
{
	struct stat st;
	note("lgetfilecon_raw", path);
	return lstat(path, &st) < 0 ? -1 : get_st(&st, con);
}

int setfilecon_raw(const char *path, const char *con)
{
	struct stat st;
	note("setfilecon_raw", con);
	return stat(path, &st) < 0 ? -1 : set_st(&st, con);
}

int lsetfilecon_raw(const char *path, const char *con)
{
	struct stat st;
	note("lsetfilecon_raw", con);
	return lstat(path, &st) < 0 ? -1 : set_st(&st, con);
}
