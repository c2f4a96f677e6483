/* SPDX-License-Identifier: MIT */
/* jpeg2ppm FILE.jpg: decode a JPEG (vncsnapshot output) to a binary PPM on stdout. */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 1;
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr e;
	d.err = jpeg_std_error(&e);
	jpeg_create_decompress(&d);
	jpeg_stdio_src(&d, f);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	printf("P6\n%u %u\n255\n", d.output_width, d.output_height);
	unsigned char *row = malloc((size_t)d.output_width * 3);
	while (row && d.output_scanline < d.output_height) {
		jpeg_read_scanlines(&d, &row, 1);
		fwrite(row, 3, d.output_width, stdout);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	free(row);
	fclose(f);
	return 0;
}
