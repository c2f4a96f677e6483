/* SPDX-License-Identifier: MIT */
/*
 * Platform ports the vcpu-worker answers itself: they carry no guest data
 * into any other process. Debug exit (end the run with a status), the
 * boot timer, benchmark marks, the i8042 reset line and the POST port.
 */
#include "platform.h"

#include <stdatomic.h>

#include "abi.h"
#include "control.h"
#include "iobus.h"
#include "vcpu.h"

static atomic_int boot_timer_seen;

static int plat_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	*val = 0;
	return 0;
}

static int debug_exit_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	control__event(VM_EV_EXIT, 0, val & 0xff, "debug-exit");
	vcpu__stopping = 1;
	return 1; /* stop this vCPU */
}

static int boot_timer_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	(void)val;
	if (!atomic_exchange(&boot_timer_seen, 1))
		control__event(VM_EV_BOOT_TIMER, 0, 0, NULL);
	return 0;
}

static int mark_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	control__event(VM_EV_MARK, 0, val, NULL);
	return 0;
}

/* i8042 command 0xfe pulses the CPU reset line: treat as power-off. */
static int i8042_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)size;
	if (off == 0 && (val & 0xff) == 0xfe) {
		control__event(VM_EV_EXIT, 0, 0, "reset via i8042");
		vcpu__stopping = 1;
		return 1;
	}
	return 0;
}

static int ignore_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	(void)val;
	return 0;
}

static const struct iodev_ops debug_exit_ops = {plat_read, debug_exit_write};
static const struct iodev_ops boot_timer_ops = {plat_read, boot_timer_write};
static const struct iodev_ops mark_ops = {plat_read, mark_write};
static const struct iodev_ops i8042_ops = {plat_read, i8042_write};
static const struct iodev_ops post_ops = {plat_read, ignore_write};

int platform__init(bool i8042_device)
{
	int r = iobus__register(IOBUS_PIO, CV_PORT_DEBUG_EXIT, CV_PORT_DEBUG_EXIT_LEN,
				&debug_exit_ops, NULL, 0, "debug-exit");
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_BOOT_TIMER, 4, &boot_timer_ops, NULL, 0,
				    "boot-timer");
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_MARK, 4, &mark_ops, NULL, 0, "mark");
	/* Without an i8042 device, still honour the reset line guests reboot with. */
	if (!r && !i8042_device)
		r = iobus__register(IOBUS_PIO, CV_PORT_I8042_CMD, 1, &i8042_ops, NULL, 0,
				    "i8042-reset");
	if (!r)
		r = iobus__register(IOBUS_PIO, 0x80, 1, &post_ops, NULL, 0, "post");
	return r;
}
