/* SPDX-License-Identifier: MIT */
/*
 * qcow2 header and header extensions: every field is checked against the
 * file size and the format's limits before anything else uses it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow2-priv.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, n, __VA_ARGS__);                                                     \
		return -EINVAL;                                                                    \
	} while (0)

static bool range_in(uint64_t off, uint64_t len, uint64_t end)
{
	return off <= end && len <= end - off;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Names unknown incompatible bits from the feature name table, if any. */
static void name_features(const uint8_t *tab, uint32_t tlen, uint64_t bits, char *out, size_t n)
{
	size_t used = 0;
	out[0] = 0;
	for (unsigned b = 0; b < 64; b++) {
		if (!(bits & (1ull << b)))
			continue;
		char name[47] = "";
		for (uint32_t i = 0; tab && i + 48 <= tlen; i += 48) {
			if (tab[i] == 0 && tab[i + 1] == b) {
				memcpy(name, tab + i + 2, 46);
				for (int k = 0; k < 46; k++)
					if (name[k] && (name[k] < 0x20 || name[k] > 0x7e))
						name[k] = '?';
			}
		}
		int r = snprintf(out + used, n - used, "%s%u%s%s%s", used ? ", " : "", b,
				 name[0] ? " (" : "", name, name[0] ? ")" : "");
		if (r < 0 || (size_t)r >= n - used)
			return;
		used += (size_t)r;
	}
}

static int parse_extensions(const uint8_t *buf, uint64_t start, uint64_t end,
			    struct qcow2_header *h, char *err, size_t n)
{
	const uint8_t *features = NULL;
	uint32_t flen = 0;
	uint64_t off = start;
	while (off + 8 <= end) {
		uint32_t type = qcow2__be32(buf + off), len = qcow2__be32(buf + off + 4);
		if (type == QCOW2_EXT_END)
			break;
		if (len > end - off - 8)
			FAIL("qcow2: header extension 0x%08x at %" PRIu64 " runs past %" PRIu64,
			     type, off, end);
		const uint8_t *d = buf + off + 8;
		switch (type) {
		case QCOW2_EXT_BACKING_FMT:
			if (len > QCOW2_MAX_FMT_LEN)
				FAIL("qcow2: backing format name too long (%u bytes)", len);
			memcpy(h->backing_fmt, d, len);
			h->backing_fmt[len] = 0;
			if (strlen(h->backing_fmt) != len)
				FAIL("qcow2: backing format name contains a NUL byte");
			break;
		case QCOW2_EXT_FEATURES:
			features = d;
			flen = len;
			break;
		case QCOW2_EXT_DATA_FILE:
			FAIL("qcow2: external data files are not supported");
		case QCOW2_EXT_CRYPTO:
			FAIL("qcow2: encrypted images are not supported");
		default:
			break; /* unknown extensions may be ignored */
		}
		off += 8 + (((uint64_t)len + 7) & ~7ull);
	}
	uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESS;
	if (h->incompat & QCOW2_INCOMPAT_DATA_FILE)
		FAIL("qcow2: external data files are not supported");
	if (h->incompat & QCOW2_INCOMPAT_EXTL2)
		FAIL("qcow2: extended L2 entries (subclusters) are not supported");
	if (h->incompat & ~known) {
		char names[256];
		name_features(features, flen, h->incompat & ~known, names, sizeof(names));
		FAIL("qcow2: unsupported incompatible feature bit(s) %s", names);
	}
	return 0;
}

