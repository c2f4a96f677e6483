/* SPDX-License-Identifier: MIT */
/*
 * AP start-up trampoline. rt_smp_start() copies [rt_trampoline,
 * rt_trampoline_end) to RT_TRAMPOLINE_PA and sends INIT-SIPI-SIPI with
 * vector RT_TRAMPOLINE_PA >> 12, so each AP starts here in real mode at
 * CS:IP = (RT_TRAMPOLINE_PA >> 4):0. It loads the runtime's GDT, enters
 * protected mode, takes the next cpu index and joins the boot cpu's path
 * into long mode (rt_enter_long_mode32, entry.S).
 */
#include "layout.h"

#define OFF(x) ((x) - rt_trampoline)

	.section .rodata.trampoline, "a"
	.code16
	.globl rt_trampoline
rt_trampoline:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl OFF(tr_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $RT_SEL_KCODE32, $(RT_TRAMPOLINE_PA + OFF(tr_pm32))

	.code32
tr_pm32:
	movl $RT_SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $1, %edi
	lock xaddl %edi, rt_smp_next_cpu
	cmpl $RT_MAX_CPUS, %edi
	jae tr_park
	movl $rt_enter_long_mode32, %eax
	jmp *%eax
tr_park:			/* more cpus than the runtime has stacks for */
	cli
	hlt
	jmp tr_park

	.balign 8
tr_gdt_ptr:
	.word 0x30 + 16 * RT_MAX_CPUS - 1
	.long rt_gdt
	.globl rt_trampoline_end
rt_trampoline_end:
