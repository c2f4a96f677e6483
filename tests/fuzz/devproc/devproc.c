/* SPDX-License-Identifier: MIT */
/*
 * fuzz-devproc: fuzz a whole device process through its ring, as a hostile
 * guest and vcpu-worker would. The harness is the broker and the vcpu-worker
 * at once: it builds the device's description with the broker's own code
 * (disk__prepare, display__prepare_*), spawns the real device binary with
 * devices__spawn (the normal jail: namespaces, Landlock, seccomp with
 * logging), owns the ring, the guest-RAM memfd, the irqfds and kick eventfds
 * and the backend's far ends, and runs each input as a sequence of
 * operations (ops.h documents the encoding).
 *
 * Device: DEVFUZZ_DEVICE = one of kinds[] below: blk-raw, blk-qcow2, vga,
 * input, serial, rng, net. net: queue 0 is its rx queue, fed from a
 * datagram socket pair that stands in for the TAP queue (BACKEND ops are
 * frames, vnet header included). The set-up and descriptor ops serve queue
 * 0; the others (net's tx and control queues) are driven by register
 * writes, RAM ops and KICK q, and every queue's used ring and writable
 * buffers count as the device's to write.
 * Persistent by default: one process serves many inputs and gets
 * IPC_OP_CTRL_RESET after each; DEVFUZZ_RESPAWN=1 spawns one per input.
 * A process that ended because an input broke its channel on purpose (a
 * malformed raw request) is spawned again for the next input.
 *
 * Coverage: the device binary of a -Dfuzzing=true build copies its edge
 * counters into a memfd at each reset (device-procs/devcov.c); they are
 * copied into libFuzzer's extra counters. DEVFUZZ_COVOUT=FILE writes the
 * binary offsets of every device edge covered so far at exit
 * (tests/fuzz/devproc/cov.py symbolizes them).
 *
 * Findings abort(), so libFuzzer writes the input as a reproducer:
 * death by a signal (SIGSYS named, with the syscall the seccomp log names),
 * a sanitizer report, a non-zero exit, a reply that breaks the ring contract,
 * no reply within DEVFUZZ_TIMEOUT_MS (5 s, as the vcpu-worker), a guest-RAM write outside every
 * device-writable buffer and used ring the input gave it, a raw-image write
 * outside every write/discard/write-zeroes request, and resident memory
 * growing by more than DEVFUZZ_RSS_MB over the first measurement.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "broker/devices.h"
#include "broker/disk.h"
#include "broker/display.h"
#include "broker/net.h"
#include "config.h"
#include "device-procs/blk/blk.h"
#include "device-procs/devcov.h"
#include "device-procs/qcow2/qcow2.h"
#include "device-procs/virtio/virtio_pci.h"
#include "device-procs/vnc/vnc.h"
#include "fuzz.h"
#include "ipc/chan.h"
#include "log.h"
#include "ops.h"

/* ---- the device under test ------------------------------------------- */

enum kind { K_BLK_RAW, K_BLK_QCOW2, K_VGA, K_INPUT, K_SERIAL, K_RNG, K_NET };

struct kind_desc {
	const char *name;
	bool virtio; /* region 0 is a virtio-pci BAR0, queue 0 in RAM */
	struct ipc_region_limits lim;
};

/* The regions each model declares (its dev__desc.limits). */
static const struct kind_desc kinds[] = {
    [K_BLK_RAW] = {"blk-raw", true, {.nregions = 1, .size = {VIRTIO_PCI_BAR0_SIZE}}},
    [K_BLK_QCOW2] = {"blk-qcow2", true, {.nregions = 1, .size = {VIRTIO_PCI_BAR0_SIZE}}},
    [K_VGA] = {"vga", false, {.nregions = 2, .pio_mask = 1, .size = {3, 0x1000}}},
    [K_INPUT] = {"input", false, {.nregions = 2, .pio_mask = 3, .size = {1, 1}}},
    [K_SERIAL] = {"serial", false, {.nregions = 1, .pio_mask = 1, .size = {CV_PORT_COM1_LEN}}},
    [K_RNG] = {"rng", true, {.nregions = 1, .size = {VIRTIO_PCI_BAR0_SIZE}}},
    [K_NET] = {"net", true, {.nregions = 1, .size = {VIRTIO_PCI_BAR0_SIZE}}},
};

#define RAM_SIZE (256u << 10)
/* The oracle's loops over descriptor tables and RAM: not instrumented for
 * coverage. Their branches are the harness's, not the device's, and the
 * trace-cmp calls in allow_desc alone took 13% of a net replay's CPU. */
#ifdef __clang__
#define ORACLE __attribute__((no_sanitize("coverage")))
#else
#define ORACLE
#endif
#define IMG_SIZE (256u << 10)

struct fz {
	enum kind kind;
	const struct kind_desc *k;
	bool respawn, alive, verbose;
	unsigned timeout_ms;
	char dir[256], img_path[512];
	/* guest RAM: the memfd, our mapping and what we last wrote there */
	int ram_fd;
	uint8_t *ram, shadow[RAM_SIZE], allowed[RAM_SIZE]; /* allowed: 1 = device may write */
	uint8_t tables[RAM_SIZE]; /* 1 = was a descriptor table (direct or indirect) this input */
	/* RAM as the last note_writable saw it, for the 16-byte blocks written
	 * since (listed in dirty, flagged in is_dirty): a descriptor rewritten
	 * between two looks may reach the device as a mix of both versions */
	uint8_t prev[RAM_SIZE], is_dirty[RAM_SIZE / 16];
	uint16_t dirty[RAM_SIZE / 16];
	unsigned ndirty;
	unsigned long ram_unchecked; /* inputs whose device-writable buffers covered a table */
	int32_t last_status;	     /* of the last reply */
	/* the image (blk): our own fd and its expected content (raw) */
	int img_fd;
	uint8_t img[IMG_SIZE];
	bool img_dirty; /* qcow2: changed by an op, start from the pristine copy */
	struct img_range {
		uint64_t lo, hi;
	} ranges[4096];
	unsigned nranges;
	bool ranges_overflow;
	/* coverage */
	int cov_fd;
	struct devcov_shm *cov;
	uint8_t covered[DEVCOV_MAX];
	/* the device */
	struct devproc d;
	struct vm_plan plan;
	struct spawn_fd fds[8 + 2 * VM_DEV_MAX_EVENTFDS];
	unsigned nfds;
	struct ipc_chan chan;
	int irq[VM_DEV_MAX_EVENTFDS], kick[VM_DEV_MAX_EVENTFDS];
	unsigned nirq, nkick;
	int diag[2];
	int peer_in, peer_out; /* serial input (write end) / output (read end); input events */
	int display_fd;
	int net_dev_end; /* net: a copy of the device's end, drained between inputs */
	/* driver state of queue 0 (virtio), as our own setup op left it */
	uint16_t qsize, avail_idx, next_desc;
	uint64_t q_desc, q_avail, q_used;
	bool q_known; /* false after a write that may move or reset a queue */
	/* the other queues (net: tx, control, more pairs), as the device has them:
	 * reached by register writes, RAM ops and KICK q */
	struct {
		uint64_t desc, used;
		uint16_t size;
	} qx[VM_DEV_MAX_EVENTFDS], qx_reset[VM_DEV_MAX_EVENTFDS];
	bool qx_reset_known; /* qx_reset: the other queues after a reset, this process's */
	bool bad_sent;	     /* this input sent a request the device must refuse */
	/* statistics */
	unsigned long execs, spawns, calls, waits, waits_idle;
	uint64_t ns_ring, ns_wait, ns_spawn, ns_start; /* wall time, for the end-of-run line */
	uint64_t rss_base_kb;
	unsigned fd_base; /* open fds between devices, from the second spawn on (replay builds) */
};

