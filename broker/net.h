/* SPDX-License-Identifier: MIT */
/*
 * --net tap=IFNAME[,mac=MAC]: the broker attaches to an existing TAP
 * interface (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking), sets its
 * vnet header size and no offloads, and hands only that fd to cellvm-net.
 */
#ifndef CELLVM_BROKER_NET_H
#define CELLVM_BROKER_NET_H

#include "devices.h"
#include "options.h"

/* Parse "tap=IFNAME[,mac=MAC]"; 0, or -1 with one message printed. */
int net__parse(const char *s, struct net_opt *n);
/* Describe the virtio-net device of --net number `i`; 0, or -1 (printed). */
int net__prepare(const struct net_opt *n, unsigned i, struct devproc *d);

#endif
