/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the qcow2 backend: opens an image (and its backing chain,
 * the way the broker does: probe, resolve, chain check, open bottom-up) and
 * runs commands on it:
 *
 *   qcow2-tool [-r] IMAGE CMD ARGS [CMD ARGS]...
 *     info                     print the virtual size
 *     probe                    print the backing file name and format
 *     write OFF LEN PAT        write byte PAT (e.g. 0xab)
 *     read OFF LEN PAT         read and check every byte is PAT
 *     readany OFF LEN          read, data not checked
 *     writefile OFF LEN FILE   copy FILE[OFF, OFF+LEN) to the image at OFF
 *     cmpfile OFF LEN FILE     check the image matches FILE[OFF, OFF+LEN)
 *     zero OFF LEN unmap|keep  write-zeroes
 *     discard OFF LEN
 *     flush
 * Exit status: 0 ok, 1 a command failed or data differed, 2 open failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device-procs/qcow2/qcow2.h"

#define CHUNK (1u << 20)

/* raw backing files: the fd is the disk */
static ssize_t raw_preadv(struct blk_backend *b, const struct iovec *iov, int cnt, uint64_t off)
{
	int fd = (int)(intptr_t)b->priv;
	size_t want = 0;
	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	ssize_t r = preadv(fd, iov, cnt, (off_t)off);
	if (r < 0)
		return -errno;
	if ((size_t)r < want)
		return -EIO;
	return r;
}

static void raw_close(struct blk_backend *b)
{
	close((int)(intptr_t)b->priv);
	free(b);
}

static const struct blk_backend_ops raw_ops = {
    .name = "raw", .preadv = raw_preadv, .close = raw_close};

static int open_chain(const char *path, bool ro, struct qcow2_chain *chain,
		      struct blk_backend **out, const char *fmt)
{
	char err[256], name[1100], bfmt[32];
	int fd = open(path, ro ? O_RDONLY : O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (qcow2__chain_add(chain, fd, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		close(fd);
		return -1;
	}
	if (fmt && strcmp(fmt, "raw") == 0) {
		struct blk_backend *b = calloc(1, sizeof(*b));
		off_t end = lseek(fd, 0, SEEK_END);
		b->ops = &raw_ops;
		b->size = (uint64_t)end & ~511ull;
		b->readonly = true;
		b->priv = (void *)(intptr_t)fd;
		*out = b;
		return 0;
	}
	int r = qcow2__probe_backing(fd, name, sizeof(name), bfmt, sizeof(bfmt), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		close(fd);
		return -1;
	}
	struct blk_backend *backing = NULL;
	if (r == 1) {
		char dir[4096], full[5200];
		snprintf(dir, sizeof(dir), "%s", path);
		if (name[0] == '/')
			snprintf(full, sizeof(full), "%s", name);
		else
			snprintf(full, sizeof(full), "%s/%s", dirname(dir), name);
		if (open_chain(full, true, chain, &backing, bfmt[0] ? bfmt : "qcow2") < 0) {
			close(fd);
			return -1;
		}
	}
	r = qcow2__open(fd, ro, backing, out, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		if (backing)
			backing->ops->close(backing);
		close(fd);
		return -1;
	}
	return 0;
}

/* Split buf into a few uneven pieces so the iovec paths get exercised. */
static int split(uint8_t *buf, size_t len, struct iovec *iov)
{
	static const size_t cuts[] = {1, 511, 4097, 100, 65536};
	int n = 0;
	size_t off = 0;
	for (unsigned i = 0; i < 5 && off < len; i++) {
		size_t m = cuts[i] < len - off ? cuts[i] : len - off;
		iov[n].iov_base = buf + off;
		iov[n++].iov_len = m;
		off += m;
	}
	if (off < len) {
		iov[n].iov_base = buf + off;
		iov[n++].iov_len = len - off;
	}
	return n;
}

static int file_range(const char *path, uint64_t off, size_t len, uint8_t *buf)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	memset(buf, 0, len);
	ssize_t r = pread(fd, buf, len, (off_t)off);
	close(fd);
	return r < 0 ? -1 : 0;
}

static int rw(struct blk_backend *b, const char *cmd, uint64_t off, uint64_t len, const char *arg)
{
	uint8_t *buf = malloc(CHUNK), *want = malloc(CHUNK);
	struct iovec iov[6];
	int ret = 0;
	unsigned pat = (unsigned)strtoul(arg, NULL, 0);
	for (uint64_t done = 0; done < len && !ret; done += CHUNK) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		bool file = strstr(cmd, "file") != NULL;
		if (file && file_range(arg, off + done, n, want) < 0) {
			fprintf(stderr, "%s: cannot read\n", arg);
			ret = 1;
			break;
		}
		if (!file)
			memset(want, (int)pat, n);
		int k = split(buf, n, iov);
		ssize_t r;
		if (!strncmp(cmd, "write", 5)) {
			memcpy(buf, want, n);
			r = b->ops->pwritev(b, iov, k, off + done);
		} else {
			r = b->ops->preadv(b, iov, k, off + done);
		}
		if (r != (ssize_t)n) {
			fprintf(stderr, "%s at %" PRIu64 ": %s\n", cmd, off + done,
				r < 0 ? strerror((int)-r) : "short");
			ret = 1;
		} else if (strncmp(cmd, "write", 5) && strcmp(cmd, "readany") &&
			   memcmp(buf, want, n)) {
			size_t i = 0;
			while (buf[i] == want[i])
				i++;
			fprintf(stderr, "%s: mismatch at %" PRIu64 ": %#x, expected %#x\n", cmd,
				off + done + i, buf[i], want[i]);
			ret = 1;
		}
	}
	free(buf);
	free(want);
	return ret;
}