static struct fz F;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static char diag_buf[64 << 10];
static size_t diag_len;

#ifdef CV_FUZZING_BUILD
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t extra[DEVCOV_MAX];
#endif

/* ---- findings --------------------------------------------------------- */

static void drain_diag(void)
{
	ssize_t n;
	while (F.diag[0] >= 0 && diag_len < sizeof(diag_buf) - 1 &&
	       (n = read(F.diag[0], diag_buf + diag_len, sizeof(diag_buf) - 1 - diag_len)) > 0)
		diag_len += (size_t)n;
	diag_buf[diag_len] = 0;
}

static void finding(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void finding(const char *fmt, ...)
{
	va_list ap;
	usleep(50000); /* the rest of a report the device is still writing */
	drain_diag();
	fprintf(stderr, "==== device output (%s) ====\n%s==== end ====\n", F.k->name, diag_buf);
	fprintf(stderr, "devfuzz: FINDING in %s: ", F.k->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

static bool sanitizer_text(void)
{
	drain_diag();
	return strstr(diag_buf, "Sanitizer") || strstr(diag_buf, "runtime error:");
}

/* The device is gone: was that a finding? Returns only if it was expected. */
static void check_death(bool expected)
{
	siginfo_t si = {0};
	struct pollfd p = {.fd = F.d.pidfd, .events = POLLIN};
	/* The no-reply bound: 1 s was once too short for an ASan device's exit
	 * on a loaded host (the clean-clone CI run's vga fuzzing, beside three
	 * campaigns; the input replays clean). */
	poll(&p, 1, (int)F.timeout_ms);
	if (waitid(P_PIDFD, (id_t)F.d.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		finding("the device left the channel but did not exit within %u ms", F.timeout_ms);
	F.d.dead = true;
	if (sanitizer_text())
		finding("sanitizer report (exit status %d)", si.si_status);
	if (si.si_code != CLD_EXITED) {
		const char *sys = strstr(diag_buf, "seccomp: blocked syscall");
		finding("killed by SIG%s%s%.80s", sigabbrev_np(si.si_status) ?: "?",
			sys ? ": " : "", sys ? sys : "");
	}
	if (si.si_status != 0)
		finding("exited with status %d", si.si_status);
	if (!expected)
		finding("exited (status 0) without a malformed request");
}

static uint64_t ring(uint32_t op, uint32_t region, uint64_t off, uint32_t size, uint64_t data);

/* ---- spawning ---------------------------------------------------------- */

/* broker/spawn.c looks next to its own executable; the device binaries are
 * in the build root (or DEVFUZZ_BINDIR). */
int spawn__find_helper(const char *name, char *path, size_t n)
{
	const char *dir = getenv("DEVFUZZ_BINDIR") ? getenv("DEVFUZZ_BINDIR") : CV_BUILD_ROOT;
	snprintf(path, n, "%s/%s", dir, name);
	return open(path, O_PATH | O_CLOEXEC);
}

static int fd_of(int target)
{
	for (unsigned i = 0; i < F.nfds; i++)
		if (F.fds[i].target == target)
			return F.fds[i].fd;
	return -1;
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC),
	    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char buf[65536];
	ssize_t n;
	if (in < 0 || out < 0) {
		fprintf(stderr, "devfuzz: %s -> %s: %s\n", from, to, strerror(errno));
		exit(1);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			exit(1);
	close(in);
	close(out);
}

/*
 * qcow2: the virtual disk as the image describes it now, read with cellvm's
 * own qcow2 code (a fresh read-only open: no cache shared with the device).
 * False when the image cannot be read (someone else's write broke it).
 */
#define VIMG_MAX (4u << 20)
static uint8_t vimg[VIMG_MAX], vnow[VIMG_MAX]; /* expected, as read now */
static uint64_t vimg_size;
static bool vimg_valid;

static bool qcow2_virtual(uint8_t *out, uint64_t *size)
{
	char err[160];
	struct blk_backend *be;
	int fd = open(F.img_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (qcow2__open(fd, true, NULL, &be, err, sizeof(err)) < 0) {
		close(fd);
		return false;
	}
	*size = be->size;
	bool ok = be->size <= VIMG_MAX;
	for (uint64_t off = 0; ok && off < be->size; off += 65536) {
		size_t n = be->size - off < 65536 ? (size_t)(be->size - off) : 65536;
		struct iovec iov = {out + off, n};
		ok = be->ops->preadv(be, &iov, 1, off) == (ssize_t)n;
	}
	be->ops->close(be);
	return ok;
}

static void prepare_image(void)
{
	if (F.kind == K_BLK_QCOW2) {
		copy_file(CV_SOURCE_ROOT "/tests/fuzz/corpus/qcow2-open/data-v3.qcow2", F.img_path);
	} else {
		/* A recognisable pattern: a misplaced write shows. */
		for (unsigned i = 0; i < IMG_SIZE; i++)
			F.img[i] = (uint8_t)(i * 7 + (i >> 9));
		int fd = open(F.img_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || pwrite(fd, F.img, IMG_SIZE, 0) != IMG_SIZE)
			exit(1);
		close(fd);
	}
	if (F.img_fd >= 0)
		close(F.img_fd);
	F.img_fd = open(F.img_path, O_RDWR | O_CLOEXEC);
	F.img_dirty = false;
	vimg_valid = F.kind == K_BLK_QCOW2 && qcow2_virtual(vimg, &vimg_size);
	F.nranges = 0;
	F.ranges_overflow = false;
}

static void describe(struct devproc *d)
{
	struct vm_label vl = {0};
	memset(d, 0, sizeof(*d)); /* the prepare functions fill a zeroed description */
	switch (F.kind) {
	case K_BLK_RAW:
	case K_BLK_QCOW2: {
		struct disk_opt o = {.format = F.kind == K_BLK_QCOW2 ? DISK_QCOW2 : DISK_RAW};
		snprintf(o.path, sizeof(o.path), "%s", F.img_path);
		snprintf(o.serial, sizeof(o.serial), "devfuzz");
		if (disk__prepare(&o, d, &vl) < 0)
			exit(1);
		break;
	}
	case K_VGA:
		if (display__prepare_vga(d, &F.display_fd, &vl) < 0)
			exit(1);
		close(d->pci_mem_fd); /* the vcpu-worker's copy: no worker here */
		d->pci_mem_fd = -1;
		break;
	case K_INPUT: {
		struct vncproc vp;
		if (display__prepare_input(d, &vp) < 0)
			exit(1);
		F.peer_in = vp.input_fd;
		break;
	}
	case K_SERIAL: {
		/* As vm.c's add_serial: COM1, posted writes, GSI 4, output and input pipes. */
		int out[2], in[2];
		if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0)
			exit(1);
		d->type = "serial";
		d->dev_type = VM_DEV_SERIAL;
		d->transport = VM_DEV_RING;
		d->regions[0] = (struct vm_region){VM_REGION_PIO, VM_REGION_F_POSTED, CV_PORT_COM1,
						   CV_PORT_COM1_LEN};
		d->nregions = 1;
		d->irq = CV_IRQ_COM1;
		d->nirq = 1;
		d->backend[0] = out[1];
		d->backend_why[0] = "console output pipe (the harness drains it)";
		d->backend[1] = in[0];
		d->backend_why[1] = "console input pipe (the harness writes it)";
		d->nbackend = 2;
		F.peer_out = out[0];
		F.peer_in = in[1];
		break;
	}
	case K_RNG:
		/* As vm.c's rng_prepare: no backend fd, getrandom only. */
		devices__virtio(d, "rng", VIRTIO_ID_RNG, 0xff0000, 1);
		break;
	case K_NET: {
		/* net__prepare's description, one queue pair and a TAP's usual MTU
		 * (offered as VIRTIO_NET_F_MTU, as the broker does: recorded
		 * drivers take it), a SOCK_SEQPACKET pair for the TAP queue: frames
		 * keep their boundaries, and the harness writes any vnet header (a
		 * TAP only writes sane ones). */
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
			exit(1);
		struct net_cfg c = {
		    .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, .npairs = 1, .mtu = 1500};
		net__describe(d, &c, &sv[1]);
		F.peer_out = sv[0];
		F.peer_in = dup(sv[0]);
		F.net_dev_end = dup(sv[1]);
		break;
	}
	}
#ifdef CV_FUZZING_BUILD
	/* Last backend fd: the coverage memfd (devcov.c, linked into the device
	 * binaries of fuzzing builds only, takes it back out). */
	d->backend[d->nbackend] = dup(F.cov_fd);
	d->backend_why[d->nbackend++] = "fuzzing: edge counters for the harness";
#endif
}

static void teardown(void)
{
	if (!F.d.type)
		return;
	ipc_chan__detach(&F.chan);
	devices__close_vcpu_fds(&F.d);
	devices__stop(&F.d);
	if (F.d.kept_fd >= 0) /* input: the reset line's irqfd copy (as run__close) */
		close(F.d.kept_fd);
	int more[] = {F.peer_in, F.peer_out, F.display_fd, F.net_dev_end};
	for (unsigned i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (more[i] >= 0)
			close(more[i]);
	F.peer_in = F.peer_out = F.display_fd = F.net_dev_end = -1;
	memset(&F.d, 0, sizeof(F.d));
	F.alive = false;
}

#ifndef CV_FUZZING_BUILD
static unsigned count_fds(void)
{
	unsigned n = 0;
	DIR *dir = opendir("/proc/self/fd");
	while (dir && readdir(dir))
		n++;
	if (dir)
		closedir(dir);
	return n;
}
#endif

static void spawn(void)
{
	char err[256];
	teardown();
#ifndef CV_FUZZING_BUILD
	/* With no device, the harness holds the same fds every time: more means
	 * the spawn or teardown path leaks (it did: a pidfd per device, from a
	 * macro in broker/devices.c that evaluated dup() twice). Replay builds
	 * only: in fuzzing builds the sanitizer's symbolizer holds pipes of its own. */
	unsigned nfd = count_fds();
	/* Not before the first input: the replay driver opens its corpus directory after init. */
	if (!F.execs)
		F.fd_base = 0;
	else if (!F.fd_base)
		F.fd_base = nfd;
	if (F.fd_base && nfd > F.fd_base) {
		DIR *dir = opendir("/proc/self/fd");
		struct dirent *e;
		while (dir && (e = readdir(dir))) {
			char path[300], to[256];
			snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
			ssize_t k = readlink(path, to, sizeof(to) - 1);
			if (k > 0)
				fprintf(stderr, "devfuzz: fd %s -> %.*s\n", e->d_name, (int)k, to);
		}
		if (dir)
			closedir(dir);
		finding("%u fds open between devices, %u after the first: the spawn path leaks",
			nfd, F.fd_base);
	}
#endif
	uint64_t t0 = now_ns();
	if (F.kind == K_BLK_QCOW2 && F.img_dirty)
		prepare_image();
	describe(&F.d);
	struct vm_ids ids = {
	    .uid_base = 0x40000000u + (uid_t)getpid() * 32u,
	    .gid = 0x40000000u + (gid_t)getpid(),
	    .seccomp_log = true, /* a SIGSYS names its syscall */
	    .label = NULL,
	    .ncpus = 4096, /* no CPU left to pin to: the device never spins */
	    .diag_fd = F.diag[1],
	};
	struct vm_label vl = {0};
	ids.label = &vl;
	int next = 100;
	F.nfds = 0;
	memset(&F.plan, 0, sizeof(F.plan));
	if (devices__spawn(&F.d, 0, F.ram_fd, RAM_SIZE, &ids, &F.plan, F.fds, &F.nfds, &next, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "devfuzz: spawn: %s\n", err);
		exit(1);
	}
	struct vm_dev *vd = &F.plan.devs[0];
	if (ipc_chan__attach(&F.chan, fd_of(vd->fd_chan), fd_of(vd->fd_bell_dev),
			     fd_of(vd->fd_bell_vcpu), IPC_SIDE_VCPU, err, sizeof(err)) < 0) {
		fprintf(stderr, "devfuzz: attach: %s\n", err);
		exit(1);
	}
	ipc_chan__set_peer_fd(&F.chan, fd_of(vd->fd_peer));
	ipc_chan__set_timeout(&F.chan, (int)F.timeout_ms);
	F.nirq = vd->nirqfd;
	for (unsigned i = 0; i < F.nirq; i++)
		F.irq[i] = fd_of(vd->fd_irq[i]);
	F.nkick = vd->pci.nkicks;
	for (unsigned i = 0; i < F.nkick; i++)
		F.kick[i] = fd_of(vd->pci.fd_kick[i]);
	F.alive = true;
	F.qx_reset_known = false;
	F.spawns++;
	/* Served only once the device has opened its backend: no op races its start-up. */
	ring(IPC_OP_CTRL_PING, 0, 0, 0, 0);
	F.rss_base_kb = 0;
	F.ns_spawn += now_ns() - t0;
}

/* ---- ring access -------------------------------------------------------- */

/* One request; returns the reply's data. Any failure is a finding, unless
 * the device was entitled to leave (then F.alive is false). */
static uint64_t ring(uint32_t op, uint32_t region, uint64_t off, uint32_t size, uint64_t data)
{
	struct ipc_msg req = {.op = op, .region = region, .off = off, .size = size, .data = data};
	struct ipc_msg rep;
	if (!F.alive)
		return ~0ull;
	char why[160];
	bool bad = !ipc_msg__check_request(&req, &F.k->lim, why, sizeof(why));
	F.bad_sent |= bad;
	uint64_t t0 = now_ns();
	int r = ipc_chan__call(&F.chan, &req, &rep);
	F.ns_ring += now_ns() - t0;
	F.calls++;
	if (r == -ETIMEDOUT)
		finding("no reply within %u ms to %s region %u off %#llx size %u", F.timeout_ms,
			ipc_msg__op_name(op), region, (unsigned long long)off, size);
	if (r < 0) {
		/* The device is gone (or made the channel inconsistent). */
		struct pollfd p = {.fd = F.d.pidfd, .events = POLLIN};
		if (r == -EPROTO && poll(&p, 1, 200) == 0)
			finding("ring contract: %s", ipc_chan__why(&F.chan));
		check_death(F.bad_sent);
		F.alive = false;
		return ~0ull;
	}
	if (bad)
		finding("the device answered a malformed request (%s)", why);
	F.last_status = rep.status;
	return rep.data;
}

/* The device back to its state after init. One that refuses carries an
 * input's queues into the next, whose RAM checks then blame it for the
 * last input's writes (rng and net did: their dev_ops had no reset). */
static void reset_device(void)
{
	ring(IPC_OP_CTRL_RESET, 0, 0, 0, 0);
	if (F.alive && F.last_status)
		finding("the device refused IPC_OP_CTRL_RESET: %s", strerror(-F.last_status));
}

/* ---- what the device may write ------------------------------------------ */

ORACLE static void mark(uint8_t *map, uint64_t gpa, uint64_t len)
{
	if (gpa >= RAM_SIZE)
		return;
	memset(map + gpa, 1, len < RAM_SIZE - gpa ? len : RAM_SIZE - gpa);
}

static void allow(uint64_t gpa, uint64_t len)
{
	mark(F.allowed, gpa, len);
}

ORACLE static void allow_img(uint64_t lo, uint64_t len)
{
	for (unsigned i = 0; i < F.nranges; i++)
		if (F.ranges[i].lo == lo && F.ranges[i].hi == lo + len)
			return;
	if (F.nranges == sizeof(F.ranges) / sizeof(F.ranges[0])) {
		F.ranges_overflow = true;
		return;
	}
	F.ranges[F.nranges++] = (struct img_range){lo, lo + len};
}

/* n bytes of RAM at gpa (inside RAM) as they are now or, `before`, as the
 * last note_writable saw them (blocks the harness wrote since, in prev). */
ORACLE static void ram_read(void *out, uint64_t gpa, size_t n, bool before)
{
	memcpy(out, F.ram + gpa, n);
	if (!before || !F.ndirty || !n)
		return;
	for (uint64_t b = gpa / 16; b <= (gpa + n - 1) / 16; b++)
		if (F.is_dirty[b]) {
			uint64_t lo = b * 16 > gpa ? b * 16 : gpa,
				 hi = b * 16 + 16 < gpa + n ? b * 16 + 16 : gpa + n;
			memcpy((uint8_t *)out + (lo - gpa), F.prev + lo, hi - lo);
		}
}

ORACLE static bool rd_desc(uint64_t table, unsigned i, struct virtq_desc *out, bool before)
{
	uint64_t a = table + (uint64_t)i * 16;
	if (a < table || a > RAM_SIZE - 16)
		return false;
	ram_read(out, a, 16, before);
	return true;
}

/* Queue 0's size and addresses, with queue 0 selected. */
static void read_queue0(void)
{
	F.qsize = (uint16_t)ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_SIZE, 2, 0);
	F.q_desc = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_DESC, 8, 0);
	F.q_avail = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_DRIVER, 8, 0);
	F.q_used = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_DEVICE, 8, 0);
}

/* Every queue's configuration as the device holds it (after raw register
 * writes); queue 0's in F.q*, the others' in F.qx. */
static void learn_queue(void)
{
	if (F.q_known)
		return;
	uint64_t sel = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	read_queue0();
	for (unsigned q = 1; q < F.nkick; q++) {
		ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		F.qx[q].size = (uint16_t)ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_SIZE, 2, 0);
		F.qx[q].desc = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_DESC, 8, 0);
		F.qx[q].used = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_DEVICE, 8, 0);
	}
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, sel & 0xffff);
	F.q_known = F.alive;
}

