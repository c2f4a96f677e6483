/* SPDX-License-Identifier: MIT */
/*
 * --net tap=IFNAME[,mac=MAC]: the broker attaches to an existing TAP
 * interface (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking; one queue per
 * queue pair of a multi_queue TAP), sets its vnet header size and no
 * offloads, and hands only those fds to cellvm-net.
 */
#ifndef CELLVM_BROKER_NET_H
#define CELLVM_BROKER_NET_H

#include "device-procs/net/net_cfg.h"
#include "devices.h"
#include "options.h"

/* Parse "tap=IFNAME[,mac=MAC]"; 0, or -1 with one message printed. */
int net__parse(const char *s, struct net_opt *n);
/*
 * Describe the virtio-net device of --net number `i`, with one queue pair
 * per vCPU if the TAP is multi_queue (up to NET_MAX_PAIRS); 0, or -1 (printed).
 */
int net__prepare(const struct net_opt *n, unsigned i, unsigned ncpus, struct devproc *d);
/* The description itself, for settings c and one TAP queue fd per pair
 * (fds[0..c->npairs-1], handed over): net__prepare's last step, and the
 * device-process fuzzer's, whose queue fds are a socket pair. */
void net__describe(struct devproc *d, const struct net_cfg *c, const int *fds);

#endif
