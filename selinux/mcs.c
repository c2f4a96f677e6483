/* SPDX-License-Identifier: MIT */
#include "mcs.h"

#include <string.h>

bool mcs__has(const struct mcs_cats *c, unsigned int cat)
{
	return cat < MCS_NCATS && (c->bits[cat / 8] >> (cat % 8)) & 1;
}

void mcs__add(struct mcs_cats *c, unsigned int cat)
{
	if (cat < MCS_NCATS)
		c->bits[cat / 8] |= (unsigned char)(1u << (cat % 8));
}

unsigned int mcs__count(const struct mcs_cats *c)
{
	unsigned int n = 0;
	for (size_t i = 0; i < sizeof(c->bits); i++)
		n += (unsigned int)__builtin_popcount(c->bits[i]);
	return n;
}

/* "cN" at s[*i..len): N < MCS_NCATS, no leading zeros except "c0". */
static int parse_cat(const char *s, size_t len, size_t *i, unsigned int *out)
{
	if (*i >= len || s[*i] != 'c')
		return -1;
	(*i)++;
	size_t start = *i;
	unsigned int v = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (unsigned int)(s[*i] - '0');
		if (v >= MCS_NCATS)
			return -1;
		(*i)++;
	}
	size_t digits = *i - start;
	if (digits == 0 || (digits > 1 && s[start] == '0'))
		return -1;
	*out = v;
	return 0;
}

int mcs__parse_cats(const char *s, size_t len, struct mcs_cats *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	if (len == 0)
		return -1;
	for (;;) {
		unsigned int a, b;
		if (parse_cat(s, len, &i, &a) < 0)
			return -1;
		b = a;
		if (i < len && s[i] == '.') {
			i++;
			if (parse_cat(s, len, &i, &b) < 0 || b <= a)
				return -1;
		}
		for (unsigned int c = a; c <= b; c++)
			mcs__add(out, c);
		if (i == len)
			return 0;
		if (s[i] != ',')
			return -1;
		i++;
	}
}

int mcs__parse_level(const char *s, size_t len, char *sens, size_t sens_n, struct mcs_cats *out)
{
	memset(out, 0, sizeof(*out));
	const char *colon = memchr(s, ':', len);
	size_t slen = colon ? (size_t)(colon - s) : len;
	/* sensitivity: "s" and 1..4 digits */
	if (slen < 2 || slen > 5 || s[0] != 's' || slen + 1 > sens_n)
		return -1;
	for (size_t i = 1; i < slen; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(sens, s, slen);
	sens[slen] = '\0';
	if (!colon)
		return 0;
	return mcs__parse_cats(colon + 1, len - slen - 1, out);
}

const char *mcs__context_range(const char *con)
{
	const char *p = con;
	for (int field = 0; field < 3; field++) {
		p = strchr(p, ':');
		if (!p)
			return NULL;
		p++;
	}
	return *p ? p : NULL;
}

int mcs__context_levels(const char *con, char *sens, size_t sens_n, struct mcs_cats *low,
			struct mcs_cats *high)
{
	const char *r = mcs__context_range(con);
	if (!r)
		return -1;
	size_t len = strlen(r);
	/* /proc/PID/attr/current may carry a trailing newline */
	while (len && (r[len - 1] == '\n' || r[len - 1] == '\0'))
		len--;
	const char *dash = memchr(r, '-', len);
	size_t llen = dash ? (size_t)(dash - r) : len;
	if (mcs__parse_level(r, llen, sens, sens_n, low) < 0)
		return -1;
	if (!dash) {
		*high = *low;
		return 0;
	}
	char hsens[8];
	return mcs__parse_level(dash + 1, len - llen - 1, hsens, sizeof(hsens), high);
}

int mcs__context_pair(const char *con, unsigned int *c1, unsigned int *c2)
{
	char sens[8];
	struct mcs_cats low, high;
	if (mcs__context_levels(con, sens, sizeof(sens), &low, &high) < 0)
		return -1;
	if (mcs__count(&low) != 2)
		return 0;
	unsigned int found[2], k = 0;
	for (unsigned int c = 0; c < MCS_NCATS && k < 2; c++)
		if (mcs__has(&low, c))
			found[k++] = c;
	*c1 = found[0];
	*c2 = found[1];
	return 1;
}
