/* SPDX-License-Identifier: MIT */
/*
 * cellvm-screendump: fd 3 = the display memfd (read-only), fd 4 = where the
 * PNG goes (opened by the user who asked). Confined, then one PNG, then exit.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "display.h"
#include "log.h"
#include "seccomp/jail.h"

int main(void)
{
	char err[200];
	struct stat st;
	log__set_role("screendump");
	if (fstat(3, &st) < 0 || st.st_size < (off_t)DISPLAY_STATE_SIZE)
		log__die(1, "display: not a display memfd");
	const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, 3, 0);
	if (map == MAP_FAILED)
		log__die(1, "display: mmap: %s", strerror(errno));
	if (jail__lockdown("screendump", false, err, sizeof(err)) < 0)
		log__die(1, "confinement: %s", err);
	struct display_view v;
	int r = display__read(map, (size_t)st.st_size, &v);
	if (r == -EINVAL)
		log__die(2, "display: invalid mode published by the vga device");
	if (r < 0 || !v.enabled)
		memset(&v, 0, sizeof(v)); /* blank */
	r = display__screendump_png(&v, 4);
	if (r < 0)
		log__die(1, "png: %s", strerror(-r));
	return 0;
}
