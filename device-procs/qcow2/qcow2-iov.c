/* SPDX-License-Identifier: MIT */
/* Scatter-gather helpers: slices of a request's iovec, copies, zeroing, file I/O. */
#include <errno.h>
#include <unistd.h>

#include "qcow2-priv.h"

int qcow2__iov_slice(const struct iovec *iov, int cnt, size_t skip, size_t len, struct iovec *out)
{
	int k = 0;
	for (int i = 0; i < cnt && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t m = iov[i].iov_len - skip;
		if (m > len)
			m = len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[k++].iov_len = m;
		len -= m;
		skip = 0;
	}
	return k;
}

void qcow2__iov_copy(const struct iovec *iov, int cnt, size_t skip, void *buf, size_t len,
		     bool to_iov)
{
	uint8_t *p = buf;
	for (int i = 0; i < cnt && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t m = iov[i].iov_len - skip;
		if (m > len)
			m = len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip, p, m);
		else
			memcpy(p, (uint8_t *)iov[i].iov_base + skip, m);
		p += m;
		len -= m;
		skip = 0;
	}
}

void qcow2__iov_zero(const struct iovec *iov, int cnt, size_t skip, size_t len)
{
	for (int i = 0; i < cnt && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t m = iov[i].iov_len - skip;
		if (m > len)
			m = len;
		memset((uint8_t *)iov[i].iov_base + skip, 0, m);
		len -= m;
		skip = 0;
	}
}

int qcow2__io_iov(struct qcow2 *s, const struct iovec *iov, int cnt, size_t skip, size_t len,
		  uint64_t off, bool write, struct iovec *scratch)
{
	size_t done = 0;
	while (done < len) {
		int k = qcow2__iov_slice(iov, cnt, skip + done, len - done, scratch);
		ssize_t r = write ? pwritev(s->fd, scratch, k, (off_t)(off + done))
				  : preadv(s->fd, scratch, k, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (write)
				return -EIO;
			/* data clusters past the end of the file read as zeros */
			qcow2__iov_zero(iov, cnt, skip + done, len - done);
			break;
		}
		done += (size_t)r;
	}
	if (write) {
		s->unsynced = true;
		if (off + len > s->file_size)
			s->file_size = off + len;
	}
	return 0;
}
