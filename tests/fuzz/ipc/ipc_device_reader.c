/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the device end of a channel: a hostile vcpu side writes arbitrary
 * bytes over the shared memory (header, indices, slots) between the device's
 * reads. Whatever it writes, recv() returns only requests that pass the
 * validator, reports anything else as a protocol error, and never touches
 * memory outside the mapping (ASan) or loops without bound.
 *
 * byte 1: nregions (low 4 bits, up to 15 so out-of-table counts occur),
 *         bit 7: PCI config ops accepted; byte 2: pio_mask.
 * op 0x02: serve_spin with a zero window.
 */
#include "tests/fuzz/fuzz.h"
#include "script.h"

static const uint64_t region_sizes[IPC_MAX_REGIONS] = {
    4096, 8, 1, 0x10000, UINT64_MAX, 2, 0, 256,
};

static int32_t handler(void *opaque, const struct ipc_msg *req, uint64_t *data)
{
	const struct ipc_region_limits *lim = opaque;
	FUZZ_CHECK(ipc_msg__check_request(req, lim, NULL, 0));
	*data = req->off ^ req->data;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = {data, size};
	struct ipc_region_limits lim = {0};
	struct ipc_chan c;
	char err[160];
	int bdev, bvcpu;

	if (size < 3)
		return 0;
	int b0 = script_byte(&s), b1 = script_byte(&s), b2 = script_byte(&s);
	unsigned slots = 2u << (b0 & 3);
	lim.nregions = (uint32_t)b1 & 15;
	lim.pci_cfg = b1 & 0x80;
	lim.pio_mask = (uint32_t)b2;
	memcpy(lim.size, region_sizes, sizeof(lim.size));

	int fd = ipc_chan__create(slots);
	FUZZ_CHECK(fd >= 0);
	size_t len = ipc_chan__layout_size(slots);
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FUZZ_CHECK(raw != MAP_FAILED);
	script_bells(&bdev, &bvcpu);
	if ((b0 & 4) && script_byte(&s) >= 0)
		script_write(&s, raw, len);
	if (ipc_chan__attach(&c, fd, bdev, bvcpu, IPC_SIDE_DEV, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	ipc_chan__set_limits(&c, &lim);
	ipc_chan__set_spin(&c, 0, 0);

	int op;
	while ((op = script_byte(&s)) >= 0) {
		struct ipc_msg q;
		int r;
		switch (op & 3) {
		case 0:
			r = ipc_chan__recv(&c, &q);
			if (r == 0) {
				FUZZ_CHECK(ipc_msg__check_request(&q, &lim, NULL, 0));
				r = ipc_chan__reply(&c, &q, q.data, 0);
			}
			FUZZ_CHECK(r == 0 || r == -EAGAIN || r == -EPROTO);
			FUZZ_CHECK((r == -EPROTO) == ipc_chan__broken(&c));
			break;
		case 1:
			if (!script_write(&s, raw, len))
				goto done;
			break;
		case 2:
			r = ipc_chan__serve_spin(&c, handler, &lim);
			FUZZ_CHECK(r >= 0 || (r == -EPROTO && ipc_chan__broken(&c)));
			/* at most what fits in the ring without the producer's help */
			FUZZ_CHECK(r <= (int)slots);
			break;
		case 3:
			/* nothing writes concurrently here: armed means empty */
			if (ipc_chan__arm(&c))
				FUZZ_CHECK(!ipc_chan__in_ready(&c));
			ipc_chan__disarm(&c);
			break;
		}
		if (ipc_chan__broken(&c))
			FUZZ_CHECK(ipc_chan__why(&c)[0] != '\0');
	}
done:
	ipc_chan__detach(&c);
out:
	munmap(raw, len);
	close(fd);
	return 0;
}
