/* SPDX-License-Identifier: MIT */
/*
 * cellvm-testdev: the test device in its own process. Besides the model's
 * registers it has TESTDEV_REG_MISBEHAVE, which attempts a forbidden action
 * so tests can see the confinement stop it and the broker report it.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "abi.h"
#include "device.h"
#include "log.h"
#include "testdev.h"

static uint64_t td_read(void *dev, unsigned region, uint64_t off, unsigned size)
{
	(void)region;
	return testdev__read(dev, off, size);
}

static void misbehave(uint64_t what)
{
	static char *const argv[] = {"sh", NULL};
	log__info("misbehaving on request: action %llu", (unsigned long long)what);
	switch (what) {
	case TESTDEV_OPENAT:
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
		break;
	case TESTDEV_SOCKET:
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case TESTDEV_EXECVE:
		syscall(SYS_execve, "/bin/sh", argv, NULL);
		break;
	case TESTDEV_PTRACE:
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
		break;
	case TESTDEV_KILL:
		syscall(SYS_kill, 1, SIGKILL);
		break;
	case TESTDEV_IOCTL:
		syscall(SYS_ioctl, 2, TIOCSTI, "x");
		break;
	default:
		break;
	}
	log__info("misbehave action %llu was not stopped", (unsigned long long)what);
}

static void td_write(void *dev, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)region;
	if (off == TESTDEV_REG_MISBEHAVE)
		misbehave(val);
	else
		testdev__write(dev, off, size, val);
}

static const struct dev_ops testdev_ops = {
    .name = "testdev",
    .read = td_read,
    .write = td_write,
};

const struct dev_desc dev__desc = {
    .type = "testdev",
    .ops = &testdev_ops,
    .limits = {.nregions = 1, .pio_mask = 0, .size = {CV_MMIO_TESTDEV_LEN}},
    .priv_size = sizeof(struct testdev),
};
