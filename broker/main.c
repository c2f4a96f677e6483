/* SPDX-License-Identifier: MIT */
/* cellvm: the broker. Subcommands: run, policy, version. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "ctl.h"
#include "options.h"
#include "policy/profile.h"
#include "vm.h"

uint64_t broker_start_ns;

static void usage(FILE *f)
{
	fprintf(f, "usage: cellvm run [options]                 boot a VM (cellvm run --help)\n"
		   "       cellvm policy show [TYPE] [--json]  each process type's confinement\n"
		   "       cellvm status|stop --control PATH        ask a running VM\n"
		   "       cellvm screendump --control PATH OUT.png  its display as a PNG\n"
		   "       cellvm version\n");
}

static int policy_cmd(int argc, char **argv)
{
	const char *type = NULL;
	bool json = false;
	if (argc < 3 || strcmp(argv[2], "show")) {
		log__err("usage: cellvm policy show [TYPE] [--json]");
		return CV_EXIT_ERROR;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!type && argv[i][0] != '-')
			type = argv[i];
		else {
			log__err("policy show: unexpected argument '%s'", argv[i]);
			return CV_EXIT_ERROR;
		}
	}
	if (policy__show(stdout, type, json) < 0) {
		log__err("policy show: no process type '%s'", type);
		return CV_EXIT_ERROR;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	broker_start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	log__set_role("cellvm");
	log__set_level(0);

	if (argc < 2 || !strcmp(argv[1], "run")) {
		struct run_opts o;
		int r = options__parse(argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv, &o);
		if (r)
			return r > 0 ? 0 : CV_EXIT_ERROR;
		log__set_level(o.verbose);
		return vm__run(&o);
	}
	if (!strcmp(argv[1], "status") || !strcmp(argv[1], "stop") ||
	    !strcmp(argv[1], "screendump"))
		return ctl__client(argc, argv);
	if (!strcmp(argv[1], "policy"))
		return policy_cmd(argc, argv);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("cellvm %s\n", CV_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	log__err("unknown command '%s'", argv[1]);
	usage(stderr);
	return CV_EXIT_ERROR;
}
