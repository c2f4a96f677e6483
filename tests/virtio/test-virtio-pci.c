/* SPDX-License-Identifier: MIT */
/* virtio-pci modern: config space, common config registers, negotiation, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdrv.h"

#define FAKE_FEATURE 3

struct fake {
	unsigned kicks[VIRTIO_MAX_QUEUES];
	unsigned resets;
	uint32_t last_cfg_write;
};

static void fake_cfg_get(void *priv, uint8_t *cfg)
{
	(void)priv;
	for (int i = 0; i < 8; i++)
		cfg[i] = 0xa0 + i;
}

static void fake_cfg_write(void *priv, uint32_t off, unsigned size, uint64_t val)
{
	struct fake *f = priv;
	f->last_cfg_write = off << 16 | size << 8 | (uint8_t)val;
}

static void fake_kick(void *priv, unsigned q)
{
	struct fake *f = priv;
	f->kicks[q]++;
}

static void fake_reset(void *priv)
{
	struct fake *f = priv;
	f->resets++;
}

static const struct virtio_dev_ops fake_ops = {
    .device_id = 42,
    .cfg_size = 8,
    .cfg_get = fake_cfg_get,
    .cfg_write = fake_cfg_write,
    .kick = fake_kick,
    .reset = fake_reset,
};

struct fx {
	struct vdrv d;
	struct virtio_pci vp;
	struct fake fake;
};

static const uint64_t GOOD = 1ull << VIRTIO_F_VERSION_1 | 1ull << FAKE_FEATURE;

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	vdrv__init_ram(&f->d);
	virtio_pci__init(&f->vp, &fake_ops, &f->fake, 1ull << FAKE_FEATURE, 2, 64);
	virtio_pci__attach(&f->vp, &f->d.env);
	f->d.vp = &f->vp;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vdrv__free_ram(&f->d);
	free(f);
	return 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static void test_config_space(void **state)
{
	(void)state;
	uint8_t cfg[256];
	uint32_t bar0 = 0;
	virtio_pci__config_space(cfg, 2, 2, 0x010000, 3, &bar0);
	assert_int_equal(rd16(cfg), 0x1af4);
	assert_int_equal(rd16(cfg + 2), 0x1042);
	assert_int_equal(cfg[8], 1);
	assert_int_equal(cfg[0x0b], 0x01);
	assert_int_equal(rd16(cfg + 0x2e), 2);
	assert_true(rd16(cfg + 6) & 0x10);
	assert_int_equal(bar0, VIRTIO_PCI_BAR0_SIZE);
	assert_int_equal(bar0 & (bar0 - 1), 0);

	/* Walk the capability list: each type once, all inside the header. */
	unsigned seen = 0, hops = 0, msix = 0;
	for (unsigned at = cfg[0x34]; at; at = cfg[at + 1]) {
		assert_true(at >= 0x40 && at + 12 <= 256);
		assert_true(++hops < 16);
		if (cfg[at] == 0x11) {
			msix = at;
			continue;
		}
		assert_int_equal(cfg[at], 0x09);
		uint8_t type = cfg[at + 3];
		assert_true(type >= 1 && type <= 5);
		assert_false(seen & 1u << type);
		seen |= 1u << type;
		assert_int_equal(cfg[at + 4], 0); /* BAR0 */
		uint32_t off = rd32(cfg + at + 8), len = rd32(cfg + at + 12);
		if (type != VIRTIO_PCI_CAP_PCI_CFG)
			assert_true(off + len <= VIRTIO_PCI_MSIX_TABLE_OFF);
		if (type == VIRTIO_PCI_CAP_COMMON_CFG)
			assert_int_equal(off, VIRTIO_PCI_COMMON_OFF);
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			assert_int_equal(cfg[at + 2], 20);
			assert_int_equal(off, VIRTIO_PCI_NOTIFY_OFF);
			assert_int_equal(rd32(cfg + at + 16), VIRTIO_PCI_NOTIFY_MULT);
		}
		if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			assert_int_equal(off, VIRTIO_PCI_DEVICE_OFF);
		if (type == VIRTIO_PCI_CAP_ISR_CFG)
			assert_int_equal(off, VIRTIO_PCI_ISR_OFF);
	}
	assert_int_equal(seen, 0x3e);
	assert_int_equal(msix, VIRTIO_PCI_CAP_MSIX_AT);
	assert_int_equal(rd16(cfg + msix + 2) & 0x7ff, 2); /* 3 vectors */
	assert_int_equal(rd32(cfg + msix + 4), VIRTIO_PCI_MSIX_TABLE_OFF);
	assert_int_equal(rd32(cfg + msix + 8), VIRTIO_PCI_MSIX_PBA_OFF);
	assert_true(VIRTIO_PCI_MSIX_PBA_OFF + 0x1000 <= bar0);

	/* vector count is clamped */
	virtio_pci__config_space(cfg, 1, 1, 0x020000, 100000, NULL);
	assert_int_equal(rd16(cfg + VIRTIO_PCI_CAP_MSIX_AT + 2) & 0x7ff,
			 VIRTIO_PCI_MAX_VECTORS - 1);
}

