/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void (*control__before_stop)(void);

int control__event(enum vm_event_type type, unsigned cpu, uint64_t value, const char *text)
{
	struct vm_event ev;
	if ((type == VM_EV_EXIT || type == VM_EV_CRASH) && control__before_stop)
		control__before_stop();
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.cpu = cpu;
	ev.value = value;
	ev.mono_ns = now_ns();
	ev.cpu_us = type == VM_EV_MARK ? 0 : cpu_us();
	if (text) {
		strncpy(ev.text, text, sizeof(ev.text) - 1);
	}
	/* MSG_NOSIGNAL: a dead broker must not kill us with SIGPIPE mid-exit. */
	return send(CV_FD_CONTROL, &ev, sizeof(ev), MSG_NOSIGNAL) == (ssize_t)sizeof(ev) ? 0 : -1;
}

int control__done_efd = -1;

void control__vcpu_done(void)
{
	/* Wake the main thread, which polls the control socket and this. */
	uint64_t one = 1;
	ssize_t r = write(control__done_efd, &one, sizeof(one));
	(void)r;
}
