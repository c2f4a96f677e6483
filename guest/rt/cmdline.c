/* SPDX-License-Identifier: MIT */
/* key=value parsing of the kernel command line. */
#include "rt.h"
#include "internal.h"

#define MAX_WORDS 64 /* words after the 64th are ignored */
#define BUF_MAX	  4096

static char words[BUF_MAX];
static const char *keys[MAX_WORDS], *vals[MAX_WORDS];
static unsigned int nwords;

void rt_cmdline_parse(const char *s)
{
	size_t i = 0, n = strlen(s);

	if (n >= BUF_MAX)
		n = BUF_MAX - 1;
	memcpy(words, s, n);
	words[n] = 0;
	nwords = 0;
	while (i < n && nwords < MAX_WORDS) {
		int has_val = 0;

		while (i < n && (words[i] == ' ' || words[i] == '\t' || words[i] == '\n'))
			words[i++] = 0;
		if (i >= n)
			break;
		keys[nwords] = &words[i];
		vals[nwords] = "";
		while (i < n && words[i] != ' ' && words[i] != '\t' && words[i] != '\n') {
			if (words[i] == '=' && !has_val) {
				has_val = 1;
				words[i] = 0;
				vals[nwords] = &words[i + 1];
			}
			i++;
		}
		words[i] = 0; /* i <= n: ends this word even if no other follows */
		if (i < n)
			i++;
		nwords++;
	}
}

const char *rt_cmdline_get(const char *key)
{
	const char *v = NULL;
	unsigned int i;

	for (i = 0; i < nwords; i++)
		if (!strcmp(keys[i], key))
			v = vals[i];
	return v;
}

uint64_t rt_cmdline_u64(const char *key, uint64_t dflt)
{
	const char *v = rt_cmdline_get(key);
	unsigned int base = 10;
	uint64_t r = 0;

	if (!v || !*v)
		return dflt;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
		if (!*v)
			return dflt;
	}
	for (; *v; v++) {
		unsigned int d;

		if (*v >= '0' && *v <= '9')
			d = (unsigned int)(*v - '0');
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = (unsigned int)(*v - 'a' + 10);
		else if (base == 16 && *v >= 'A' && *v <= 'F')
			d = (unsigned int)(*v - 'A' + 10);
		else
			return dflt;
		if (d >= base || r > (UINT64_MAX - d) / base)
			return dflt;
		r = r * base + d;
	}
	return r;
}
