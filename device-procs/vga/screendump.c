/* SPDX-License-Identifier: MIT */
/* PNG screendump of a display view (libpng), written to an inherited fd. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display.h"

static void png_write_fd(png_structp png, png_bytep data, png_size_t len)
{
	int fd = *(int *)png_get_io_ptr(png);
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			png_error(png, "write failed");
		data += n;
		len -= (size_t)n;
	}
}

static void png_flush_fd(png_structp png)
{
	(void)png;
}

/* One line of the view as 8-bit RGB. */
static void convert_line(const struct display_view *v, uint32_t y, uint8_t *out)
{
	if (!v->enabled || !v->pixels) {
		memset(out, 0, (size_t)v->width * 3);
		return;
	}
	const uint8_t *src = v->pixels + (size_t)y * v->stride;
	for (uint32_t x = 0; x < v->width; x++) {
		uint8_t r, g, b;
		if (v->bpp == 32) {
			uint32_t p;
			memcpy(&p, src + x * 4, 4);
			r = p >> 16;
			g = p >> 8;
			b = p;
		} else {
			uint16_t p;
			memcpy(&p, src + x * 2, 2);
			r = ((p >> 11) & 31) * 255 / 31;
			g = ((p >> 5) & 63) * 255 / 63;
			b = (p & 31) * 255 / 31;
		}
		out[x * 3] = r;
		out[x * 3 + 1] = g;
		out[x * 3 + 2] = b;
	}
}

/* None of the locals below changes after setjmp(), so -Wclobbered is a false alarm. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
int display__screendump_png(const struct display_view *view, int out_fd)
{
	static const struct display_view blank = {.width = 1, .height = 1, .bpp = 32};
	const struct display_view *const v =
	    (!view || view->width == 0 || view->height == 0) ? &blank : view;
	if (v->width > DISPLAY_MAX_WIDTH || v->height > DISPLAY_MAX_HEIGHT)
		return -EINVAL;
	if (v->enabled && (!v->pixels || (v->bpp != 16 && v->bpp != 32)))
		return -EINVAL;
	uint8_t *volatile line = malloc((size_t)v->width * 3);
	if (!line)
		return -ENOMEM;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info) {
		png_destroy_write_struct(&png, NULL);
		free(line);
		return -ENOMEM;
	}
	int fd = out_fd;
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(line);
		return -EIO;
	}
	png_set_write_fn(png, &fd, png_write_fd, png_flush_fd);
	png_set_IHDR(png, info, v->width, v->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < v->height; y++) {
		convert_line(v, y, line);
		png_write_row(png, line);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(line);
	return 0;
}
