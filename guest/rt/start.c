/* SPDX-License-Identifier: MIT */
/*
 * CPL3 start-up: IDT, PVH start_info (command line, memory map), LAPIC,
 * interrupts on, main(). Exceptions land in rt_fault().
 */
#include "rt.h"
#include "internal.h"

#define START_INFO_MAGIC 0x336ec578u
#define CMDLINE_MAX	 4096

/* struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

extern uint64_t rt_start_info_pa;
extern uint8_t rt_idt[256 * 16];
extern uint8_t rt_ustacks[];
extern char rt_exc_stubs[], rt_irq_stubs[];
extern char __image_start[], __image_end[];

static char cmdline[CMDLINE_MAX];
static struct rt_memmap_entry memmap[RT_MEMMAP_MAX];
static unsigned int memmap_count;
static uint32_t start_info_version;
static uint64_t start_info_pa;
static uint64_t start_info_rsdp;

static void idt_set(unsigned int vec, uint64_t handler, unsigned int dpl)
{
	uint8_t *e = rt_idt + vec * 16;
	uint32_t w[4];

	w[0] = (uint32_t)(RT_SEL_KCODE << 16) | (uint32_t)(handler & 0xffff);
	/* present, DPL, 64-bit interrupt gate (type 0xe), IST 0 */
	w[1] = (uint32_t)(handler & 0xffff0000) | 0x8e00 | (dpl << 13);
	w[2] = (uint32_t)(handler >> 32);
	w[3] = 0;
	memcpy(e, w, sizeof(w));
}

static void idt_init(void)
{
	unsigned int v;

	for (v = 0; v < RT_VEC_FIRST_IRQ; v++)
		idt_set(v, (uint64_t)rt_exc_stubs + 16 * v, v == 3 ? 3 : 0);
	for (v = RT_VEC_FIRST_IRQ; v < 256; v++)
		idt_set(v, (uint64_t)rt_irq_stubs + RT_IRQ_STUB_SIZE * (v - RT_VEC_FIRST_IRQ), 0);
}

/* Guest memory below 4 GiB is identity-mapped; refuse anything beyond. */
static int pa_ok(uint64_t pa, uint64_t len)
{
	return pa != 0 && len <= 0x100000000ULL && pa <= 0x100000000ULL - len;
}

static void boot_info_init(void)
{
	const struct hvm_start_info *si;
	uint64_t pa = rt_start_info_pa;
	unsigned int i, n;

	if (!pa_ok(pa, sizeof(*si)))
		return;
	si = (const struct hvm_start_info *)pa;
	if (si->magic != START_INFO_MAGIC)
		return;
	start_info_pa = pa;
	start_info_version = si->version;
	start_info_rsdp = si->rsdp_paddr;
	if (si->cmdline_paddr && pa_ok(si->cmdline_paddr, 1)) {
		const char *s = (const char *)si->cmdline_paddr;

		for (i = 0; i < CMDLINE_MAX - 1 && pa_ok(si->cmdline_paddr + i, 1) && s[i]; i++)
			cmdline[i] = s[i];
		cmdline[i] = 0;
	}
	if (si->version >= 1 && si->memmap_entries) {
		n = si->memmap_entries;
		if (n > RT_MEMMAP_MAX)
			n = RT_MEMMAP_MAX;
		if (pa_ok(si->memmap_paddr, (uint64_t)n * sizeof(memmap[0]))) {
			memcpy(memmap, (const void *)si->memmap_paddr, n * sizeof(memmap[0]));
			memmap_count = n;
		}
	}
	rt_cmdline_parse(cmdline);
}

const char *rt_cmdline(void)
{
	return cmdline;
}

const struct rt_memmap_entry *rt_memmap(unsigned int *count)
{
	*count = memmap_count;
	return memmap;
}

uint64_t rt_ram_bytes(void)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < memmap_count; i++)
		if (memmap[i].type == RT_MEM_RAM)
			sum += memmap[i].size;
	return sum;
}

uint64_t rt_start_info(void)
{
	return start_info_pa;
}

uint64_t rt_start_info_rsdp(void)
{
	return start_info_rsdp;
}

uint32_t rt_start_info_version(void)
{
	return start_info_version;
}

uint64_t rt_image_start(void)
{
	return (uint64_t)__image_start;
}

uint64_t rt_image_end(void)
{
	return (uint64_t)__image_end;
}

unsigned int rt_cpu_index(void)
{
	uint64_t sp = (uint64_t)__builtin_frame_address(0);

	if (sp < (uint64_t)rt_ustacks)
		return 0; /* fault reporter: runs on a CPL0 stack */
	return (unsigned int)((sp - (uint64_t)rt_ustacks) / RT_USTACK_SIZE);
}

void rt_exit(unsigned int status)
{
	outl(0xf4, status);
	for (;;)
		rt_svc0(RT_SVC_HALT);
}

void rt_mark(uint32_t v)
{
	outl(0x444, v);
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF?", "#TS",
    "#NP", "#SS", "#GP", "#PF", "?",   "#MF", "#AC", "#MC", "#XM", "#VE",  "#CP",
};

void rt_fault(uint64_t vec, uint64_t err, uint64_t rip, uint64_t cr2, uint64_t cs)
{
	const char *name = vec < 32 && exc_names[vec] ? exc_names[vec] : "?";

	rt_printf("\nFAULT: vector %lu %s error 0x%lx rip 0x%lx cr2 0x%lx cpl %lu\n", vec, name,
		  err, rip, cr2, cs & 3);
	rt_exit(RT_EXIT_FAULT + (unsigned int)(vec & 31));
}

void rt_cpl3_entry(uint64_t cpu)
{
	if (cpu != 0) {
		rt_ap_entry((unsigned int)cpu);
		rt_exit(0x3f); /* not reached */
	}
	idt_init();
	boot_info_init();
	rt_lapic_enable();
	rt_sti();
	rt_exit((unsigned int)main());
}

__attribute__((weak)) void rt_ap_entry(unsigned int cpu)
{
	(void)cpu;
	for (;;)
		rt_svc0(RT_SVC_HALT);
}
