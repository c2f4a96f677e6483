/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "log.h"
#include "net.h"
#include "selinux/label.h"
#include "vmplan.h"

#define MEM_MIN (16ULL << 20)
#define MEM_MAX (1ULL << 40)

void options__usage(FILE *f)
{
	fprintf(f,
		"usage: cellvm run [options]\n"
		"  --kernel FILE     PVH ELF, vmlinux or bzImage (default: built-in demo guest)\n"
		"  --initrd FILE     initial ramdisk\n"
		"  --cmdline STR     kernel command line\n"
		"  --memory SIZE     guest RAM, e.g. 256M, 2G (default 256M; 16M..1T)\n"
		"  --cpus N          vCPUs (default 1)\n"
		"  --serial MODE     stdio (default), file:PATH or none\n"
		"  --serial-limit SIZE  a file:PATH log stops growing at SIZE (default 64M)\n"
		"  --disk PATH[,format=raw|qcow2][,readonly=on][,serial=ID][,blockdev=on]\n"
		"                    a virtio-blk disk (repeatable; the format is never\n"
		"                    guessed from the content: raw unless told)\n"
		"  --net tap=IFNAME[,mac=MAC]\n"
		"                    a virtio-net NIC on an existing TAP interface (repeatable)\n"
		"  --device TYPE     a device that takes no options, by its type (repeatable)\n"
		"  --rng             --device rng: virtio-rng (entropy from the host's getrandom)\n"
		"  --vga             a Bochs VBE / bochs-display adapter (16 MiB video memory)\n"
		"  --vnc HOST:PORT[,password-file=F][,tls-cert=F,tls-key=F][,tls-only]\n"
		"        [,tls-only=off][,websocket=PORT][,origin=URL]...[,auth=none]\n"
		"                    serve the display over VNC (implies --vga); auth=none\n"
		"                    only on a loopback address\n"
		"  --control PATH    control socket for cellvm status|stop|screendump\n"
		"  --record FILE     write the device traffic to FILE (a new file), for fuzzing\n"
		"                    seeds (tests/fuzz/devproc/rec2seeds.py); slower\n"
		"  --selinux MODE    auto (label when SELinux is enabled; default), require, off\n"
		"  --seccomp-log     name a blocked syscall before the process dies of SIGSYS\n"
		"  --testdev MODE    add the test device: inproc, ring or socket (benchmarks)\n"
		"  --serial-inproc   run COM1 inside the vcpu-worker (debugging only)\n"
		"  -v, --verbose     more diagnostics (repeat for debug)\n"
		"  -h, --help        this text\n"
		"On a terminal, Ctrl-A x ends the VM and Ctrl-A Ctrl-A sends Ctrl-A.\n"
		"Exit status: the guest's debug-exit status; 0 when it powers off or\n"
		"is stopped; 125 when cellvm fails; 126 when the guest crashes.\n");
}

int options__parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	if (shift && v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int options__parse_disk(const char *s, struct disk_opt *d)
{
	memset(d, 0, sizeof(*d));
	d->format = DISK_RAW;
	const char *comma = strchr(s, ',');
	size_t plen = comma ? (size_t)(comma - s) : strlen(s);
	if (plen == 0 || plen >= sizeof(d->path)) {
		log__err("--disk %s: expected "
			 "PATH[,format=raw|qcow2][,readonly=on][,serial=ID][,blockdev=on]",
			 s);
		return -1;
	}
	memcpy(d->path, s, plen);
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ',');
		size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
		char kv[64];
		if (len >= sizeof(kv)) {
			log__err("--disk %s: option too long", s);
			return -1;
		}
		memcpy(kv, opt, len);
		kv[len] = 0;
		if (!strcmp(kv, "format=raw")) {
			d->format = DISK_RAW;
		} else if (!strcmp(kv, "format=qcow2")) {
			d->format = DISK_QCOW2;
		} else if (!strcmp(kv, "readonly=on") || !strcmp(kv, "readonly")) {
			d->readonly = true;
		} else if (!strcmp(kv, "readonly=off")) {
			d->readonly = false;
		} else if (!strcmp(kv, "blockdev=on")) {
			d->blockdev = true;
		} else if (!strcmp(kv, "blockdev=off")) {
			d->blockdev = false;
		} else if (!strncmp(kv, "serial=", 7) && strlen(kv + 7) <= 20) {
			snprintf(d->serial, sizeof(d->serial), "%s", kv + 7);
		} else {
			log__err("--disk %s: unknown option '%s'", s, kv);
			return -1;
		}
	}
	return 0;
}

static int parse_serial(const char *s, struct run_opts *o)
{
	if (!strcmp(s, "stdio")) {
		o->serial = SERIAL_STDIO;
	} else if (!strcmp(s, "none")) {
		o->serial = SERIAL_NONE;
	} else if (!strncmp(s, "file:", 5) && s[5]) {
		o->serial = SERIAL_FILE;
		o->serial_path = s + 5;
	} else {
		log__err("--serial %s: expected stdio, file:PATH or none", s);
		return -1;
	}
	return 0;
}

