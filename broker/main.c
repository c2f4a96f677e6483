/* SPDX-License-Identifier: MIT */
/* cellvm: the broker. Subcommands: run, policy, version. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "options.h"
#include "vm.h"

uint64_t broker_start_ns;

static void usage(FILE *f)
{
	fprintf(f, "usage: cellvm run [options]      boot a VM (cellvm run --help)\n"
		   "       cellvm version\n");
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