static void test_device_features(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	uint32_t lo = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_DF, 4);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	uint32_t hi = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_DF, 4);
	assert_true(lo & 1u << FAKE_FEATURE);
	assert_true(lo & 1u << VIRTIO_F_EVENT_IDX);
	assert_true(lo & 1u << VIRTIO_F_INDIRECT_DESC);
	assert_int_equal(hi, 1); /* VERSION_1 only */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_DFSELECT, 4, 7);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_DF, 4), 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
}

static void test_negotiation_needs_version_1(void **state)
{
	struct fx *f = *state;
	uint8_t st = vdrv__start(&f->d, &f->vp, 1ull << FAKE_FEATURE, 1, 8);
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	assert_false(st & VIRTIO_STATUS_DRIVER_OK);
}

static void test_negotiation_rejects_unoffered(void **state)
{
	struct fx *f = *state;
	uint8_t st = vdrv__start(&f->d, &f->vp, GOOD | 1ull << 7, 1, 8);
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
}

static void test_negotiation_ok(void **state)
{
	struct fx *f = *state;
	uint8_t st = vdrv__start(&f->d, &f->vp, GOOD, 2, 8);
	assert_int_equal(st, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_pci__has_feature(&f->vp, FAKE_FEATURE));
	assert_false(virtio_pci__has_feature(&f->vp, VIRTIO_F_EVENT_IDX));
	assert_true(virtio_pci__queue_live(&f->vp, 0));
	assert_true(virtio_pci__queue_live(&f->vp, 1));
	assert_false(virtio_pci__queue_live(&f->vp, 2));
	/* features are frozen after FEATURES_OK */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GF, 4, 1u << VIRTIO_F_EVENT_IDX);
	assert_false(virtio_pci__has_feature(&f->vp, VIRTIO_F_EVENT_IDX));
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_GF, 4), 1u << FAKE_FEATURE);
	/* status bits cannot be cleared except by reset */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1), st);
}

static void test_driver_ok_needs_features_ok(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1,
		 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}

static void test_queue_registers(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 4, 0x12345000);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_DESC + 4, 4, 0x9);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8), 0x912345000ull);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DESC + 4, 4), 0x9);
	/* vectors without an irqfd read back as NO_VECTOR */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2, 3);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2), 3);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2, f->d.env.nirqfd);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* queue sizes above the maximum are refused */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 128);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	/* no such queue */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8, 0x1000);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0xffff);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* reads past the structure and odd sizes are harmless */
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_LEN, 4), 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DEVICE + 4, 8), 0);
	assert_int_equal(vdrv__rd(&f->d, 0, 3), 0);
	assert_int_equal(vdrv__rd(&f->d, 0xffffffffffffull, 8), 0);
}

static void test_frozen_after_enable(void **state)
{
	struct fx *f = *state;
	assert_true(vdrv__start(&f->d, &f->vp, GOOD, 1, 8) & VIRTIO_STATUS_DRIVER_OK);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8, 0x7000);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8), VDRV_DESC(0));
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
	/* a disable request is ignored */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
}

