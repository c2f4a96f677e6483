/* SPDX-License-Identifier: MIT */
#include "msix.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"

#define FIRST_MSI_GSI 24
/* The 24 IOAPIC pins (and PIC lines), then every vector of every function. */
#define MAX_ROUTES (FIRST_MSI_GSI + VM_MAX_DEVS * MSIX_MAX_VECTORS)

/* Every MSI-X function of the VM (at most one per device), for rebuilding the routing table. */
static struct msix *all[VM_MAX_DEVS];
static unsigned nall, next_gsi = FIRST_MSI_GSI;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void add(struct kvm_irq_routing *r, struct kvm_irq_routing_entry e)
{
	r->entries[r->nr++] = e;
}

/* KVM_SET_GSI_ROUTING replaces the whole table: rebuild the default ISA
 * routes (PIC + IOAPIC pins, as KVM sets them up) plus every MSI vector. */
static int set_routing(struct vm *vm)
{
	size_t sz =
	    sizeof(struct kvm_irq_routing) + MAX_ROUTES * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing *r = calloc(1, sz);
	if (!r)
		return -ENOMEM;
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi < 16 && gsi != 2)
			add(r, (struct kvm_irq_routing_entry){
				   .gsi = gsi,
				   .type = KVM_IRQ_ROUTING_IRQCHIP,
				   .u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								    : KVM_IRQCHIP_PIC_SLAVE,
						 .pin = gsi % 8}});
		add(r, (struct kvm_irq_routing_entry){
			   .gsi = gsi,
			   .type = KVM_IRQ_ROUTING_IRQCHIP,
			   .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi}});
	}
	for (unsigned i = 0; i < nall; i++)
		for (unsigned v = 0; v < all[i]->nvec; v++) {
			const struct msix_vec *e = &all[i]->vec[v];
			if (r->nr >= MAX_ROUTES)
				break;
			add(r, (struct kvm_irq_routing_entry){.gsi = e->gsi,
							      .type = KVM_IRQ_ROUTING_MSI,
							      .u.msi = {.address_lo = e->addr_lo,
									.address_hi = e->addr_hi,
									.data = e->data}});
		}
	int ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return ret;
}

static bool live(const struct msix *m, const struct msix_vec *e)
{
	return m->enabled && !m->masked && !(e->ctrl & 1) && e->fd >= 0;
}

static void irqfd(struct msix *m, struct msix_vec *e, bool assign)
{
	struct kvm_irqfd f = {
	    .fd = (uint32_t)e->fd, .gsi = e->gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
	if (ioctl(m->vm->vm_fd, KVM_IRQFD, &f) < 0)
		log__err("KVM_IRQFD gsi %u %s: %s", e->gsi, assign ? "assign" : "deassign",
			 strerror(errno));
	else
		e->assigned = assign;
}

/* Bring every vector's irqfd in line with its table entry and masks. */
static void sync(struct msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++) {
		struct msix_vec *e = &m->vec[v];
		if (e->assigned && !live(m, e))
			irqfd(m, e, false);
	}
	if (set_routing(m->vm) < 0)
		log__err("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	for (unsigned v = 0; v < m->nvec; v++) {
		struct msix_vec *e = &m->vec[v];
		if (!e->assigned && live(m, e))
			irqfd(m, e, true);
	}
}

int msix__init(struct msix *m, struct vm *vm, unsigned nvec, const int32_t *fds)
{
	if (nvec > MSIX_MAX_VECTORS || nall == sizeof(all) / sizeof(all[0]))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->vm = vm;
	m->nvec = nvec;
	pthread_mutex_lock(&lock);
	for (unsigned v = 0; v < nvec; v++) {
		m->vec[v].fd = fds[v];
		m->vec[v].gsi = next_gsi++;
		m->vec[v].ctrl = 1; /* masked at reset */
	}
	all[nall++] = m;
	pthread_mutex_unlock(&lock);
	return 0;
}

uint64_t msix__table_read(struct msix *m, uint64_t off, unsigned size)
{
	unsigned v = (unsigned)(off / 16), w = (unsigned)(off % 16) / 4;
	if (v >= m->nvec || (size != 4 && size != 8) || (off & 3))
		return 0;
	pthread_mutex_lock(&lock);
	uint32_t words[4] = {m->vec[v].addr_lo, m->vec[v].addr_hi, m->vec[v].data, m->vec[v].ctrl};
	pthread_mutex_unlock(&lock);
	uint64_t val = words[w];
	if (size == 8 && w < 3)
		val |= (uint64_t)words[w + 1] << 32;
	return val;
}

void msix__table_write(struct msix *m, uint64_t off, unsigned size, uint64_t val)
{
	unsigned v = (unsigned)(off / 16), w = (unsigned)(off % 16) / 4;
	if (v >= m->nvec || (size != 4 && size != 8) || (off & 3))
		return;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < size / 4 && w + i < 4; i++) {
		uint32_t x = (uint32_t)(val >> (32 * i));
		struct msix_vec *e = &m->vec[v];
		switch (w + i) {
		case 0:
			e->addr_lo = x & ~3u;
			break;
		case 1:
			e->addr_hi = x;
			break;
		case 2:
			e->data = x;
			break;
		case 3:
			e->ctrl = x & 1;
			break;
		}
	}
	sync(m);
	pthread_mutex_unlock(&lock);
}

void msix__control(struct msix *m, bool enable, bool mask)
{
	pthread_mutex_lock(&lock);
	if (m->enabled != enable || m->masked != mask) {
		m->enabled = enable;
		m->masked = mask;
		sync(m);
	}
	pthread_mutex_unlock(&lock);
}
