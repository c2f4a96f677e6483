/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the MCS parser with arbitrary contexts, as getcon() or
 * /proc/PID/attr/current could return them: it must never read past the
 * string, and a pair it reports must be two distinct in-range categories.
 */
#include <stdlib.h>
#include <string.h>

#include "selinux/mcs.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *con = malloc(size + 1);
	if (!con)
		return 0;
	memcpy(con, data, size);
	con[size] = '\0';
	unsigned int c1, c2;
	if (mcs__context_pair(con, &c1, &c2) == 1 && !(c1 < c2 && c2 < MCS_NCATS))
		abort();
	char sens[8];
	struct mcs_cats lo, hi;
	if (mcs__context_levels(con, sens, sizeof(sens), &lo, &hi) == 0 &&
	    (strlen(sens) < 2 || sens[0] != 's' || mcs__count(&lo) > MCS_NCATS))
		abort();
	struct mcs_cats c;
	if (mcs__parse_cats(con, size, &c) == 0 && mcs__count(&c) == 0)
		abort(); /* a valid category list names at least one category */
	free(con);
	return 0;
}
