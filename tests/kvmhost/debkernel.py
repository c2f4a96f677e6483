# SPDX-License-Identifier: MIT
"""Debian's kernel and busybox as building blocks for initramfs images.

Used by kvmhost (the box's own initramfs) and by the `linux` suite (the
initramfs of a Linux guest booted by cellvm). Everything comes from Debian
packages fetched with `apt-get download` into a cache directory:

  fetch(cache, pkg)        the .deb of the candidate version (cached by version)
  kernel_package()         the linux-image-6.1.0-N-amd64 that linux-image-amd64 names
  Unpacked(deb)            dpkg-deb -x into a temporary directory
  resolve(moddir, names)   modules plus their dependencies (from .modinfo), in load order
  Cpio                     a newc archive writer (gzip-compressed by the caller)
"""
import glob
import gzip
import os
import re
import shutil
import stat
import struct
import subprocess
import tempfile


class Error(Exception):
    """One clear line for the user."""


KPKG_RE = re.compile(r"^linux-image-6\.1\.0-[0-9]+-amd64$")


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def candidate_version(pkg):
    """The version apt would install, or None when apt does not know pkg."""
    r = _run(["apt-cache", "policy", pkg])
    m = re.search(r"^\s*Candidate:\s*(\S+)", r.stdout, re.M)
    if not m or m.group(1) == "(none)":
        return None
    return m.group(1)


def kernel_package():
    """The versioned kernel package the linux-image-amd64 metapackage names."""
    r = _run(["apt-cache", "depends", "linux-image-amd64"])
    for line in r.stdout.splitlines():
        name = line.strip().removeprefix("Depends:").strip()
        if KPKG_RE.match(name):
            return name
    r = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-amd64$"])
    names = [ln.split()[0] for ln in r.stdout.splitlines() if ln.split() and KPKG_RE.match(ln.split()[0])]
    names.sort(key=lambda n: int(n.split("-")[4]))
    if not names:
        raise Error("apt knows no linux-image-6.1.0-*-amd64 package (run apt-get update?)")
    return names[-1]


def _deb_name(pkg, version):
    # apt-get download names files pkg_version_arch.deb with ':' escaped as %3a
    return f"{pkg}_{version.replace(':', '%3a')}_amd64.deb"


def fetch(cache, pkg):
    """Returns (path of the .deb, version). Downloads only when the candidate
    version is not in the cache yet; older versions of pkg are removed."""
    os.makedirs(cache, exist_ok=True)
    version = candidate_version(pkg)
    if version is None and os.geteuid() == 0:
        _run(["apt-get", "update", "-qq"])  # package lists never fetched on this machine
        version = candidate_version(pkg)
    if version is None:
        have = sorted(glob.glob(os.path.join(cache, f"{pkg}_*.deb")))
        if have:  # apt lists gone (offline machine): keep what we have
            v = os.path.basename(have[-1])[len(pkg) + 1:].rsplit("_", 1)[0].replace("%3a", ":")
            return have[-1], v
        raise Error(f"package {pkg} is unknown to apt (is it in the sources? run apt-get update)")
    path = os.path.join(cache, _deb_name(pkg, version))
    if not os.path.exists(path):
        r = _run(["apt-get", "download", f"{pkg}={version}"], cwd=cache)
        if r.returncode != 0 or not os.path.exists(path):
            msg = (r.stderr.strip().splitlines() or ["no .deb written"])[-1]
            raise Error(f"cannot download {pkg} {version}: {msg}")
    for old in glob.glob(os.path.join(cache, f"{pkg}_*.deb")):
        if old != path:
            os.unlink(old)
    return path, version


class Unpacked:
    """A .deb unpacked into a temporary directory (a context manager)."""

    def __init__(self, deb):
        self.dir = tempfile.mkdtemp(prefix="debkernel-")
        r = _run(["dpkg-deb", "-x", deb, self.dir])
        if r.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise Error(f"dpkg-deb -x {os.path.basename(deb)}: {r.stderr.strip()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, pattern):
        hits = sorted(glob.glob(os.path.join(self.dir, pattern)))
        if not hits:
            raise Error(f"no {pattern} in the package")
        return hits[-1]


def modinfo(path):
    """The key=value strings of a kernel module's .modinfo section."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF" or d[4] != 2:
        raise Error(f"{os.path.basename(path)} is not an ELF64 module")
    shoff = struct.unpack_from("<Q", d, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
    secs = [struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    for name_off, _type, _flags, _addr, off, size in secs:
        end = d.index(b"\0", stroff + name_off)
        if d[stroff + name_off:end] == b".modinfo":
            return [x.decode(errors="replace") for x in d[off:off + size].split(b"\0") if x]
    return []


def resolve(moddir, names):
    """Module files for names and everything they depend on, dependencies
    first. moddir is lib/modules/VERSION; names use '_' or '-' alike."""
    index = {}
    for p in glob.glob(os.path.join(moddir, "kernel", "**", "*.ko"), recursive=True):
        index[os.path.basename(p)[:-3].replace("-", "_")] = p
    order, state = [], {}

    def visit(name, chain):
        key = name.replace("-", "_")
        if state.get(key) == "done":
            return
        if key in chain:
            raise Error(f"module dependency loop: {' -> '.join(chain + [key])}")
        if key not in index:
            raise Error(f"module {name} is not in the kernel package")
        deps = []
        for kv in modinfo(index[key]):
            if kv.startswith("depends="):
                deps = [x for x in kv[8:].split(",") if x]
        for dep in deps:
            visit(dep, chain + [key])
        state[key] = "done"
        order.append(index[key])

    for n in names:
        visit(n, [])
    return order


class Cpio:
    """Writes a newc cpio archive (what the kernel unpacks as an initramfs)."""

    def __init__(self):
        self.parts = []
        self.ino = 1

    def _entry(self, name, mode, data=b"", nlink=1):
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
        self.ino += 1
        blob = hdr.encode() + name.encode() + b"\0"
        blob += b"\0" * (-len(blob) % 4) + data
        blob += b"\0" * (-len(blob) % 4)
        self.parts.append(blob)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def write_gz(self, path):
        self._entry("TRAILER!!!", 0)
        tmp = f"{path}.{os.getpid()}.tmp"  # unique: builders may run at once
        with gzip.open(tmp, "wb", compresslevel=6) as f:
            for p in self.parts:
                f.write(p)
        os.rename(tmp, path)
