/* SPDX-License-Identifier: MIT */
/* Built with -Dguest=false: there is no built-in demo guest. */
#include "guest_blob.h"
const unsigned char cv_guest_demo[1];
const unsigned int cv_guest_demo_len = 0;