/* Up to cap bytes of a chain's readable buffers into buf; *total: all its
 * readable bytes (the data may be longer than buf). One memcpy per buffer:
 * a byte loop here, with the harness's own comparisons traced for
 * coverage, took a third of the CPU. */
ORACLE static size_t chain_read(uint16_t head, uint8_t *buf, size_t cap, uint64_t *total,
				bool before)
{
	size_t n = 0;
	uint64_t table = F.q_desc;
	unsigned tsize = F.qsize, i = head, steps = 0;
	bool in_indirect = false;
	struct virtq_desc dsc;
	*total = 0;
	while (steps++ < 2u * VIRTQ_MAX_SIZE && rd_desc(table, i, &dsc, before)) {
		if ((dsc.flags & VIRTQ_DESC_F_INDIRECT) && !in_indirect) {
			table = dsc.addr;
			tsize = dsc.len / 16;
			i = 0;
			in_indirect = true;
			continue;
		}
		if (!(dsc.flags & VIRTQ_DESC_F_WRITE))
			*total += dsc.len;
		if (!(dsc.flags & VIRTQ_DESC_F_WRITE) && dsc.addr < RAM_SIZE && n < cap) {
			uint64_t c = dsc.len;
			if (c > RAM_SIZE - dsc.addr)
				c = RAM_SIZE - dsc.addr;
			if (c > cap - n)
				c = cap - n;
			ram_read(buf + n, dsc.addr, c, before);
			n += c;
		}
		if (!(dsc.flags & VIRTQ_DESC_F_NEXT) || dsc.next >= tsize)
			break;
		i = dsc.next;
	}
	return n;
}

