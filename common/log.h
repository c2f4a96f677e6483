/* SPDX-License-Identifier: MIT */
/* One-line diagnostics on stderr, prefixed with the process role. */
#ifndef CELLVM_LOG_H
#define CELLVM_LOG_H

#include <stdarg.h>

/* Set once at start: "cellvm", "vcpu", "serial", ... */
void log__set_role(const char *role);
const char *log__role(void);
/* 0 = errors only, 1 = info (default), 2 = debug */
void log__set_level(int level);
int log__level(void);

void log__err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log__err + exit(status) */
void log__die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
