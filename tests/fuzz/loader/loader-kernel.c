/* SPDX-License-Identifier: MIT */
/*
 * Arbitrary bytes as the kernel image for loader__load() with an 8 MiB guest
 * RAM. The input's length picks the CPU count, so the MP table varies too.
 * Any crash, out-of-bounds access, or result without its error message is a
 * finding.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "loader.h"

#define FUZZ_RAM (8u << 20)

static uint8_t *ram;
static const uint8_t initrd[4096] = {1, 2, 3, 4};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem gm;
	struct boot_setup bs;
	char err[128] = "";

	if (!ram) {
		ram = malloc(FUZZ_RAM);
		if (!ram)
			abort();
	}
	gmem__init(&gm, ram, FUZZ_RAM);
	struct boot_input in = {
	    .kernel = data,
	    .kernel_len = size,
	    .initrd = initrd,
	    .initrd_len = sizeof(initrd),
	    .cmdline = "console=ttyS0",
	    .ncpus = 1 + (unsigned)(size % 254),
	};
	int rc = loader__load(&gm, &in, &bs, err, sizeof(err));
	if (rc > 0 || (rc < 0 && err[0] == 0))
		abort();
	if (rc == 0 && (!gmem__ptr(&gm, bs.entry, 1) || bs.entry >= FUZZ_RAM))
		abort(); /* the entry point is always in (low) guest RAM */
	return 0;
}