int options__parse(int argc, char **argv, struct run_opts *o)
{
	// clang-format off
	static const struct option longopts[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'i'},
	    {"cmdline", required_argument, NULL, 'c'},
	    {"memory", required_argument, NULL, 'm'},
	    {"cpus", required_argument, NULL, 'n'},
	    {"serial", required_argument, NULL, 's'},
	    {"serial-limit", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"seccomp-log", no_argument, NULL, 'L'},
	    {"testdev", required_argument, NULL, 'T'},
	    {"serial-inproc", no_argument, NULL, 'I'},
	    {"disk", required_argument, NULL, 'D'},
	    {"selinux", required_argument, NULL, 'S'},
	    {"vga", no_argument, NULL, 'G'},
	    {"rng", no_argument, NULL, 'R'},
	    {"device", required_argument, NULL, 'X'},
	    {"net", required_argument, NULL, 'N'},
	    {"vnc", required_argument, NULL, 'V'},
	    {"control", required_argument, NULL, 'C'},
	    {"record", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	// clang-format on
	memset(o, 0, sizeof(*o));
	o->mem_size = 256ULL << 20;
	o->ncpus = 1;
	o->serial = SERIAL_STDIO;
	o->serial_limit = 64ULL << 20;
	o->cmdline = "";
	o->selinux = LABEL_AUTO;

	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		char *end;
		unsigned long n;
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'c':
			o->cmdline = optarg;
			break;
		case 'm':
			if (options__parse_size(optarg, &o->mem_size) < 0 ||
			    o->mem_size < MEM_MIN || o->mem_size > MEM_MAX ||
			    (o->mem_size & ((1ULL << 20) - 1))) {
				log__err(
				    "--memory %s: expected a whole number of MiB from 16M to 1T",
				    optarg);
				return -1;
			}
			break;
		case 'n':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || n < 1 || n > VM_MAX_CPUS) {
				log__err("--cpus %s: expected 1..%d", optarg, VM_MAX_CPUS);
				return -1;
			}
			o->ncpus = (unsigned)n;
			break;
		case 's':
			if (parse_serial(optarg, o) < 0)
				return -1;
			break;
		case 'l':
			if (options__parse_size(optarg, &o->serial_limit) < 0 ||
			    o->serial_limit == 0) {
				log__err("--serial-limit %s: expected a size such as 64M", optarg);
				return -1;
			}
			break;
		case 'v':
			o->verbose++;
			break;
		case 'L':
			o->seccomp_log = true;
			break;
		case 'G':
			o->vga = true;
			break;
		case 'R':
		case 'X': {
			/* checked against the device table when the VM is planned */
			const char *t = c == 'R' ? "rng" : optarg;
			if (o->ndevices == MAX_PLAIN_DEVICES) {
				log__err("--device: at most %d", MAX_PLAIN_DEVICES);
				return -1;
			}
			if (!*t || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(t) ||
			    strlen(t) > 16) {
				log__err("--device '%s': a device type is 1-16 of [a-z0-9]", t);
				return -1;
			}
			o->devices[o->ndevices++] = t;
			break;
		}
		case 'N':
			if (o->nnets == MAX_NETS) {
				log__err("--net: at most %d interfaces", MAX_NETS);
				return -1;
			}
			if (net__parse(optarg, &o->nets[o->nnets]) < 0)
				return -1;
			o->nnets++;
			break;
		case 'C':
			o->control = optarg;
			break;
		case 'r':
			o->record = optarg;
			break;
		case 'V':
			if (display__parse_vnc(optarg, &o->vnc) < 0)
				return -1;
			o->vga = true;
			break;
		case 'S': {
			enum label_mode m;
			if (label__parse_mode(optarg, &m) < 0) {
				log__err("--selinux %s: expected auto, require or off", optarg);
				return -1;
			}
			o->selinux = (int)m;
			break;
		}
		case 'D':
			if (o->ndisks == MAX_DISKS) {
				log__err("--disk: at most %d disks", MAX_DISKS);
				return -1;
			}
			if (options__parse_disk(optarg, &o->disks[o->ndisks]) < 0)
				return -1;
			o->ndisks++;
			break;
		case 'I':
			o->serial_inproc = true;
			break;
		case 'T':
			if (!strcmp(optarg, "inproc"))
				o->testdev = VM_DEV_INPROC;
			else if (!strcmp(optarg, "ring"))
				o->testdev = VM_DEV_RING;
			else if (!strcmp(optarg, "socket"))
				o->testdev = VM_DEV_SOCKET;
			else {
				log__err("--testdev %s: expected inproc, ring or socket", optarg);
				return -1;
			}
			break;
		case 'h':
			options__usage(stdout);
			return 1;
		case ':':
			log__err("%s needs an argument", argv[optind - 1]);
			return -1;
		default:
			log__err("unknown option %s (see cellvm run --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		log__err("unexpected argument '%s' (see cellvm run --help)", argv[optind]);
		return -1;
	}
	if (strlen(o->cmdline) >= VM_CMDLINE_MAX) {
		log__err("--cmdline: longer than %d bytes", VM_CMDLINE_MAX - 1);
		return -1;
	}
	return 0;
}
