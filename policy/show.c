/* SPDX-License-Identifier: MIT */
/* `cellvm policy show [TYPE] [--json]`: each profile's effective confinement. */
#include <string.h>

#include "profile.h"

static const struct {
	unsigned long flag;
	const char *name;
} ns_names[] = {
    {CLONE_NEWUSER, "user"},	 {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mount"},
    {CLONE_NEWNET, "net"},	 {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
    {CLONE_NEWCGROUP, "cgroup"},
};

/* JSON string body: our tables hold plain ASCII, but escape anyway. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void cmp_text(FILE *out, const struct sc_cmp *c)
{
	switch (c->op) {
	case SC_EQ:
		fprintf(out, "arg%u == %s (0x%llx)", c->arg, c->what, (unsigned long long)c->val);
		break;
	case SC_MASKED_EQ:
		fprintf(out, "arg%u & %s", c->arg, c->what);
		break;
	case SC_EQ_SELF_PID:
		fprintf(out, "arg%u == own pid", c->arg);
		break;
	}
}

static void rule_filter_text(FILE *out, const struct sc_rule *r)
{
	for (unsigned k = 0; k < r->ncmp; k++) {
		if (k)
			fputs(" && ", out);
		cmp_text(out, &r->cmp[k]);
	}
	if (r->errno_ret)
		fprintf(out, "%sreturns -%s", r->ncmp ? "; " : "", strerrorname_np(r->errno_ret));
}

static void rlim_text(FILE *out, rlim_t v)
{
	if (v == RLIM_INFINITY)
		fputs("unlimited", out);
	else
		fprintf(out, "%llu", (unsigned long long)v);
}

static void show_text(FILE *out, const struct profile *p)
{
	fprintf(out, "%s: %s\n", p->type, p->desc);
	fprintf(out, "  selinux type: %s\n", p->selinux_type);
	fprintf(out, "  capabilities: %s\n",
		p->caps ? "SOME (unsupported)" : "none (all sets and bounding set empty)");
	fputs("  namespaces:", out);
	for (unsigned i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (p->namespaces & ns_names[i].flag)
			fprintf(out, " %s", ns_names[i].name);
	fputc('\n', out);
	fprintf(out,
		"  landlock: filesystem %s; tcp bind/connect %s; abstract unix sockets and signals "
		"%s\n",
		p->landlock_fs ? "all access denied" : "not restricted",
		p->landlock_net ? "denied" : "not restricted",
		p->landlock_scope ? "scoped" : "not scoped");
	fprintf(out, "  threads: %s; guest RAM: %s\n", p->threads ? "yes" : "no",
		p->guest_ram ? "may receive" : "never");
	fputs("  rlimits:", out);
	for (unsigned i = 0; i < p->nrlimits; i++) {
		fprintf(out, " %s=", p->rlimits[i].name + strlen("RLIMIT_"));
		rlim_text(out, p->rlimits[i].value);
	}
	fputc('\n', out);
	fprintf(out, "  syscalls allowed: %u (everything else kills the process)\n",
		profile__nr_allowed(p));
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		fprintf(out, "    %-20s", r->name);
		if (r->ncmp || r->errno_ret) {
			fputs(" [", out);
			rule_filter_text(out, r);
			fputs("]", out);
		}
		fprintf(out, "  # %s\n", r->why);
	}
}

static void show_json(FILE *out, const struct profile *p)
{
	fputs("{\"type\":", out);
	json_str(out, p->type);
	fputs(",\"desc\":", out);
	json_str(out, p->desc);
	fputs(",\"selinux_type\":", out);
	json_str(out, p->selinux_type);
	fprintf(out, ",\"capabilities\":[],\"caps_mask\":%llu", (unsigned long long)p->caps);
	fputs(",\"namespaces\":[", out);
	bool first = true;
	for (unsigned i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++) {
		if (!(p->namespaces & ns_names[i].flag))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",", ns_names[i].name);
		first = false;
	}
	fprintf(out, "],\"landlock\":{\"fs_deny_all\":%s,\"net_deny_tcp\":%s,\"scoped\":%s}",
		p->landlock_fs ? "true" : "false", p->landlock_net ? "true" : "false",
		p->landlock_scope ? "true" : "false");
	fprintf(out, ",\"threads\":%s,\"guest_ram\":%s", p->threads ? "true" : "false",
		p->guest_ram ? "true" : "false");
	fputs(",\"rlimits\":{", out);
	for (unsigned i = 0; i < p->nrlimits; i++) {
		fprintf(out, "%s\"%s\":", i ? "," : "", p->rlimits[i].name + strlen("RLIMIT_"));
		if (p->rlimits[i].value == RLIM_INFINITY)
			fputs("null", out);
		else
			fprintf(out, "%llu", (unsigned long long)p->rlimits[i].value);
	}
	fprintf(out, "},\"syscall_count\":%u,\"rules\":[", profile__nr_allowed(p));
	for (unsigned i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		fprintf(out, "%s{\"syscall\":", i ? "," : "");
		json_str(out, r->name);
		fprintf(out, ",\"action\":\"%s\"", r->errno_ret ? "errno" : "allow");
		if (r->errno_ret)
			fprintf(out, ",\"errno\":%d", r->errno_ret);
		fputs(",\"args\":[", out);
		for (unsigned k = 0; k < r->ncmp; k++) {
			const struct sc_cmp *c = &r->cmp[k];
			fprintf(out, "%s{\"arg\":%u,\"op\":\"%s\"", k ? "," : "", c->arg,
				c->op == SC_EQ		? "eq"
				: c->op == SC_MASKED_EQ ? "masked_eq"
							: "eq_own_pid");
			if (c->op == SC_MASKED_EQ)
				fprintf(out, ",\"mask\":%llu", (unsigned long long)c->mask);
			if (c->op != SC_EQ_SELF_PID)
				fprintf(out, ",\"value\":%llu", (unsigned long long)c->val);
			fputs(",\"what\":", out);
			json_str(out, c->what);
			fputc('}', out);
		}
		fputs("],\"why\":", out);
		json_str(out, r->why);
		fputc('}', out);
	}
	fputs("]}", out);
}

int policy__show(FILE *out, const char *type_or_NULL, bool json)
{
	const struct profile *const *all = profile__all();
	if (type_or_NULL && !profile__find(type_or_NULL))
		return -1;
	if (json)
		fputc('[', out);
	bool first = true;
	for (unsigned i = 0; all[i]; i++) {
		if (type_or_NULL && strcmp(all[i]->type, type_or_NULL) != 0)
			continue;
		if (json) {
			if (!first)
				fputc(',', out);
			show_json(out, all[i]);
		} else {
			if (!first)
				fputc('\n', out);
			show_text(out, all[i]);
		}
		first = false;
	}
	if (json)
		fputs("]\n", out);
	return 0;
}
