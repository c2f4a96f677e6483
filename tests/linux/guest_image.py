# SPDX-License-Identifier: MIT
"""Debian's stock bzImage and a busybox initramfs for Linux guests of cellvm.

build(cache) returns (bzImage, initrd.gz): the kernel from the package that
linux-image-amd64 names, and an initramfs holding busybox-static, the virtio
modules (with their dependencies, from the same package) and tests/linux/init,
which reads its instructions from the kernel command line (see that file).
Both are cached in `cache` and rebuilt when a package or the init changes.
"""
import fcntl
import hashlib
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kvmhost"))
import debkernel  # noqa: E402

MODULES = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_rng"]
Error = debkernel.Error


def build(cache):
    debs = os.path.join(cache, "debs")
    kpkg = debkernel.kernel_package()
    kdeb, kver = debkernel.fetch(debs, kpkg)
    bdeb, bver = debkernel.fetch(debs, "busybox-static")
    h = hashlib.sha256(" ".join(MODULES).encode())
    with open(os.path.join(HERE, "init"), "rb") as f:
        init = f.read()
    h.update(init)
    key = f"{kpkg} {kver} busybox {bver} {h.hexdigest()[:12]}"
    out = os.path.join(cache, "guest")
    bz, initrd, stamp = (os.path.join(out, n) for n in ("bzImage", "initrd.gz", "stamp"))
    os.makedirs(out, exist_ok=True)
    # One builder at a time (tests of the suite may start together); the
    # others find the stamp written when they get the lock.
    with open(os.path.join(out, "lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        return _build(kdeb, bdeb, init, key, bz, initrd, stamp)


def _build(kdeb, bdeb, init, key, bz, initrd, stamp):
    if os.path.exists(stamp) and open(stamp).read() == key:
        return bz, initrd
    with debkernel.Unpacked(kdeb) as k, debkernel.Unpacked(bdeb) as b:
        shutil.copyfile(k.path("boot/vmlinuz-*"), bz + ".tmp")
        os.rename(bz + ".tmp", bz)
        mods = debkernel.resolve(k.path("lib/modules/*"), MODULES)
        c = debkernel.Cpio()
        for d in ("bin", "lib", "lib/modules", "proc", "sys", "dev", "tmp"):
            c.dir(d)
        with open(b.path("bin/busybox"), "rb") as f:
            c.file("bin/busybox", f.read(), 0o755)
        c.file("init", init, 0o755)
        names = []
        for m in mods:
            name = os.path.basename(m)[:-3]
            names.append(name)
            with open(m, "rb") as f:
                c.file(f"lib/modules/{name}.ko", f.read())
        c.file("modules", ("\n".join(names) + "\n").encode())
        c.write_gz(initrd)
    with open(stamp, "w") as f:
        f.write(key)
    return bz, initrd


if __name__ == "__main__":
    print(*build(sys.argv[1]))
