/* SPDX-License-Identifier: MIT */
/* qcow2 internals shared by the files of device-procs/qcow2/. */
#ifndef CELLVM_QCOW2_PRIV_H
#define CELLVM_QCOW2_PRIV_H

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qcow2.h"

#define QCOW2_MAGIC	       0x514649fbu /* "QFI\xfb" */
#define QCOW2_HDR_V2_LEN       72
#define QCOW2_HDR_V3_LEN       104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_SIZE	       (1ull << 56)  /* virtual size limit */
#define QCOW2_MAX_L1_BYTES     (32ull << 20) /* as QEMU */
#define QCOW2_MAX_RT_BYTES     (8ull << 20)  /* as QEMU */
#define QCOW2_SCAN_MAX	       (1ull << 20)  /* refcounts one allocation may inspect */
#define QCOW2_MAX_BACKING_LEN  1023
#define QCOW2_MAX_FMT_LEN      15
#define QCOW2_MAX_SNAPSHOTS    65536

/* incompatible feature bits */
#define QCOW2_INCOMPAT_DIRTY	 (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	 (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESS	 (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	 (1ull << 4)

/* header extensions */
#define QCOW2_EXT_END	      0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURES    0x6803f857u
#define QCOW2_EXT_DATA_FILE   0x44415441u
#define QCOW2_EXT_CRYPTO      0x0537be77u

/* table entries */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull
#define QCOW2_L1_RESERVED      0x7f000000000001ffull
#define QCOW2_L2_RESERVED      0x3f000000000001feull
#define QCOW2_RT_RESERVED      0xff000000000001ffull

struct qcow2_header {
	uint32_t version;
	uint64_t backing_off;
	uint32_t backing_len;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt;
	uint32_t l1_size;
	uint64_t l1_off;
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_off;
	uint64_t incompat, compat, autoclear;
	uint32_t refcount_order;
	uint32_t hdr_len;
	uint8_t compression;
	char backing[QCOW2_MAX_BACKING_LEN + 1];
	char backing_fmt[QCOW2_MAX_FMT_LEN + 1];
};

/*
 * Parse and check the header in buf (the first min(cluster, file) bytes of
 * the image; at least 112 bytes are needed to learn the cluster size, the
 * caller passes what it has and retries with more when *need grows).
 * file_size bounds every table. Returns 0 or -errno with err set.
 */
int qcow2__parse_header(const uint8_t *buf, size_t len, uint64_t file_size, struct qcow2_header *h,
			size_t *need, char *err, size_t n);
/* Read the first cluster of fd and parse it. */
int qcow2__read_header(int fd, struct qcow2_header *h, uint64_t *file_size, char *err, size_t n);

/* A bounded LRU cache of cluster-sized tables (L2 tables or refcount blocks). */
struct qcow2_cache_ent {
	uint64_t off; /* host offset of the table; 0 = empty slot */
	uint64_t lru;
	bool dirty;
	uint8_t *data;
};
struct qcow2_cache {
	struct qcow2_cache_ent *ent;
	unsigned n;
	uint64_t tick;
	bool is_l2;
};

struct qcow2_free {
	uint64_t off, len;
};

struct qcow2 {
	struct blk_backend be;
	pthread_mutex_t lock;
	int fd;
	struct blk_backend *backing;
	uint32_t version;
	unsigned cluster_bits, l2_bits, rb_bits; /* log2 of bytes, L2 entries, refblock entries */
	uint64_t cs;				 /* cluster size */
	uint64_t incompat, autoclear;
	unsigned refcount_order;
	uint64_t refcount_max;
	uint64_t *l1; /* host endian */
	uint32_t l1_size;
	uint64_t l1_off;
	uint32_t l1_dirty_lo, l1_dirty_hi; /* [lo, hi) entries to write back */
	uint64_t *rt;			   /* host endian */
	uint64_t rt_size;		   /* entries */
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint32_t nb_snapshots;
	uint64_t file_size; /* bytes, grows with our writes */
	uint64_t host_end;  /* first cluster index we know nothing is allocated from */
	uint64_t free_hint; /* lowest cluster index that may be free */
	struct qcow2_cache l2c, rbc;
	struct qcow2_free *frees; /* decrements waiting for the next flush */
	size_t nfrees, cfrees;
	uint8_t *cow;	     /* one cluster: allocating writes */
	uint8_t *cbuf;	     /* two clusters: compressed input */
	uint8_t *dbuf;	     /* one cluster: last decompressed cluster */
	uint8_t *zbuf;	     /* one cluster of zeros */
	uint64_t dbuf_entry; /* L2 entry dbuf holds, 0 = none */
	bool unsynced;	     /* writes since the last fdatasync */
	bool broken;	     /* corruption seen: no more writes */
};