int main(int argc, char **argv)
{
	bool ro = false;
	int i = 1;
	if (i < argc && !strcmp(argv[i], "-r"))
		ro = true, i++;
	if (argc - i < 1) {
		fprintf(stderr, "usage: qcow2-tool [-r] IMAGE CMD ARGS...\n");
		return 2;
	}
	const char *path = argv[i++];
	struct qcow2_chain chain;
	struct blk_backend *b;
	qcow2__chain_init(&chain);
	if (i < argc && !strcmp(argv[i], "probe")) {
		char err[256], name[1100], fmt[32];
		int fd = open(path, O_RDONLY);
		int r = fd < 0 ? -errno
			       : qcow2__probe_backing(fd, name, sizeof(name), fmt, sizeof(fmt), err,
						      sizeof(err));
		if (r < 0) {
			fprintf(stderr, "%s\n", fd < 0 ? strerror(-r) : err);
			return 2;
		}
		printf("backing=%s fmt=%s\n", name, fmt);
		return 0;
	}
	if (open_chain(path, ro, &chain, &b, NULL) < 0)
		return 2;
	int ret = 0;
	while (i < argc && !ret) {
		const char *cmd = argv[i++];
		int need = 3;
		if (!strcmp(cmd, "info") || !strcmp(cmd, "flush"))
			need = 0;
		else if (!strcmp(cmd, "discard") || !strcmp(cmd, "readany"))
			need = 2;
		if (argc - i < need) {
			fprintf(stderr, "%s: missing arguments\n", cmd);
			ret = 1;
			break;
		}
		uint64_t off = need ? strtoull(argv[i], NULL, 0) : 0;
		uint64_t len = need ? strtoull(argv[i + 1], NULL, 0) : 0;
		int r = 0;
		if (need && (off > b->size || len > b->size - off)) {
			fprintf(stderr, "%s: range past the end of the disk\n", cmd);
			ret = 1;
		} else if (!strcmp(cmd, "info")) {
			printf("size=%" PRIu64 "\n", b->size);
		} else if (!strcmp(cmd, "flush")) {
			r = b->ops->flush(b);
		} else if (!strcmp(cmd, "readany")) {
			ret = rw(b, cmd, off, len, "-1");
		} else if (!strcmp(cmd, "discard")) {
			r = b->ops->discard(b, off, len);
		} else if (!strcmp(cmd, "zero")) {
			r = b->ops->write_zeroes(b, off, len, !strcmp(argv[i + 2], "unmap"));
		} else if (!strcmp(cmd, "write") || !strcmp(cmd, "read") ||
			   !strcmp(cmd, "writefile") || !strcmp(cmd, "cmpfile")) {
			ret = rw(b, cmd, off, len, argv[i + 2]);
		} else {
			fprintf(stderr, "unknown command %s\n", cmd);
			ret = 1;
		}
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cmd, strerror(-r));
			ret = 1;
		}
		i += need;
	}
	b->ops->close(b);
	return ret;
}
