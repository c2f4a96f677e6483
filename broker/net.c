/* SPDX-License-Identifier: MIT */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "device-procs/net/net_cfg.h"
#include "device-procs/virtio/virtio_pci_regs.h"
#include "log.h"

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:56": unicast, not all zero. */
static bool mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

int net__parse(const char *s, struct net_opt *n)
{
	char buf[256];
	memset(n, 0, sizeof(*n));
	if (strlen(s) >= sizeof(buf)) {
		log__err("--net %.40s...: too long", s);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "tap=", 4)) {
			if (!name_ok(kv + 4)) {
				log__err("--net %s: bad interface name '%s' (1 to %d of A-Z a-z "
					 "0-9 - _ .)",
					 s, kv + 4, IFNAMSIZ - 1);
				return -1;
			}
			snprintf(n->ifname, sizeof(n->ifname), "%s", kv + 4);
		} else if (!strncmp(kv, "mac=", 4)) {
			if (!mac_parse(kv + 4, n->mac)) {
				log__err("--net %s: bad MAC address '%s' (unicast, like "
					 "52:54:00:12:34:56)",
					 s, kv + 4);
				return -1;
			}
			n->has_mac = true;
		} else {
			log__err("--net %s: unknown setting '%s' (tap=IFNAME[,mac=MAC])", s, kv);
			return -1;
		}
	}
	if (!n->ifname[0]) {
		log__err("--net %s: which TAP interface? (tap=IFNAME)", s);
		return -1;
	}
	return 0;
}

/*
 * One queue of the existing TAP interface (multi: of a multi_queue one);
 * -EINVAL when the interface is not a TAP of that kind, else -1 (printed).
 */
static int open_tap(const char *ifname, bool multi)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		log__err("--net tap=%s: /dev/net/tun: %s", ifname, strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	int hdr = NET_HDR_LEN;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		if (e != EINVAL)
			log__err("--net tap=%s: cannot attach: %s", ifname, strerror(e));
		close(fd);
		return e == EINVAL ? -EINVAL : -1;
	}
	/* The device sets the offloads the guest accepts (TUNSETOFFLOAD); none until then. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		log__err("--net tap=%s: vnet header: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Up to `want` queues of the interface: a multi_queue TAP gives one per
 * queue pair, a single-queue one its only queue. Returns how many, or -1.
 */
static int open_queues(const char *ifname, unsigned want, int *fds)
{
	if (!if_nametoindex(ifname)) {
		log__err("--net tap=%s: no such interface (create it first: ip tuntap add dev %s "
			 "mode tap [multi_queue])",
			 ifname, ifname);
		return -1;
	}
	int fd = want > 1 ? open_tap(ifname, true) : -EINVAL;
	if (fd == -EINVAL) {
		/* A single-queue TAP (or one pair wanted): one queue pair. */
		fd = open_tap(ifname, false);
		if (fd == -EINVAL)
			log__err("--net tap=%s: cannot attach: not a TAP interface", ifname);
		if (fd < 0)
			return -1;
		fds[0] = fd;
		return 1;
	}
	if (fd < 0)
		return -1;
	fds[0] = fd;
	for (unsigned n = 1; n < want; n++) {
		fds[n] = open_tap(ifname, true);
		if (fds[n] < 0) {
			if (fds[n] == -EINVAL)
				log__err("--net tap=%s: cannot attach queue %u", ifname, n);
			while (n--)
				close(fds[n]);
			return -1;
		}
	}
	return (int)want;
}

/* The interface's MTU, which the guest is offered (VIRTIO_NET_F_MTU); 0 if unknown. */
static uint16_t tap_mtu(const char *ifname)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* any socket answers SIOCGIFMTU: a unix one needs no network-socket
	 * permission (SELinux allows cellvm_t unix sockets only) */
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int mtu = s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 0;
	if (s >= 0)
		close(s);
	return mtu > 0 && mtu <= 65535 ? (uint16_t)mtu : 0;
}

int net__prepare(const struct net_opt *n, unsigned i, unsigned ncpus, struct devproc *d)
{
	int fds[NET_MAX_PAIRS];
	/* One queue pair per vCPU, as far as the TAP and the device's fds go. */
	int nq = open_queues(n->ifname, ncpus < NET_MAX_PAIRS ? ncpus : NET_MAX_PAIRS, fds);
	if (nq < 0)
		return -1;
	struct net_cfg c = {.npairs = (uint16_t)nq, .mtu = tap_mtu(n->ifname)};
	if (n->has_mac) {
		memcpy(c.mac, n->mac, 6);
	} else {
		/* Locally administered, distinct per VM and per --net of it. */
		pid_t pid = getpid();
		uint8_t def[6] = {0x52,
				  0x54,
				  (uint8_t)(pid >> 16),
				  (uint8_t)(pid >> 8),
				  (uint8_t)pid,
				  (uint8_t)(i + 1)};
		memcpy(c.mac, def, 6);
	}
	net__describe(d, &c, fds);
	return 0;
}

void net__describe(struct devproc *d, const struct net_cfg *c, const int *fds)
{
	memcpy(d->cfg, c, sizeof(*c));
	devices__virtio(d, "net", VIRTIO_ID_NET, 0x020000 /* network controller, Ethernet */,
			2u * c->npairs + 1);
	for (unsigned q = 0; q < c->npairs; q++) {
		d->backend[q] = fds[q];
		d->backend_why[q] = "a TAP queue: frames to and from the host (ioctls: "
				    "TUNSETOFFLOAD, TUNSETQUEUE)";
	}
	d->nbackend = c->npairs;
}
