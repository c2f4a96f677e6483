/* SPDX-License-Identifier: MIT */
#ifndef CELLVM_PLATFORM_H
#define CELLVM_PLATFORM_H
/* Register the debug-exit, boot-timer, mark, i8042-reset and POST ports. */
#include <stdbool.h>
/* i8042_device: ports 0x60/0x64 belong to a device process. */
int platform__init(bool i8042_device);
#endif
