/* SPDX-License-Identifier: MIT */
/*
 * cellvm guest runtime: the API a payload's main() (running at CPL3) uses.
 * See guest/README.md for the memory layout and how to write a payload.
 */
#ifndef RT_RT_H
#define RT_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "layout.h"

/* ---- payload entry points --------------------------------------------- */

/* Called on the boot cpu at CPL3 with interrupts enabled; return = exit status. */
int main(void);

/* ---- console (COM1) ---------------------------------------------------- */

void rt_putc(char c);
void rt_puts(const char *s); /* no newline added */
/* %s %c %d %i %u %x %X %p %% with l/ll, width, '0' and '-' flags. Locked across cpus. */
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- exit and marks ---------------------------------------------------- */

/*
 * Ends the run through the debug-exit port (0xf4): cellvm exits with
 * status & 0xff, QEMU's isa-debug-exit with (status << 1) | 1. If nothing
 * listens there, the cpu halts forever.
 */
__attribute__((noreturn)) void rt_exit(unsigned int status);
/* Benchmark mark (CV_PORT_MARK): the VMM timestamps mark v. */
void rt_mark(uint32_t v);

/* ---- boot information -------------------------------------------------- */

/* Whole kernel command line ("" if none). */
const char *rt_cmdline(void);
/*
 * Value of key=value on the command line: NULL if key is absent, "" for a
 * bare "key". Words are separated by blanks; the last occurrence wins; only
 * the first 64 words and 4095 bytes are parsed.
 */
const char *rt_cmdline_get(const char *key);
/* Same, parsed as an unsigned decimal or 0x-hex number; dflt if absent or malformed. */
uint64_t rt_cmdline_u64(const char *key, uint64_t dflt);

struct rt_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* 1 = RAM, 2 = reserved, 3 = ACPI, 4 = NVS, 5 = unusable */
	uint32_t reserved;
};
#define RT_MEM_RAM    1
#define RT_MEMMAP_MAX 128
/* The PVH memory map (copied at start-up, at most RT_MEMMAP_MAX entries). */
const struct rt_memmap_entry *rt_memmap(unsigned int *count);
/* Sum of RAM entries. */
uint64_t rt_ram_bytes(void);
/* First and last byte (exclusive) of this payload's image incl. bss and stacks. */
uint64_t rt_image_start(void);
uint64_t rt_image_end(void);
/* Physical address of hvm_start_info and its version (0 when not PVH-booted). */
uint64_t rt_start_info(void);
uint32_t rt_start_info_version(void);
/* ACPI RSDP address from start_info (0 if none). */
uint64_t rt_start_info_rsdp(void);

/* ---- interrupts --------------------------------------------------------- */

/*
 * Every vector >= 32 has a CPL0 stub that increments rt_irq_count[vec]
 * (atomically) and writes the LAPIC EOI. The CPL3 side polls or waits.
 */
extern volatile uint64_t rt_irq_count[256];
/* Sum of all rt_irq_count[] (also bumped by every stub). */
extern volatile uint64_t rt_irq_total;

typedef void (*rt_irq_fn)(unsigned int vector, uint64_t count);
/* Calls fn from rt_irq_wait()/rt_irq_poll() when vector's count has changed. */
void rt_irq_register(unsigned int vector, rt_irq_fn fn);
/* Runs callbacks of vectors whose counts changed; returns how many ran. */
int rt_irq_poll(void);
/* Halts (CPL0 sti;hlt) until some interrupt arrives, then rt_irq_poll(). */
int rt_irq_wait(void);
/* Halts until *p != v (woken by any interrupt; checked race-free against a wake-up). */
void rt_wait_ne(const volatile uint64_t *p, uint64_t v);
void rt_sti(void);
void rt_cli(void);

/* ---- local APIC --------------------------------------------------------- */

#define RT_LAPIC_BASE 0xfee00000ULL
uint32_t rt_lapic_read(uint32_t reg);
void rt_lapic_write(uint32_t reg, uint32_t v);
uint32_t rt_lapic_id(void);
void rt_lapic_enable(void); /* software-enable, spurious vector 0xff */
/*
 * LAPIC timer on RT_VEC_TIMER, divide-by-1. The count runs at the APIC bus
 * clock: 1 GHz under KVM's in-kernel LAPIC (QEMU and cellvm).
 */
#define RT_LAPIC_HZ 1000000000ULL
void rt_timer_oneshot(uint32_t ticks);
void rt_timer_periodic(uint32_t ticks);
void rt_timer_stop(void);
/* Sleeps us microseconds on the LAPIC timer (hlt, not spinning). */
void rt_sleep_us(uint64_t us);
/* TSC frequency measured against the LAPIC timer over 10 ms (cached); 0 if the timer never fires.
 */
uint64_t rt_tsc_hz(void);

/* ---- IOAPIC ------------------------------------------------------------- */

#define RT_IOAPIC_BASE 0xfec00000ULL
/*
 * Routes GSI gsi to vector on the LAPIC apic_id: edge/active-high, or
 * level/active-low (PCI INTx) if level_low. -1 if gsi or vector is invalid.
 */
int rt_ioapic_route(unsigned int gsi, unsigned int vector, uint32_t apic_id, int level_low);
void rt_ioapic_mask(unsigned int gsi);

/* ---- misc ---------------------------------------------------------------- */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Simple spinlock for CPL3 code on several cpus. */
typedef struct {
	volatile uint32_t v;
} rt_lock_t;
void rt_lock(rt_lock_t *l);
void rt_unlock(rt_lock_t *l);

/* Index of the running cpu as given by the runtime (0 = boot cpu). */
unsigned int rt_cpu_index(void);

#endif