static inline uint64_t qcow2__be64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}
static inline uint32_t qcow2__be32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}
static inline void qcow2__put64(void *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}
static inline void qcow2__put32(void *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

/* file I/O (qcow2.c): full transfers or -errno; reads past EOF give zeros */
int qcow2__pread(struct qcow2 *s, void *buf, size_t len, uint64_t off);
/* [skip, skip+len) of iov from/to the file at off; scratch holds cnt entries */
int qcow2__io_iov(struct qcow2 *s, const struct iovec *iov, int cnt, size_t skip, size_t len,
		  uint64_t off, bool write, struct iovec *scratch);
int qcow2__iov_slice(const struct iovec *iov, int cnt, size_t skip, size_t len, struct iovec *out);
void qcow2__iov_copy(const struct iovec *iov, int cnt, size_t skip, void *buf, size_t len,
		     bool to_iov);
void qcow2__iov_zero(const struct iovec *iov, int cnt, size_t skip, size_t len);
int qcow2__pwrite(struct qcow2 *s, const void *buf, size_t len, uint64_t off);
int qcow2__sync(struct qcow2 *s);
/* Log, set the corrupt bit in the header (when writable), refuse further writes. */
void qcow2__mark_corrupt(struct qcow2 *s, const char *why, uint64_t off);
/* Flush, release everything and close fd and backing; called with lock held. */
void qcow2__close_locked(struct qcow2 *s);
/* Write back all metadata in crash-safe order and make it durable. */
int qcow2__flush_locked(struct qcow2 *s);

/* qcow2-cache.c */
int qcow2__cache_init(struct qcow2_cache *c, unsigned n, uint64_t cs, bool is_l2);
void qcow2__cache_destroy(struct qcow2_cache *c);
/* The table at off: read from disk, or zero-filled when fresh. */
struct qcow2_cache_ent *qcow2__cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t off,
					 bool fresh, int *err);
struct qcow2_cache_ent *qcow2__cache_find(struct qcow2_cache *c, uint64_t off);
/* Write every dirty entry (L2: only after refcounts and data are durable). */
int qcow2__cache_writeback(struct qcow2 *s, struct qcow2_cache *c);
bool qcow2__cache_overlaps(const struct qcow2_cache *c, uint64_t cs, uint64_t off, uint64_t len);

/* qcow2-refcount.c */
uint64_t qcow2__rb_get(const uint8_t *blk, unsigned order, uint64_t i);
void qcow2__rb_set(uint8_t *blk, unsigned order, uint64_t i, uint64_t v);
int qcow2__refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
/* Allocate n contiguous clusters (refcount 0 -> 1); returns a byte offset or -errno. */
int64_t qcow2__alloc_clusters(struct qcow2 *s, uint64_t n);
/* Queue a decrement of every cluster touched by [off, off+len) for after the next flush. */
int qcow2__free_later(struct qcow2 *s, uint64_t off, uint64_t len);
/* Enough frees are queued that the caller should flush before going on. */
bool qcow2__frees_pending(const struct qcow2 *s);
/* Apply the queued decrements (called once the references are gone on disk). */
int qcow2__apply_frees(struct qcow2 *s);
/* -EIO if [off, off+len) hits the header, L1, refcount table or a cached table. */
int qcow2__check_overlap(struct qcow2 *s, uint64_t off, uint64_t len);

/* qcow2-cluster.c */
/* L2 table holding guest offset off; NULL with 0 when unallocated and !alloc. */
int qcow2__get_l2(struct qcow2 *s, uint64_t off, bool alloc, struct qcow2_cache_ent **ent);
void qcow2__l2_set(struct qcow2 *s, struct qcow2_cache_ent *e, uint64_t off, uint64_t entry);
static inline uint64_t qcow2__l2_index(const struct qcow2 *s, uint64_t off)
{
	return (off >> s->cluster_bits) & ((1ull << s->l2_bits) - 1);
}
/* Host byte range [*off, *off + *len) a compressed entry covers (for refcounts). */
void qcow2__compressed_range(const struct qcow2 *s, uint64_t entry, uint64_t *off, uint64_t *len);
/* Decompress the cluster of a compressed L2 entry into s->dbuf. */
int qcow2__decompress(struct qcow2 *s, uint64_t entry);

/* qcow2-io.c */
extern const struct blk_backend_ops qcow2__ops;

#endif
