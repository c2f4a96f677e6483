/* SPDX-License-Identifier: MIT */
/* In-memory ELF64 and bzImage images and a guest RAM for the loader tests. */
#ifndef CELLVM_TEST_LOADER_BUILDERS_H
#define CELLVM_TEST_LOADER_BUILDERS_H

#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

#define RAM_SIZE (32ULL << 20)

/* A RAM of `size` bytes filled with 0xAA (mmap'd lazily for large sizes). */
void ram__new(struct gmem *gm, uint64_t size);
void ram__free(struct gmem *gm);
/* Host pointer for a GPA the test knows is in RAM. */
uint8_t *ram__at(const struct gmem *gm, uint64_t gpa);

struct seg {
	uint32_t type; /* PT_LOAD 1, PT_NOTE 4, ... */
	uint64_t paddr, vaddr, memsz;
	uint64_t filesz; /* bytes of data in the file (pattern pat_byte(seg, i)) */
};
/* Byte i of segment number s's file data. */
uint8_t pat_byte(unsigned s, uint64_t i);

/*
 * ELF64 x86-64 ET_EXEC: header, program headers (segments, then a PT_NOTE
 * if pvh_descsz is 4 or 8), note bytes, then the segments' data in order, so
 * the file ends with the last segment's data. Returns the length.
 */
size_t elf__build(uint8_t *buf, size_t cap, const struct seg *segs, unsigned n, uint64_t entry,
		  unsigned pvh_descsz, uint64_t pvh_entry);
#define ELF_PHDR(i) (64 + 56 * (i))

struct bz {
	uint8_t setup_sects; /* raw field: 0 means 4 */
	uint16_t version;
	uint16_t xloadflags;
	uint8_t loadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint32_t kbytes; /* protected-mode kernel bytes (multiple of 16) */
};
/* A plausible 2.15 header (setup_sects 0x1b, 16 MiB preferred, relocatable). */
struct bz bz__default(void);
size_t bz__build(uint8_t *buf, size_t cap, const struct bz *b);
size_t bz__setup_size(const struct bz *b);
/* Byte i of the protected-mode kernel. */
uint8_t bz_byte(uint64_t i);

/* Little-endian reads of guest RAM. */
uint16_t rd16(const struct gmem *gm, uint64_t gpa);
uint32_t rd32(const struct gmem *gm, uint64_t gpa);
uint64_t rd64(const struct gmem *gm, uint64_t gpa);

/* cmocka fixtures: *state is a struct gmem with RAM_SIZE bytes. */
int ram_setup(void **state);
int ram_teardown(void **state);

/* Each test file's group. */
int loader_valid_tests(void);
int loader_mptable_tests(void);
int loader_acpi_tests(void);
int loader_malformed_tests(void);

#endif
