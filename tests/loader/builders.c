/* SPDX-License-Identifier: MIT */
#include "builders.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

void ram__new(struct gmem *gm, uint64_t size)
{
	void *p = NULL;
	if (size) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			abort();
		if (size <= RAM_SIZE)
			memset(p, 0xaa, size);
		else /* only the first MiBs, to stay lazy */
			memset(p, 0xaa, RAM_SIZE);
	}
	gmem__init(gm, p, size);
}

void ram__free(struct gmem *gm)
{
	if (gm->host)
		munmap(gm->host, gm->size);
	gm->host = NULL;
}

uint8_t *ram__at(const struct gmem *gm, uint64_t gpa)
{
	uint8_t *p = gmem__ptr(gm, gpa, 1);
	if (!p)
		abort();
	return p;
}

uint8_t pat_byte(unsigned s, uint64_t i)
{
	return (uint8_t)(0x11 * (s + 1) + i * 7 + (i >> 8));
}

size_t elf__build(uint8_t *buf, size_t cap, const struct seg *segs, unsigned n, uint64_t entry,
		  unsigned pvh_descsz, uint64_t pvh_entry)
{
	unsigned nph = n + (pvh_descsz ? 1 : 0);
	size_t off = 64 + 56 * nph, note_len = 0;

	memset(buf, 0, cap);
	memcpy(buf,
	       "\x7f"
	       "ELF",
	       4);
	buf[4] = 2; /* ELFCLASS64 */
	buf[5] = 1; /* little endian */
	buf[6] = 1;
	put16(buf + 16, 2);  /* ET_EXEC */
	put16(buf + 18, 62); /* EM_X86_64 */
	put32(buf + 20, 1);
	put64(buf + 24, entry);
	put64(buf + 32, 64);
	put16(buf + 52, 64);
	put16(buf + 54, 56);
	put16(buf + 56, (uint16_t)nph);

	if (pvh_descsz) {
		/* an unrelated note first, then the PVH entry */
		uint8_t *p = buf + off;
		put32(p, 4);
		put32(p + 4, 4);
		put32(p + 8, 1);
		memcpy(p + 12, "GNU", 4);
		put32(p + 16, 0x12345678);
		p += 20;
		put32(p, 4);
		put32(p + 4, pvh_descsz);
		put32(p + 8, 18);
		memcpy(p + 12, "Xen", 4);
		if (pvh_descsz == 4)
			put32(p + 16, (uint32_t)pvh_entry);
		else
			put64(p + 16, pvh_entry);
		note_len = 20 + 16 + pvh_descsz;
		uint8_t *ph = buf + ELF_PHDR(n);
		put32(ph, 4);
		put64(ph + 8, off);
		put64(ph + 32, note_len);
		put64(ph + 40, note_len);
		off += note_len;
	}
	for (unsigned s = 0; s < n; s++) {
		uint8_t *ph = buf + ELF_PHDR(s);
		put32(ph, segs[s].type);
		put32(ph + 4, 7);
		put64(ph + 8, off);
		put64(ph + 16, segs[s].vaddr);
		put64(ph + 24, segs[s].paddr);
		put64(ph + 32, segs[s].filesz);
		put64(ph + 40, segs[s].memsz);
		put64(ph + 48, 0x1000);
		if (!(off + segs[s].filesz <= cap))
			abort();
		for (uint64_t i = 0; i < segs[s].filesz; i++)
			buf[off + i] = pat_byte(s, i);
		off += segs[s].filesz;
	}
	return off;
}

struct bz bz__default(void)
{
	return (struct bz){
	    .setup_sects = 0x1b,
	    .version = 0x020f,
	    .xloadflags = 0x7f,
	    .loadflags = 0x01,
	    .relocatable = 1,
	    .kernel_alignment = 0x200000,
	    .pref_address = 0x1000000,
	    .init_size = 0x400000,
	    .cmdline_size = 0x7ff,
	    .initrd_addr_max = 0x7fffffff,
	    .kbytes = 0x3000,
	};
}

size_t bz__setup_size(const struct bz *b)
{
	return ((size_t)(b->setup_sects ? b->setup_sects : 4) + 1) * 512;
}

uint8_t bz_byte(uint64_t i)
{
	return (uint8_t)(0x5a ^ (i * 13) ^ (i >> 9));
}

size_t bz__build(uint8_t *buf, size_t cap, const struct bz *b)
{
	size_t setup = bz__setup_size(b), len = setup + b->kbytes;

	if (!(len <= cap))
		abort();
	memset(buf, 0, cap);
	memcpy(buf, "MZ", 2);
	buf[0x1f1] = b->setup_sects;
	put16(buf + 0x1f2, 1);		    /* root_flags */
	put32(buf + 0x1f4, b->kbytes / 16); /* syssize */
	put16(buf + 0x1fa, 0xffff);	    /* vid_mode */
	put16(buf + 0x1fe, 0xaa55);
	buf[0x200] = 0xeb;
	buf[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(buf + 0x202, "HdrS", 4);
	put16(buf + 0x206, b->version);
	put16(buf + 0x20e, 0x3c0); /* kernel_version */
	buf[0x211] = b->loadflags;
	put32(buf + 0x214, 0x100000); /* code32_start */
	put32(buf + 0x22c, b->initrd_addr_max);
	put32(buf + 0x230, b->kernel_alignment);
	buf[0x234] = b->relocatable;
	buf[0x235] = 21; /* min_alignment */
	put16(buf + 0x236, b->xloadflags);
	put32(buf + 0x238, b->cmdline_size);
	put32(buf + 0x248, 0x2cc);  /* payload_offset */
	put32(buf + 0x24c, 0x1234); /* payload_length */
	put64(buf + 0x258, b->pref_address);
	put32(buf + 0x260, b->init_size);
	put32(buf + 0x264, 0x190);    /* handover_offset */
	put32(buf + 0x268, 0xabcdef); /* kernel_info_offset */
	buf[0x26c] = 0x77;	      /* past the header: must not be copied */
	for (size_t i = 0; i < b->kbytes; i++)
		buf[setup + i] = bz_byte(i);
	return len;
}

uint16_t rd16(const struct gmem *gm, uint64_t gpa)
{
	uint16_t v;
	if (!gmem__read(gm, gpa, &v, 2))
		abort();
	return v;
}

uint32_t rd32(const struct gmem *gm, uint64_t gpa)
{
	uint32_t v;
	if (!gmem__read(gm, gpa, &v, 4))
		abort();
	return v;
}

uint64_t rd64(const struct gmem *gm, uint64_t gpa)
{
	uint64_t v;
	if (!gmem__read(gm, gpa, &v, 8))
		abort();
	return v;
}

int ram_setup(void **state)
{
	struct gmem *gm = calloc(1, sizeof(*gm));
	if (!gm)
		return -1;
	ram__new(gm, RAM_SIZE);
	*state = gm;
	return 0;
}

int ram_teardown(void **state)
{
	ram__free(*state);
	free(*state);
	return 0;
}
