/* SPDX-License-Identifier: MIT */
/*
 * Every process type cellvm spawns, written once. policy/profile.c builds
 * profile__all() from it; tests and the SELinux checks iterate
 * profile__all() (or `policy-types`, which prints it). Each type T has a
 * profile `profile_T` in policy/T.c, and a device process type a binary
 * cellvm-T. Adding a type: one line here, policy/T.c, its line in
 * policy/meson.build, and its domain in selinux/cellvm.te and .fc (the
 * policy tests name any type missing there).
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
