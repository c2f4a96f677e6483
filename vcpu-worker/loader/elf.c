/* SPDX-License-Identifier: MIT */
/*
 * ELF64 x86-64 executables: PT_LOAD segments go to their physical address
 * (p_paddr); a PT_NOTE with the Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY)
 * selects the PVH boot path. Everything is validated before the first byte
 * is written to guest RAM.
 */
#include <errno.h>

#include "abi.h"
#include "loader-priv.h"

#define EHDR_SIZE		 64
#define PHDR_SIZE		 56
#define ELF_MAX_PHNUM		 128
#define PT_LOAD			 1
#define PT_NOTE			 4
#define ET_EXEC			 2
#define EM_X86_64		 62
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void phdr_at(const uint8_t *p, struct phdr *ph)
{
	ph->type = ld32(p);
	ph->offset = ld64(p + 8);
	ph->vaddr = ld64(p + 16);
	ph->paddr = ld64(p + 24);
	ph->filesz = ld64(p + 32);
	ph->memsz = ld64(p + 40);
}

bool elf__is_elf(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

/* Scan one PT_NOTE's bytes for the PVH entry note. */
static int scan_notes(struct ldr *l, const uint8_t *p, uint64_t len, struct elf_info *ei)
{
	while (len >= 12) {
		uint64_t namesz = ld32(p), descsz = ld32(p + 4);
		uint32_t type = ld32(p + 8);
		uint64_t name_pad = (namesz + 3) & ~3ULL, desc_pad = (descsz + 3) & ~3ULL;

		if (name_pad > len - 12 || desc_pad > len - 12 - name_pad)
			return ldr__fail(l, -ENOEXEC, "ELF note runs past its segment");
		const uint8_t *name = p + 12, *desc = p + 12 + name_pad;
		if (namesz == 4 && !memcmp(name, "Xen", 4) && type == XEN_ELFNOTE_PHYS32_ENTRY) {
			if (descsz == 4)
				ei->pvh_entry = ld32(desc);
			else if (descsz == 8)
				ei->pvh_entry = ld64(desc);
			else
				return ldr__fail(l, -ENOEXEC,
						 "PVH entry note has a %llu-byte value",
						 (unsigned long long)descsz);
			ei->has_pvh = true;
		}
		p += 12 + name_pad + desc_pad;
		len -= 12 + name_pad + desc_pad;
	}
	return 0;
}

/* Check one PT_LOAD against the file, guest RAM and the loader's areas. */
static int check_load(struct ldr *l, const struct phdr *ph, unsigned i)
{
	size_t flen = l->in->kernel_len;
	const char *what;

	if (ph->offset > flen || ph->filesz > flen - ph->offset)
		return ldr__fail(l, -ENOEXEC, "segment %u: data past the end of the file", i);
	if (ph->paddr > l->gm->low_size || ph->memsz > l->gm->low_size - ph->paddr ||
	    !gmem__ptr(l->gm, ph->paddr, ph->memsz))
		return ldr__fail(l, -ENOSPC, "segment %u [%#llx, +%#llx) is outside low guest RAM",
				 i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
	what = ldr__fixed_overlap(ph->paddr, ph->memsz);
	if (what)
		return ldr__fail(l, -ENOSPC, "segment %u at %#llx overlaps %s", i,
				 (unsigned long long)ph->paddr, what);
	return 0;
}

int elf__load(struct ldr *l, struct elf_info *ei)
{
	const uint8_t *f = l->in->kernel;
	size_t flen = l->in->kernel_len;
	uint64_t phoff, entry, lo = UINT64_MAX, hi = 0;
	unsigned phnum, nload = 0;
	/*
	 * The program headers, read once: the file is a mapping the user can
	 * change while we load, so every later use must see what was checked.
	 */
	struct phdr phs[ELF_MAX_PHNUM], ph, other;
	int rc;

	memset(ei, 0, sizeof(*ei));
	if (flen < EHDR_SIZE)
		return ldr__fail(l, -ENOEXEC, "ELF header truncated (%zu bytes)", flen);
	if (f[4] != 2 || f[5] != 1)
		return ldr__fail(l, -ENOEXEC, "not a little-endian ELF64 file");
	if (ld16(f + 16) != ET_EXEC || ld16(f + 18) != EM_X86_64)
		return ldr__fail(l, -ENOEXEC, "not an x86-64 ELF executable");
	entry = ld64(f + 24);
	phoff = ld64(f + 32);
	phnum = ld16(f + 56);
	if (ld16(f + 54) != PHDR_SIZE)
		return ldr__fail(l, -ENOEXEC, "ELF program header size %u", ld16(f + 54));
	if (phnum == 0 || phnum > ELF_MAX_PHNUM)
		return ldr__fail(l, -ENOEXEC, "ELF has %u program headers (1 to %u allowed)", phnum,
				 ELF_MAX_PHNUM);
	if (phoff > flen || (uint64_t)phnum * PHDR_SIZE > flen - phoff)
		return ldr__fail(l, -ENOEXEC, "ELF program headers past the end of the file");

	for (unsigned i = 0; i < phnum; i++)
		phdr_at(f + phoff + (uint64_t)i * PHDR_SIZE, &phs[i]);

	/* Pass 1: validate every header, find the PVH note and the extent. */
	for (unsigned i = 0; i < phnum; i++) {
		ph = phs[i];
		if (ph.type == PT_NOTE) {
			if (ph.offset > flen || ph.filesz > flen - ph.offset)
				return ldr__fail(l, -ENOEXEC, "note %u past the end of the file",
						 i);
			rc = scan_notes(l, f + ph.offset, ph.filesz, ei);
			if (rc)
				return rc;
			continue;
		}
		if (ph.type != PT_LOAD)
			continue;
		/* also for empty segments, which the entry lookups below consider */
		if (ph.filesz > ph.memsz)
			return ldr__fail(l, -ENOEXEC, "segment %u: file size above memory size", i);
		if (ph.memsz == 0)
			continue;
		rc = check_load(l, &ph, i);
		if (rc)
			return rc;
		for (unsigned j = 0; j < i; j++) {
			other = phs[j];
			if (other.type == PT_LOAD &&
			    ldr__overlap(ph.paddr, ph.memsz, other.paddr, other.memsz))
				return ldr__fail(l, -ENOEXEC, "segments %u and %u overlap", j, i);
		}
		if (ph.paddr < lo)
			lo = ph.paddr;
		if (ph.paddr + ph.memsz > hi)
			hi = ph.paddr + ph.memsz;
		/* The entry: physical e_entry, else virtual e_entry translated. */
		if (!ei->entry_ok && entry >= ph.paddr && entry - ph.paddr < ph.filesz) {
			ei->entry = entry;
			ei->entry_ok = true;
		}
		nload++;
	}
	if (nload == 0)
		return ldr__fail(l, -ENOEXEC, "ELF has no loadable segment");
	if (!ei->entry_ok) {
		for (unsigned i = 0; i < phnum; i++) {
			ph = phs[i];
			if (ph.type == PT_LOAD && entry >= ph.vaddr &&
			    entry - ph.vaddr < ph.filesz) {
				ei->entry = entry - ph.vaddr + ph.paddr;
				ei->entry_ok = true;
				break;
			}
		}
	}
	if (ei->has_pvh) {
		bool inside = false;
		for (unsigned i = 0; i < phnum && !inside; i++) {
			ph = phs[i];
			inside = ph.type == PT_LOAD && ei->pvh_entry >= ph.paddr &&
				 ei->pvh_entry - ph.paddr < ph.filesz;
		}
		if (!inside)
			return ldr__fail(l, -ENOEXEC, "PVH entry %#llx is not in a loaded segment",
					 (unsigned long long)ei->pvh_entry);
	}

	/* Pass 2: copy, and zero the BSS part. */
	for (unsigned i = 0; i < phnum; i++) {
		ph = phs[i];
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		uint8_t *dst = gmem__ptr(l->gm, ph.paddr, ph.memsz);
		if (!dst)
			return ldr__fail(l, -ENOSPC, "segment %u outside guest RAM", i);
		memcpy(dst, f + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	l->kstart = lo;
	l->kend = hi;
	return 0;
}
