/* SPDX-License-Identifier: MIT */
/* dev_plan.cfg of a virtio-net device: what the broker tells cellvm-net. */
#ifndef CELLVM_NET_CFG_H
#define CELLVM_NET_CFG_H

#include <stdint.h>

#include "devplan.h"

#define NET_MAX_PAIRS 4	 /* queue pairs: one TAP queue fd each (backend fds) */
#define NET_HDR_LEN   12 /* struct virtio_net_hdr (v1: num_buffers always there); TUNSETVNETHDRSZ */
/* The largest frame either way: a 64 KiB IP packet behind an Ethernet and a VLAN header. */
#define NET_MAX_FRAME (65535 + 14 + 4)

struct net_cfg {
	uint8_t mac[6];
	uint16_t npairs; /* rx/tx queue pairs = backend fds (one TAP queue each) */
	uint16_t mtu;	 /* the TAP's MTU when it was opened (VIRTIO_NET_F_MTU); 0: not offered */
};
DEV_PLAN_CFG_FITS(struct net_cfg);
_Static_assert(NET_MAX_PAIRS <= DEV_PLAN_MAX_BACKENDS, "one TAP queue fd per pair");

#endif
