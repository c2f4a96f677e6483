/* SPDX-License-Identifier: MIT */
#ifndef CELLVM_PLATFORM_H
#define CELLVM_PLATFORM_H
/* Register the debug-exit, boot-timer, mark, i8042-reset and POST ports. */
int platform__init(void);
#endif