/*
 * One chain's image ranges: what a blk request may write. Only the header
 * is copied, and the segments of a discard or write-zeroes: copying 64 KiB
 * of every published chain at every kick took most of a qcow2 run's CPU.
 * A chain the harness rewrote since its last look may reach the device
 * half old, half new (its descriptors read before the harness rewrote
 * them, the header after; finding 9 is the same race on one descriptor),
 * so the request's type, sector and length may each come from the chain
 * as the last look saw it or as it is now.
 */
ORACLE static void chain_image_ranges(uint16_t head)
{
	static uint8_t buf[64 << 10];
	uint8_t hdr[2][16];
	uint64_t total[2];
	unsigned nv = 0;
	for (unsigned v = 0; v < (F.ndirty ? 2u : 1u); v++)
		if (chain_read(head, hdr[nv], 16, &total[nv], v == 1) == 16)
			nv++;
	bool segs = false;
	for (unsigned m = 0; m < (nv == 2 ? 8u : nv); m++) {
		uint32_t type;
		uint64_t sector;
		memcpy(&type, hdr[m & 1], 4);
		memcpy(&sector, hdr[(m >> 1) & 1] + 8, 8);
		if (type == VIRTIO_BLK_T_OUT)
			allow_img(sector * 512, total[(m >> 2) & 1] - 16);
		segs |= type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES;
	}
	for (unsigned v = 0; segs && v < (F.ndirty ? 2u : 1u); v++) {
		uint64_t t;
		size_t n = chain_read(head, buf, sizeof(buf), &t, v == 1);
		for (size_t o = 16; o + 16 <= n; o += 16) {
			uint64_t s;
			uint32_t num;
			memcpy(&s, buf + o, 8);
			memcpy(&num, buf + o + 8, 4);
			allow_img(s * 512, (uint64_t)num * 512);
		}
	}
}

/*
 * What the device may write through the descriptor at gpa: its buffer if
 * WRITE, and at the top level (`top`) the writable buffers of the indirect
 * table it names. The device copies a descriptor field by field (the
 * fuzzing build's clang emits four loads, an ASan check between each), so
 * one the harness rewrites meanwhile reaches it as a mix: the address of
 * one version, the length and flags of another. Each field may therefore
 * come from the version the last note saw or the current one, up to 8
 * descriptors. Finding 9 (docs/fuzzing.md): an indirect head {0x5030, 48,
 * INDIRECT} rewritten as a status descriptor {0x4003, 1, WRITE} was read as
 * {0x5030, 48, WRITE}, and the device rightly wrote its status byte at
 * 0x505f.
 */
ORACLE static void allow_desc(uint64_t gpa, bool top)
{
	if (gpa > RAM_SIZE - 16)
		return;
	struct virtq_desc v[2];
	memcpy(&v[0], F.ram + gpa, 16);
	unsigned nv = 1;
	if (F.is_dirty[gpa / 16] || F.is_dirty[(gpa + 15) / 16]) {
		ram_read(&v[1], gpa, 16, true);
		nv = memcmp(&v[0], &v[1], 16) ? 2 : 1;
	}
	for (unsigned m = 0; m < (nv == 2 ? 8u : 1u); m++) {
		uint64_t addr = v[m & 1].addr;
		uint32_t len = v[(m >> 1) & 1].len;
		uint16_t flags = v[(m >> 2) & 1].flags;
		if (flags & VIRTQ_DESC_F_WRITE)
			allow(addr, len);
		if (top && (flags & VIRTQ_DESC_F_INDIRECT)) {
			mark(F.tables, addr, len);
			/* The device refuses a table longer than the queue. */
			for (uint64_t j = 0;
			     j < len / 16 && j < VIRTQ_MAX_SIZE && addr + 16 * j <= RAM_SIZE - 16;
			     j++)
				allow_desc(addr + 16 * j, false);
		}
	}
}

