/* SPDX-License-Identifier: MIT */
/*
 * One message from the vnc process (struct vnc_input_msg, 24 bytes, host
 * endianness), checked and applied to the controller. The bytes are
 * hostile: exact size, known type, bounded lookups, clamped coordinates.
 */
#ifndef CELLVM_INPUT_EVENT_H
#define CELLVM_INPUT_EVENT_H

#include <stddef.h>

#include "i8042.h"

#define INPUT_MSG_SIZE 24

/*
 * Returns 0 if the event was queued (or was a release/motion with nothing
 * to report), -EINVAL for a malformed message, -ENOENT for a key with no
 * PS/2 code, -ENOSPC when the device's queue is full (event dropped).
 */
int input__event(struct i8042 *c, const void *buf, size_t len);

#endif
