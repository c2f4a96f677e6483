/* SPDX-License-Identifier: MIT */
/*
 * gen-domains te|fc: the per-process-type part of the cellvm policy module,
 * derived from the profiles (policy/types.h, policy/<type>.c), which
 * build-module.sh appends to cellvm.te and cellvm.fc. A process type gets
 * its domain from here, so a new type needs no SELinux edit unless it
 * touches objects other than its ring and guest RAM.
 *
 *   te: one domain per type (cellvm_device_domain_template for a profile
 *       with a ring, cellvm_vm_domain_template otherwise) and, for a
 *       profile with guest_ram, guest RAM access;
 *   fc: its helper's two installed paths.
 */
#include <stdio.h>
#include <string.h>

#include "policy/profile.h"

static int te(void)
{
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		const struct profile *p = *pp;
		printf("\n# %s: %s (policy/%s.c)\n", p->type, p->desc, p->type);
		printf("cellvm_%s_domain_template(%s)\n", p->ring ? "device" : "vm", p->type);
		if (p->guest_ram)
			printf("allow %s cellvm_ram_t:file { getattr read write map };\n",
			       p->selinux_type);
	}
	return 0;
}

static int fc(void)
{
	static const char *const prefixes[] = {"/usr", "/usr/local"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		for (const struct profile *const *pp = profile__all(); *pp; pp++)
			printf("%s/libexec/cellvm/(cellvm-)?%s\t--\tgen_context(system_u:object_r:"
			       "cellvm_%s_exec_t,s0)\n",
			       prefixes[i], (*pp)->type, (*pp)->type);
	return 0;
}

int main(int argc, char **argv)
{
	/* every domain is cellvm_<type>_t: the templates derive it from the type */
	for (const struct profile *const *pp = profile__all(); *pp; pp++) {
		char want[64];
		snprintf(want, sizeof(want), "cellvm_%s_t", (*pp)->type);
		if (strcmp(want, (*pp)->selinux_type)) {
			fprintf(stderr, "gen-domains: profile %s: SELinux type %s, not %s\n",
				(*pp)->type, (*pp)->selinux_type, want);
			return 1;
		}
	}
	if (argc == 2 && !strcmp(argv[1], "te"))
		return te();
	if (argc == 2 && !strcmp(argv[1], "fc"))
		return fc();
	fprintf(stderr, "usage: gen-domains te|fc\n");
	return 2;
}