static void test_bad_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GF, 4, 1);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_MSIX, 2, 5);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8, VDRV_RAM_SIZE - 16);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	uint8_t st = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1);
	assert_true(st & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vdrv_irqs[5], 1); /* configuration change notification */
	/* ISR: config bit, cleared by the read */
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_ISR_CONFIG);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_ISR_OFF, 1), 0);
	/* the driver cannot clear NEEDS_RESET by writing status; DRIVER_OK keeps it */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK | 4);
	st = vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1);
	assert_true(st & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(virtio_pci__queue_live(&f->vp, 0));
	/* reset clears it */
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1), 0);
}

static void test_bad_queue_size_needs_reset(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GF, 4, 1);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 12);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_enable_needs_features_ok(void **state)
{
	struct fx *f = *state;
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 3);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	assert_true(vdrv__start(&f->d, &f->vp, GOOD, 2, 8) & VIRTIO_STATUS_DRIVER_OK);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(f->fake.resets, 2); /* one by vdrv__start, one now */
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_STATUS, 1), 0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	vdrv__wr(&f->d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_GF, 4), 0);
	for (unsigned q = 0; q < 2; q++) {
		vdrv__wr(&f->d, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
		assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
		assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_COMMON_Q_MSIX, 2),
				 VIRTIO_MSI_NO_VECTOR);
		assert_false(virtio_pci__queue_live(&f->vp, q));
	}
	/* and the device can be brought up again */
	assert_true(vdrv__start(&f->d, &f->vp, GOOD, 2, 16) & VIRTIO_STATUS_DRIVER_OK);
}

static void test_kicks(void **state)
{
	struct fx *f = *state;
	virtio_pci__kick(&f->vp, 0); /* not live yet */
	assert_int_equal(f->fake.kicks[0], 0);
	assert_true(vdrv__start(&f->d, &f->vp, GOOD, 2, 8) & VIRTIO_STATUS_DRIVER_OK);
	virtio_pci__kick(&f->vp, 1);
	virtio_pci__kick(&f->vp, 2); /* no such queue */
	virtio_pci__kick(&f->vp, 0xffffffffu);
	assert_int_equal(f->fake.kicks[1], 1);
	/* a notify write that missed the ioeventfd */
	vdrv__wr(&f->d, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * 1, 4, 1);
	vdrv__wr(&f->d, VIRTIO_PCI_NOTIFY_OFF + 2, 2, 0); /* not a queue slot */
	vdrv__wr(&f->d, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_LEN - 4, 2, 0);
	assert_int_equal(f->fake.kicks[1], 2);
	assert_int_equal(f->fake.kicks[0], 0);
}

static void test_device_cfg(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF, 4), 0xa3a2a1a0);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 4, 8), 0); /* crosses the end */
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 7, 1), 0xa7);
	assert_int_equal(vdrv__rd(&f->d, VIRTIO_PCI_DEVICE_OFF + 0x800, 4), 0);
	vdrv__wr(&f->d, VIRTIO_PCI_DEVICE_OFF + 6, 2, 0x55);
	assert_int_equal(f->fake.last_cfg_write, 6 << 16 | 2 << 8 | 0x55);
	f->fake.last_cfg_write = 0;
	vdrv__wr(&f->d, VIRTIO_PCI_DEVICE_OFF + 6, 4, 0x55); /* crosses the end */
	vdrv__wr(&f->d, VIRTIO_PCI_DEVICE_OFF + 9, 1, 0x55);
	assert_int_equal(f->fake.last_cfg_write, 0);
}

#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_config_space),
	    T(test_device_features),
	    T(test_negotiation_needs_version_1),
	    T(test_negotiation_rejects_unoffered),
	    T(test_negotiation_ok),
	    T(test_driver_ok_needs_features_ok),
	    T(test_queue_registers),
	    T(test_frozen_after_enable),
	    T(test_bad_ring_needs_reset),
	    T(test_bad_queue_size_needs_reset),
	    T(test_enable_needs_features_ok),
	    T(test_reset),
	    T(test_kicks),
	    T(test_device_cfg),
	};
	return cmocka_run_group_tests_name("virtio-pci", tests, NULL, NULL);
}
