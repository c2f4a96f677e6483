/* SPDX-License-Identifier: MIT */
/* The demo blob linked into the broker must be byte-identical to guest-demo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const unsigned char cv_guest_demo[];
extern const unsigned int cv_guest_demo_len;

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 22];
	size_t n;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s guest-demo\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == 0 || n == sizeof(buf)) {
		fprintf(stderr, "%s: empty or larger than %zu bytes\n", argv[1], sizeof(buf));
		return 1;
	}
	if (n != cv_guest_demo_len || memcmp(buf, cv_guest_demo, n)) {
		fprintf(stderr, "blob (%u bytes) differs from %s (%zu bytes)\n", cv_guest_demo_len,
			argv[1], n);
		return 1;
	}
	if (memcmp(cv_guest_demo,
		   "\x7f"
		   "ELF",
		   4)) {
		fprintf(stderr, "blob is not an ELF file\n");
		return 1;
	}
	printf("blob matches %s (%zu bytes)\n", argv[1], n);
	return 0;
}