/* A queue's used ring and every buffer its table marks device-writable. */
ORACLE static void allow_queue(uint64_t desc, uint64_t used, uint16_t size)
{
	if (!size || size > VIRTQ_MAX_SIZE)
		return;
	allow(used, 6 + 8ull * size);
	mark(F.tables, desc, 16ull * size);
	for (unsigned i = 0; i < size; i++)
		allow_desc(desc + 16ull * i, true);
}

/* From here on, what the device may find is what RAM holds now. */
static void forget_versions(void)
{
	for (unsigned i = 0; i < F.ndirty; i++)
		F.is_dirty[F.dirty[i]] = 0;
	F.ndirty = 0;
}

static void note_queues(void)
{
	learn_queue();
	for (unsigned q = 1; q < F.nkick; q++)
		allow_queue(F.qx[q].desc, F.qx[q].used, F.qx[q].size);
	if (!F.qsize || F.qsize > VIRTQ_MAX_SIZE)
		return;
	allow_queue(F.q_desc, F.q_used, F.qsize);
	if ((F.kind != K_BLK_RAW && F.kind != K_BLK_QCOW2) ||
	    F.q_avail > RAM_SIZE - 4 - 2ull * F.qsize)
		return;
	uint16_t idx;
	static uint8_t seen[VIRTQ_MAX_SIZE / 8]; /* heads done in this call */
	memset(seen, 0, (F.qsize + 7) / 8);
	memcpy(&idx, F.ram + F.q_avail + 2, 2);
	for (unsigned k = 0; k < F.qsize; k++) {
		uint16_t head;
		memcpy(&head, F.ram + F.q_avail + 4 + 2 * ((uint16_t)(idx - 1 - k) % F.qsize), 2);
		if (head < F.qsize && !(seen[head / 8] & (1u << (head % 8)))) {
			seen[head / 8] |= (uint8_t)(1u << (head % 8));
			chain_image_ranges(head);
		}
	}
}

/* Everything the device may write now: writable buffers, the used ring, the
 * image ranges of the published requests. Called whenever the device could
 * look at the queue (kicks) and whenever we change what it would find. */
static void note_writable(void)
{
	if (!F.k->virtio || !F.alive)
		return;
	note_queues();
	forget_versions();
}

ORACLE static void ram_write(uint64_t gpa, const void *src, size_t len)
{
	if (gpa >= RAM_SIZE)
		return;
	if (len > RAM_SIZE - gpa)
		len = RAM_SIZE - gpa;
	for (uint64_t b = gpa / 16; len && b <= (gpa + len - 1) / 16; b++)
		if (!F.is_dirty[b]) {
			F.is_dirty[b] = 1;
			F.dirty[F.ndirty++] = (uint16_t)b;
			memcpy(F.prev + 16 * b, F.ram + 16 * b, 16);
		}
	memcpy(F.ram + gpa, src, len);
	memcpy(F.shadow + gpa, src, len);
}

/* Did the input give the device a writable buffer over a descriptor table
 * (an indirect one, or another queue's: the device refuses a buffer over
 * its queue's own rings)? Then the device may have written descriptors the
 * harness never saw and followed them before the harness looked again. */
static bool tables_writable(void)
{
	for (size_t a = 0; a < RAM_SIZE; a++)
		if (F.allowed[a] & F.tables[a])
			return true;
	return false;
}

ORACLE static void check_ram(void)
{
	for (size_t a = 0; a < RAM_SIZE; a += 64) {
		if (!memcmp(F.ram + a, F.shadow + a, 64))
			continue;
		for (size_t b = a; b < a + 64; b++)
			if (F.ram[b] != F.shadow[b] && !F.allowed[b]) {
				if (tables_writable()) {
					if (F.verbose)
						fprintf(
						    stderr,
						    "devfuzz: RAM not checked: a device-writable "
						    "buffer covers a descriptor table\n");
					F.ram_unchecked++;
					memcpy(F.shadow, F.ram, RAM_SIZE);
					return;
				}
				finding("guest RAM write at %#zx (%#x -> %#x) outside every buffer "
					"the device was given",
					b, F.shadow[b], F.ram[b]);
			}
		memcpy(F.shadow + a, F.ram + a, 64);
	}
}

/* Bytes of the disk that changed outside every write request the input made. */
static void check_changes(const uint8_t *now, uint8_t *expect, size_t size, const char *what)
{
	if (!memcmp(now, expect, size))
		return;
	if (F.ranges_overflow) { /* too many requests to tell: accept, start afresh */
		memcpy(expect, now, size);
		return;
	}
	/* Equal 64-byte blocks skipped, and a changed byte's whole range taken
	 * at once: a byte loop over every range took a quarter of a qcow2
	 * run's harness CPU (its ranges hold every write since a fresh image). */
	size_t a = 0;
	while (a < size) {
		if (a % 64 == 0 && size - a >= 64 && !memcmp(now + a, expect + a, 64)) {
			a += 64;
			continue;
		}
		if (now[a] == expect[a]) {
			a++;
			continue;
		}
		unsigned r = 0;
		while (r < F.nranges && !(a >= F.ranges[r].lo && a < F.ranges[r].hi))
			r++;
		if (r == F.nranges) {
			for (r = 0; r < F.nranges; r++)
				fprintf(stderr, "devfuzz: allowed image range [%#llx, %#llx)\n",
					(unsigned long long)F.ranges[r].lo,
					(unsigned long long)F.ranges[r].hi);
			finding("%s write at byte %#zx (%#x -> %#x) outside every write request",
				what, a, expect[a], now[a]);
		}
		size_t end = F.ranges[r].hi < size ? (size_t)F.ranges[r].hi : size;
		memcpy(expect + a, now + a, end - a);
		a = end;
	}
}

static void check_image(void)
{
	static uint8_t now[IMG_SIZE];
	if (F.kind == K_BLK_QCOW2) {
		/* Someone else's write (BACKEND) makes the disk's content anyone's:
		 * the image is replaced before the next input. */
		uint64_t n;
		if (F.img_dirty || !vimg_valid || !qcow2_virtual(vnow, &n) || n != vimg_size) {
			vimg_valid = false;
			return;
		}
		check_changes(vnow, vimg, n, "qcow2 virtual disk");
		/* Too many requests to tell apart: start the next input from a
		 * fresh image (and ranges) rather than check nothing from here. */
		if (F.ranges_overflow)
			F.img_dirty = true;
		return;
	}
	if (F.kind != K_BLK_RAW)
		return;
	if (pread(F.img_fd, now, IMG_SIZE, 0) != IMG_SIZE)
		finding("the raw image changed size");
	check_changes(now, F.img, IMG_SIZE, "image");
}

static uint64_t rss_kb(void)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)F.d.pid);
	FILE *f = fopen(path, "re");
	uint64_t kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtoull(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* ---- the ops ------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n)
			in->p++, in->n--;
	}
	return v;
}

/*
 * After a register write: what learn_queue knew may be stale. A write to
 * one of the selected queue's fields (the device dispatches on the offset
 * alone, virtio_pci.c common_write) is read back, two ring calls; a status
 * other than 0 changes none. Any other write that overlaps the status (0
 * resets every queue), a queue's size or its addresses makes the next
 * note_writable learn every queue again (up to 15 ring calls for net).
 */
