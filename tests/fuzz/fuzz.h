/* SPDX-License-Identifier: MIT */
#ifndef CELLVM_FUZZ_H
#define CELLVM_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
