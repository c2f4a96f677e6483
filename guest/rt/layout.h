/* SPDX-License-Identifier: MIT */
/*
 * Guest runtime constants shared by the assembly and the C side.
 * Only preprocessor constants: included from .S files.
 */
#ifndef RT_LAYOUT_H
#define RT_LAYOUT_H

#define RT_LINK_BASE 0x100000 /* payloads are linked and loaded at 1 MiB */
#define RT_MAX_CPUS  16

/* GDT selectors. */
#define RT_SEL_KCODE   0x08 /* 64-bit, DPL0 */
#define RT_SEL_KDATA   0x10
#define RT_SEL_UDATA   0x1b /* 0x18 | RPL3 */
#define RT_SEL_UCODE   0x23 /* 0x20 | RPL3, 64-bit */
#define RT_SEL_KCODE32 0x28 /* 32-bit, DPL0: used by the AP trampoline */
#define RT_SEL_TSS0    0x30 /* TSS of cpu i at 0x30 + 16 * i */

/* Per-cpu areas. */
#define RT_KSTACK_SIZE	0x4000	/* CPL0 stack; aligned to its size */
#define RT_USTACK_SIZE	0x10000 /* CPL3 stack */
#define RT_TSS_IOPB_OFF 104
#define RT_TSS_LIMIT	(RT_TSS_IOPB_OFF + 8192 - 1) /* all 65536 ports allowed */
#define RT_TSS_STRIDE	0x2100

/* Interrupt vectors used by the runtime. */
#define RT_VEC_FIRST_IRQ 32
#define RT_VEC_TIMER	 0x20 /* LAPIC timer */
#define RT_VEC_SPURIOUS	 0xff
#define RT_IRQ_STUB_SIZE 16 /* bytes per interrupt entry stub */

/*
 * CPL0 services: CPL3 runs `int3` with %eax = service number (see svc.h).
 * Any other %eax is reported as a breakpoint fault.
 */
#define RT_SVC_MAGIC	  0x53560000
#define RT_SVC_STI	  (RT_SVC_MAGIC | 1) /* set IF in the caller's RFLAGS */
#define RT_SVC_CLI	  (RT_SVC_MAGIC | 2) /* clear IF */
#define RT_SVC_HALT_IF_EQ (RT_SVC_MAGIC | 3) /* if *(u64 *)rdi == rsi: sti; hlt */
#define RT_SVC_HALT	  (RT_SVC_MAGIC | 4) /* cli; hlt forever */

/* Exit status for an unhandled exception: RT_EXIT_FAULT + vector. */
#define RT_EXIT_FAULT 0x40

/* AP start-up trampoline (real mode), copied below 1 MiB by smp code. */
#define RT_TRAMPOLINE_PA 0x10000

#endif
