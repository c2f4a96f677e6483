/* SPDX-License-Identifier: MIT */
/*
 * PVH entry and everything the runtime runs at CPL0.
 *
 * Guest CPL0 code is emulated instruction by instruction on some KVM hosts
 * (about a million instructions a second), CPL3 runs natively. So this file
 * does the least that needs privilege and drops to CPL3: page tables, GDT
 * and TSS are static data (only the TSS descriptor is patched per cpu), the
 * IDT is filled in later by C code at CPL3 (the runtime maps all memory
 * user-accessible), interrupt stubs only count and EOI, and exceptions are
 * bounced to a CPL3 reporter.
 */
#include "layout.h"

#define CR0_PE	 0x00000001
#define CR0_MP	 0x00000002
#define CR0_NE	 0x00000020
#define CR0_PG	 0x80000000
#define CR4_PAE	 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define LAPIC_EOI 0xfee000b0

/* ---- PVH ELF note: XEN_ELFNOTE_PHYS32_ENTRY ---------------------------- */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long rt_pvh_entry
	.balign 4

/* ---- 32-bit PVH entry: flat protected mode, paging off, %ebx = start_info */
	.section .text.entry, "ax"
	.code32
	.globl rt_pvh_entry
rt_pvh_entry:
	cli
	movw $0x440, %dx	/* CV_PORT_BOOT_TIMER: first thing */
	outb %al, %dx
	movl %ebx, rt_start_info_pa
	xorl %edi, %edi		/* cpu index 0 */
	.globl rt_enter_long_mode32
