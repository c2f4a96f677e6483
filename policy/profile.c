/* SPDX-License-Identifier: MIT */
/* The table of profiles and small queries on it. */
#include <string.h>

#include "profile.h"
#include "types.h"

#define X(t) extern const struct profile profile_##t;
CV_PROCESS_TYPES(X)
#undef X

static const struct profile *const profiles[] = {
#define X(t) &profile_##t,
    CV_PROCESS_TYPES(X)
#undef X
	NULL,
};

const struct profile *const *profile__all(void)
{
	return profiles;
}

const struct profile *profile__find(const char *type)
{
	if (!type)
		return NULL;
	for (unsigned i = 0; profiles[i]; i++)
		if (strcmp(profiles[i]->type, type) == 0)
			return profiles[i];
	return NULL;
}

unsigned profile__nr_allowed(const struct profile *p)
{
	unsigned n = 0;
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		if (r->errno_ret)
			continue;
		bool seen = false;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = !p->rules[j].errno_ret && strcmp(p->rules[j].name, r->name) == 0;
		if (!seen)
			n++;
	}
	return n;
}

bool profile__allows(const struct profile *p, const char *name)
{
	for (unsigned i = 0; i < p->nrules; i++)
		if (!p->rules[i].errno_ret && strcmp(p->rules[i].name, name) == 0)
			return true;
	return false;
}

rlim_t profile__rlimit(const struct profile *p, int resource, bool *found)
{
	for (unsigned i = 0; i < p->nrlimits; i++) {
		if (p->rlimits[i].resource == resource) {
			if (found)
				*found = true;
			return p->rlimits[i].value;
		}
	}
	if (found)
		*found = false;
	return RLIM_INFINITY;
}
