/* SPDX-License-Identifier: MIT */
/*
 * Every process type cellvm spawns, written once. policy/profile.c builds
 * profile__all() from it; tests and the SELinux checks iterate
 * profile__all() (or `policy-types`, which prints it). Each type T has a
 * profile `profile_T` in policy/T.c, and a device process type a binary
 * cellvm-T. The build reads this list too (cv_types in meson.build): it
 * compiles policy/T.c and, for a one-file virtio device, device-procs/T/T.c,
 * and selinux/gen-domains.c derives T's domain and file contexts from its
 * profile. Adding a type: docs/adding-a-device.md.
 */
#ifndef CELLVM_POLICY_TYPES_H
#define CELLVM_POLICY_TYPES_H

#define CV_PROCESS_TYPES(X)                                                                        \
	X(vcpu)                                                                                    \
	X(serial)                                                                                  \
	X(blk)                                                                                     \
	X(rng)                                                                                     \
	X(net)                                                                                     \
	X(vga)                                                                                     \
	X(vnc)                                                                                     \
	X(input)                                                                                   \
	X(testdev)                                                                                 \
	X(screendump)

#endif