static void queue_written(uint64_t off, unsigned size, uint64_t val)
{
	const uint64_t sz = VIRTIO_PCI_COMMON_Q_SIZE, desc = VIRTIO_PCI_COMMON_Q_DESC,
		       drv = VIRTIO_PCI_COMMON_Q_DRIVER, dev = VIRTIO_PCI_COMMON_Q_DEVICE,
		       st = VIRTIO_PCI_COMMON_STATUS, len = VIRTIO_PCI_COMMON_LEN, end = off + size;
	if (off == st && size == 1 && val) /* only status 0 (a reset) changes a queue */
		return;
	if (off != sz && (off < desc || off >= len)) {
		if ((off <= st && end > st) || (off < sz + 2 && end > sz) ||
		    (off < len && end > desc))
			F.q_known = false;
		return;
	}
	if (!F.q_known) /* the next note_writable learns them all anyway */
		return;
	uint64_t q = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	uint64_t base = off >= dev ? dev : off >= drv ? drv : off >= desc ? desc : sz;
	if (q >= F.nkick || (q && base == drv)) /* no such queue, or a field not kept */
		return;
	uint64_t v = ring(IPC_OP_MMIO_READ, 0, base, base == sz ? 2 : 8, 0);
	if (!F.alive)
		return;
	uint64_t *f = base == desc  ? (q ? &F.qx[q].desc : &F.q_desc)
		      : base == drv ? &F.q_avail
		      : base == dev ? (q ? &F.qx[q].used : &F.q_used)
				    : NULL;
	if (f)
		*f = v;
	else if (q)
		F.qx[q].size = (uint16_t)v;
	else
		F.qsize = (uint16_t)v;
}

/*
 * Replay builds check what queue_written and virtio_setup keep against a
 * full learn_queue after every write: their shortcuts rest on how the
 * device dispatches register writes, and a wrong one would blame the device
 * for writes to a ring the harness lost track of.
 */
static void verify_queues(const char *after)
{
#ifndef CV_FUZZING_BUILD
	if (!F.q_known || !F.alive)
		return;
	uint16_t size = F.qsize;
	uint64_t desc = F.q_desc, avail = F.q_avail, used = F.q_used;
	__typeof__(F.qx) qx;
	memcpy(qx, F.qx, sizeof(qx));
	F.q_known = false;
	learn_queue();
	if (F.alive && (size != F.qsize || desc != F.q_desc || avail != F.q_avail ||
			used != F.q_used || memcmp(qx, F.qx, sizeof(qx))))
		finding("harness: the queues it kept after %s differ from the device's", after);
#else
	(void)after;
#endif
}

/* A register access inside the device's regions (raw ops go anywhere). */
static void reg_access(struct in *in, bool write)
{
	const struct ipc_region_limits *l = &F.k->lim;
	unsigned region = (unsigned)take(in, 1) % l->nregions;
	bool pio = l->pio_mask & (1u << region);
	unsigned size = 1u << (take(in, 1) % (pio ? 3 : 4));
	uint64_t size_r = l->size[region];
	if (size > size_r)
		size = 1;
	uint64_t off = take(in, 2) % (size_r - size + 1);
	uint64_t val = take(in, write ? size : 0);
	uint32_t op = pio ? (write ? IPC_OP_PIO_WRITE : IPC_OP_PIO_READ)
			  : (write ? IPC_OP_MMIO_WRITE : IPC_OP_MMIO_READ);
	/* A notify-area write kicks too (any width), and a status write may
	 * start the queue: the device may look at RAM from here on. */
	if (write && F.k->virtio)
		note_writable();
	if (F.verbose)
		fprintf(stderr, "devfuzz: %s region %u off %#llx size %u val %#llx\n",
			ipc_msg__op_name(op), region, (unsigned long long)off, size,
			(unsigned long long)val);
	ring(op, region, off, size, val);
	if (write && F.k->virtio && F.alive) {
		queue_written(off, size, val);
		verify_queues("a register write");
	}
}

static void kick(unsigned q)
{
	if (q >= F.nkick)
		return;
	note_writable();
	uint64_t one = 1;
	if (write(F.kick[q], &one, 8) != 8)
		finding("kick eventfd write failed: %s", strerror(errno));
}

/* Wait (bounded, us) for an interrupt on any irqfd; drain them. */
static void wait_irq(unsigned us)
{
	struct pollfd p[VM_DEV_MAX_EVENTFDS];
	for (unsigned i = 0; i < F.nirq; i++)
		p[i] = (struct pollfd){.fd = F.irq[i], .events = POLLIN};
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
	if (!F.nirq)
		return;
	uint64_t t0 = now_ns();
	int n = ppoll(p, F.nirq, &ts, NULL);
	F.ns_wait += now_ns() - t0;
	F.waits++;
	F.waits_idle += n <= 0;
	if (n > 0)
		for (unsigned i = 0; i < F.nirq; i++) {
			uint64_t v;
			if (p[i].revents && read(F.irq[i], &v, 8) < 0)
				break;
		}
}

/* Driver-style set-up of queue 0 at the fixed layout (ops.h). */
static void virtio_setup(struct in *in)
{
	uint32_t feat_lo = (uint32_t)take(in, 4);
	unsigned qlog = (unsigned)take(in, 1) % 9;
	uint16_t qs = (uint16_t)(1u << qlog);
	static const uint8_t zero[OPS_AVAIL_GPA - OPS_DESC_GPA + 0x2000];
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	uint64_t df = ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_DF, 4, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_GF, 4, df & feat_lo);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_GF, 4, 1); /* VERSION_1 */
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_SIZE, 2, qs);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_DESC, 8, OPS_DESC_GPA);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_DRIVER, 8, OPS_AVAIL_GPA);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_DEVICE, 8, OPS_USED_GPA);
	ram_write(OPS_DESC_GPA, zero, sizeof(zero));
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	ring(IPC_OP_MMIO_WRITE, 0, VIRTIO_PCI_COMMON_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		 VIRTIO_STATUS_DRIVER_OK);
	F.avail_idx = 0;
	F.next_desc = 0;
	/* DESC ops right after need the queue's size. The set-up touched queue
	 * 0 alone (selected), read back in four calls; the others are as the
	 * reset left them, learned once per device process: a full learn after
	 * every set-up took most of a net run's ring calls. */
	if (!F.qx_reset_known) {
		F.q_known = false;
		learn_queue();
		memcpy(F.qx_reset, F.qx, sizeof(F.qx));
		F.qx_reset_known = F.q_known;
	} else {
		read_queue0();
		memcpy(F.qx, F.qx_reset, sizeof(F.qx));
		F.q_known = F.alive;
	}
	verify_queues("a set-up");
	note_writable();
}

static void put_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};
	ram_write(OPS_DESC_GPA + 16ull * i, &d, 16);
}

static void publish(uint16_t head)
{
	uint16_t qs = F.qsize ? F.qsize : 1;
	ram_write(OPS_AVAIL_GPA + 4 + 2ull * (F.avail_idx % qs), &head, 2);
	F.avail_idx++;
	ram_write(OPS_AVAIL_GPA + 2, &F.avail_idx, 2);
}

