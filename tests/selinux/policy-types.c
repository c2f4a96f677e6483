/* SPDX-License-Identifier: MIT */
/*
 * policy-types: print "TYPE SELINUX_DOMAIN" for every process type of the
 * one list (profile__all()), so the shell checks of the policy module
 * (check-fc.sh, check-sesearch.sh) derive their lists from it.
 */
#include <stdio.h>

#include "policy/profile.h"

int main(void)
{
	for (const struct profile *const *pp = profile__all(); *pp; pp++)
		printf("%s %s\n", (*pp)->type, (*pp)->selinux_type);
	return 0;
}
