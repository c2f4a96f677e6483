/* SPDX-License-Identifier: MIT */
/*
 * Edge coverage out of a device process, for the device-process fuzzer
 * (tests/fuzz/devproc/). Linked into the device binaries of -Dfuzzing=true
 * builds only, where everything is compiled with -fsanitize=fuzzer-no-link
 * (inline 8-bit counters) and ASan/UBSan.
 *
 * The compiler's module constructor hands us this binary's counter array
 * (overriding the sanitizer runtime's weak no-op). The harness passes a
 * memfd (devcov.h) as the last backend fd; before lockdown devcov__attach()
 * maps it and removes it from the device's backend list, so the model never
 * sees it. On IPC_OP_CTRL_RESET (the end of each fuzz input) the main loop
 * calls devcov__flush(): the counters are copied out and cleared, so each
 * input's edges reach the harness, which feeds them to libFuzzer as extra
 * counters. Without that memfd (a normal run of a fuzzing build) both are
 * no-ops.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devcov.h"
#include "device.h"

static uint8_t *cnt_start, *cnt_stop;
static const uintptr_t *pcs_start, *pcs_stop;
static struct devcov_shm *shm;
extern const char __executable_start[]; /* the linker's: where this PIE is loaded */

void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop)
{
	if (!cnt_start && start < stop) /* one module: the executable */
		cnt_start = start, cnt_stop = stop;
}

/* The edges' addresses (pc, flags pairs), exported once for symbolizing. */
void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop);
void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop)
{
	if (!pcs_start)
		pcs_start = start, pcs_stop = stop;
}

/*
 * The device has no environment (ASAN_OPTIONS) and no filesystem: no leak
 * check at exit (it would ptrace), no symbolizer (a fork/exec the profile
 * forbids; the harness symbolizes offsets), a small quarantine so that the
 * memory-growth check measures the device and not ASan.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0:symbolize=0:quarantine_size_mb=16:malloc_context_size=10";
}

void devcov__attach(struct dev_env *env)
{
	struct stat st;
	if (!env->nbackend || !cnt_start)
		return;
	int fd = env->backend_fd[env->nbackend - 1];
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != DEVCOV_SIZE)
		return;
	void *p = mmap(NULL, DEVCOV_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return;
	if (((struct devcov_shm *)p)->magic != DEVCOV_MAGIC) {
		munmap(p, DEVCOV_SIZE);
		return;
	}
	shm = p;
	shm->nedges = (uint32_t)(cnt_stop - cnt_start);
	uint64_t *pc = devcov__pcs(shm);
	for (size_t i = 0;
	     pcs_start && i < shm->nedges && i < DEVCOV_MAX && pcs_start + 2 * i < pcs_stop; i++)
		pc[i] = pcs_start[2 * i] - (uintptr_t)__executable_start;
	env->nbackend--;
	close(fd);
}

void devcov__flush(void)
{
	if (!shm)
		return;
	size_t n = (size_t)(cnt_stop - cnt_start);
	if (n <= DEVCOV_MAX) {
		memcpy(shm->cnt, cnt_start, n);
	} else {
		memset(shm->cnt, 0, DEVCOV_MAX);
		for (size_t i = 0; i < n; i++)
			shm->cnt[i % DEVCOV_MAX] |= cnt_start[i];
	}
	memset(cnt_start, 0, n);
	shm->flushes++;
}