/* A well-formed virtio-blk request (header, data, status) on queue 0, kicked. */
static void blk_request(struct in *in)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,
					 VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
					 VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES};
	uint8_t t = (uint8_t)take(in, 1);
	uint32_t type = t < 0xf0 ? types[t % 6] : t; /* a few unknown types */
	uint64_t sector = take(in, 2);
	uint32_t len = (uint32_t)take(in, 2) % (OPS_DATA_MAX + 1);
	uint8_t fl = (uint8_t)take(in, 1);
	learn_queue();
	uint16_t qs = F.qsize;
	if (!qs || qs > VIRTQ_MAX_SIZE || (qs & (qs - 1)))
		return;
	if (!(fl & 1))
		len &= ~511u;
	uint16_t slot = F.next_desc % qs;
	uint64_t hdr = OPS_HDR_GPA + 16ull * slot, st = OPS_STATUS_GPA + slot,
		 data = OPS_DATA_GPA + (uint64_t)(slot % 4) * OPS_DATA_MAX;
	uint8_t h[16] = {0};
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	ram_write(hdr, h, 16);
	if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
		uint8_t seg[16] = {0};
		uint32_t num = (uint32_t)take(in, 1), segfl = (uint32_t)take(in, 1) & 1;
		uint64_t s = take(in, 2);
		memcpy(seg, &s, 8);
		memcpy(seg + 8, &num, 4);
		memcpy(seg + 12, &segfl, 4);
		ram_write(data, seg, 16);
		len = 16;
	}
	bool dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint16_t d0 = slot, d1 = (slot + 1) % qs, d2 = (slot + 2) % qs;
	if ((fl & 2) && qs >= 4) {
		/* One indirect table holding the three. */
		uint64_t tbl = OPS_INDIRECT_GPA + 48ull * (slot % 64);
		struct virtq_desc t3[3] = {
		    {hdr, 16, VIRTQ_DESC_F_NEXT, 1},
		    {data, len,
		     (uint16_t)(VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0)), 2},
		    {st, 1, VIRTQ_DESC_F_WRITE, 0}};
		ram_write(tbl, t3, sizeof(t3));
		put_desc(d0, tbl, sizeof(t3), VIRTQ_DESC_F_INDIRECT, 0);
		F.next_desc = (uint16_t)(slot + 1);
	} else if (qs >= 4) {
		put_desc(d0, hdr, 16, VIRTQ_DESC_F_NEXT, d1);
		put_desc(d1, data, len,
			 (uint16_t)(VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0)), d2);
		put_desc(d2, st, 1, VIRTQ_DESC_F_WRITE, 0);
		F.next_desc = (uint16_t)(slot + 3);
	} else {
		return;
	}
	publish(d0);
	kick(0);
}

