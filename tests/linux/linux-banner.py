#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a Debian Linux 6.1 kernel under cellvm until it prints its banner.

Steps (each result cached in --cache, normally BUILD/tests/linux/cache):
  1. find the package linux-image-amd64 depends on (linux-image-6.1.0-N-amd64)
     with apt-cache, and `apt-get download` it;
  2. take boot/vmlinuz-* out of its data tarball (bzImage) and extract the ELF
     vmlinux from it (extract_vmlinux.py);
  3. run `cellvm run --kernel vmlinux --cmdline ... --memory 512M --serial
     stdio` and pass as soon as the serial output contains 'Linux version'.
     The VM is killed then, or at --timeout (fail).

Exit status: 0 pass, 1 fail, 77 skipped (no cellvm binary, or no package).
  linux-banner.py --cache DIR --fetch-only        # steps 1-2 only
  linux-banner.py --cache DIR --cellvm BUILD/cellvm [--kernel-format bzimage]
"""
import argparse
import glob
import os
import re
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract_vmlinux  # noqa: E402

SKIP = 77
PKG_RE = re.compile(r"^linux-image-6\.1\.0-[0-9]+-amd64$")
CMDLINE = "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 no_timer_check"


def log(msg):
    print(f"linux-banner: {msg}", flush=True)


def find_package():
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        name = line.strip().removeprefix("Depends:").strip()
        if PKG_RE.match(name):
            return name
    # no metapackage: the highest linux-image-6.1.0-N-amd64 known to apt
    out = subprocess.run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"],
                         capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.split() and PKG_RE.match(line.split()[0])]
    names.sort(key=lambda n: int(n.split("-")[4]))
    return names[-1] if names else None


def fetch_deb(cache):
    debs = glob.glob(os.path.join(cache, "linux-image-6.1.0-*-amd64_*.deb"))
    if debs:
        return sorted(debs)[-1]
    pkg = find_package()
    if not pkg:
        return None
    log(f"downloading {pkg}")
    r = subprocess.run(["apt-get", "download", pkg], cwd=cache)
    if r.returncode != 0:
        return None
    debs = glob.glob(os.path.join(cache, f"{pkg}_*.deb"))
    return sorted(debs)[-1] if debs else None


def extract_bzimage(deb, dest):
    """Stream the data tarball and stop at boot/vmlinuz-*."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for m in tar:
                if m.isfile() and re.match(r"^\./boot/vmlinuz-", m.name):
                    data = tar.extractfile(m).read()
                    with open(dest + ".tmp", "wb") as f:
                        f.write(data)
                    os.rename(dest + ".tmp", dest)
                    return True
    finally:
        proc.kill()
        proc.wait()
    return False


def prepare(cache):
    """Returns (bzimage, vmlinux) paths, or None if the kernel cannot be had."""
    os.makedirs(cache, exist_ok=True)
    bz = os.path.join(cache, "bzImage")
    vml = os.path.join(cache, "vmlinux")
    if not os.path.exists(bz):
        deb = fetch_deb(cache)
        if not deb:
            return None
        if not extract_bzimage(deb, bz):
            raise SystemExit(f"linux-banner: no boot/vmlinuz-* in {deb}")
        os.unlink(deb)  # 70 MB: the bzImage is all that is kept
    img = open(bz, "rb").read()
    if not os.path.exists(vml):
        kind, pos, out = extract_vmlinux.extract(img)
        with open(vml + ".tmp", "wb") as f:
            f.write(out)
        os.rename(vml + ".tmp", vml)
        log(f"vmlinux: {kind} payload at {pos:#x}, {len(out)} bytes")
    check_images(img, open(vml, "rb").read(64))
    return bz, vml


def check_images(bz, ehdr):
    version = struct.unpack_from("<H", bz, 0x206)[0]
    xlf = struct.unpack_from("<H", bz, 0x236)[0]
    if bz[0x202:0x206] != b"HdrS" or version < 0x20C or not xlf & 1:
        raise SystemExit(f"linux-banner: bzImage header unusable (version {version:#x}, xloadflags {xlf:#x})")
    if not extract_vmlinux.is_elf64(ehdr):
        raise SystemExit("linux-banner: vmlinux is not an x86-64 ELF64")
    log(f"bzImage: protocol {version >> 8}.{version & 0xff:02d}, xloadflags {xlf:#x}; vmlinux: ELF64 x86-64")


def boot(cellvm, kernel, timeout, memory, cpus):
    cmd = [cellvm, "run", "--kernel", kernel, "--cmdline", CMDLINE, "--memory", memory,
           "--cpus", str(cpus), "--serial", "stdio"]
    log("running " + " ".join(cmd))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    seen = b""
    found = False
    try:
        while time.monotonic() - start < timeout:
            if not sel.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            seen = (seen + chunk)[-4096:]
            if b"Linux version" in seen:
                found = True
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # our own child's session
        proc.wait()
    took = time.monotonic() - start
    if found:
        log(f"banner seen after {took:.1f} s")
    else:
        log(f"no 'Linux version' after {took:.1f} s (cellvm exit status {proc.returncode})")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True)
    ap.add_argument("--cellvm")
    ap.add_argument("--fetch-only", action="store_true")
    ap.add_argument("--kernel-format", choices=["vmlinux", "bzimage"], default="vmlinux")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--cpus", type=int, default=1)
    a = ap.parse_args()

    if not a.fetch_only and (not a.cellvm or not os.access(a.cellvm, os.X_OK)):
        log(f"skipped: no cellvm binary ({a.cellvm})")
        return SKIP
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        log("skipped: needs apt-get and dpkg-deb")
        return SKIP
    images = prepare(a.cache)
    if not images:
        log("skipped: no linux-image-6.1.0-*-amd64 package to download")
        return SKIP
    if a.fetch_only:
        return 0
    kernel = images[1] if a.kernel_format == "vmlinux" else images[0]
    return 0 if boot(a.cellvm, kernel, a.timeout, a.memory, a.cpus) else 1


if __name__ == "__main__":
    sys.exit(main())
