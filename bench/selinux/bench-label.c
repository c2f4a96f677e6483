/* SPDX-License-Identifier: MIT */
/*
 * bench-label IMAGE [N]: the time cellvm takes to label an image for a VM
 * and restore it (label__image_set + label__image_restore: open, flock,
 * remember the label in trusted.cellvm.*, relabel, and back), against what
 * chcon does for the same two relabels (lgetfilecon + lsetfilecon to the
 * VM's label, then back). Median of N rounds each, one JSON line.
 * Runs in cellvm_t on an SELinux kernel (tests/selinux/real, case label_time).
 */
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "selinux/label.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	char err[256], want[LABEL_CON_MAX];
	struct vm_label vl;
	if (argc < 2) {
		fprintf(stderr, "usage: bench-label IMAGE [N]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 51;
	if (n < 1 || n > 100000)
		n = 51;
	if (label__init(LABEL_REQUIRE, err, sizeof(err)) < 0 ||
	    label__vm_reserve(&vl, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench-label: %s\n", err);
		return 1;
	}
	char *orig = NULL;
	if (lgetfilecon_raw(argv[1], &orig) < 0 ||
	    label__obj_con(&vl, "cellvm_image_t", want, sizeof(want)) < 0) {
		perror("bench-label: label of the image");
		return 1;
	}
	/* the VM's image label, as label__image_set sets it (the image is system_u too) */
	double *cv = calloc((size_t)n, sizeof(double)), *cc = calloc((size_t)n, sizeof(double));
	if (!cv || !cc)
		return 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		if (label__image_set(&vl, argv[1], IMAGE_RW_PRIVATE, err, sizeof(err)) < 0 ||
		    label__image_restore(&vl, argv[1], err, sizeof(err)) < 0) {
			fprintf(stderr, "bench-label: %s\n", err);
			return 1;
		}
		double t1 = now_us();
		char *cur = NULL;
		if (lgetfilecon_raw(argv[1], &cur) < 0 || lsetfilecon_raw(argv[1], want) < 0) {
			perror("bench-label: chcon");
			return 1;
		}
		freecon(cur);
		if (lgetfilecon_raw(argv[1], &cur) < 0 || lsetfilecon_raw(argv[1], orig) < 0) {
			perror("bench-label: chcon back");
			return 1;
		}
		freecon(cur);
		double t2 = now_us();
		cv[i] = t1 - t0;
		cc[i] = t2 - t1;
	}
	char *after = NULL;
	if (lgetfilecon_raw(argv[1], &after) < 0 || strcmp(after, orig)) {
		fprintf(stderr, "bench-label: the image is %s, was %s\n", after ? after : "?",
			orig);
		return 1;
	}
	double m = median(cv, n), p = median(cc, n);
	const char *host = getenv("CELLVM_HOST");
	printf("{\"metric\": \"selinux_image_label_restore\", \"value\": %.1f, \"unit\": \"us\", "
	       "\"vs\": \"chcon (lgetfilecon+lsetfilecon, there and back)\", \"vs_value\": %.1f, "
	       "\"ratio\": %.2f, \"n\": %d%s%s%s}\n",
	       m, p, m / p, n, host ? ", \"host\": \"" : "", host ? host : "", host ? "\"" : "");
	freecon(orig);
	freecon(after);
	free(cv);
	free(cc);
	label__vm_release(&vl);
	return 0;
}
