/* SPDX-License-Identifier: MIT */
/* `cellvm run` options. */
#ifndef CELLVM_OPTIONS_H
#define CELLVM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

#define MAX_DISKS	  8
#define MAX_NETS	  8
#define MAX_PLAIN_DEVICES 8

struct net_opt {
	char ifname[16]; /* IFNAMSIZ */
	uint8_t mac[6];
	bool has_mac; /* else one is made up per VM */
};

enum disk_format { DISK_RAW = 1, DISK_QCOW2 = 2 };

struct disk_opt {
	char path[4096];
	enum disk_format format; /* never probed from the content: raw unless told */
	bool readonly;
	bool blockdev; /* PATH may be a block device (blockdev=on); else regular files only */
	char serial[21];
};

struct vnc_opt {
	bool enabled;
	char host[256];
	char port[16];
	char password_file[4096];
	char tls_cert[4096], tls_key[4096];
	bool tls_only;
	bool tls_plain; /* tls-only=off: plain types beside VeNCrypt */
	bool auth_none; /* explicitly unauthenticated: loopback only */
	char ws_port[16];
	char origins[512]; /* origin=URL..., space-separated: pages that may use websocket= */
};

struct run_opts {
	const char *kernel; /* NULL: the built-in demo guest */
	const char *initrd;
	const char *cmdline;
	uint64_t mem_size;
	unsigned ncpus;
	enum serial_kind serial;
	const char *serial_path;
	uint64_t serial_limit; /* bytes a --serial file may grow to (docs/security.md) */
	int verbose;
	bool seccomp_log;   /* blocked syscalls are named before the process dies */
	int testdev;	    /* 0 none, else enum vm_dev_transport of the test device */
	bool serial_inproc; /* debug: COM1 inside the vcpu-worker */
	struct disk_opt disks[MAX_DISKS];
	unsigned ndisks;
	int selinux; /* enum label_mode: auto (default), require, off */
	bool vga;    /* a Bochs VBE display adapter */
	/* --device TYPE (and --rng): devices that take no options, by type */
	const char *devices[MAX_PLAIN_DEVICES];
	unsigned ndevices;
	struct net_opt nets[MAX_NETS];
	unsigned nnets;
	const char *control; /* control socket path, or NULL */
	const char *record;  /* --record: device traffic record file, or NULL */
	struct vnc_opt vnc;  /* serve the display over VNC (implies vga) */
};

/* "PATH[,format=raw|qcow2][,readonly=on|off][,serial=ID][,blockdev=on|off]"; 0 or -1. */
int options__parse_disk(const char *s, struct disk_opt *d);

/* Parse argv after "run". Returns 0, 1 for --help (printed), -1 on error (printed). */
int options__parse(int argc, char **argv, struct run_opts *o);
/* "512M", "2G", "1048576": bytes, or -1 on a malformed or overflowing size. */
int options__parse_size(const char *s, uint64_t *out);
void options__usage(FILE *f);

#endif