static void backend_op(struct in *in)
{
	uint8_t buf[64];
	unsigned len = (unsigned)take(in, 1) % 33;
	for (unsigned i = 0; i < len; i++)
		buf[i] = (uint8_t)take(in, 1);
	switch (F.kind) {
	case K_SERIAL:
		if (F.peer_in >= 0 && write(F.peer_in, buf, len) < 0 && errno != EAGAIN)
			finding("serial input pipe: %s", strerror(errno));
		break;
	case K_INPUT:
		if (len == 0)
			len = sizeof(struct vnc_input_msg); /* mostly well-sized events */
		if (F.peer_in >= 0)
			send(F.peer_in, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	case K_BLK_RAW:
	case K_BLK_QCOW2: {
		/* Someone else changes the image file under the device. */
		uint64_t off = take(in, 3) % IMG_SIZE;
		if (off + len > IMG_SIZE)
			len = (unsigned)(IMG_SIZE - off);
		if (pwrite(F.img_fd, buf, len, (off_t)off) != (ssize_t)len)
			finding("image write: %s", strerror(errno));
		if (F.kind == K_BLK_RAW)
			memcpy(F.img + off, buf, len);
		F.img_dirty = true;
		break;
	}
	case K_NET: {
		/* A frame for the device's rx path: the bytes above start it (its
		 * vnet header first), a pattern fills it to its length. */
		static uint8_t frame[NET_HDR_LEN + NET_MAX_FRAME];
		size_t flen = len + (size_t)take(in, 2);
		if (flen > sizeof(frame))
			flen = sizeof(frame);
		memcpy(frame, buf, len);
		for (size_t i = len; i < flen; i++)
			frame[i] = (uint8_t)i;
		if (F.peer_in >= 0)
			send(F.peer_in, frame, flen, MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	}
	case K_VGA:
	case K_RNG:
		break;
	}
}

static void run_op(struct in *in)
{
	uint8_t b = (uint8_t)take(in, 1), op = b % OP_COUNT;
	/* Ops that cost a re-spawn are rarer than the rest (spawns took most of
	 * a qcow2 run's time): a malformed request ends the process, and a qcow2
	 * image changed under the device is replaced, with the device, before
	 * the next input. Of the opcode bytes that map to RAW only 0xf7 is one,
	 * of those that map to BACKEND on qcow2 the five >= 0xc0; the rest are
	 * READs. */
	if (op == OP_RAW && b < 0xf0)
		op = OP_READ;
	if (op == OP_BACKEND && F.kind == K_BLK_QCOW2 && b < 0xc0)
		op = OP_READ;
	if (F.verbose)
		fprintf(stderr, "devfuzz: op %u\n", op);
	switch (op) {
	case OP_READ:
		reg_access(in, false);
		break;
	case OP_WRITE:
		reg_access(in, true);
		break;
	case OP_RAM: {
		uint8_t buf[256];
		uint64_t gpa = take(in, 3) % RAM_SIZE;
		unsigned len = (unsigned)take(in, 1);
		for (unsigned i = 0; i < len; i++)
			buf[i] = (uint8_t)take(in, 1);
		if (F.k->virtio) {
			ram_write(gpa, buf, len);
			note_writable();
		}
		break;
	}
	case OP_KICK:
		kick((unsigned)take(in, 1));
		break;
	case OP_WAIT:
		/* Most waits get no interrupt (90% on a net corpus, 70% on qcow2)
		 * and time out: 0.25-0.75 ms instead of 1-3 ms made replays of 300
		 * inputs 1.6x (net) and 1.5x (qcow2) faster, with the same waits
		 * ending in an interrupt and the same edges. */
		wait_irq(250 * (1 + (unsigned)take(in, 1) % 3));
		break;
	case OP_BACKEND:
		backend_op(in);
		break;
	case OP_RESET:
		reset_device();
		F.q_known = false;
		break;
	case OP_RAW: {
		uint32_t o = (uint32_t)take(in, 1), region = (uint32_t)take(in, 1);
		uint64_t off = take(in, 2);
		uint32_t size = (uint32_t)take(in, 1);
		uint64_t v = take(in, 8);
		note_writable();
		ring(o, region, off, size, v);
		F.q_known = false;
		break;
	}
	case OP_VIRTIO_SETUP:
		if (F.k->virtio)
			virtio_setup(in);
		break;
	case OP_DESC: {
		uint16_t i = (uint16_t)take(in, 1);
		uint64_t addr = take(in, 3);
		uint32_t len = (uint32_t)take(in, 2);
		uint16_t fl = (uint16_t)take(in, 1), next = (uint16_t)take(in, 1);
		if (F.k->virtio && F.qsize) {
			put_desc(i % F.qsize, addr, len, fl, next);
			note_writable();
		}
		break;
	}
	case OP_PUBLISH:
		if (F.k->virtio) {
			publish((uint16_t)take(in, 1));
			kick(0);
		}
		break;
	case OP_BLK_REQ:
		if (F.k->virtio)
			blk_request(in);
		break;
	}
	if (F.peer_out >= 0) {
		char sink[4096];
		while (read(F.peer_out, sink, sizeof(sink)) > 0)
			;
	}
}

/* ---- libFuzzer ---------------------------------------------------------- */

static void at_exit(void)
{
	/* The image lives in a directory of its own (kept after a finding). */
	unlink(F.img_path);
	rmdir(F.dir);
	const char *path = getenv("DEVFUZZ_COVOUT");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (!f)
		return;
	unsigned n = 0, total = F.cov ? F.cov->nedges : 0;
	for (unsigned i = 0; i < total && i < DEVCOV_MAX; i++)
		if (F.covered[i]) {
			fprintf(f, "0x%llx\n", (unsigned long long)devcov__pcs(F.cov)[i]);
			n++;
		}
	fclose(f);
	fprintf(stderr,
		"devfuzz: %s: %u of %u device edges covered, %lu inputs, %lu spawns, %lu with RAM "
		"unchecked\n",
		F.k->name, n, total, F.execs, F.spawns, F.ram_unchecked);
	fprintf(stderr,
		"devfuzz: %s: wall %llu ms: %lu ring calls %llu ms, %lu interrupt waits (%lu with "
		"none) %llu ms, spawns %llu ms\n",
		F.k->name, (unsigned long long)((now_ns() - F.ns_start) / 1000000), F.calls,
		(unsigned long long)(F.ns_ring / 1000000), F.waits, F.waits_idle,
		(unsigned long long)(F.ns_wait / 1000000),
		(unsigned long long)(F.ns_spawn / 1000000));
}

static void setup(void)
{
	const char *dev = getenv("DEVFUZZ_DEVICE");
	F.kind = K_BLK_RAW;
	for (unsigned i = 0; dev && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(dev, kinds[i].name))
			F.kind = (enum kind)i;
	if (dev && strcmp(dev, kinds[F.kind].name)) {
		fprintf(stderr, "devfuzz: unknown device %s; one of:", dev);
		for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			fprintf(stderr, " %s", kinds[i].name);
		fprintf(stderr, "\n");
		exit(1);
	}
	F.k = &kinds[F.kind];
	F.ns_start = now_ns();
	if (geteuid() != 0) {
		fprintf(stderr, "devfuzz: spawning a jailed device needs root: skipped\n");
		exit(77);
	}
	F.respawn = getenv("DEVFUZZ_RESPAWN") && atoi(getenv("DEVFUZZ_RESPAWN"));
	F.verbose = getenv("DEVFUZZ_VERBOSE") != NULL;
	F.timeout_ms = getenv("DEVFUZZ_TIMEOUT_MS") ? (unsigned)atoi(getenv("DEVFUZZ_TIMEOUT_MS"))
						    : IPC_TIMEOUT_MS_DEF;
	F.img_fd = F.peer_in = F.peer_out = F.display_fd = F.net_dev_end = -1;
	log__set_role("devfuzz");
	log__set_level(0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(F.dir, sizeof(F.dir), "/tmp/devfuzz-%d", (int)getpid());
	mkdir(F.dir, 0700);
	snprintf(F.img_path, sizeof(F.img_path), "%s/disk.img", F.dir);
	if (F.k->virtio)
		prepare_image();
	F.ram_fd = memfd_create("devfuzz-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (F.ram_fd < 0 || ftruncate(F.ram_fd, RAM_SIZE) < 0 ||
	    fcntl(F.ram_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		exit(1);
	F.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, F.ram_fd, 0);
	F.cov_fd = memfd_create("devfuzz-cov", MFD_CLOEXEC);
	if (F.ram == MAP_FAILED || F.cov_fd < 0 || ftruncate(F.cov_fd, DEVCOV_SIZE) < 0)
		exit(1);
	F.cov = mmap(NULL, DEVCOV_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, F.cov_fd, 0);
	if (F.cov == MAP_FAILED)
		exit(1);
	F.cov->magic = DEVCOV_MAGIC;
	if (pipe2(F.diag, O_CLOEXEC | O_NONBLOCK) < 0)
		exit(1);
	atexit(at_exit);
}

#ifdef CV_FUZZING_BUILD
/* The harness's own ASan quarantine, 16 MiB instead of 256: every spawn
 * clones the harness, and copying and tearing down the page tables of a
 * full quarantine took a third of a qcow2 run's CPU (the harness at 441 MB
 * resident against 64 MB, 30 against 37 inputs/s side by side). The device
 * binaries keep ASan's defaults: the jail clears their environment, and
 * this function is the harness's, not theirs. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

#endif
/*
 * The first device starts here, before libFuzzer starts its RSS-monitor
 * thread: the jail clones without fork()'s interceptors, so a child cloned
 * while another thread holds a sanitizer-runtime lock could deadlock before
 * it execs (seen as a hang of the first input under load).
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	spawn();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.k)
		setup();
	if (!F.alive || F.respawn)
		spawn();
	/* Each input starts from zeroed RAM and a reset device: what it finds
	 * does not depend on the inputs before it. */
	memset(F.ram, 0, RAM_SIZE);
	memset(F.shadow, 0, RAM_SIZE);
	F.avail_idx = F.next_desc = F.qsize = 0;
	memset(F.allowed, 0, sizeof(F.allowed));
	memset(F.tables, 0, sizeof(F.tables));
	forget_versions();
	/* qcow2: the device's reset flushes, but a failed flush leaves cached
	 * metadata to land later and show an earlier input's write only then,
	 * so its image ranges hold every write request since the image was
	 * fresh (prepare_image); raw ranges are this input's. */
	if (F.kind != K_BLK_QCOW2) {
		F.nranges = 0;
		F.ranges_overflow = false;
	}
	F.bad_sent = false;
	F.q_known = false;
	diag_len = 0;
	struct in in = {data, size};
	unsigned nops = 0;
	while (in.n && F.alive && nops++ < 512)
		run_op(&in);
	/* End of the input: coverage out, device back to its initial state
	 * (blk: in-flight I/O drained), then check what it wrote. */
	note_writable();
	if (F.verbose && F.k->virtio && F.alive) {
		uint16_t used_idx;
		memcpy(&used_idx, F.ram + OPS_USED_GPA + 2, 2);
		fprintf(
		    stderr, "devfuzz: %u ops; queue 0: %u published, used idx %u, status %#llx\n",
		    nops, F.avail_idx, used_idx,
		    (unsigned long long)ring(IPC_OP_MMIO_READ, 0, VIRTIO_PCI_COMMON_STATUS, 1, 0));
		for (unsigned q = 1; q < F.nkick; q++)
			if (F.qx[q].size && F.qx[q].used <= RAM_SIZE - 4) {
				memcpy(&used_idx, F.ram + F.qx[q].used + 2, 2);
				fprintf(stderr, "devfuzz: queue %u: used idx %u\n", q, used_idx);
			}
	}
	if (F.verbose) {
		drain_diag();
		fprintf(stderr, "devfuzz: device output so far:\n%s", diag_buf);
	}
	reset_device();
	/* net: frames the device did not take wait for no later input. */
	if (F.net_dev_end >= 0) {
		static uint8_t sink[NET_HDR_LEN + NET_MAX_FRAME];
		while (recv(F.net_dev_end, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	/* A device that left during the input has exited (check_death): all it
	 * wrote has landed, and is checked against this input's buffers too.
	 * Skipping it left the image copy stale, and the next input's device
	 * was blamed for the writes (campaign false positive, docs/fuzzing.md). */
	if (F.alive || F.d.dead) {
		check_ram();
		check_image();
	}
	if (F.cov && F.cov->nedges) {
		unsigned n = F.cov->nedges < DEVCOV_MAX ? F.cov->nedges : DEVCOV_MAX;
		for (unsigned i = 0; i < n; i++) {
#ifdef CV_FUZZING_BUILD
			extra[i] = F.cov->cnt[i];
#endif
			F.covered[i] |= F.cov->cnt[i];
		}
		memset(F.cov->cnt, 0, n);
	}
	if (sanitizer_text())
		finding("sanitizer report from a running device");
	F.execs++;
	if (F.alive && !F.respawn && F.execs % 256 == 0) {
		uint64_t kb = rss_kb(),
			 lim = (getenv("DEVFUZZ_RSS_MB") ? (uint64_t)atoi(getenv("DEVFUZZ_RSS_MB"))
							 : 256)
			       << 10;
		if (!F.rss_base_kb)
			F.rss_base_kb = kb;
		else if (kb > F.rss_base_kb + lim)
			finding("resident memory grew from %llu to %llu KiB",
				(unsigned long long)F.rss_base_kb, (unsigned long long)kb);
	}
	if (F.respawn || (F.kind == K_BLK_QCOW2 && F.img_dirty))
		teardown();
	return 0;
}
