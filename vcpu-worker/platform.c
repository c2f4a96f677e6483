/* SPDX-License-Identifier: MIT */
/*
 * Platform ports the vcpu-worker answers itself: they carry no guest data
 * into any other process. Debug exit (end the run with a status), the
 * boot timer, benchmark marks, the i8042 reset line, the POST port and the
 * ACPI fixed hardware the FADT describes (loader/acpi.c): PM1a events (no
 * event is ever raised), PM1a control (S5 powers off) and the reset register.
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

/*
 * PM1a event block: status (off 0, write 1 to clear; nothing ever sets a
 * bit) and enable (off 2): a plain register, so the guest reads back what it
 * enabled (ACPICA checks its GBL_EN that way).
 */
static _Atomic uint16_t pm1_enable;

static int pm1_evt_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	uint32_t reg = (uint32_t)atomic_load(&pm1_enable) << 16; /* status 0 | enable */
	*val = (reg >> (8 * off)) & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
	return 0;
}

static int pm1_evt_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	uint32_t reg = (uint32_t)atomic_load(&pm1_enable) << 16;
	uint32_t mask = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << (8 * off);
	reg = (reg & ~mask) | (((uint32_t)val << (8 * off)) & mask);
	atomic_store(&pm1_enable, (uint16_t)(reg >> 16));
	return 0;
}

/* PM1a control: SCI_EN always reads 1 (always in ACPI mode, no SMI). */
static int pm1_cnt_read(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t *val)
{
	(void)priv;
	(void)region;
	(void)size;
	*val = off == 0 ? 0x1 : 0;
	return 0;
}

/* SLP_EN (bit 13) with SLP_TYP (bits 10-12) of \_S5: the guest powers off. */
static int pm1_cnt_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	if (off == 1 && size == 1)
		val <<= 8; /* a write of the high byte alone */
	else if (off != 0)
		return 0;
	if ((val & (1u << 13)) && ((val >> 10) & 7) == CV_ACPI_SLP_TYP_S5) {
		control__event(VM_EV_EXIT, 0, 0, "ACPI S5 (power off)");
		vcpu__stopping = 1;
		return 1;
	}
	return 0;
}

static int acpi_reset_write(void *priv, unsigned region, uint64_t off, unsigned size, uint64_t val)
{
	(void)priv;
	(void)region;
	(void)off;
	(void)size;
	if ((val & 0xff) == CV_ACPI_RESET_VALUE) {
		control__event(VM_EV_EXIT, 0, 0, "ACPI reset");
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
static const struct iodev_ops pm1_evt_ops = {pm1_evt_read, pm1_evt_write};
static const struct iodev_ops pm1_cnt_ops = {pm1_cnt_read, pm1_cnt_write};
static const struct iodev_ops acpi_reset_ops = {plat_read, acpi_reset_write};

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
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_ACPI_PM1_EVT, 4, &pm1_evt_ops, NULL, 0,
				    "acpi-pm1-evt");
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_ACPI_PM1_CNT, 2, &pm1_cnt_ops, NULL, 0,
				    "acpi-pm1-cnt");
	if (!r)
		r = iobus__register(IOBUS_PIO, CV_PORT_ACPI_RESET, 1, &acpi_reset_ops, NULL, 0,
				    "acpi-reset");
	return r;
}
