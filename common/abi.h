/* SPDX-License-Identifier: MIT */
/*
 * The guest-visible machine: ports, addresses and the physical memory map.
 *
 * Shared by the host side (broker, vcpu-worker, device processes) and the
 * freestanding guest payloads, so it must only use preprocessor constants.
 */
#ifndef CELLVM_ABI_H
#define CELLVM_ABI_H

/* ---- Port I/O ---------------------------------------------------------- */

/* 16550A UART, COM1. IRQ 4 on the in-kernel PIC/IOAPIC. */
#define CV_PORT_COM1	 0x3f8
#define CV_PORT_COM1_LEN 8
#define CV_IRQ_COM1	 4

/*
 * Debug exit. Same location as QEMU's isa-debug-exit (iobase=0xf4,
 * iosize=4) so one payload ends a run under either VMM. cellvm exits with
 * the written value & 0xff; QEMU exits with (value << 1) | 1.
 */
#define CV_PORT_DEBUG_EXIT     0xf4
#define CV_PORT_DEBUG_EXIT_LEN 4

/*
 * Boot timer (as Firecracker's): the guest writes any value here as early as
 * it can; the broker reports the time from its own start to that write.
 * Unassigned on QEMU, where the write is ignored.
 */
#define CV_PORT_BOOT_TIMER 0x440
/*
 * Benchmark marks: a write of value v makes the vcpu-worker record
 * CLOCK_MONOTONIC for mark v (used by benchmarks, never by tests' asserts).
 */
#define CV_PORT_MARK 0x444

/* PCI configuration mechanism #1. */
#define CV_PORT_PCI_ADDR 0xcf8
#define CV_PORT_PCI_DATA 0xcfc

/* Bochs VBE DISPI index/data ports. */
#define CV_PORT_VBE_INDEX 0x1ce
#define CV_PORT_VBE_DATA  0x1cf

/*
 * ACPI fixed hardware (FADT): the PM1a event block (status, enable), the
 * PM1a control block (SLP_TYP, SLP_EN) and the reset register, answered by
 * the vcpu-worker. S5 is SLP_TYP CV_ACPI_SLP_TYP_S5 (the DSDT's \_S5). The
 * SCI is IRQ 9 (never raised: no ACPI events).
 */
#define CV_PORT_ACPI_PM1_EVT 0x600
#define CV_PORT_ACPI_PM1_CNT 0x604
#define CV_PORT_ACPI_RESET   0x608
#define CV_ACPI_RESET_VALUE  0x1
#define CV_ACPI_SLP_TYP_S5   5
#define CV_IRQ_ACPI_SCI	     9

/* i8042 PS/2 controller. */
#define CV_PORT_I8042_DATA 0x60
#define CV_PORT_I8042_CMD  0x64

/* ---- Physical memory map ----------------------------------------------- */

/*
 * Guest RAM is one memfd. Its first min(size, CV_LOWMEM_MAX) bytes are at
 * GPA 0; the rest (if any) at CV_HIGHMEM_BASE. The hole between holds the
 * 32-bit PCI MMIO window, platform MMIO devices, the IOAPIC and the LAPIC.
 */
#define CV_LOWMEM_MAX	0xc0000000ULL
#define CV_HIGHMEM_BASE 0x100000000ULL

#define CV_PCI_MMIO_BASE 0xc0000000ULL /* 32-bit BAR window */
#define CV_PCI_MMIO_SIZE 0x3e000000ULL /* up to 0xfe000000 */

/* Platform MMIO (non-PCI) devices, 4 KiB each. */
#define CV_MMIO_PLATFORM_BASE 0xfe000000ULL
#define CV_MMIO_TESTDEV	      0xfe000000ULL /* ipc benchmark register block */
#define CV_MMIO_TESTDEV_LEN   0x1000

#define CV_IOAPIC_BASE 0xfec00000ULL
#define CV_LAPIC_BASE  0xfee00000ULL

/* Fixed low-memory locations used by the boot loader. */
#define CV_BOOT_GDT	       0x00000500ULL
#define CV_BOOT_PVH_START_INFO 0x00006000ULL
#define CV_BOOT_ZERO_PAGE      0x00007000ULL /* Linux boot_params */
#define CV_BOOT_PML4	       0x00009000ULL
#define CV_BOOT_CMDLINE	       0x00020000ULL
#define CV_BOOT_CMDLINE_MAX    0x00010000ULL
#define CV_BOOT_MPTABLE	       0x0009fc00ULL
#define CV_EBDA_START	       0x0009fc00ULL
#define CV_BOOT_ACPI	       0x000e0000ULL /* RSDP, then the tables; reserved */
#define CV_BOOT_ACPI_LEN       0x00010000ULL
#define CV_KERNEL_DEFAULT      0x00100000ULL /* 1 MiB */

#endif