int qcow2__parse_header(const uint8_t *buf, size_t len, uint64_t file_size, struct qcow2_header *h,
			size_t *need, char *err, size_t n)
{
	memset(h, 0, sizeof(*h));
	*need = QCOW2_HDR_V3_LEN + 8;
	if (len < QCOW2_HDR_V2_LEN || file_size < QCOW2_HDR_V2_LEN)
		FAIL("qcow2: file too small for a header (%" PRIu64 " bytes)", file_size);
	if (qcow2__be32(buf) != QCOW2_MAGIC)
		FAIL("qcow2: bad magic (not a qcow2 image)");
	h->version = qcow2__be32(buf + 4);
	h->backing_off = qcow2__be64(buf + 8);
	h->backing_len = qcow2__be32(buf + 16);
	h->cluster_bits = qcow2__be32(buf + 20);
	h->size = qcow2__be64(buf + 24);
	h->crypt = qcow2__be32(buf + 32);
	h->l1_size = qcow2__be32(buf + 36);
	h->l1_off = qcow2__be64(buf + 40);
	h->rt_off = qcow2__be64(buf + 48);
	h->rt_clusters = qcow2__be32(buf + 56);
	h->nb_snapshots = qcow2__be32(buf + 60);
	h->snapshots_off = qcow2__be64(buf + 64);
	if (h->version != 2 && h->version != 3)
		FAIL("qcow2: unsupported version %u", h->version);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		FAIL("qcow2: cluster_bits %u outside %d..%d", h->cluster_bits,
		     QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
	uint64_t cs = 1ull << h->cluster_bits;
	if (h->version == 2) {
		h->refcount_order = 4;
		h->hdr_len = QCOW2_HDR_V2_LEN;
	} else {
		if (len < QCOW2_HDR_V3_LEN)
			FAIL("qcow2: file too small for a version 3 header");
		h->incompat = qcow2__be64(buf + 72);
		h->compat = qcow2__be64(buf + 80);
		h->autoclear = qcow2__be64(buf + 88);
		h->refcount_order = qcow2__be32(buf + 96);
		h->hdr_len = qcow2__be32(buf + 100);
		if (h->hdr_len < QCOW2_HDR_V3_LEN || h->hdr_len % 8 || h->hdr_len > cs)
			FAIL("qcow2: bad header length %u", h->hdr_len);
	}
	/* everything below needs the whole first cluster (or file) */
	*need = (size_t)(cs < file_size ? cs : file_size);
	if (len < *need)
		return -EAGAIN;
	if (h->hdr_len > len)
		FAIL("qcow2: header length %u runs past the end of the file", h->hdr_len);
	if (h->hdr_len > QCOW2_HDR_V3_LEN)
		h->compression = buf[104];
	if (h->refcount_order > 6)
		FAIL("qcow2: refcount_order %u unsupported (0..6)", h->refcount_order);
	if (h->crypt)
		FAIL("qcow2: encrypted images are not supported (crypt_method %u)", h->crypt);
	if (h->compression != 0)
		FAIL("qcow2: compression type %u unsupported (only zlib)", h->compression);
	if (h->size % 512 || h->size > QCOW2_MAX_SIZE)
		FAIL("qcow2: bad virtual size %" PRIu64, h->size);
	/* L1: big enough for the virtual size, inside the file, not the header */
	unsigned shift = h->cluster_bits + (h->cluster_bits - 3);
	uint64_t need_l1 = (h->size + (1ull << shift) - 1) >> shift;
	if (h->l1_size < need_l1)
		FAIL("qcow2: L1 table too small (%u entries) for the virtual size", h->l1_size);
	if ((uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		FAIL("qcow2: L1 table too large (%u entries)", h->l1_size);
	uint64_t l1_bytes = (uint64_t)h->l1_size * 8;
	if (h->l1_size &&
	    (h->l1_off % cs || h->l1_off < cs || !range_in(h->l1_off, l1_bytes, file_size)))
		FAIL("qcow2: L1 table offset %#" PRIx64
		     " invalid (unaligned, in the header or past "
		     "the end of the file)",
		     h->l1_off);
	/* refcount table */
	uint64_t rt_bytes = (uint64_t)h->rt_clusters << h->cluster_bits;
	if (h->rt_clusters == 0 || rt_bytes > QCOW2_MAX_RT_BYTES)
		FAIL("qcow2: refcount table size %u clusters invalid", h->rt_clusters);
	if (h->rt_off % cs || h->rt_off < cs || !range_in(h->rt_off, rt_bytes, file_size))
		FAIL("qcow2: refcount table offset %#" PRIx64
		     " invalid (unaligned, in the header or "
		     "past the end of the file)",
		     h->rt_off);
	if (overlap(h->l1_off, (l1_bytes + cs - 1) & ~(cs - 1), h->rt_off, rt_bytes))
		FAIL("qcow2: L1 table and refcount table overlap");
	if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
		FAIL("qcow2: too many snapshots (%u)", h->nb_snapshots);
	if (h->nb_snapshots &&
	    (h->snapshots_off % cs || h->snapshots_off < cs || h->snapshots_off >= file_size))
		FAIL("qcow2: snapshot table offset %#" PRIx64 " invalid", h->snapshots_off);
	/* backing file name: inside the first cluster, after the header */
	uint64_t ext_end = *need;
	if (h->backing_off) {
		if (h->backing_len > QCOW2_MAX_BACKING_LEN)
			FAIL("qcow2: backing file name too long (%u bytes)", h->backing_len);
		if (h->backing_off < h->hdr_len || !range_in(h->backing_off, h->backing_len, *need))
			FAIL("qcow2: backing file name at %#" PRIx64 " outside the first cluster",
			     h->backing_off);
		memcpy(h->backing, buf + h->backing_off, h->backing_len);
		h->backing[h->backing_len] = 0;
		if (strlen(h->backing) != h->backing_len)
			FAIL("qcow2: backing file name contains a NUL byte");
		ext_end = h->backing_off;
	} else if (h->backing_len) {
		FAIL("qcow2: backing file name length without an offset");
	}
	return parse_extensions(buf, h->hdr_len, ext_end, h, err, n);
}

int qcow2__read_header(int fd, struct qcow2_header *h, uint64_t *file_size, char *err, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, n, "qcow2: fstat: %s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, n, "qcow2: not a regular file or block device");
		return -EINVAL;
	}
	*file_size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END); /* st_size is 0 for block devices */
		if (end < 0) {
			int e = errno;
			snprintf(err, n, "qcow2: device size: %s", strerror(e));
			return -e;
		}
		*file_size = (uint64_t)end;
	}
	size_t len = QCOW2_HDR_V3_LEN + 8, need = 0;
	for (int round = 0; round < 2; round++) {
		uint8_t *buf = calloc(1, len);
		if (!buf) {
			snprintf(err, n, "qcow2: out of memory");
			return -ENOMEM;
		}
		ssize_t r = pread(fd, buf, len, 0);
		if (r < 0) {
			int e = errno;
			free(buf);
			snprintf(err, n, "qcow2: reading the header: %s", strerror(e));
			return -e;
		}
		int ret = qcow2__parse_header(buf, (size_t)r, *file_size, h, &need, err, n);
		free(buf);
		if (ret != -EAGAIN)
			return ret;
		len = need;
	}
	snprintf(err, n, "qcow2: header changed while reading");
	return -EIO;
}

int qcow2__probe_backing(int fd, char *name, size_t n, char *fmt, size_t fn, char *err, size_t en)
{
	struct qcow2_header h;
	uint64_t fsize;
	if (n)
		name[0] = 0;
	if (fn)
		fmt[0] = 0;
	int r = qcow2__read_header(fd, &h, &fsize, err, en);
	if (r < 0)
		return r;
	if (!h.backing[0])
		return 0;
	if (strlen(h.backing) >= n || strlen(h.backing_fmt) >= fn) {
		snprintf(err, en, "qcow2: backing file name or format too long for the buffer");
		return -ENAMETOOLONG;
	}
	memcpy(name, h.backing, strlen(h.backing) + 1);
	memcpy(fmt, h.backing_fmt, strlen(h.backing_fmt) + 1);
	return 1;
}
