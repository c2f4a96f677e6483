/* SPDX-License-Identifier: MIT */
/*
 * MCS level parsing for the label code: "s0", "s0:c3,c7", "s0:c0.c1023",
 * ranges "LOW-HIGH", full contexts "user:role:type:RANGE".  Input comes
 * from the kernel (getcon, /proc/PID/attr/current) but is parsed as if
 * hostile: every malformed string is an error, never a crash.
 */
#ifndef CELLVM_SELINUX_MCS_H
#define CELLVM_SELINUX_MCS_H

#include <stdbool.h>
#include <stddef.h>

#define MCS_NCATS 1024u

struct mcs_cats {
	unsigned char bits[MCS_NCATS / 8];
};

/* "c1,c5.c9" (len bytes, no sensitivity) -> set; -1 on any syntax error. */
int mcs__parse_cats(const char *s, size_t len, struct mcs_cats *out);
/* "s0" or "s0:CATS" (len bytes) -> sensitivity ("s0") and categories; -1 on error. */
int mcs__parse_level(const char *s, size_t len, char *sens, size_t sens_n, struct mcs_cats *out);
/* Pointer to the MLS range of "user:role:type:RANGE", NULL when absent. */
const char *mcs__context_range(const char *con);
/*
 * Low and high level of a context's range (high == low without '-').
 * -1 when the context has no range or a malformed one.
 */
int mcs__context_levels(const char *con, char *sens, size_t sens_n, struct mcs_cats *low,
			struct mcs_cats *high);
/* 1 and *c1 < *c2 when the low level has exactly two categories; 0 otherwise; -1 malformed. */
int mcs__context_pair(const char *con, unsigned int *c1, unsigned int *c2);

bool mcs__has(const struct mcs_cats *c, unsigned int cat);
void mcs__add(struct mcs_cats *c, unsigned int cat);
unsigned int mcs__count(const struct mcs_cats *c);

#endif
