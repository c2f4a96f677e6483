/* SPDX-License-Identifier: MIT */
/* The built-in demo guest (guest/demo), embedded at build time. */
#ifndef CELLVM_GUEST_BLOB_H
#define CELLVM_GUEST_BLOB_H
extern const unsigned char cv_guest_demo[];
extern const unsigned int cv_guest_demo_len;
#endif
