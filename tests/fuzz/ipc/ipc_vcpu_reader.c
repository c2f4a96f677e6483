/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the vcpu end of a channel against a hostile device: arbitrary bytes
 * over the shared memory between sends and reply reads. A reply is accepted
 * only if it is the next one in order, for the right request, with data no
 * wider than the read; anything else breaks the channel with a reason.
 *
 * op 0x02 k: send (k & 0x80: call() with timeout 0 instead) a request of
 * kind k & 3 (mmio read / mmio write / pio read / ping), size 1 << (k>>2 & 3).
 * byte 1: initial number of sends (low 3 bits); byte 2: unused.
 */
#include "tests/fuzz/fuzz.h"
#include "script.h"

struct model {
	uint32_t sent, replied;
	uint8_t size[IPC_MAX_SLOTS];
};

static struct ipc_msg make_req(int k)
{
	struct ipc_msg m = {0};
	uint32_t size = 1u << ((k >> 2) & 3);
	switch (k & 3) {
	case 0:
		m.op = IPC_OP_MMIO_READ;
		break;
	case 1:
		m.op = IPC_OP_MMIO_WRITE;
		m.data = 0x0102030405060708ull & (size == 8 ? ~0ull : (1ull << (size * 8)) - 1);
		break;
	case 2:
		m.op = IPC_OP_PIO_READ;
		break;
	default:
		m.op = IPC_OP_CTRL_PING;
		return m;
	}
	m.size = size;
	m.off = 16;
	return m;
}

static void check_reply(struct ipc_chan *c, struct model *md, const struct ipc_msg *rep)
{
	uint32_t seq = md->replied + 1;
	FUZZ_CHECK(md->replied < md->sent);
	FUZZ_CHECK(ipc_msg__check_reply(rep, seq, md->size[seq & (c->slots - 1)], NULL, 0));
	md->replied++;
}

static void do_send(struct ipc_chan *c, struct model *md, int k)
{
	struct ipc_msg q = make_req(k), rep;
	int r;
	uint32_t sz = ipc_msg__is_read(q.op) ? q.size : 0;
	if (k & 0x80) {
		bool idle = md->sent == md->replied;
		r = ipc_chan__call(c, &q, &rep);
		FUZZ_CHECK(r == 0 || r == -EBUSY || r == -EPROTO || r == -ETIMEDOUT);
		if (r == -EBUSY) {
			FUZZ_CHECK(!idle);
			return;
		}
		if (r == -EPROTO || r == -ETIMEDOUT) {
			FUZZ_CHECK(ipc_chan__broken(c));
			return;
		}
		md->size[(md->sent + 1) & (c->slots - 1)] = (uint8_t)sz;
		md->sent++;
		check_reply(c, md, &rep);
		return;
	}
	r = ipc_chan__send(c, &q);
	FUZZ_CHECK(r == 0 || r == -EAGAIN || r == -EPROTO || r == -ETIMEDOUT);
	if (r == 0) {
		FUZZ_CHECK(q.seq == md->sent + 1);
		md->size[q.seq & (c->slots - 1)] = (uint8_t)sz;
		md->sent++;
		FUZZ_CHECK(md->sent - md->replied <= c->slots);
	} else if (r == -EAGAIN) {
		FUZZ_CHECK(md->sent - md->replied == c->slots);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = {data, size};
	struct ipc_chan c;
	static struct model md;
	char err[160];
	int bdev, bvcpu;

	if (size < 3)
		return 0;
	int b0 = script_byte(&s), b1 = script_byte(&s);
	(void)script_byte(&s);
	unsigned slots = 2u << (b0 & 3);
	memset(&md, 0, sizeof(md));

	int fd = ipc_chan__create(slots);
	FUZZ_CHECK(fd >= 0);
	size_t len = ipc_chan__layout_size(slots);
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FUZZ_CHECK(raw != MAP_FAILED);
	script_bells(&bdev, &bvcpu);
	if ((b0 & 4) && script_byte(&s) >= 0)
		script_write(&s, raw, len);
	if (ipc_chan__attach(&c, fd, bdev, bvcpu, IPC_SIDE_VCPU, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		goto out;
	}
	ipc_chan__set_spin(&c, 0, 0);
	ipc_chan__set_timeout(&c, 0);
	for (int i = 0; i < (b1 & 7); i++)
		do_send(&c, &md, i * 5);

	int op;
	while ((op = script_byte(&s)) >= 0) {
		struct ipc_msg rep;
		int r, k;
		switch (op & 3) {
		case 0:
			r = ipc_chan__poll_reply(&c, &rep);
			FUZZ_CHECK(r == 0 || r == -EAGAIN || r == -EPROTO || r == -ETIMEDOUT);
			if (r == 0)
				check_reply(&c, &md, &rep);
			if (r == -EPROTO)
				FUZZ_CHECK(ipc_chan__broken(&c));
			break;
		case 1:
			if (!script_write(&s, raw, len))
				goto done;
			break;
		case 2:
			if ((k = script_byte(&s)) < 0)
				goto done;
			do_send(&c, &md, k);
			break;
		case 3:
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