rt_enter_long_mode32:		/* also reached by APs from the trampoline */
	lgdt rt_gdt_ptr
	movl $rt_pml4, %eax
	movl %eax, %cr3
	movl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl %edi, %esi
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %esi, %edi
	movl $(CR0_PG | CR0_NE | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $RT_SEL_KCODE, $1f

	.code64
1:	movl $RT_SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs

	/* %rdi = cpu index; CPL0 stack of cpu i: rt_kstacks + (i + 1) * size */
	movl %edi, %eax
	incl %eax
	shll $14, %eax			/* RT_KSTACK_SIZE */
	leaq rt_kstacks(%rax), %rsp
	movq %rsp, %r9			/* rsp0 */

	/* TSS of cpu i: rt_tss + i * RT_TSS_STRIDE */
	imull $RT_TSS_STRIDE, %edi, %eax
	leaq rt_tss(%rax), %r8
	movq %r9, 4(%r8)		/* rsp0 */
	movw $RT_TSS_IOPB_OFF, 102(%r8)	/* I/O bitmap: zeroed = all allowed */

	/* 64-bit available TSS descriptor at GDT[6 + 2i] */
	movq %r8, %rax
	andq $0xffffff, %rax
	shlq $16, %rax
	orq $RT_TSS_LIMIT, %rax
	movq $0x0000890000000000, %rcx	/* present, type 9 */
	orq %rcx, %rax
	movq %r8, %rcx
	shrq $24, %rcx
	andq $0xff, %rcx
	shlq $56, %rcx
	orq %rcx, %rax
	movl %edi, %ecx
	shll $4, %ecx
	leaq rt_gdt+RT_SEL_TSS0(%rcx), %rdx
	movq %rax, (%rdx)
	movq %r8, %rax
	shrq $32, %rax
	movq %rax, 8(%rdx)
	addl $RT_SEL_TSS0, %ecx
	ltr %cx
	lidt rt_idt_ptr

	/* Mask the legacy PICs in case firmware left them live. */
	movb $0xff, %al
	outb %al, $0x21
	outb %al, $0xa1

	/* iretq to CPL3 rt_cpl3_entry(cpu) on this cpu's user stack, IF=0 */
	movl %edi, %eax
	incl %eax
	shll $16, %eax			/* RT_USTACK_SIZE */
	leaq rt_ustacks(%rax), %rax
	subq $8, %rax			/* as if called: rsp + 8 is 16-byte aligned (SysV ABI) */
	pushq $RT_SEL_UDATA
	pushq %rax
	pushq $0x2
	pushq $RT_SEL_UCODE
	pushq $rt_cpl3_entry
	iretq

/* ---- Exceptions (vectors 0..31) ---------------------------------------- */
/*
 * Each pushes (error code or 0) and its vector, then the common code builds
 * an iretq frame to the CPL3 reporter rt_fault(vec, err, rip, cr2, cs) on
 * the lower half of the current CPL0 stack (which is user-accessible).
 */
	.text
	.macro EXC vec, has_err
	.balign 16
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp rt_exc_common
	.endm

	.balign 16
	.globl rt_exc_stubs
rt_exc_stubs:
	EXC 0,0
	EXC 1,0
	EXC 2,0
	.balign 16		/* vector 3: int3, the CPL0 service entry */
	jmp rt_svc
	EXC 4,0
	EXC 5,0
	EXC 6,0
	EXC 7,0
	EXC 8,1
	EXC 9,0
	EXC 10,1
	EXC 11,1
	EXC 12,1
	EXC 13,1
	EXC 14,1
	EXC 15,0
	EXC 16,0
	EXC 17,1
	EXC 18,0
	EXC 19,0
	EXC 20,0
	EXC 21,1
	EXC 22,0
	EXC 23,0
	EXC 24,0
	EXC 25,0
	EXC 26,0
	EXC 27,0
	EXC 28,0
	EXC 29,1
	EXC 30,1
	EXC 31,0

rt_exc_common:
	popq %rdi			/* vector */
	popq %rsi			/* error code */
	movq (%rsp), %rdx		/* rip */
	movq %cr2, %rcx
	movq 8(%rsp), %r8		/* cs */
	movq %rsp, %rax
	andq $~(RT_KSTACK_SIZE - 1), %rax
	addq $(RT_KSTACK_SIZE / 2 - 8), %rax	/* as if called (SysV stack alignment) */
	pushq $RT_SEL_UDATA
	pushq %rax
	pushq $0x2
	pushq $RT_SEL_UCODE
	pushq $rt_fault
	iretq

/*
 * int3 services (IDT gate with DPL3, interrupts off on entry).
 * Frame: rip, cs, rflags, rsp, ss. Clobbers nothing but flags.
 */
rt_svc:
	cmpl $RT_SVC_HALT_IF_EQ, %eax
	je 2f
	cmpl $RT_SVC_STI, %eax
	je 3f
	cmpl $RT_SVC_CLI, %eax
	je 4f
	cmpl $RT_SVC_HALT, %eax
	je 5f
	pushq $0
	pushq $3
	jmp rt_exc_common
2:	cmpq (%rdi), %rsi
	jne 1f
	sti
	hlt				/* sti shadow: no wake-up is lost */
	cli
1:	iretq
3:	orq $0x200, 16(%rsp)
	iretq
4:	andq $~0x200, 16(%rsp)
	iretq
5:	cli
	hlt
	jmp 5b

/* ---- Interrupts (vectors 32..255): count, EOI, return ------------------ */
	.balign 16
	.globl rt_irq_stubs
rt_irq_stubs:
	.set vec, RT_VEC_FIRST_IRQ
	.rept 256 - RT_VEC_FIRST_IRQ
	.balign RT_IRQ_STUB_SIZE
	pushq %rax
	movl $vec, %eax
	jmp rt_irq_common
	.set vec, vec + 1
	.endr

rt_irq_common:
	lock incq rt_irq_count(, %rax, 8)
	lock incq rt_irq_total
	cmpl $RT_VEC_SPURIOUS, %eax	/* a spurious interrupt takes no EOI */
	je 1f
	movl $LAPIC_EOI, %eax
	movl $0, (%rax)
1:	popq %rax
	iretq

/* ---- Static data -------------------------------------------------------- */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl rt_pml4
rt_pml4:
	.quad rt_pdpt + 0x7		/* P | RW | US */
	.fill 511, 8, 0
rt_pdpt:
	.quad rt_pd + 0x0000 + 0x7
	.quad rt_pd + 0x1000 + 0x7
	.quad rt_pd + 0x2000 + 0x7
	.quad rt_pd + 0x3000 + 0x7
	.fill 508, 8, 0
	/* 4 GiB identity, 2 MiB pages, P|RW|US|PS; PCD|PWT from 3 GiB (MMIO) */
rt_pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) | 0x87 | ((i >= 1536) & 0x18)
	.set i, i + 1
	.endr

	.data
	.balign 16
	.globl rt_gdt
rt_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code 64 */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cff2000000ffff	/* 0x18 user data */
	.quad 0x00affa000000ffff	/* 0x20 user code 64 */
	.quad 0x00cf9a000000ffff	/* 0x28 kernel code 32 */
	.fill 2 * RT_MAX_CPUS, 8, 0	/* 0x30 TSS descriptors */
rt_gdt_end:
	.balign 16
	.word 0
	.globl rt_gdt_ptr
rt_gdt_ptr:
	.word rt_gdt_end - rt_gdt - 1
	.quad rt_gdt
	.word 0
rt_idt_ptr:
	.word 256 * 16 - 1
	.quad rt_idt

	.globl rt_start_info_pa
	.balign 8
rt_start_info_pa:
	.quad 0

	.bss
	.balign 4096
	.globl rt_idt
rt_idt:
	.fill 256 * 16, 1, 0
	.globl rt_irq_count
rt_irq_count:
	.fill 256, 8, 0
	.globl rt_irq_total
rt_irq_total:
	.quad 0
	.balign RT_KSTACK_SIZE
	.globl rt_kstacks
rt_kstacks:
	.fill RT_MAX_CPUS * RT_KSTACK_SIZE, 1, 0
	.balign 4096
	.globl rt_ustacks
rt_ustacks:
	.fill RT_MAX_CPUS * RT_USTACK_SIZE, 1, 0
	.balign 4096
	.globl rt_tss
rt_tss:
	.fill RT_MAX_CPUS * RT_TSS_STRIDE, 1, 0
